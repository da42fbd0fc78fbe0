//! 留守老人 (issue 27; 龙里 003 二, 五(一)1, 附件6/7): the register of left-behind elderly people
//! as pages and under `/api/v1/elders`.

mod api;
mod pages;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub use api::ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/elders", get(pages::list_page).post(pages::new_submit))
        .route("/elders/new", get(pages::new_page))
        .route("/elders/roster.xlsx", get(pages::roster_xlsx))
        .route("/elders/{id}", get(pages::elder_page))
        .route(
            "/elders/{id}/edit",
            get(pages::edit_page).post(pages::edit_submit),
        )
        .route("/elders/{id}/form.pdf", get(pages::form_pdf))
        .route("/elders/{id}/exit", axum::routing::post(pages::exit_submit))
        .route(
            "/api/v1/elders",
            get(api::list_elders).post(api::register_elder),
        )
        .route(
            "/api/v1/elders/{id}",
            get(api::get_elder).patch(api::patch_elder),
        )
        .route("/api/v1/elders/{id}/history", get(api::elder_history))
        .route(
            "/api/v1/elders/{id}/exit",
            axum::routing::post(api::exit_elder),
        )
}
