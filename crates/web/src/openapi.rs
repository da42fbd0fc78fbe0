//! The OpenAPI document, assembled in one place from every capability's own part. A new
//! capability adds its `ApiDoc` to [`api_doc`].

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::error::ErrorBody;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "守望 Shouwang API",
        description = "农村留守儿童关爱保护信息系统。所有请求都限定在登录用户的管辖范围内；错误返回 {code, message, field, errors}。"
    ),
    components(schemas(ErrorBody))
)]
struct Base;

/// The whole API's description.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for part in [
        crate::session::ApiDoc::openapi(),
        crate::places::ApiDoc::openapi(),
        crate::children::ApiDoc::openapi(),
        crate::discoveries::ApiDoc::openapi(),
        crate::import::ApiDoc::openapi(),
        crate::exports::ApiDoc::openapi(),
        crate::reconcile::ApiDoc::openapi(),
        crate::users::ApiDoc::openapi(),
        crate::audit::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(api_doc())
}
