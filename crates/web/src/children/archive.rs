//! The county's archive of files that left the roster (`shouwang_app::retention`): found and
//! opened only with a stated reason, which the audit log keeps; read-only; erased files show the
//! row that is still counted.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use shouwang_domain::ids::ChildId;
use utoipa::{IntoParams, ToSchema};

use shouwang_app::retention::ArchivedSummary;
use shouwang_app::retention::{self, ArchivedView};

use super::api::ChildView;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::{Path, Query};
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, PageResult, place_name, render};

use crate::ui::filters;

/// The archive's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_archive, get_archived),
    components(schemas(ArchivedFileView))
)]
pub struct ArchiveApiDoc;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ArchiveParams {
    /// Why the archive is read (4–200 characters); kept in the audit log.
    pub reason: String,
    /// A name's beginning, or a whole ID number.
    pub q: Option<String>,
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ReasonParam {
    /// Why the file is read (4–200 characters); kept in the audit log.
    pub reason: String,
}

/// An archived file: the file while kept (`child`), only the counted row once erased.
#[derive(Serialize, ToSchema)]
pub struct ArchivedFileView {
    pub erased: bool,
    pub child: Option<ChildView>,
    pub row: Option<ArchivedSummary>,
}

/// Archived files of your county (left the roster, kept for the period set): county staff only,
/// with a reason.
#[utoipa::path(get, path = "/api/v1/archive", params(ArchiveParams),
    responses((status = 200, description = "archived files found", body = Items<ArchivedSummary>)))]
pub async fn list_archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ArchiveParams>,
) -> Result<Json<Items<ArchivedSummary>>, AppError> {
    let items = retention::list(&state.app, &user.actor, &p.reason, p.q.as_deref()).await?;
    Ok(Json(Items { items }))
}

/// One archived file of your county, with a reason.
#[utoipa::path(get, path = "/api/v1/archive/{id}", params(("id" = String, Path), ReasonParam),
    responses((status = 200, body = ArchivedFileView)))]
pub async fn get_archived(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    Query(p): Query<ReasonParam>,
) -> Result<Json<ArchivedFileView>, AppError> {
    let view = retention::open(&state.app, &user.actor, &id, &p.reason, state.app.today()).await?;
    Ok(Json(match view {
        ArchivedView::Kept(r) => ArchivedFileView {
            erased: false,
            child: Some(ChildView::of(&r)),
            row: None,
        },
        ArchivedView::Erased(s) => ArchivedFileView {
            erased: true,
            child: None,
            row: Some(*s),
        },
    }))
}

#[derive(Template)]
#[template(path = "children/archive.html")]
struct ArchivePage {
    frame: Frame,
    reason: String,
    q: String,
    items: Option<Vec<ArchivedSummary>>,
    error: Option<String>,
}

impl ArchivePage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

fn exit_label(code: &Option<String>) -> &'static str {
    code.as_deref()
        .and_then(shouwang_domain::lifecycle::ExitReason::parse)
        .map(|r| r.label())
        .unwrap_or("年满16周岁（未办理退出）")
}

pub async fn archive_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ArchiveParams>,
) -> PageResult {
    let asked = !p.reason.is_empty() || p.q.is_some();
    let (items, error) = if asked {
        match retention::list(&state.app, &user.actor, &p.reason, p.q.as_deref()).await {
            Ok(items) => (Some(items), None),
            Err(shouwang_app::Error::Validation(v)) => (None, Some(v.summary())),
            Err(e) => return Err(e.into()),
        }
    } else if user.actor.may(shouwang_domain::authz::Action::ReadArchive) {
        (None, None)
    } else {
        return Err(AppError::Forbidden);
    };
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        render(&ArchivePage {
            frame: Frame::of(&state, &user).await,
            reason: p.reason,
            q: p.q.unwrap_or_default(),
            items,
            error,
        }),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "children/archived_erased.html")]
struct ErasedPage {
    frame: Frame,
    row: ArchivedSummary,
    place: String,
    exit: &'static str,
}

pub async fn archived_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    Query(p): Query<ReasonParam>,
) -> PageResult {
    let view =
        match retention::open(&state.app, &user.actor, &id, &p.reason, state.app.today()).await {
            Ok(v) => v,
            // No reason given: back to the archive, which asks for one.
            Err(shouwang_app::Error::Validation(_)) => {
                return Ok(axum::response::Redirect::to("/archive").into_response());
            }
            Err(e) => return Err(e.into()),
        };
    match view {
        ArchivedView::Kept(r) => super::pages::archived_view(&state, &user, *r, p.reason).await,
        ArchivedView::Erased(row) => Ok(render(&ErasedPage {
            frame: Frame::of(&state, &user).await,
            place: place_name(&row.village_code),
            exit: exit_label(&row.exit_reason),
            row: *row,
        })),
    }
}

impl ArchivePage {
    fn exit(&self, code: &Option<String>) -> &'static str {
        exit_label(code)
    }
}
