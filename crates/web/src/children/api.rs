//! One child's file and the roster under `/api/v1/children`.

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{OpenApi, ToSchema};

use shouwang_app::children::HistoryEntry;
use shouwang_app::children::{ChildRecord, EditMode, MaskedIds};
use shouwang_app::children::{ChildSummary, Page};
use shouwang_domain::child::{ActualGuardianship, ChildFile};
use shouwang_domain::eligibility::{Eligibility, FlagReason};
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::parse_date;
use shouwang_domain::lifecycle::ExitReason;
use shouwang_domain::lifecycle::RosterStanding;
use shouwang_domain::population::Membership;
use shouwang_domain::validation::ValidationErrors;

use super::roster::{ListParams, roster_query};
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Query};
use crate::schema::Items;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        list_children,
        register_child,
        get_child,
        patch_child,
        child_history,
        exit_child,
        transfer_child
    ),
    components(schemas(ChildRegistration, ChildPatch, ChildView, ExitBody, TransferBody))
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/children", params(ListParams),
    responses((status = 200, description = "one page of the roster", body = Page<ChildSummary>)))]
pub async fn list_children(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Page<ChildSummary>>, AppError> {
    let q = roster_query(&p)?;
    Ok(Json(
        shouwang_app::children::roster(&state.app, &user.actor, &q).await?,
    ))
}

/// A child's file as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildView {
    pub id: String,
    pub name: String,
    /// 男 or 女
    pub sex: &'static str,
    pub birth_date: NaiveDate,
    /// The village's 12-digit division code.
    pub village_code: String,
    pub id_number_masked: Option<String>,
    /// The whole number, only when asked for with `reveal=true` by a role that may see it.
    pub id_number: Option<String>,
    pub status: RosterStanding,
    pub status_label: &'static str,
    pub exit_reason: Option<ExitReason>,
    pub exit_date: Option<NaiveDate>,
    /// Send it back with an edit: a change by someone else in between is refused (409).
    pub version: i64,
    /// Province → village names of where the child lives.
    pub place: Vec<String>,
    /// 监护情况评估: 较好, 一般 or 差; none while the 监护类型 is blank.
    pub assessment: Option<&'static str>,
    pub actual_guardianship: ActualGuardianship,
    pub eligibility: Eligibility,
    pub eligibility_summary: String,
    pub flags: Vec<FlagReason>,
    /// The populations of the registry the file's facts establish (农村留守儿童, 困境儿童,
    /// 事实无人抚养儿童), each with its reasons; a population not listed is not established
    /// ("未认定": a blank is not a "no").
    pub populations: Vec<Membership>,
    /// Facts that 事实无人抚养 needs and the file leaves blank (a parent's situation).
    pub de_facto_missing: Vec<String>,
    /// 兜底保障 the facts call for (龙里 003 五(五)2–3): `to_verify` when the file does not state all
    /// the measure needs.
    pub safety_net: Vec<shouwang_domain::safety_net::Entitlement>,
    pub ids_masked: MaskedIds,
    /// The registration form as stored (ID numbers only when revealed).
    #[schema(schema_with = crate::schema::child_file_schema)]
    pub file: ChildFile,
    pub created_at: String,
    pub updated_at: String,
}

impl ChildView {
    pub fn of(r: &ChildRecord) -> ChildView {
        ChildView {
            id: r.id.to_string(),
            name: r.file.name.as_str().to_owned(),
            sex: r.file.sex.label(),
            birth_date: r.file.birth_date,
            village_code: r.file.village_code.padded12(),
            id_number_masked: r.ids_masked.child.clone(),
            id_number: r.file.id_number.as_ref().map(|n| n.as_str().to_owned()),
            status: r.standing,
            status_label: r.standing.label(),
            exit_reason: r.exit_reason,
            exit_date: r.exit_date,
            version: r.version,
            place: r.place.clone(),
            assessment: r.file.assessment().map(|a| a.label()),
            actual_guardianship: r.file.actual_guardianship(),
            eligibility: r.eligibility.clone(),
            eligibility_summary: r.eligibility.summary(),
            flags: r.flags.clone(),
            populations: r.populations.clone(),
            de_facto_missing: r.de_facto_missing.clone(),
            safety_net: r.safety_net.clone(),
            ids_masked: r.ids_masked.clone(),
            file: r.file.clone(),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
        }
    }
}

/// The body of `POST /api/v1/children`: the registration form's fields (see each field's
/// description), and `confirm_duplicate` to register despite a same-child warning.
pub struct ChildRegistration;

impl utoipa::PartialSchema for ChildRegistration {
    fn schema() -> RefOr<Schema> {
        let confirm = ObjectBuilder::new()
            .schema_type(Type::Boolean)
            .description(Some("true：已核实不是同一人，忽略疑似重复的提示"));
        crate::schema::child_input(
            &crate::schema::required_to_register(),
            vec![("confirm_duplicate", confirm.into())],
        )
        .into()
    }
}
impl ToSchema for ChildRegistration {}

/// The body of `PATCH /api/v1/children/{id}`: the fields to change and the `version` the change
/// is based on.
pub struct ChildPatch;

impl utoipa::PartialSchema for ChildPatch {
    fn schema() -> RefOr<Schema> {
        let version = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("所编辑档案的版本号（防止覆盖他人的修改）"));
        crate::schema::child_input(&["version"], vec![("version", version.into())]).into()
    }
}
impl ToSchema for ChildPatch {}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// true: show full ID numbers (county staff and police only; logged)
    #[serde(default)]
    pub reveal: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/children/{id}", params(("id" = String, Path), GetParams),
    responses((status = 200, description = "the child's file", body = ChildView)))]
pub async fn get_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    Query(p): Query<GetParams>,
) -> Result<Json<ChildView>, AppError> {
    let reveal = p
        .reveal
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "1"));
    let r = shouwang_app::children::get(&state.app, &user.actor, &id, reveal).await?;
    Ok(Json(ChildView::of(&r)))
}

#[utoipa::path(post, path = "/api/v1/children", request_body(content = ChildRegistration),
    responses((status = 201, description = "the new file", body = ChildView), (status = 409, body = ErrorBody)))]
pub async fn register_child(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, AppError> {
    let (extra, input) = crate::extract::split_body(body, &["confirm_duplicate"])?;
    let confirm = extra
        .get("confirm_duplicate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let r = shouwang_app::children::register(&state.app, &user.actor, &input, confirm).await?;
    Ok((StatusCode::CREATED, Json(ChildView::of(&r))))
}

#[utoipa::path(patch, path = "/api/v1/children/{id}", params(("id" = String, Path)), request_body(content = ChildPatch),
    responses((status = 200, description = "the updated file", body = ChildView), (status = 409, body = ErrorBody)))]
pub async fn patch_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ChildView>, AppError> {
    let (extra, input) = crate::extract::split_body(body, &["version"])?;
    let version = crate::extract::required_version(&extra)?;
    let r = shouwang_app::children::update(
        &state.app,
        &user.actor,
        &id,
        version,
        input,
        EditMode::Patch,
    )
    .await?;
    Ok(Json(ChildView::of(&r)))
}

#[utoipa::path(get, path = "/api/v1/children/{id}/history", params(("id" = String, Path)), responses((status = 200, description = "changes, newest first", body = Items<HistoryEntry>)))]
pub async fn child_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<HistoryEntry>>, AppError> {
    let items = shouwang_app::children::history(&state.app, &user.actor, &id).await?;
    Ok(Json(Items { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitBody {
    pub version: i64,
    /// aged_sixteen, parents_returned, moved_with_parents, hukou_changed, capacity_restored, died, other
    pub reason: String,
    pub date: String,
    pub note: Option<String>,
}

pub fn parse_exit(
    reason: &str,
    date: &str,
) -> Result<(ExitReason, chrono::NaiveDate), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let r = ExitReason::parse(reason);
    if r.is_none() {
        e.add("reason", format!("退出原因“{reason}”不是可选值"));
    }
    let d = parse_date(date);
    if d.is_none() {
        e.add("date", format!("退出日期“{date}”不是有效日期"));
    }
    e.into_result(())?;
    Ok((r.expect("checked"), d.expect("checked")))
}

#[utoipa::path(post, path = "/api/v1/children/{id}/exit", params(("id" = String, Path)), request_body = ExitBody, responses((status = 200, description = "the file after the exit", body = ChildView)))]
pub async fn exit_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(b): ApiJson<ExitBody>,
) -> Result<Json<ChildView>, AppError> {
    let (reason, date) = parse_exit(&b.reason, &b.date)?;
    let r = shouwang_app::children::exit(
        &state.app,
        &user.actor,
        &id,
        b.version,
        reason,
        date,
        b.note.as_deref(),
    )
    .await?;
    Ok(Json(ChildView::of(&r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub version: i64,
    /// 12-digit village code
    pub to_village: String,
}

#[utoipa::path(post, path = "/api/v1/children/{id}/transfer", params(("id" = String, Path)), request_body = TransferBody, responses((status = 200, description = "the file in its new village", body = ChildView)))]
pub async fn transfer_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(b): ApiJson<TransferBody>,
) -> Result<Json<ChildView>, AppError> {
    let r =
        shouwang_app::children::transfer(&state.app, &user.actor, &id, b.version, &b.to_village)
            .await?;
    Ok(Json(ChildView::of(&r)))
}
