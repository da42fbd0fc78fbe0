//! The cases' JSON API (the Contract of issue 13: `POST /api/v1/reports`, the inbox,
//! `POST /api/v1/reports/{id}/receive`, `GET /api/v1/cases/{id}`), and the actions on a case.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use shouwang_app::protection::{self as cases, CaseView, Filed, InboxStatus, ReportSummary};
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::{PoliceRecord, ReportInput, Step, StepOutcome};

use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Path, Query};
use crate::schema::Items;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        file_report,
        inbox,
        unreported,
        figures,
        receive,
        get_case,
        record_step,
        police_record,
        notify_town,
        request_close,
        decide_close,
        reopen,
        assess,
        intervene,
        place,
        end_placement,
        refer,
        providers,
        provider_referrals,
        answer_referral,
        add_attachment,
        list_attachments,
        get_attachment
    ),
    components(schemas(
        ReportInput,
        shouwang_domain::protection::AssessmentInput,
        StepBody,
        RecordBody,
        NoteBody,
        ReasonBody,
        DecisionBody
    ))
)]
pub struct ApiDoc;

/// Files a mandatory report (强制报告) on a registered child (`child_id`) or a child not on the
/// registry (`child`): the case opens and the report lands at once in the inbox of the police of
/// the child's town (else the county's) and of the town. An unknown situation code is a 422
/// naming `situations`.
#[utoipa::path(post, path = "/api/v1/reports", request_body = ReportInput,
    responses((status = 201, description = "filed", body = Filed)))]
pub async fn file_report(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ReportInput>,
) -> Result<impl IntoResponse, AppError> {
    let filed = cases::file(&state.app, &user.actor, &body).await?;
    Ok((StatusCode::CREATED, Json(filed)))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct InboxParams {
    /// `unreceived`, `received` or `all` (default)
    #[param(pattern = "^(unreceived|received|all)$")]
    pub status: Option<String>,
}

/// Your inbox: the police see the reports sent to their org (the county's police the county's),
/// civil affairs, villages and oversight the reports about children of their area, everyone else
/// the reports they filed — newest first. Unreceived reports past the delay go up to the county
/// first.
#[utoipa::path(get, path = "/api/v1/reports", params(InboxParams),
    responses((status = 200, description = "reports", body = Items<ReportSummary>)))]
pub async fn inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<InboxParams>,
) -> Result<Json<Items<ReportSummary>>, AppError> {
    let status = match p.status.as_deref() {
        None | Some("all") => InboxStatus::All,
        Some("unreceived") => InboxStatus::Unreceived,
        Some("received") => InboxStatus::Received,
        Some(_) => {
            return Err(shouwang_domain::validation::ValidationErrors::single(
                "status",
                "status 应为 unreceived、received 或 all",
            )
            .into());
        }
    };
    Ok(Json(Items {
        items: cases::inbox(&state.app, &user.actor, status).await?,
    }))
}

/// The police receive a report (受理); its time is recorded. A report escalated to the county may
/// be received by the county's civil affairs too.
#[utoipa::path(post, path = "/api/v1/reports/{id}/receive", params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::ReportId>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::receive(&state.app, &user.actor, &id).await?,
        )
        .await?,
    ))
}

/// A case with its timeline. The reporter is shown only to the police handling it and the county
/// civil-affairs bureau (`reporter_confidential` otherwise); the reporter reads the status and the
/// feedback of what they filed. Outside the caller's area: 404.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = String, Path)),
    responses((status = 200, body = CaseView)))]
pub async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(cases::case(&state.app, &user.actor, &id).await?))
}

/// A step of the emergency response.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub step: Step,
    pub outcome: StepOutcome,
    /// Required when the step was skipped or failed.
    #[serde(default)]
    pub note: String,
}

/// The police record a step of the emergency response (who and when are recorded).
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps", params(("id" = String, Path)), request_body = StepBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn record_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<StepBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::record_step(&state.app, &user.actor, &id, b.step, b.outcome, &b.note).await?,
        )
        .await?,
    ))
}

/// 受案、立案、反馈 or a transfer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    pub record: PoliceRecord,
    /// Required for feedback (what the reporter is told).
    #[serde(default)]
    pub note: String,
}

/// The police record 受案/立案, their feedback to the reporter (due within 3 days of it) or a
/// transfer.
#[utoipa::path(post, path = "/api/v1/cases/{id}/police-records", params(("id" = String, Path)), request_body = RecordBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn police_record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<RecordBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::police_record(&state.app, &user.actor, &id, b.record, &b.note).await?,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NoteBody {
    pub note: String,
}

/// The police notify the town (通报乡镇): the case moves to the town's assessment and help.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notify-town", params(("id" = String, Path)), request_body = NoteBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn notify_town(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::notify_town(&state.app, &user.actor, &id, &b.note).await?,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// The town asks to close the case, with a reason; another town or county user decides.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close-request", params(("id" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn request_close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::request_close(&state.app, &user.actor, &id, &b.reason).await?,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    /// Required when returning the request.
    #[serde(default)]
    pub note: String,
}

/// Approves closing (by a town or county user other than the one who asked) or returns it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close-decision", params(("id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn decide_close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::decide_close(&state.app, &user.actor, &id, b.approve, &b.note).await?,
        )
        .await?,
    ))
}

/// Reopens a closed case, with a reason.
#[utoipa::path(post, path = "/api/v1/cases/{id}/reopen", params(("id" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::reopen(&state.app, &user.actor, &id, &b.reason).await?,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct UnreportedParams {
    /// A division inside your area (your whole area if absent).
    pub region: Option<String>,
}

/// Children of your area whose file records 单独居住 or 无人监护 and for whom no mandatory report was
/// filed (未成年人保护法 Art. 117: failures to report are visible to the town and oversight): how
/// many in all (`total`), and the 500 longest unreported.
#[utoipa::path(get, path = "/api/v1/reports/unreported", params(UnreportedParams),
    responses((status = 200, description = "children to report", body = cases::UnreportedList),
        (status = 404, description = "所指的地区不存在或不在您的管辖范围内", body = crate::error::ErrorBody)))]
pub async fn unreported(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<UnreportedParams>,
) -> Result<Json<cases::UnreportedList>, AppError> {
    Ok(Json(
        cases::unreported(&state.app, &user.actor, p.region.as_deref(), 500).await?,
    ))
}

/// Adds evidence to a case (multipart, field `file`): a photo (JPEG, PNG, WebP) or a PDF, at most
/// 10 MB, at most 30 a case; what the file is is read from its bytes. Those who work on the case and
/// its reporter may add.
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = shouwang_app::protection::Attachment)))]
pub async fn add_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    multipart: crate::extract::Multipart,
) -> Result<impl IntoResponse, AppError> {
    let (_, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    let (name, bytes) = upload.ok_or_else(|| {
        shouwang_domain::validation::ValidationErrors::single(
            "file",
            "请选择要上传的照片或 PDF 文件",
        )
    })?;
    let a = cases::attach(&state.app, &user.actor, &id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// A case's evidence (those who work on it see all; the reporter their own uploads).
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", params(("id" = String, Path)),
    responses((status = 200, body = Items<shouwang_app::protection::Attachment>)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
) -> Result<Json<Items<shouwang_app::protection::Attachment>>, AppError> {
    Ok(Json(Items {
        items: cases::attachments(&state.app, &user.actor, &id).await?,
    }))
}

#[derive(Deserialize)]
pub struct AttachmentPath {
    id: CaseId,
    attachment_id: shouwang_domain::ids::AttachmentId,
}

/// One piece of evidence: a photo shown inline, a PDF downloaded; sandboxed, not cached. Each read
/// is audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment_id}",
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, description = "the file (image/jpeg, image/png, image/webp or application/pdf)", content_type = "application/octet-stream", body = crate::schema::Binary)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<AttachmentPath>,
) -> Result<axum::response::Response, AppError> {
    let (a, data) = cases::attachment(&state.app, &user.actor, &p.id, &p.attachment_id).await?;
    let disposition = if a.kind == "application/pdf" {
        "attachment; filename=\"evidence.pdf\""
    } else {
        "inline"
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, a.kind.clone()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                disposition.to_owned(),
            ),
            (
                axum::http::header::CACHE_CONTROL,
                "private, no-store".to_owned(),
            ),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'".to_owned(),
            ),
        ],
        data,
    )
        .into_response())
}

/// The town (or the county) records an assessment of a case after the police notified it: each
/// area's concern (none, some, serious, danger), what was found, who took part, the child's own
/// view (or why it could not be heard). The risk level follows and sets the visits.
#[utoipa::path(post, path = "/api/v1/cases/{id}/assessments", params(("id" = String, Path)),
    request_body = shouwang_domain::protection::AssessmentInput,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn assess(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<shouwang_domain::protection::AssessmentInput>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::assess(&state.app, &user.actor, &id, &b).await?,
        )
        .await?,
    ))
}

/// A referral to a provider.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferBody {
    pub kind: shouwang_domain::protection::HelpKind,
    /// A provider of the case's county (`GET /api/v1/providers`).
    pub agency_id: String,
    /// What the town asks the provider for.
    pub note: String,
}

/// The town refers the child of a case it assesses to a provider for one kind of help (the help
/// plan); the provider's users are told.
#[utoipa::path(post, path = "/api/v1/cases/{id}/referrals", params(("id" = String, Path)), request_body = ReferBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn refer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<ReferBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::refer(&state.app, &user.actor, &id, b.kind, &b.agency_id, &b.note).await?,
        )
        .await?,
    ))
}

/// Your organisation's referrals (provider users), newest first.
#[utoipa::path(get, path = "/api/v1/referrals",
    responses((status = 200, body = Items<cases::ReferralView>)))]
pub async fn provider_referrals(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<cases::ReferralView>>, AppError> {
    Ok(Json(Items {
        items: cases::provider_referrals(&state.app, &user.actor).await?,
    }))
}

/// What a provider does with a referral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// accept, decline (with a reason), deliver (a service given), complete (the help is done)
    #[schema(pattern = "^(accept|decline|deliver|complete)$")]
    pub action: String,
    #[serde(default)]
    pub note: String,
}

/// A provider accepts or declines a referral, or records what it delivered.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/answer", params(("id" = String, Path)), request_body = AnswerBody,
    responses((status = 200, body = cases::ReferralView), (status = 409, body = ErrorBody)))]
pub async fn answer_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::ReferralId>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> Result<Json<cases::ReferralView>, AppError> {
    let action = referral_action(&b.action)?;
    Ok(Json(
        cases::answer_referral(&state.app, &user.actor, &id, action, &b.note).await?,
    ))
}

pub(super) fn referral_action(
    code: &str,
) -> Result<shouwang_domain::protection::ReferralAction, AppError> {
    use shouwang_domain::protection::ReferralAction::*;
    Ok(match code {
        "accept" => Accept,
        "decline" => Decline,
        "deliver" => Deliver { complete: false },
        "complete" => Deliver { complete: true },
        _ => {
            return Err(shouwang_domain::validation::ValidationErrors::single(
                "action",
                "action 应为 accept、decline、deliver 或 complete",
            )
            .into());
        }
    })
}

/// The service organisations of your county a help plan can refer to (social-work stations,
/// hospitals, legal-aid centres, mass organisations; not schools).
#[utoipa::path(get, path = "/api/v1/providers",
    responses((status = 200, body = Items<shouwang_app::places::Agency>)))]
pub async fn providers(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<shouwang_app::places::Agency>>, AppError> {
    Ok(Json(Items {
        items: cases::providers(&state.app, &user.actor).await?,
    }))
}

/// Civil affairs takes the child into temporary guardianship: the legal ground (Art. 92), the
/// placement (Art. 93), the carer, the start.
#[utoipa::path(post, path = "/api/v1/cases/{id}/placements", params(("id" = String, Path)),
    request_body = shouwang_domain::protection::PlacementInput,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn place(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<shouwang_domain::protection::PlacementInput>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::place(&state.app, &user.actor, &id, &b).await?,
        )
        .await?,
    ))
}

/// How a temporary guardianship ends.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPlacementBody {
    /// YYYY-MM-DD; today if absent.
    #[serde(default)]
    pub end_date: Option<String>,
    /// The assessment before the child returns, and where the child goes.
    pub assessment: String,
}

#[derive(Deserialize)]
pub struct PlacementPath {
    id: CaseId,
    placement_id: shouwang_domain::ids::PlacementId,
}

/// Ends a temporary guardianship on the assessment that lets the child return.
#[utoipa::path(post, path = "/api/v1/cases/{id}/placements/{placement_id}/end",
    params(("id" = String, Path), ("placement_id" = String, Path)), request_body = EndPlacementBody,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn end_placement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<PlacementPath>,
    ApiJson(b): ApiJson<EndPlacementBody>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::end_placement(
                &state.app,
                &user.actor,
                &p.id,
                &p.placement_id,
                b.end_date.as_deref(),
                &b.assessment,
            )
            .await?,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct FiguresParams {
    /// First day counted (YYYY-MM-DD); 1 January of this year if absent.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day counted; today if absent.
    #[param(format = Date)]
    pub to: Option<String>,
}

/// The period's days, checked (defaults: this year so far).
pub(super) fn period(
    p: &FiguresParams,
    today: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), AppError> {
    use chrono::Datelike;
    let day = |v: &Option<String>, field: &str, default: chrono::NaiveDate| match v
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(t) => shouwang_domain::input::parse_date(t).ok_or_else(|| {
            AppError::from(shouwang_domain::validation::ValidationErrors::single(
                field,
                "日期应形如 2026-01-01",
            ))
        }),
    };
    let from = day(
        &p.from,
        "from",
        chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"),
    )?;
    Ok((from, day(&p.to, "to", today)?))
}

/// The figures of your area over a period: reports by situation, reporter and severity; receipt
/// (count, minutes to receipt), escalations, minutes to the first action; open and closed cases;
/// temporary guardianships; referrals by status; feedback overdue (龙里 003 asks for 1 Jan–31 Aug).
#[utoipa::path(get, path = "/api/v1/cases/figures", params(FiguresParams),
    responses((status = 200, body = cases::Figures)))]
pub async fn figures(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<FiguresParams>,
) -> Result<Json<cases::Figures>, AppError> {
    let (from, to) = period(&p, state.app.today())?;
    Ok(Json(
        cases::figures(&state.app, &user.actor, from, to).await?,
    ))
}

/// Records a step of a guardianship intervention (批评教育, 训诫, 告诫书, 人身安全保护令, 行政处罚,
/// 移送追究刑事责任, 撤销监护资格): each measure's steps in order, by the role the law gives it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/interventions", params(("id" = String, Path)),
    request_body = cases::InterventionInput,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn intervene(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    ApiJson(b): ApiJson<cases::InterventionInput>,
) -> Result<Json<CaseView>, AppError> {
    Ok(Json(
        cases::case(
            &state.app,
            &user.actor,
            &cases::intervene(&state.app, &user.actor, &id, &b).await?,
        )
        .await?,
    ))
}
