//! 一人一档: registering a child, the file, its history, exit and transfer, and the roster —
//! as pages and under `/api/v1/children`.

mod api;
mod archive;
mod form;
mod pages;
mod roster;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub use api::ApiDoc;
pub use archive::ArchiveApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/children/fill", axum::routing::post(roster::fill_submit))
        .route(
            "/children",
            get(roster::roster).post(pages::register_submit),
        )
        .route("/children/new", get(pages::register_page))
        .route("/children/check-id", get(pages::check_id))
        .route("/children/{id}", get(pages::child_page))
        .route("/children/{id}/history", get(pages::history_page))
        .route(
            "/children/{id}/edit",
            get(pages::edit_page).post(pages::edit_submit),
        )
        .route("/archive", get(archive::archive_page))
        .route("/archive/{id}", get(archive::archived_page))
        .route("/api/v1/archive", get(archive::list_archive))
        .route("/api/v1/archive/{id}", get(archive::get_archived))
        .route("/children/{id}/exit", post(pages::exit_submit))
        .route("/children/{id}/transfer", post(pages::transfer_submit))
        .route("/children/{id}/school", post(pages::school_submit))
        .route(
            "/api/v1/children",
            get(api::list_children).post(api::register_child),
        )
        .route(
            "/api/v1/children/{id}",
            get(api::get_child).patch(api::patch_child),
        )
        .route("/api/v1/children/{id}/history", get(api::child_history))
        .route("/api/v1/children/{id}/exit", post(api::exit_child))
        .route("/api/v1/children/{id}/transfer", post(api::transfer_child))
}
