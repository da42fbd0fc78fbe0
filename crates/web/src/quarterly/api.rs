//! The quarterly reports' JSON API (the Contract of issue 14).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use shouwang_app::quarterly::{
    self, PeriodFigures, QuarterOverview, Ranking, ReportView, SubmitInput, SummaryView,
};

use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, MaybeJson, Path, Query};
use crate::schema::Binary;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        summary,
        overview,
        ranking,
        period_figures,
        create,
        get_report,
        refresh,
        submit,
        confirm,
        signed_page,
        signed_page_download,
        verify,
        approve,
        return_report
    ),
    components(schemas(NewReport, SubmitInput, CommentBody, VerifyBody))
)]
pub struct ApiDoc;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SummaryParams {
    /// A division inside yours; yours if absent.
    #[param(pattern = "^[0-9]{2,12}$")]
    pub region: Option<String>,
    /// YYYY-MM-DD; today if absent.
    pub date: Option<String>,
}

/// The 汇总表 (32 columns) of an area on a date, with whether the 表间勾稽关系 hold; a frozen
/// quarterly report's figures when one was made for that unit and date (`frozen: true`).
#[utoipa::path(get, path = "/api/v1/summary", params(SummaryParams),
    responses((status = 200, body = SummaryView),
        (status = 404, description = "所指的地区不存在或不在您的管辖范围内", body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<SummaryParams>,
) -> Result<Json<SummaryView>, AppError> {
    Ok(Json(
        quarterly::summary(
            &state.app,
            &user.actor,
            p.region.as_deref(),
            p.date.as_deref(),
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct OverviewParams {
    /// 2026Q4; the quarter being reported if absent.
    #[param(pattern = "^[0-9]{4}Q[1-4]$")]
    pub quarter: Option<String>,
}

/// Your unit's report of the quarter and those of the units that report to you.
#[utoipa::path(get, path = "/api/v1/quarterly-reports", params(OverviewParams),
    responses((status = 200, body = QuarterOverview)))]
pub async fn overview(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> Result<Json<QuarterOverview>, AppError> {
    Ok(Json(
        quarterly::overview(&state.app, &user.actor, p.quarter.as_deref()).await?,
    ))
}

/// The quarter's 定期通报 of the units below you: each unit's report against its deadline (on
/// time, late, missing, not yet due; times returned) and its children's verification this
/// quarter, on time first.
#[utoipa::path(get, path = "/api/v1/quarterly-ranking", params(OverviewParams),
    responses((status = 200, body = Ranking)))]
pub async fn ranking(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> Result<Json<Ranking>, AppError> {
    Ok(Json(
        quarterly::ranking(&state.app, &user.actor, p.quarter.as_deref()).await?,
    ))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PeriodParams {
    /// The first day (YYYY-MM-DD); 1 January of this year if absent.
    pub from: Option<String>,
    /// The last day; today if absent.
    pub to: Option<String>,
}

impl PeriodParams {
    pub fn days(
        &self,
        today: chrono::NaiveDate,
    ) -> Result<(chrono::NaiveDate, chrono::NaiveDate), AppError> {
        use chrono::Datelike;
        let mut e = shouwang_domain::validation::ValidationErrors::default();
        let mut day = |v: &Option<String>, field: &str, default: chrono::NaiveDate| match v
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => default,
            Some(s) => shouwang_domain::input::parse_date(s).unwrap_or_else(|| {
                e.add(field, "日期格式不正确，应为 2026-08-31");
                default
            }),
        };
        let from = day(
            &self.from,
            "from",
            chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"),
        );
        let to = day(&self.to, "to", today);
        e.into_result(())?;
        Ok((from, to))
    }
}

/// The figures of your area over a period: registrations, exits by reason, visits, and the
/// protection cases' figures of the same days (龙里 asks for 1 January–31 August by 15 September).
#[utoipa::path(get, path = "/api/v1/period-figures", params(PeriodParams),
    responses((status = 200, body = PeriodFigures)))]
pub async fn period_figures(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<PeriodParams>,
) -> Result<Json<PeriodFigures>, AppError> {
    let (from, to) = p.days(state.app.today())?;
    Ok(Json(
        quarterly::period(&state.app, &user.actor, from, to).await?,
    ))
}

/// A unit and quarter to report.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// The unit: a town (its children as of the quarter's end) or a county and above (the sum of
    /// the approved reports below).
    pub region: String,
    /// 2026Q4
    pub quarter: String,
}

/// Freezes a unit's report of a quarter. A county's (or higher) report before all the units below
/// are approved is a 409 naming them.
#[utoipa::path(post, path = "/api/v1/quarterly-reports", request_body = NewReport,
    responses((status = 201, body = ReportView),
        (status = 404, description = "所指的单位不存在或不在您的管辖范围内", body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<NewReport>,
) -> Result<impl IntoResponse, AppError> {
    let r = quarterly::create(&state.app, &user.actor, &b.region, &b.quarter).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// A quarterly report with its frozen 汇总表, signers and history.
#[utoipa::path(get, path = "/api/v1/quarterly-reports/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ReportView)))]
pub async fn get_report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(quarterly::get(&state.app, &user.actor, &id).await?))
}

/// Makes a frozen or returned report again from the files (after corrections).
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/refresh", params(("id" = String, Path)),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::refresh(&state.app, &user.actor, &id).await?,
    ))
}

/// Submits a frozen report to the level above, with its 复核人 and 单位负责人 (the submitting user
/// is the 填表人). Refused (409) while a 表间勾稽关系 fails.
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/submit", params(("id" = String, Path)),
    request_body(content = SubmitInput, description = "optional"),
    responses((status = 200, body = ReportView),
        (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    MaybeJson(b): MaybeJson<SubmitInput>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::submit(&state.app, &user.actor, &id, &b).await?,
    ))
}

/// A department's check of its section.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// `education` (控辍保学) or `police` (户籍登记和应急处置).
    pub section: String,
    /// What was checked or corrected.
    #[serde(default)]
    pub note: Option<String>,
}

/// The education bureau or the police check their section of a submitted town report; the county
/// approves a town's report only after the departments that cover the town have checked it.
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/verify", params(("id" = String, Path)),
    request_body = VerifyBody,
    responses((status = 200, body = ReportView),
        (status = 409, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    ApiJson(b): ApiJson<VerifyBody>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::verify(&state.app, &user.actor, &id, &b.section, b.note.as_deref()).await?,
    ))
}

/// The level above's comment; when returning, also (or instead) a comment per item: a column of
/// the 汇总表 (`"26"`) or a unit of the report (its code).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CommentBody {
    pub comment: Option<String>,
    pub items: Vec<shouwang_domain::quarterly::ReturnItem>,
}

/// The level above approves a submitted report: it is locked.
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/approve", params(("id" = String, Path)),
    request_body(content = CommentBody, description = "optional"),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    MaybeJson(b): MaybeJson<CommentBody>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::decide(
            &state.app,
            &user.actor,
            &id,
            true,
            b.comment.as_deref(),
            &[],
        )
        .await?,
    ))
}

/// The level above returns a submitted report with what to correct: a `comment`, `items` (what
/// to correct per column or unit), or both.
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/return", params(("id" = String, Path)),
    request_body = CommentBody,
    responses((status = 200, body = ReportView),
        (status = 409, body = ErrorBody)))]
pub async fn return_report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    MaybeJson(b): MaybeJson<CommentBody>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::decide(
            &state.app,
            &user.actor,
            &id,
            false,
            b.comment.as_deref(),
            &b.items,
        )
        .await?,
    ))
}

/// Which signer confirms.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// `reviewer` (复核人) or `head` (单位负责人).
    #[serde(rename = "as")]
    pub signer: String,
}

/// The 复核人 or the 单位负责人 named on a report confirms it, as a user of the unit other than
/// the one who submitted it, whose name is the name given. With both, the report is submitted to
/// the level above (until then its status is `signing`).
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/confirm", params(("id" = String, Path)),
    operation_id = "confirm_report",
    request_body = ConfirmBody,
    responses((status = 200, body = ReportView),
        (status = 409, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> Result<Json<ReportView>, AppError> {
    Ok(Json(
        quarterly::confirm(&state.app, &user.actor, &id, &b.signer).await?,
    ))
}

/// The page the 复核人 and 单位负责人 signed and the unit stamped (PDF, JPEG, PNG or WebP, at most
/// 10 MB), as the multipart field `file`: the report is submitted to the level above.
#[utoipa::path(post, path = "/api/v1/quarterly-reports/{id}/signed-page", params(("id" = String, Path)),
    operation_id = "upload_signed_page",
    request_body(content = Binary, content_type = "multipart/form-data"),
    responses((status = 200, body = ReportView),
        (status = 409, body = ErrorBody)))]
pub async fn signed_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
    multipart: crate::extract::Multipart,
) -> Result<Json<ReportView>, AppError> {
    let (_, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    let bytes = upload.map(|(_, b)| b).unwrap_or_default();
    Ok(Json(
        quarterly::attach_signed_page(&state.app, &user.actor, &id, &bytes).await?,
    ))
}

/// The signed and stamped page of a report.
#[utoipa::path(get, path = "/api/v1/quarterly-reports/{id}/signed-page", params(("id" = String, Path)),
    operation_id = "signed_page_download",
    responses((status = 200, body = Binary)))]
pub async fn signed_page_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::QuarterlyReportId>,
) -> Result<axum::response::Response, AppError> {
    let (kind, bytes) = quarterly::signed_page(&state.app, &user.actor, &id).await?;
    let ext = match kind.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    Ok(crate::ui::download(
        bytes,
        &format!("季度报表签字盖章页.{ext}"),
        &kind,
    ))
}
