//! 三方比对 on the web: a county user uploads the education or household list, the comparison
//! runs against the roster of their jurisdiction, and the findings are worked through as a queue —
//! accepted, rejected or assigned to a town, school or police unit, who then see them under
//! 比对待办. The same operations are under `/api/v1/reconcile` for programs.
//!
//! An upload becomes a job held in memory, as imports are: the list in a private temporary
//! file while the person checks what each column holds (kept for the next list with the same
//! header), then the comparison in the background — a county's list can take longer than a
//! request may — and the file deleted once it has been read (or after an hour, if the comparison
//! is never started).

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
        .route(
            "/reconcile",
            get(pages::reconcile_page).post(pages::upload_page),
        )
        .route("/reconcile/jobs/{id}", get(pages::job_page))
        .route("/reconcile/jobs/{id}/status", get(pages::job_status))
        .route("/reconcile/jobs/{id}/start", post(pages::start_page))
        .route("/reconcile/runs/{id}", get(pages::run_page))
        .route("/reconcile/tasks", get(pages::tasks_page))
        .route("/reconcile/items/{id}", post(pages::decide_page))
        .route("/reconcile/items/bulk", post(pages::bulk_page))
        .route("/reconcile/runs/{id}/withdraw", post(pages::withdraw_page))
        .route(
            "/api/v1/reconcile/runs",
            get(api::runs_api).post(api::upload_api),
        )
        .route("/api/v1/reconcile/columns", post(api::columns_api))
        .route("/api/v1/reconcile/jobs/{id}", get(api::job_api))
        .route("/api/v1/reconcile/runs/{id}", get(api::run_api))
        .route(
            "/api/v1/reconcile/runs/{id}/withdraw",
            post(api::withdraw_api),
        )
        .route(
            "/api/v1/reconcile/items/decisions",
            post(api::decide_many_api),
        )
        .route("/api/v1/reconcile/items", get(api::items_api))
        .route("/api/v1/reconcile/items/{id}", get(api::item_api))
        .route(
            "/api/v1/reconcile/items/{id}/decision",
            post(api::decide_api),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}
