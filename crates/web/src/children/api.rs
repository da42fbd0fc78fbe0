//! One child's file and the roster under `/api/v1/children`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use shouwang_app::children::{ChildRecord, EditMode};
use shouwang_domain::input::{ChildInput, parse_date};
use shouwang_domain::lifecycle::ExitReason;
use shouwang_domain::validation::ValidationErrors;

use super::roster::{ListParams, roster_query};
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Query};
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
    components(schemas(ChildInput, ExitBody, TransferBody))
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/children", params(ListParams),
    responses((status = 200, description = "{items:[{id, name, sex, birth_date, village_code, id_number_masked, status, …}], total}"), (status = 400, body = ErrorBody)))]
pub async fn list_children(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, AppError> {
    let q = roster_query(&p)?;
    let page = state.store.roster(&user.actor, &q).await?;
    Ok(Json(
        json!({"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}),
    ))
}

/// The API shape of a child's file.
pub fn child_json(r: &ChildRecord) -> Value {
    json!({
        "id": r.id,
        "name": r.file.name,
        "sex": r.file.sex.label(),
        "birth_date": r.file.birth_date,
        "village_code": r.file.village_code.padded12(),
        "id_number_masked": r.ids_masked.child,
        "id_number": r.file.id_number,
        "status": r.standing.code(),
        "status_label": r.standing.label(),
        "exit_reason": r.exit_reason.map(|e| e.code()),
        "exit_date": r.exit_date,
        "version": r.version,
        "place": r.place,
        "assessment": r.file.assessment().label(),
        "actual_guardianship": r.file.actual_guardianship(),
        "eligibility": r.eligibility,
        "eligibility_summary": r.eligibility.summary(),
        "flags": r.flags,
        "ids_masked": r.ids_masked,
        "file": r.file,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// true: show full ID numbers (county staff and police only; logged)
    #[serde(default)]
    pub reveal: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/children/{id}", params(("id" = String, Path), GetParams),
    responses((status = 200, description = "the child's file"), (status = 404, body = ErrorBody)))]
pub async fn get_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<GetParams>,
) -> Result<Json<Value>, AppError> {
    let reveal = p
        .reveal
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "1"));
    let r = shouwang_app::children::get(&state.store, &user.actor, &id, reveal).await?;
    Ok(Json(child_json(&r)))
}

/// Splits `version` / `confirm_duplicate` off a JSON body and reads the rest as a form.
pub(super) fn split_body(
    mut body: Value,
    allowed: &[&str],
) -> Result<(serde_json::Map<String, Value>, ChildInput), AppError> {
    let obj = body.as_object_mut().ok_or(AppError::BadRequest {
        code: "malformed_json",
        field: None,
        message: "请求体应为 JSON 对象".into(),
    })?;
    let mut extra = serde_json::Map::new();
    for k in allowed {
        if let Some(v) = obj.remove(*k) {
            extra.insert((*k).to_owned(), v);
        }
    }
    // Numbers and booleans are accepted where the form takes text.
    for v in obj.values_mut() {
        match v {
            Value::Bool(b) => *v = Value::String(b.to_string()),
            Value::Number(n) => *v = Value::String(n.to_string()),
            _ => {}
        }
    }
    let input: ChildInput = serde_json::from_value(Value::Object(obj.clone())).map_err(|e| {
        let text = e.to_string();
        AppError::BadRequest {
            code: "invalid_field",
            field: text.split('`').nth(1).map(str::to_owned),
            message: format!("请求内容不符合要求：{text}"),
        }
    })?;
    Ok((extra, input))
}

#[utoipa::path(post, path = "/api/v1/children", request_body(content = ChildInput, description = "registration form fields; add \"confirm_duplicate\": true to register despite a same-name warning"),
    responses((status = 201, description = "the new file"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_child(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, AppError> {
    let (extra, input) = split_body(body, &["confirm_duplicate"])?;
    let confirm = extra
        .get("confirm_duplicate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let r = shouwang_app::children::register(&state.store, &user.actor, &input, confirm).await?;
    Ok((StatusCode::CREATED, Json(child_json(&r))))
}

pub(super) fn required_version(extra: &serde_json::Map<String, Value>) -> Result<i64, AppError> {
    extra.get("version").and_then(Value::as_i64).ok_or_else(|| {
        ValidationErrors::single(
            "version",
            "请提供所编辑档案的版本号 version（用于防止覆盖他人的修改）",
        )
        .into()
    })
}

#[utoipa::path(patch, path = "/api/v1/children/{id}", params(("id" = String, Path)), request_body(content = ChildInput, description = "the fields to change, plus \"version\""),
    responses((status = 200, description = "the updated file"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let (extra, input) = split_body(body, &["version"])?;
    let version = required_version(&extra)?;
    let r = shouwang_app::children::update(
        &state.store,
        &user.actor,
        &id,
        version,
        input,
        EditMode::Patch,
    )
    .await?;
    Ok(Json(child_json(&r)))
}

#[utoipa::path(get, path = "/api/v1/children/{id}/history", params(("id" = String, Path)), responses((status = 200, description = "changes, newest first")))]
pub async fn child_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let h = shouwang_app::children::history(&state.store, &user.actor, &id).await?;
    Ok(Json(json!({"items": h})))
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

#[utoipa::path(post, path = "/api/v1/children/{id}/exit", params(("id" = String, Path)), request_body = ExitBody, responses((status = 200), (status = 422, body = ErrorBody)))]
pub async fn exit_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ExitBody>,
) -> Result<Json<Value>, AppError> {
    let (reason, date) = parse_exit(&b.reason, &b.date)?;
    let r = shouwang_app::children::exit(
        &state.store,
        &user.actor,
        &id,
        b.version,
        reason,
        date,
        b.note.as_deref(),
    )
    .await?;
    Ok(Json(child_json(&r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub version: i64,
    /// 12-digit village code
    pub to_village: String,
}

#[utoipa::path(post, path = "/api/v1/children/{id}/transfer", params(("id" = String, Path)), request_body = TransferBody, responses((status = 200), (status = 422, body = ErrorBody)))]
pub async fn transfer_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransferBody>,
) -> Result<Json<Value>, AppError> {
    let r =
        shouwang_app::children::transfer(&state.store, &user.actor, &id, b.version, &b.to_village)
            .await?;
    Ok(Json(child_json(&r)))
}
