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
        crate::second_factor::ApiDoc::openapi(),
        crate::places::ApiDoc::openapi(),
        crate::children::ApiDoc::openapi(),
        crate::children::ArchiveApiDoc::openapi(),
        crate::discoveries::ApiDoc::openapi(),
        crate::elders::ApiDoc::openapi(),
        crate::protection::ApiDoc::openapi(),
        crate::import::ApiDoc::openapi(),
        crate::exports::ApiDoc::openapi(),
        crate::reconcile::ApiDoc::openapi(),
        crate::visits::ApiDoc::openapi(),
        crate::attendance::ApiDoc::openapi(),
        crate::routings::ApiDoc::openapi(),
        crate::guardianship::ApiDoc::openapi(),
        crate::settings::ApiDoc::openapi(),
        crate::quarterly::ApiDoc::openapi(),
        crate::users::ApiDoc::openapi(),
        crate::audit::ApiDoc::openapi(),
        crate::home::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    add_error_responses(&mut doc);
    doc
}

/// The errors every operation can answer, listed on each so that a client knows them: not signed
/// in (401), a role that may not or a password to change first (403), not found or outside the jurisdiction (404), a request
/// that does not parse (400) or whose values are refused (422), a body over the limit (413). Each
/// carries an `ErrorBody`. An operation's own description of one of these stays.
fn add_error_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("put", item.put.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
            let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
            let has_body = op.request_body.is_some();
            let signed_in = !(method == "post" && path == "/api/v1/session");
            let mut add = |code: &str, description: &str| {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error(description).into());
            };
            if signed_in {
                add("401", "未登录或登录已过期");
                // The role may not; or the account must first replace a password its
                // administrator chose (`password_change_required`).
                add("403", "您的角色无权执行此操作，或须先修改初始密码");
            }
            if has_path {
                add("404", "记录不存在或不在您的管辖范围内");
            }
            if has_body || has_query || has_path {
                add("400", "请求无法解析（JSON 格式、字段类型或参数格式不对）");
                add("422", "请求的内容不符合要求（errors 逐项说明）");
            }
            if has_body {
                add("413", "请求体超过大小限制");
            }
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(api_doc())
}
