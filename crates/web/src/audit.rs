//! The audit log, for the administrators of an area.

use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::Query;
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, PageResult, render};
use shouwang_app::audit::AuditEvent;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_page))
        .route("/api/v1/audit", get(audit_log))
}

#[derive(OpenApi)]
#[openapi(paths(audit_log))]
pub struct ApiDoc;

#[derive(Template)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    frame: Frame,
    items: Vec<shouwang_app::audit::AuditEvent>,
    username: String,
    action: String,
    /// Every action, for the filter: (code, words).
    actions: &'static [(&'static str, &'static str)],
    next_before: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    username: String,
    action: String,
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let filter = shouwang_app::audit::AuditFilter {
        username: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim().to_owned()).filter(|s| !s.is_empty()),
        entity_id: None,
        before_seq: q.before,
        limit: 100,
    };
    let items = shouwang_app::audit::events(&state.app, &user.actor, &filter).await?;
    let next_before = (items.len() == 100)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(render(&AuditPage {
        frame: Frame::of(&state, &user).await,
        items,
        username: q.username,
        action: q.action,
        actions: shouwang_domain::audit::AuditAction::OPTIONS,
        next_before,
    }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditParams {
    pub username: Option<String>,
    pub action: Option<String>,
    pub entity_id: Option<String>,
    /// Events before this sequence number (the next page).
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200, description = "events, newest first", body = Items<AuditEvent>)))]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<AuditParams>,
) -> Result<Json<Items<AuditEvent>>, AppError> {
    let filter = shouwang_app::audit::AuditFilter {
        username: p.username,
        action: p.action,
        entity_id: p.entity_id,
        before_seq: p.before,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(Items {
        items: shouwang_app::audit::events(&state.app, &user.actor, &filter).await?,
    }))
}
