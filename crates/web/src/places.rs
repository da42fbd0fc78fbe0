//! Divisions and service agencies, for clients choosing where a child lives or who serves it.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use utoipa::OpenApi;

use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::schema::Items;
use crate::state::AppState;
use shouwang_app::places::{Agency, RegionWithChildren};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions/{code}", get(region))
        .route("/api/v1/agencies", get(agencies))
        .route(
            "/api/v1/children/{id}/agencies/{agency_id}",
            put(link_agency),
        )
}

#[derive(OpenApi)]
#[openapi(paths(region, agencies, link_agency))]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/regions/{code}", params(("code" = String, Path, description = "division code")),
    responses((status = 200, description = "the division and the divisions under it", body = RegionWithChildren)))]
pub async fn region(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<RegionWithChildren>, AppError> {
    let code = RegionCode::parse(&code).map_err(|e| AppError::BadRequest {
        code: "invalid_region",
        field: Some("code".into()),
        message: e.to_string(),
    })?;
    let r = shouwang_app::places::region_with_children(&state.app, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(r))
}

#[utoipa::path(get, path = "/api/v1/agencies", responses((status = 200, description = "agencies (schools, police stations…) inside your jurisdiction", body = Items<Agency>)))]
pub async fn agencies(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<Agency>>, AppError> {
    Ok(Json(Items {
        items: shouwang_app::places::agencies_within(&state.app, &user.actor.region).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/children/{id}/agencies/{agency_id}", params(("id" = String, Path), ("agency_id" = String, Path)),
    responses((status = 204, description = "linked: the agency's users now see the child")))]
pub async fn link_agency(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, agency_id)): Path<(ChildId, String)>,
) -> Result<StatusCode, AppError> {
    shouwang_app::children::link_agency(&state.app, &user.actor, &id, &agency_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
