//! The register of left-behind elderly people under `/api/v1/elders` (issue 27's contract).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use shouwang_app::elders::{ElderQuery, ElderRecord, ElderSummary, HistoryEntry, Page};
use shouwang_domain::elder::{ElderExitReason, ElderInput, ElderStatus, LivingWith};
use shouwang_domain::ids::ElderId;
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Path, Query};
use crate::schema::Items;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        register_elder,
        list_elders,
        get_elder,
        patch_elder,
        elder_history,
        exit_elder
    ),
    components(schemas(ElderView, ElderInput, ElderPatch, ElderExitBody))
)]
pub struct ApiDoc;

/// An elder's record as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElderView {
    pub id: String,
    /// active (在册) or exited (已退出)
    pub status: ElderStatus,
    pub status_label: &'static str,
    pub exit_reason: Option<ElderExitReason>,
    pub exit_date: Option<NaiveDate>,
    pub name: String,
    /// 男 or 女
    pub sex: &'static str,
    pub birth_date: NaiveDate,
    /// Age on today's date.
    pub age: i32,
    pub village_code: String,
    /// Province → village names of where the elder lives.
    pub place: Vec<String>,
    pub id_number_masked: Option<String>,
    /// The whole number, only when asked for with `reveal=true` by a role that may see it.
    pub id_number: Option<String>,
    pub living_with: Option<LivingWith>,
    /// 独居 or unable to care for themselves: the first to visit.
    pub watched: bool,
    /// What the register still needs to know (待补充), by the form's labels.
    pub missing: Vec<&'static str>,
    /// Send it back with an edit: a change by someone else in between is refused (409).
    pub version: i64,
    /// The record as it is typed (codes), ID number only when revealed.
    pub record: ElderInput,
    pub created_at: String,
    pub updated_at: String,
}

impl ElderView {
    pub fn of(r: &ElderRecord) -> ElderView {
        ElderView {
            id: r.id.to_string(),
            status: r.status,
            status_label: r.status.label(),
            exit_reason: r.exit_reason,
            exit_date: r.exit_date,
            name: r.file.name.to_string(),
            sex: r.file.sex.label(),
            birth_date: r.file.birth_date,
            age: r.age,
            village_code: r.file.village_code.padded12(),
            place: r.place.clone(),
            id_number_masked: r.id_number_masked.clone(),
            id_number: r.file.id_number.as_ref().map(|n| n.as_str().to_owned()),
            living_with: r.file.living_with,
            watched: r.watched,
            missing: r.missing.clone(),
            version: r.version,
            record: ElderInput::from_file(&r.file),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
        }
    }
}

/// The body of `PATCH /api/v1/elders/{id}`: the fields to change (a blank string clears one) and
/// the `version` the change is based on.
#[derive(Debug, ToSchema)]
pub struct ElderPatch {
    pub version: i64,
    #[serde(flatten)]
    pub fields: ElderInput,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ElderListParams {
    /// Region code inside your jurisdiction (town, village…).
    #[param(value_type = Option<crate::schema::DivisionCode>, inline)]
    pub region: Option<String>,
    /// A name, its pinyin, or a whole ID number.
    #[param(max_length = 50)]
    pub q: Option<String>,
    #[param(value_type = Option<LivingWith>, inline)]
    pub living_with: Option<String>,
    /// 1: only those living alone or unable to care for themselves
    #[param(value_type = Option<crate::schema::OneOrZero>, inline)]
    pub watched: Option<String>,
    /// 1: only records that leave something the register needs blank (待补充)
    #[param(value_type = Option<crate::schema::OneOrZero>, inline)]
    pub incomplete: Option<String>,
    /// active (default) or exited
    #[param(value_type = Option<ElderStatus>, inline)]
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses the list's filters, naming each bad one.
pub fn elder_query(p: &ElderListParams) -> Result<ElderQuery, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let mut q = ElderQuery {
        q: p.q.clone().filter(|q| q.chars().count() <= 50),
        page: p.page.unwrap_or(1),
        per_page: p.per_page.unwrap_or(20),
        ..ElderQuery::default()
    };
    if p.q.as_ref().is_some_and(|q| q.chars().count() > 50) {
        e.add("q", "搜索内容过长（最多50个字）");
    }
    if let Some(r) = nonempty(&p.region) {
        match RegionCode::parse(r) {
            Ok(c) => q.region = Some(c),
            Err(err) => e.add("region", err.to_string()),
        }
    }
    if let Some(v) = nonempty(&p.living_with) {
        match LivingWith::parse(v) {
            Some(l) => q.living_with = Some(l),
            None => e.add(
                "living_with",
                format!("“{v}”不是可选值（alone、spouse、grandchildren、other）"),
            ),
        }
    }
    for (field, value, slot) in [
        ("watched", &p.watched, &mut q.watched),
        ("incomplete", &p.incomplete, &mut q.incomplete),
    ] {
        if let Some(v) = nonempty(value) {
            match shouwang_domain::input::parse_bool(v) {
                Some(b) => *slot = b,
                None => e.add(field, format!("“{v}”不是可选值（1 或 0）")),
            }
        }
    }
    if let Some(v) = nonempty(&p.status) {
        match ElderStatus::parse(v) {
            Some(s) => q.status = Some(s),
            None => e.add("status", format!("“{v}”不是可选值（active、exited）")),
        }
    }
    if q.per_page > 200 {
        e.add("per_page", "每页最多200条");
    }
    e.into_result(q)
}

#[utoipa::path(post, path = "/api/v1/elders", request_body = ElderInput,
    responses((status = 201, description = "the new record", body = ElderView),
              (status = 409, description = "the ID number is already on the register", body = ErrorBody)))]
pub async fn register_elder(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, AppError> {
    // Numbers taken where the form takes text, as for a child's registration.
    let (_, input) = crate::extract::split_body::<ElderInput>(body, &[])?;
    let r = shouwang_app::elders::register(&state.app, &user.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(ElderView::of(&r))))
}

#[utoipa::path(get, path = "/api/v1/elders", params(ElderListParams),
    responses((status = 200, description = "one page of the register", body = Page<ElderSummary>)))]
pub async fn list_elders(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ElderListParams>,
) -> Result<Json<Page<ElderSummary>>, AppError> {
    let q = elder_query(&p)?;
    Ok(Json(
        shouwang_app::elders::roster(&state.app, &user.actor, &q).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealParams {
    /// true: show the full ID number (county staff and police only; logged)
    #[serde(default)]
    pub reveal: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/elders/{id}", params(("id" = String, Path), RevealParams),
    responses((status = 200, description = "the record", body = ElderView)))]
pub async fn get_elder(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
    Query(p): Query<RevealParams>,
) -> Result<Json<ElderView>, AppError> {
    let reveal = p
        .reveal
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "1"));
    let r = shouwang_app::elders::get(&state.app, &user.actor, &id, reveal).await?;
    Ok(Json(ElderView::of(&r)))
}

#[utoipa::path(patch, path = "/api/v1/elders/{id}", params(("id" = String, Path)), request_body = ElderPatch,
    responses((status = 200, description = "the record after the edit", body = ElderView),
              (status = 409, description = "someone saved first, or the ID number is another record's", body = ErrorBody)))]
pub async fn patch_elder(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ElderView>, AppError> {
    let (extra, fields) = crate::extract::split_body::<ElderInput>(body, &["version"])?;
    let version = crate::extract::required_version(&extra)?;
    let patch = ElderPatch { version, fields };
    let r = shouwang_app::elders::update(&state.app, &user.actor, &id, patch.version, patch.fields)
        .await?;
    Ok(Json(ElderView::of(&r)))
}

#[utoipa::path(get, path = "/api/v1/elders/{id}/history", params(("id" = String, Path)),
    responses((status = 200, description = "changes, newest first", body = Items<HistoryEntry>)))]
pub async fn elder_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
) -> Result<Json<Items<HistoryEntry>>, AppError> {
    let items = shouwang_app::elders::history(&state.app, &user.actor, &id).await?;
    Ok(Json(Items { items }))
}

/// The body of `POST /api/v1/elders/{id}/exit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElderExitBody {
    pub version: i64,
    #[schema(value_type = ElderExitReason)]
    pub reason: String,
    /// YYYY-MM-DD, not after today
    #[schema(value_type = NaiveDate)]
    pub date: String,
}

/// Reads an exit's reason and day, naming each that is wrong.
pub fn parse_exit(
    reason: &str,
    date: &str,
) -> Result<(ElderExitReason, NaiveDate), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let r = ElderExitReason::parse(reason);
    if r.is_none() {
        e.add(
            "reason",
            format!(
                "退出原因“{}”不是可选值（子女返乡、迁出本村（社区）、去世、其他）",
                reason.chars().take(20).collect::<String>()
            ),
        );
    }
    let d = shouwang_domain::input::parse_date(date);
    if d.is_none() {
        e.add("date", "退出日期不是有效日期（例：2026-12-01）");
    }
    match (r, d) {
        (Some(r), Some(d)) if e.is_empty() => Ok((r, d)),
        _ => Err(e),
    }
}

#[utoipa::path(post, path = "/api/v1/elders/{id}/exit", params(("id" = String, Path)), request_body = ElderExitBody,
    responses((status = 200, description = "the record after the exit", body = ElderView),
              (status = 409, description = "it left already, or someone saved first", body = ErrorBody)))]
pub async fn exit_elder(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
    ApiJson(b): ApiJson<ElderExitBody>,
) -> Result<Json<ElderView>, AppError> {
    let (reason, date) = parse_exit(&b.reason, &b.date)?;
    let r =
        shouwang_app::elders::exit(&state.app, &user.actor, &id, b.version, reason, date).await?;
    Ok(Json(ElderView::of(&r)))
}
