//! The JSON API under /api/v1 (OpenAPI at /api/openapi.json). Same store calls as the pages.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use shouwang_domain::child::{GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::input::{ChildInput, parse_date};
use shouwang_domain::lifecycle::ExitReason;
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::children::{ChildRecord, EditMode};
use shouwang_store::discovery::DiscoveryInput;
use shouwang_store::roster::{RosterQuery, Sort, StandingFilter};
use shouwang_store::users::LoginOutcome;

use crate::AppState;
use crate::auth::{CurrentUser, SESSION_COOKIE, check_same_site};
use crate::error::{AppError, ErrorBody};

/// JSON body extractor whose rejections are structured errors.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
            code: "unsupported_media_type",
            field: None,
            message: "请求体应为 JSON（Content-Type: application/json）".into(),
        },
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let field = text.split('`').nth(1).map(str::to_owned);
            AppError::BadRequest {
                code: "invalid_field",
                field,
                message: format!("请求内容不符合要求：{text}"),
            }
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest {
            code: "malformed_json",
            field: None,
            message: "请求体不是有效的 JSON".into(),
        },
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::BadRequest {
            code: "payload_too_large",
            field: None,
            message: "请求体过大".into(),
        },
        other => AppError::BadRequest {
            code: "bad_request",
            field: None,
            message: other.body_text(),
        },
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/tokens", post(issue_token))
        .route("/api/v1/regions/{code}", get(region))
        .route("/api/v1/children", get(list_children).post(register_child))
        .route("/api/v1/children/{id}", get(get_child).patch(patch_child))
        .route("/api/v1/children/{id}/history", get(child_history))
        .route("/api/v1/children/{id}/exit", post(exit_child))
        .route("/api/v1/children/{id}/transfer", post(transfer_child))
        .route(
            "/api/v1/children/{id}/agencies/{agency_id}",
            axum::routing::put(link_agency),
        )
        .route("/api/v1/agencies", get(agencies))
        .route(
            "/api/v1/discoveries",
            get(discovery_queue).post(file_discovery),
        )
        .route("/api/v1/discoveries/{id}/close", post(close_discovery))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/users", get(list_users).post(add_user))
        .route("/api/openapi.json", get(openapi))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub username: String,
    pub role: String,
    pub region: String,
    /// Send back as `csrf_token` in HTML forms (JSON clients do not need it).
    pub csrf_token: String,
}

/// Cookie attributes: HttpOnly, SameSite=Lax, Secure unless serving plain HTTP on loopback. No
/// Max-Age: the cookie ends with the browser (shared office PCs); the server expires sessions too.
pub fn session_cookie(
    state: &AppState,
    token: String,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .path("/")
        .build()
}

#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse, AppError> {
    check_same_site(&headers)?;
    match state
        .store
        .login(body.username.trim(), &body.password)
        .await?
    {
        LoginOutcome::Ok {
            actor,
            session_token,
            csrf_token,
        } => Ok((
            jar.add(session_cookie(&state, session_token)),
            Json(LoginResponse {
                username: actor.username,
                role: actor.role.code().to_owned(),
                region: actor.region.to_string(),
                csrf_token,
            }),
        )),
        LoginOutcome::BadCredentials => Err(AppError::BadCredentials),
        LoginOutcome::Throttled => Err(AppError::TooManyRequests),
    }
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> Result<impl IntoResponse, AppError> {
    if let Some(t) = &user.session_token {
        state.store.logout(t).await?;
    }
    Ok((
        jar.remove(axum_extra::extract::cookie::Cookie::from(SESSION_COOKIE)),
        StatusCode::NO_CONTENT,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    pub name: String,
    #[serde(default = "default_days")]
    pub days: i64,
}
fn default_days() -> i64 {
    90
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenBody, responses((status = 201, description = "{\"token\": \"sw_…\"}; send as Authorization: Bearer")))]
pub async fn issue_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<impl IntoResponse, AppError> {
    if body.name.trim().is_empty() {
        return Err(ValidationErrors::single("name", "请填写令牌用途").into());
    }
    let token = state
        .store
        .issue_token(&user.actor, body.name.trim(), body.days)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"token": token}))))
}

#[utoipa::path(get, path = "/api/v1/regions/{code}", params(("code" = String, Path, description = "division code")),
    responses((status = 200, description = "{code, name, level, children:[{code, name, level}]}"), (status = 404, body = ErrorBody)))]
pub async fn region(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<Value>, AppError> {
    let code = RegionCode::parse(&code).map_err(|e| AppError::BadRequest {
        code: "invalid_region",
        field: Some("code".into()),
        message: e.to_string(),
    })?;
    let r = state
        .store
        .region_with_children(&code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(json!({
        "code": r.code, "name": r.name, "level": r.level,
        "children": r.children.iter().map(|c| json!({"code": c.code, "name": c.name, "level": c.level})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
pub struct ListParams {
    /// Region code inside your jurisdiction (town, village…).
    pub region: Option<String>,
    /// Name, pinyin (full or initials) or full ID number.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub guardianship_type: Option<String>,
    pub flag: Option<String>,
    pub age_band: Option<String>,
    pub schooling: Option<String>,
    /// on_roster (default), not_eligible, aged_out, exited, all
    pub status: Option<String>,
    /// village (default), name, birth_date
    pub sort: Option<String>,
    /// Reference date YYYY-MM-DD (default today)
    pub on: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses list filters, naming each bad one.
pub fn roster_query(p: &ListParams) -> Result<RosterQuery, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let mut q = RosterQuery {
        page: p.page.unwrap_or(1),
        per_page: p.per_page.unwrap_or(20),
        q: p.q.clone(),
        ..RosterQuery::default()
    };
    if let Some(r) = nonempty(&p.region) {
        match RegionCode::parse(r) {
            Ok(c) => q.region = Some(c),
            Err(err) => e.add("region", err.to_string()),
        }
    }
    macro_rules! choice {
        ($field:ident, $name:literal, $parse:expr) => {
            if let Some(v) = nonempty(&p.$field) {
                match $parse(v) {
                    Some(x) => q.$field = Some(x),
                    None => e.add($name, format!("“{v}”不是可选值")),
                }
            }
        };
    }
    choice!(
        guardianship_type,
        "guardianship_type",
        GuardianshipType::parse
    );
    choice!(flag, "flag", KeyTargetFlag::parse);
    choice!(age_band, "age_band", AgeBand::parse);
    choice!(schooling, "schooling", Schooling::parse);
    if let Some(v) = nonempty(&p.status) {
        match StandingFilter::parse(v) {
            Some(s) => q.standing = s,
            None => e.add(
                "status",
                format!("“{v}”不是可选值（on_roster、not_eligible、aged_out、exited、all）"),
            ),
        }
    }
    if let Some(v) = nonempty(&p.sort) {
        match Sort::parse(v) {
            Some(s) => q.sort = s,
            None => e.add(
                "sort",
                format!("“{v}”不是可选值（village、name、birth_date）"),
            ),
        }
    }
    if let Some(v) = nonempty(&p.on) {
        match parse_date(v) {
            Some(d) => q.on = Some(d),
            None => e.add("on", format!("“{v}”不是有效日期")),
        }
    }
    if q.per_page > 200 {
        e.add("per_page", "每页最多200条");
    }
    e.into_result(q)
}

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
    let r = state.store.get_child(&user.actor, &id, reveal).await?;
    Ok(Json(child_json(&r)))
}

/// Splits `version` / `confirm_duplicate` off a JSON body and reads the rest as a form.
fn split_body(
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
    let r = state
        .store
        .register_child(&user.actor, &input, confirm)
        .await?;
    Ok((StatusCode::CREATED, Json(child_json(&r))))
}

fn required_version(extra: &serde_json::Map<String, Value>) -> Result<i64, AppError> {
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
    let r = state
        .store
        .update_child(&user.actor, &id, version, input, EditMode::Patch)
        .await?;
    Ok(Json(child_json(&r)))
}

#[utoipa::path(get, path = "/api/v1/children/{id}/history", params(("id" = String, Path)), responses((status = 200, description = "changes, newest first")))]
pub async fn child_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let h = state.store.child_history(&user.actor, &id).await?;
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
    let r = state
        .store
        .exit_child(&user.actor, &id, b.version, reason, date, b.note)
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
    let r = state
        .store
        .transfer_child(&user.actor, &id, b.version, &b.to_village)
        .await?;
    Ok(Json(child_json(&r)))
}

#[utoipa::path(get, path = "/api/v1/agencies", responses((status = 200, description = "agencies (schools, police stations…) inside your jurisdiction")))]
pub async fn agencies(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({"items": state.store.agencies_within(&user.actor.region).await?}),
    ))
}

#[utoipa::path(put, path = "/api/v1/children/{id}/agencies/{agency_id}", params(("id" = String, Path), ("agency_id" = String, Path)),
    responses((status = 204, description = "linked: the agency's users now see the child"), (status = 404, body = ErrorBody)))]
pub async fn link_agency(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, agency_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    state
        .store
        .link_child_agency(&user.actor, &id, &agency_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDiscoveryBody {
    /// The child registered from this report; omit to dismiss it with a note.
    pub child_id: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/discoveries/{id}/close", params(("id" = String, Path)), request_body = CloseDiscoveryBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close_discovery(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseDiscoveryBody>,
) -> Result<StatusCode, AppError> {
    state
        .store
        .close_discovery(&user.actor, &id, b.child_id.as_deref(), &b.note)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/discoveries", responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn file_discovery(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<DiscoveryInput>,
) -> Result<impl IntoResponse, AppError> {
    let id = state.store.file_discovery(&user.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

#[utoipa::path(get, path = "/api/v1/discoveries", responses((status = 200)))]
pub async fn discovery_queue(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({"items": state.store.discovery_queue(&user.actor).await?}),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    /// village, town, county, county_admin, school, police, agency, oversight
    pub role: String,
    /// Region code of the user's office (for school/agency users: the region the agency is under)
    pub org: String,
    /// Agency name for school and agency users
    pub agency: Option<String>,
}

/// Parses a new-user request, naming each bad field.
pub fn new_user(b: NewUserBody) -> Result<shouwang_store::users::NewUser, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let role = shouwang_domain::authz::Role::parse(&b.role);
    if role.is_none() {
        e.add("role", format!("未知角色“{}”", b.role));
    }
    let region = match shouwang_domain::region::Divisions::shipped().parse_existing(&b.org) {
        Ok(r) => Some(r),
        Err(err) => {
            e.add("org", err.to_string());
            None
        }
    };
    e.into_result(())?;
    Ok(shouwang_store::users::NewUser {
        display_name: b
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| b.username.clone()),
        username: b.username,
        password: b.password,
        role: role.expect("checked"),
        region: region.expect("checked"),
        agency: b.agency.filter(|a| !a.trim().is_empty()),
    })
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({"items": state.store.list_users(&user.actor).await?}),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserBody, responses((status = 201), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<NewUserBody>,
) -> Result<impl IntoResponse, AppError> {
    let new = new_user(b)?;
    let created = state.store.add_user_as(&user.actor, new).await?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
pub struct AuditParams {
    pub username: Option<String>,
    pub action: Option<String>,
    pub entity_id: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<AuditParams>,
) -> Result<Json<Value>, AppError> {
    let filter = shouwang_store::audit::AuditFilter {
        username: p.username,
        action: p.action,
        entity_id: p.entity_id,
        before_seq: p.before,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(
        json!({"items": state.store.audit_events(&user.actor, &filter).await?}),
    ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "守望 Shouwang API",
        description = "农村留守儿童关爱保护信息系统。所有请求都限定在登录用户的管辖范围内；错误返回 {code, message, field, errors}。"
    ),
    paths(
        login,
        logout,
        issue_token,
        region,
        list_children,
        register_child,
        get_child,
        patch_child,
        child_history,
        exit_child,
        transfer_child,
        agencies,
        link_agency,
        file_discovery,
        discovery_queue,
        close_discovery,
        audit_log,
        list_users,
        add_user,
        crate::transfer::upload_api,
        crate::transfer::job_api,
        crate::transfer::commit_api,
        crate::transfer::roster_download,
        crate::transfer::summary_download,
        crate::transfer::form_download,
        crate::transfer::form_xlsx_download,
        crate::transfer::agreement_download,
        crate::reconcile::upload_api,
        crate::reconcile::columns_api,
        crate::reconcile::runs_api,
        crate::reconcile::run_api,
        crate::reconcile::items_api,
        crate::reconcile::item_api,
        crate::reconcile::decide_api
    ),
    components(schemas(
        ErrorBody,
        LoginBody,
        LoginResponse,
        ChildInput,
        ExitBody,
        TransferBody,
        TokenBody,
        CloseDiscoveryBody,
        NewUserBody,
        crate::reconcile::DecisionBody
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
