//! 季度报表 (issue 14): the 汇总表 of any area and date (`/api/v1/summary`), and the quarterly
//! reports — frozen, submitted, approved or returned, aggregated upward — as pages and under
//! `/api/v1/quarterly-reports`. The rules are `domain::quarterly`, the use cases `app::quarterly`.

mod api;
mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub use api::ApiDoc;

/// An upload of the signed page: the file and the form around it.
const SCAN_BODY: usize = shouwang_domain::protection::MAX_EVIDENCE_BYTES + (256 << 10);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/summary", get(api::summary))
        .route(
            "/api/v1/quarterly-reports",
            get(api::overview).post(api::create),
        )
        .route("/api/v1/quarterly-reports/{id}", get(api::get_report))
        .route("/api/v1/quarterly-reports/{id}/refresh", post(api::refresh))
        .route("/api/v1/quarterly-reports/{id}/submit", post(api::submit))
        .route("/api/v1/quarterly-reports/{id}/verify", post(api::verify))
        .route("/api/v1/quarterly-reports/{id}/confirm", post(api::confirm))
        .route(
            "/api/v1/quarterly-reports/{id}/signed-page",
            post(api::signed_page)
                .get(api::signed_page_download)
                .layer(axum::extract::DefaultBodyLimit::max(SCAN_BODY)),
        )
        .route(
            "/quarterly/{id}/signed-page",
            post(pages::signed_page_submit)
                .get(api::signed_page_download)
                .layer(axum::extract::DefaultBodyLimit::max(SCAN_BODY)),
        )
        .route("/api/v1/quarterly-reports/{id}/approve", post(api::approve))
        .route(
            "/api/v1/quarterly-reports/{id}/return",
            post(api::return_report),
        )
        .route(
            "/quarterly",
            get(pages::overview_page).post(pages::create_submit),
        )
        .route("/api/v1/quarterly-ranking", get(api::ranking))
        .route("/api/v1/period-figures", get(api::period_figures))
        .route("/quarterly/period", get(pages::period_page))
        .route("/quarterly/ranking", get(pages::ranking_page))
        .route("/quarterly/ranking.xlsx", get(pages::ranking_download))
        .route("/quarterly/ranking.pdf", get(pages::ranking_pdf))
        .route("/quarterly/{id}", get(pages::report_page))
        .route("/quarterly/{id}/roster.xlsx", get(pages::roster_download))
        .route("/quarterly/{id}/elders.xlsx", get(pages::elders_download))
        .route("/quarterly/{id}/action", post(pages::action_submit))
}
