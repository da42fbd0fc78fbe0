//! Guardianship: 委托监护 (issue 15) — a child's carer checks and agreements on one page
//! (`/children/{id}/guardianship`: the Art. 22 checklist and capacity assessment, the signed
//! 确认书/责任书 with its scan and term), the area's list of carers to re-assess and agreements to
//! renew (`/guardianship`) — and the parents' contact log's API (its form and list are on the
//! child's visits page, `visits::pages`, which shows both). The rules are `domain::guardianship`,
//! the use cases `app::guardianship`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use shouwang_app::guardianship::CarerCheckView;
use shouwang_app::guardianship::{self, AgreementNow, ContactLog, Due};
use shouwang_domain::guardianship::ContactInput;
use shouwang_domain::guardianship::{
    AgreementInput, AgreementKind, CapacityItem, CarerCheckInput, Disqualification, Rating,
};
use shouwang_domain::ids::ChildId;
use shouwang_domain::protection::MAX_EVIDENCE_BYTES;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::AppError;
use crate::extract::{ApiJson, Path};
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, china_time, form_field, opts, place_name, render};

const SCAN_BODY: usize = MAX_EVIDENCE_BYTES + (256 << 10);

#[derive(OpenApi)]
#[openapi(
    paths(
        list_agreements,
        record_agreement,
        agreement_scan,
        due,
        record_carer_check,
        list_carer_checks,
        record_contact,
        list_contacts,
        lapsed
    ),
    components(schemas(AgreementInput, ContactInput, CarerCheckInput))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guardianship", get(due_page))
        .route("/children/{id}/guardianship", get(child_page))
        .route("/children/{id}/carer-checks", post(check_submit))
        .route(
            "/children/{id}/agreements",
            post(agreement_submit).layer(DefaultBodyLimit::max(SCAN_BODY)),
        )
        .route(
            "/children/{id}/agreements/{agreement_id}/scan",
            get(agreement_scan),
        )
        .route(
            "/api/v1/children/{id}/agreements",
            get(list_agreements).post(record_agreement),
        )
        .route(
            "/api/v1/children/{id}/agreements/{agreement_id}/scan",
            get(agreement_scan),
        )
        .route("/api/v1/guardianship/due", get(due))
        .route(
            "/api/v1/children/{id}/carer-checks",
            get(list_carer_checks).post(record_carer_check),
        )
        .route("/api/v1/parent-contacts/lapsed", get(lapsed))
        .route(
            "/api/v1/children/{id}/parent-contacts",
            get(list_contacts).post(record_contact),
        )
}

/// A child's 委托监护 agreements, newest first, each with its state today (`in_force`,
/// `expiring`: renew it, `lapsed`, `replaced`).
#[utoipa::path(get, path = "/api/v1/children/{id}/agreements", params(("id" = String, Path)),
    responses((status = 200, body = Items<AgreementNow>)))]
pub async fn list_agreements(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<AgreementNow>>, AppError> {
    Ok(Json(Items {
        items: guardianship::agreements(&state.app, &user.actor, &id).await?,
    }))
}

/// Records a signed agreement (it replaces the current one). The carer's latest check must not
/// have found them unfit (the seeds: signed after the initial assessment). The scan of the signed
/// paper is uploaded on the page (multipart).
#[utoipa::path(post, path = "/api/v1/children/{id}/agreements", params(("id" = String, Path)),
    request_body = AgreementInput,
    responses((status = 201, body = Items<AgreementNow>)))]
pub async fn record_agreement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<AgreementInput>,
) -> Result<impl IntoResponse, AppError> {
    let items = guardianship::record(&state.app, &user.actor, &id, &body, None).await?;
    Ok((StatusCode::CREATED, Json(Items { items })))
}

#[derive(Deserialize)]
pub struct ScanPath {
    id: ChildId,
    agreement_id: String,
}

/// The scan of a signed agreement (a photo or a PDF, as uploaded; each read audited).
#[utoipa::path(get, path = "/api/v1/children/{id}/agreements/{agreement_id}/scan",
    params(("id" = String, Path), ("agreement_id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn agreement_scan(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<ScanPath>,
) -> Result<axum::response::Response, AppError> {
    let (kind, bytes) = guardianship::scan(&state.app, &user.actor, &p.id, &p.agreement_id).await?;
    let ext = match kind.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    Ok(crate::ui::download(
        bytes,
        &format!("委托监护协议扫描件.{ext}"),
        &kind,
    ))
}

/// Carers due a re-assessment and agreements to renew (ending within 30 days, or ended) in your
/// area, soonest first.
#[utoipa::path(get, path = "/api/v1/guardianship/due", operation_id = "guardianship_due",
    responses((status = 200, body = Due)))]
pub async fn due(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Due>, AppError> {
    Ok(Json(guardianship::due(&state.app, &user.actor).await?))
}

#[derive(Template)]
#[template(path = "guardianship/due.html")]
struct DuePage {
    frame: Frame,
    due: Due,
}

impl DuePage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

pub async fn due_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let due = guardianship::due(&state.app, &user.actor).await?;
    Ok(render(&DuePage {
        frame: Frame::of(&state, &user).await,
        due,
    }))
}

#[derive(Template)]
#[template(path = "guardianship/child.html")]
struct ChildPage {
    frame: Frame,
    child_id: String,
    child_name: String,
    carer_name: String,
    checks: Vec<CarerCheckView>,
    agreements: Vec<AgreementNow>,
    disqualifications: Vec<Opt>,
    /// The capacity items, each with what was chosen (none until the person chooses) and its error.
    items: Vec<RatingRow>,
    ratings: Vec<Opt>,
    kinds: Vec<Opt>,
    /// What was typed into the carer check, kept when it is refused.
    typed: CarerCheckInput,
    can_record: bool,
    check_errors: ValidationErrors,
    agreement_errors: ValidationErrors,
    notice: Option<String>,
    today: String,
}

impl ChildPage {
    fn at(&self, at: &str) -> String {
        china_time(at)
    }
}

/// One capacity item of the carer check as the form shows it.
struct RatingRow {
    code: String,
    label: String,
    chosen: String,
    error: Option<String>,
}

#[derive(Default)]
struct Outcome {
    check_errors: ValidationErrors,
    typed: CarerCheckInput,
    agreement_errors: ValidationErrors,
    notice: Option<String>,
}

async fn child_view(state: &AppState, user: &CurrentUser, id: &ChildId, o: Outcome) -> PageResult {
    let child = shouwang_app::children::get(&state.app, &user.actor, id, false).await?;
    let status = if o.check_errors.is_empty() && o.agreement_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&ChildPage {
        frame: Frame::of(state, user).await,
        child_id: id.to_string(),
        child_name: child.file.name.as_str().to_owned(),
        carer_name: child
            .file
            .entrusted_guardian
            .as_ref()
            .and_then(|g| g.name.as_ref().map(|n| n.as_str().to_owned()))
            .unwrap_or_default(),
        checks: shouwang_app::guardianship::carer_checks(&state.app, &user.actor, id).await?,
        agreements: guardianship::agreements(&state.app, &user.actor, id).await?,
        disqualifications: opts(
            Disqualification::ALL,
            Disqualification::code,
            Disqualification::label,
        ),
        // Each rating is the person's: none is chosen for them (a blank is not 良好).
        items: CapacityItem::ALL
            .iter()
            .map(|i| RatingRow {
                code: i.code().to_owned(),
                label: i.label().to_owned(),
                chosen: o.typed.ratings.get(i.code()).cloned().unwrap_or_default(),
                error: o
                    .check_errors
                    .message_for(&format!("ratings.{}", i.code()))
                    .map(str::to_owned),
            })
            .collect(),
        ratings: opts(Rating::ALL, Rating::code, Rating::label),
        typed: o.typed,
        kinds: opts(
            AgreementKind::ALL,
            AgreementKind::code,
            AgreementKind::label,
        ),
        can_record: user
            .actor
            .may(shouwang_domain::authz::Action::RecordParentContact),
        check_errors: o.check_errors,
        agreement_errors: o.agreement_errors,
        notice: o.notice,
        today: state.app.today().to_string(),
    });
    Ok((status, page).into_response())
}

pub async fn child_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> PageResult {
    child_view(&state, &user, &id, Outcome::default()).await
}

pub async fn check_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let mut ratings = BTreeMap::new();
    for item in CapacityItem::ALL {
        if let Some(r) = form_field(&pairs, &format!("rating_{}", item.code())) {
            ratings.insert(item.code().to_owned(), r);
        }
    }
    let input = CarerCheckInput {
        carer_name: form_field(&pairs, "carer_name"),
        disqualifications: pairs
            .iter()
            .filter(|(k, _)| k == "disqualifications")
            .map(|(_, v)| v.clone())
            .take(Disqualification::ALL.len() + 1)
            .collect(),
        checked_how: form_field(&pairs, "checked_how"),
        ratings,
        note: form_field(&pairs, "note"),
    };
    match shouwang_app::guardianship::record_carer_check(&state.app, &user.actor, &id, &input).await
    {
        Ok(checks) => {
            let verdict = checks
                .first()
                .map(|c| c.check.verdict.label())
                .unwrap_or("");
            child_view(
                &state,
                &user,
                &id,
                Outcome {
                    notice: Some(format!("已记录监护能力评估：{verdict}。")),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(shouwang_app::Error::Validation(e)) => {
            child_view(
                &state,
                &user,
                &id,
                Outcome {
                    check_errors: e,
                    typed: input,
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn agreement_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) =
        crate::extract::upload_form_within(multipart, MAX_EVIDENCE_BYTES).await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let get = |k: &str| fields.get(k).cloned().filter(|v| !v.trim().is_empty());
    let input = AgreementInput {
        kind: get("kind"),
        carer_name: get("carer_name"),
        signed_on: get("signed_on"),
        ends_on: get("ends_on"),
        school_notified: Some(get("school_notified").is_some()),
        village_notified: Some(get("village_notified").is_some()),
        note: get("note"),
    };
    let scan = upload.as_ref().map(|(_, b)| b.as_ref());
    match guardianship::record(&state.app, &user.actor, &id, &input, scan).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/children/{id}/guardianship#agreements")).into_response())
        }
        Err(shouwang_app::Error::Validation(e)) => {
            child_view(
                &state,
                &user,
                &id,
                Outcome {
                    agreement_errors: e,
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Records a check of the child's carer: who, the disqualifications of 未成年人保护法 Art. 22 found
/// (`crime`, `vice`, `neglect`, `other`; none: empty) and how that was checked, each capacity item
/// rated (`health`, `time`, `means`, `schooling`, `safety` → `good`, `fair`, `poor`). The verdict
/// and the next assessment follow; an unfit carer changes the file's 监护类型 and tells the town.
#[utoipa::path(post, path = "/api/v1/children/{id}/carer-checks", params(("id" = String, Path)),
    request_body = shouwang_domain::guardianship::CarerCheckInput,
    responses((status = 201, body = Items<CarerCheckView>)))]
pub async fn record_carer_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<shouwang_domain::guardianship::CarerCheckInput>,
) -> Result<impl IntoResponse, AppError> {
    let items = guardianship::record_carer_check(&state.app, &user.actor, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(Items { items })))
}

/// A child's carer checks, newest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/carer-checks", params(("id" = String, Path)),
    responses((status = 200, body = Items<CarerCheckView>)))]
pub async fn list_carer_checks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<CarerCheckView>>, AppError> {
    Ok(Json(Items {
        items: guardianship::carer_checks(&state.app, &user.actor, &id).await?,
    }))
}

/// Records a contact with the parents, or an attempt that did not reach them (未成年人保护法 Art.
/// 23: at least weekly). Answers the log.
#[utoipa::path(post, path = "/api/v1/children/{id}/parent-contacts", params(("id" = String, Path)),
    request_body = ContactInput,
    responses((status = 201, body = ContactLog)))]
pub async fn record_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<ContactInput>,
) -> Result<impl IntoResponse, AppError> {
    let log = guardianship::record_contact(&state.app, &user.actor, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(log)))
}

/// A child's contact log with the parents, and how long they have been silent.
#[utoipa::path(get, path = "/api/v1/children/{id}/parent-contacts", params(("id" = String, Path)),
    responses((status = 200, body = ContactLog)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<ContactLog>, AppError> {
    Ok(Json(
        guardianship::contacts(&state.app, &user.actor, &id).await?,
    ))
}

/// 父母联系中断: the children of your area whose parents have not been reached (nor sent support)
/// for a month or more by the contact log, the longest silence first.
#[utoipa::path(get, path = "/api/v1/parent-contacts/lapsed",
    responses((status = 200, body = Items<guardianship::Lapsed>)))]
pub async fn lapsed(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<guardianship::Lapsed>>, AppError> {
    Ok(Json(Items {
        items: guardianship::lapsed(&state.app, &user.actor).await?,
    }))
}
