//! Spreadsheets in: upload a roster, watch it being read, fix the column mapping, look at the
//! plan and commit it — as pages and under `/api/v1/imports`.
//!
//! An upload becomes a job held in memory: the file in a private temporary file, the plan once
//! it is read. Jobs belong to the user who started them; anyone else gets 404.

mod api;
pub(crate) mod jobs;
mod pages;
mod run;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::extract::MAX_UPLOAD_BYTES;
use crate::state::AppState;

pub use api::ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/import", get(pages::import_page).post(pages::upload_page))
        .route("/import/{id}", get(pages::job_page))
        .route("/import/{id}/status", get(pages::job_status_fragment))
        .route("/import/{id}/mapping", post(pages::mapping_page))
        .route("/import/{id}/commit", post(pages::commit_page))
        .route("/import/{id}/discard", post(pages::discard_page))
        .route("/import/{id}/errors.xlsx", get(pages::errors_download))
        .route("/api/v1/imports", post(api::upload_api))
        .route(
            "/api/v1/imports/{id}",
            get(api::job_api).delete(api::discard_api),
        )
        .route("/api/v1/imports/{id}/commit", post(api::commit_api))
        .route(
            "/api/v1/imports/{id}/errors.xlsx",
            get(pages::errors_download),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}
