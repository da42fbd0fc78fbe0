//! 走访 (issue 15, first part; issue 13's follow-up visits): recording a visit from a phone, a
//! child's visits, and the schedule of children due and overdue — as pages and under
//! `/api/v1/children/{id}/visits` and `/api/v1/visits/schedule`. A child's visits page also shows
//! and takes the parents' contact log, whose use cases (`app::guardianship`) and API
//! (`web::guardianship`) are guardianship's. The rules are `domain::visits`, the use cases
//! `app::visits`.

mod api;
mod pages;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub use api::ApiDoc;

/// A photo's largest body (the photo and a form's fields).
const PHOTO_BODY: usize = shouwang_domain::protection::MAX_EVIDENCE_BYTES + (64 << 10);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(pages::schedule_page))
        .route(
            "/children/{id}/visits",
            get(pages::child_visits_page).post(pages::visit_submit),
        )
        .route(
            "/children/{id}/parent-contacts",
            axum::routing::post(pages::contact_submit),
        )
        .route(
            "/children/{id}/visitor",
            axum::routing::post(pages::visitor_submit),
        )
        .route(
            "/children/{id}/visits/{visit_id}/photos",
            axum::routing::post(pages::photo_submit)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_BODY)),
        )
        .route(
            "/children/{id}/visit-photos/{photo_id}",
            get(api::get_photo),
        )
        .route(
            "/api/v1/children/{id}/visits/{visit_id}/photos",
            axum::routing::post(api::add_photo)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_BODY)),
        )
        .route("/api/v1/children/{id}/visit-photos", get(api::list_photos))
        .route(
            "/api/v1/children/{id}/visit-photos/{photo_id}",
            get(api::get_photo),
        )
        .route(
            "/api/v1/children/{id}/visitor",
            get(api::get_visitor).put(api::put_visitor),
        )
        .route("/api/v1/visits/schedule", get(api::schedule))
        .route("/api/v1/visits", axum::routing::post(api::record_sent))
        .route("/api/v1/visits/due", get(api::due))
        .route("/api/v1/visits/offline-pack", get(api::offline_pack))
        .route(
            "/api/v1/children/{id}/offline-edits",
            axum::routing::post(api::offline_edit),
        )
        .route(
            "/api/v1/children/{id}/visits",
            get(api::list_visits).post(api::record_visit),
        )
}
