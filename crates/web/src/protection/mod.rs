//! 保护个案 (issue 13): mandatory reports, the police and town inboxes, the case with its emergency
//! response, notification, closing and approval — as pages and under `/api/v1/reports` and
//! `/api/v1/cases`. The rules are `domain::protection`, the use cases `app::protection`.

mod api;
mod pages;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Room for one evidence file and the form around it.
const ATTACHMENT_BODY: usize = shouwang_domain::protection::MAX_EVIDENCE_BYTES + (256 << 10);

use crate::state::AppState;

pub use api::ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(pages::inbox_page))
        .route(
            "/reports/new",
            get(pages::new_report_page).post(pages::new_report_submit),
        )
        .route("/reports/unreported", get(pages::unreported_page))
        .route("/reports/figures", get(pages::figures_page))
        .route("/api/v1/cases/figures", get(api::figures))
        .route("/reports/{id}/receive", post(pages::receive_submit))
        .route("/cases/{id}", get(pages::case_page))
        .route("/cases/{id}/steps", post(pages::step_submit))
        .route(
            "/cases/{id}/police-records",
            post(pages::police_record_submit),
        )
        .route("/cases/{id}/notify-town", post(pages::notify_submit))
        .route(
            "/cases/{id}/close-request",
            post(pages::close_request_submit),
        )
        .route(
            "/cases/{id}/close-decision",
            post(pages::close_decision_submit),
        )
        .route("/cases/{id}/reopen", post(pages::reopen_submit))
        .route("/cases/{id}/assessments", post(pages::assessment_submit))
        .route("/cases/{id}/referrals", post(pages::referral_submit))
        .route(
            "/cases/{id}/interventions",
            post(pages::intervention_submit),
        )
        .route("/api/v1/cases/{id}/interventions", post(api::intervene))
        .route("/cases/{id}/placements", post(pages::placement_submit))
        .route(
            "/cases/{id}/placements/{placement_id}/end",
            post(pages::placement_end_submit),
        )
        .route("/api/v1/cases/{id}/placements", post(api::place))
        .route(
            "/api/v1/cases/{id}/placements/{placement_id}/end",
            post(api::end_placement),
        )
        .route("/referrals", get(pages::referrals_page))
        .route("/referrals/{id}/answer", post(pages::answer_submit))
        .route("/api/v1/cases/{id}/referrals", post(api::refer))
        .route("/api/v1/referrals", get(api::provider_referrals))
        .route("/api/v1/providers", get(api::providers))
        .route("/api/v1/referrals/{id}/answer", post(api::answer_referral))
        .route("/api/v1/cases/{id}/assessments", post(api::assess))
        .route(
            "/cases/{id}/attachments",
            post(pages::attachment_submit).layer(DefaultBodyLimit::max(ATTACHMENT_BODY)),
        )
        .route(
            "/api/v1/cases/{id}/attachments",
            get(api::list_attachments)
                .post(api::add_attachment)
                .layer(DefaultBodyLimit::max(ATTACHMENT_BODY)),
        )
        .route(
            "/api/v1/cases/{id}/attachments/{attachment_id}",
            get(api::get_attachment),
        )
        .route("/api/v1/reports", get(api::inbox).post(api::file_report))
        .route("/api/v1/reports/unreported", get(api::unreported))
        .route("/api/v1/reports/{id}/receive", post(api::receive))
        .route("/api/v1/cases/{id}", get(api::get_case))
        .route("/api/v1/cases/{id}/steps", post(api::record_step))
        .route(
            "/api/v1/cases/{id}/police-records",
            post(api::police_record),
        )
        .route("/api/v1/cases/{id}/notify-town", post(api::notify_town))
        .route("/api/v1/cases/{id}/close-request", post(api::request_close))
        .route("/api/v1/cases/{id}/close-decision", post(api::decide_close))
        .route("/api/v1/cases/{id}/reopen", post(api::reopen))
}
