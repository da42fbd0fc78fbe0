//! The visits' JSON API.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use shouwang_app::visits::VisitView;
use shouwang_app::visits::{self, Recorded, Schedule, ScheduleQuery};
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::visits::{DueState, SentVisit, VisitInput};

use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Path, Query};
use crate::schema::Items;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        record_sent,
        due,
        offline_pack,
        offline_edit,
        record_visit,
        list_visits,
        schedule,
        get_visitor,
        put_visitor,
        add_photo,
        list_photos,
        get_photo
    ),
    components(schemas(
        VisitInput,
        SentVisit,
        OfflineChanges,
        Visitor,
        shouwang_domain::visits::VisitorAssignment
    ))
)]
pub struct ApiDoc;

/// Records a visit (走访) of a child: how, who, whom they saw, the child's condition, "no change"
/// or not, and whether a situation that must be reported was found. With `case_id` it follows up
/// that case (随访) and shows on its timeline. A `client_key` the same user sent before returns
/// the visit recorded then (200, `replayed: true`) instead of a second one (201).
#[utoipa::path(post, path = "/api/v1/children/{id}/visits", params(("id" = String, Path)),
    request_body = VisitInput,
    responses((status = 201, body = Recorded), (status = 200, description = "sent before", body = Recorded), (status = 409, body = ErrorBody)))]
pub async fn record_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<VisitInput>,
) -> Result<impl IntoResponse, AppError> {
    let r = visits::record(&state.app, &user.actor, &id, &body).await?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(r)))
}

/// Records a visit sent by another system or an offline phone: `child_id`, `visited_at` (RFC
/// 3339), `kind` (home_visit, phone, school, other), `note`, and any field of the form. The header
/// `Idempotency-Key` (a UUID) is required: the same key again, from the same user, answers the
/// visit first recorded (201 again, with `Idempotent-Replayed: true`) and stores nothing more; the
/// key used for another child is a 409.
#[utoipa::path(post, path = "/api/v1/visits",
    params(("Idempotency-Key" = String, Header, description = "A UUID per record, kept by the sender")),
    request_body = SentVisit,
    responses((status = 201, body = Recorded),
        (status = 404, description = "所指的儿童不存在或不在您的管辖范围内", body = crate::error::ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn record_sent(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SentVisit>,
) -> Result<impl IntoResponse, AppError> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .unwrap_or("");
    if key.trim().is_empty() {
        return Err(ValidationErrors::single(
            "Idempotency-Key",
            "请在请求头 Idempotency-Key 中给出本条记录的唯一标识（如一个 UUID），重发时不变",
        )
        .into());
    }
    let r = visits::record_sent(&state.app, &user.actor, key, &body).await?;
    let replayed = if r.replayed { "true" } else { "false" };
    Ok((
        StatusCode::CREATED,
        [("idempotent-replayed", replayed)],
        Json(r),
    ))
}

/// The children of an area due a visit this period, overdue first, with the day each is due and
/// who visits (the village's 儿童主任). A child visited this period is not due. By county or
/// below (422 naming `region` above).
#[utoipa::path(get, path = "/api/v1/visits/due", params(ScheduleParams),
    responses((status = 200, body = visits::DueList)))]
pub async fn due(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ScheduleParams>,
) -> Result<Json<visits::DueList>, AppError> {
    let q = p.query()?;
    Ok(Json(visits::due(&state.app, &user.actor, &q).await?))
}

/// What a phone takes offline: the children of your area due a visit (at most 200, overdue
/// first), each with the file's version and the fields the offline form may change. Audited.
#[utoipa::path(get, path = "/api/v1/visits/offline-pack",
    responses((status = 200, body = Items<visits::PackItem>)))]
pub async fn offline_pack(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<visits::PackItem>>, AppError> {
    Ok(Json(Items {
        items: visits::offline_pack(&state.app, &user.actor).await?,
    }))
}

/// Changes to a file made on a phone offline: the fields as the phone saw them (`base`) and as it
/// wants them (`changes`), by the registration form's names.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineChanges {
    pub base: shouwang_domain::visits::Fields,
    pub changes: shouwang_domain::visits::Fields,
}

/// Applies changes made offline to a file: fields nobody else changed meanwhile take the phone's
/// values (200 `applied`); if someone changed one of them to something else, nothing is applied
/// and each conflict comes back with the three values (409 `conflicts`) for the person to resolve.
#[utoipa::path(post, path = "/api/v1/children/{id}/offline-edits", params(("id" = String, Path)),
    request_body = OfflineChanges,
    responses((status = 200, body = visits::OfflineEdit), (status = 409, body = visits::OfflineEdit)))]
pub async fn offline_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<OfflineChanges>,
) -> Result<impl IntoResponse, AppError> {
    let r = visits::offline_edit(&state.app, &user.actor, &id, &body.base, &body.changes).await?;
    let status = match r {
        visits::OfflineEdit::Applied { .. } => StatusCode::OK,
        visits::OfflineEdit::Conflicts { .. } => StatusCode::CONFLICT,
    };
    Ok((status, Json(r)))
}

/// A child's visits, newest first (the latest 50).
#[utoipa::path(get, path = "/api/v1/children/{id}/visits", params(("id" = String, Path)),
    responses((status = 200, body = Items<VisitView>)))]
pub async fn list_visits(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<VisitView>>, AppError> {
    Ok(Json(Items {
        items: visits::of_child(&state.app, &user.actor, &id).await?,
    }))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ScheduleParams {
    /// A division inside yours (12 digits or its prefix form); yours if absent.
    #[param(pattern = "^[0-9]{6,12}$")]
    pub region: Option<String>,
    /// `overdue`, `due`, `done`; due and overdue if absent.
    #[param(pattern = "^(overdue|due|done)$")]
    pub state: Option<String>,
    pub page: Option<usize>,
    /// At most 200.
    pub per_page: Option<usize>,
    /// Only the children a named person visits (the villages whose 儿童主任 has this name).
    pub assignee: Option<String>,
}

impl ScheduleParams {
    pub fn query(&self) -> Result<ScheduleQuery, AppError> {
        let mut e = ValidationErrors::default();
        let region = match self.region.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => match RegionCode::parse(r) {
                Ok(c) => Some(c),
                Err(_) => {
                    e.add("region", "区划代码不正确");
                    None
                }
            },
            None => None,
        };
        let state = match self.state.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => match DueState::parse(s) {
                Some(v) => Some(v),
                None => {
                    e.add("state", "state 应为 overdue、due 或 done");
                    None
                }
            },
            None => None,
        };
        e.into_result(())?;
        let assignee = self
            .assignee
            .as_deref()
            .map(shouwang_domain::text::clean)
            .filter(|a| !a.is_empty());
        if assignee.as_ref().is_some_and(|a| a.chars().count() > 50) {
            return Err(ValidationErrors::single("assignee", "姓名请不超过50字").into());
        }
        Ok(ScheduleQuery {
            region,
            state,
            page: self.page.unwrap_or(1),
            per_page: self.per_page.unwrap_or(50),
            assignee,
        })
    }
}

/// The children on the roster in your area with their next visit (每季度至少一次; monthly or weekly
/// for high risk and the watched flags): overdue first.
#[utoipa::path(get, path = "/api/v1/visits/schedule", params(ScheduleParams),
    responses((status = 200, body = Schedule)))]
pub async fn schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ScheduleParams>,
) -> Result<Json<Schedule>, AppError> {
    let q = p.query()?;
    Ok(Json(visits::schedule(&state.app, &user.actor, &q).await?))
}

/// Who visits a child: a named person, or the village's 儿童主任 (`name` and `role` null).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Visitor {
    pub name: Option<String>,
    pub role: Option<String>,
}

fn visitor_of(v: Option<(String, shouwang_domain::visits::VisitorRole)>) -> Visitor {
    Visitor {
        role: v.as_ref().map(|(_, r)| r.code().to_owned()),
        name: v.map(|(n, _)| n),
    }
}

#[utoipa::path(get, path = "/api/v1/children/{id}/visitor", params(("id" = String, Path)),
    responses((status = 200, body = Visitor)))]
pub async fn get_visitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Visitor>, AppError> {
    Ok(Json(visitor_of(
        visits::assigned_visitor(&state.app, &user.actor, &id).await?,
    )))
}

/// Assigns the child's visits to a named person (驻村干部, 网格员, 社会工作者, 志愿者…): `name` and
/// `role`; an empty `name` gives them back to the village's 儿童主任. The due list names them.
#[utoipa::path(put, path = "/api/v1/children/{id}/visitor", params(("id" = String, Path)),
    request_body = shouwang_domain::visits::VisitorAssignment,
    responses((status = 200, body = Visitor)))]
pub async fn put_visitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<shouwang_domain::visits::VisitorAssignment>,
) -> Result<Json<Visitor>, AppError> {
    Ok(Json(visitor_of(
        visits::assign_visitor(&state.app, &user.actor, &id, &body).await?,
    )))
}

#[derive(Deserialize)]
pub struct VisitPath {
    id: ChildId,
    visit_id: shouwang_domain::ids::VisitId,
}

impl VisitPath {
    pub fn child(&self) -> &ChildId {
        &self.id
    }
    pub fn visit(&self) -> &shouwang_domain::ids::VisitId {
        &self.visit_id
    }
}

/// A photo of a visit (走访拍照) as the body: JPEG, PNG or WebP, read from its bytes, ≤ 10 MB, at
/// most three a visit → 201 `{"id"}`.
#[utoipa::path(post, path = "/api/v1/children/{id}/visits/{visit_id}/photos",
    params(("id" = String, Path), ("visit_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Created)))]
pub async fn add_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<VisitPath>,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> Result<impl IntoResponse, AppError> {
    let id = visits::add_photo(&state.app, &user.actor, &p.id, &p.visit_id, &body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The id of what was created.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: String,
}

/// A child's visit photos (without their bytes), oldest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/visit-photos", params(("id" = String, Path)),
    responses((status = 200, body = Items<shouwang_app::visits::VisitPhoto>)))]
pub async fn list_photos(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<shouwang_app::visits::VisitPhoto>>, AppError> {
    Ok(Json(Items {
        items: visits::photos(&state.app, &user.actor, &id).await?,
    }))
}

#[derive(Deserialize)]
pub struct PhotoPath {
    id: ChildId,
    photo_id: String,
}

/// A visit photo's bytes (each read audited).
#[utoipa::path(get, path = "/api/v1/children/{id}/visit-photos/{photo_id}",
    params(("id" = String, Path), ("photo_id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>)))]
pub async fn get_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<PhotoPath>,
) -> Result<axum::response::Response, AppError> {
    let (kind, bytes) = visits::photo(&state.app, &user.actor, &p.id, &p.photo_id).await?;
    let ext = match kind.as_str() {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    Ok(crate::ui::download(
        bytes,
        &format!("走访照片.{ext}"),
        &kind,
    ))
}
