//! Shared extractors: JSON bodies, forms and query strings whose rejections are structured errors
//! (a Chinese page or JSON, by `error::negotiate`), and upload forms.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::error::AppError;

/// Largest accepted request body (a full registration form is a few kB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Largest spreadsheet accepted (a 100,000-row roster in xlsx is about 15 MB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// JSON body extractor whose rejections are structured errors.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON body that may be left out: no body at all is the type's default; a body that is there
/// is read like [`ApiJson`] (its type checked, its fields named when wrong).
pub struct MaybeJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for MaybeJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let has_type = req.headers().contains_key(axum::http::header::CONTENT_TYPE);
        if declared == Some(0) || (declared.is_none() && !has_type) {
            return Ok(MaybeJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| MaybeJson(v))
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
            code: "unsupported_media_type",
            field: None,
            message: "请求体应为 JSON（Content-Type: application/json）".into(),
        },
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let field = text.split('`').nth(1).map(str::to_owned);
            AppError::BadRequest {
                code: "invalid_field",
                field,
                message: format!("请求内容不符合要求：{text}"),
            }
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest {
            code: "malformed_json",
            field: None,
            message: "请求体不是有效的 JSON".into(),
        },
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => AppError::BadRequest {
            code: "bad_request",
            field: None,
            message: other.body_text(),
        },
    }
}

/// A form body whose rejection is an [`AppError`] (a Chinese page for browsers, JSON under the
/// API) rather than axum's plain text.
pub struct Form<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Form::<T>::from_request(req, state).await {
            Ok(axum::extract::Form(v)) => Ok(Form(v)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(r) => Err(AppError::BadRequest {
                code: "bad_request",
                field: None,
                message: format!("表单内容不符合要求：{}", r.body_text()),
            }),
        }
    }
}

/// Query parameters whose rejection is an [`AppError`].
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(r) => Err(AppError::BadRequest {
                code: "invalid_query",
                field: None,
                message: format!("查询参数不符合要求：{}", r.body_text()),
            }),
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`serve --trusted-proxy`), put on each request
/// by the server.
#[derive(Clone, Default)]
pub struct TrustedProxies(pub Arc<[std::net::IpAddr]>);

/// Where a request comes from, for throttling: the peer's address — unless the peer is a proxy
/// the operator named (`serve --trusted-proxy`), when it is the nearest address in
/// `X-Forwarded-For` that is not itself a named proxy (what the proxies saw; entries further
/// left are the client's own say). A header from anyone else is ignored: trusting it whenever the
/// peer was loopback let an attacker rotate it for endless guesses (issue 24). An IPv6 client is
/// known by its /64, the block one host can take addresses from at will.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_canonical());
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        let Some(peer) = peer else {
            return Ok(ClientAddress("unknown".to_owned()));
        };
        let mut client = peer;
        if trusted.0.contains(&peer) {
            let hops: Vec<std::net::IpAddr> = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|h| {
                    h.trim()
                        .parse::<std::net::IpAddr>()
                        .map(|ip| ip.to_canonical())
                })
                .collect::<Result<_, _>>()
                .unwrap_or_default();
            if let Some(nearest) = hops.into_iter().rev().find(|ip| !trusted.0.contains(ip)) {
                client = nearest;
            }
        }
        Ok(ClientAddress(match client {
            std::net::IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            v4 => v4.to_string(),
        }))
    }
}

/// Path parameters whose rejection (bad percent-encoding, not UTF-8) is an [`AppError`].
pub struct Path<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(r) => Err(AppError::BadRequest {
                code: "invalid_path",
                field: None,
                message: format!("地址不正确：{}", r.body_text()),
            }),
        }
    }
}

/// A raw request body (a photo, a file) whose refusals — past the route's limit, a body cut off —
/// are [`AppError`]s in the one error shape, not axum's plain text ("Failed to buffer the request
/// body").
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    AppError::BadRequest {
                        code: "body_read",
                        field: None,
                        message: "请求内容没有完整收到，请重新提交".into(),
                    }
                }
            })
    }
}

/// Whether a body error is the route's length limit (axum's `LengthLimitError` under its
/// wrapping).
pub fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn too_large() -> AppError {
    AppError::BadRequest {
        code: "payload_too_large",
        field: None,
        message: "请求体过大".into(),
    }
}

/// A multipart upload whose rejection (not `multipart/form-data`, no boundary) is an
/// [`AppError`] — the Chinese page in the browser — instead of axum's plain text.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Multipart)
            .map_err(|_| AppError::BadRequest {
                code: "upload",
                field: Some("file".into()),
                message: "请通过页面上的表单选择文件后上传".into(),
            })
    }
}

/// A multipart upload form: its text fields by name, and the file (its name and bytes), for a
/// route whose body limit is `max` (named in the message when it is passed).
pub async fn upload_form_within(
    Multipart(mut multipart): Multipart,
    max: usize,
) -> Result<(HashMap<String, String>, Option<(String, Bytes)>), AppError> {
    let mut fields = HashMap::new();
    let mut upload: Option<(String, Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest {
            code: "upload",
            field: Some("file".into()),
            message: format!("上传失败：{e}"),
        })?
    {
        match field.name().map(str::to_owned) {
            Some(name) if name == "file" => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field.bytes().await.map_err(|_| AppError::BadRequest {
                    code: "upload",
                    field: Some("file".into()),
                    message: format!("文件过大或上传中断（上限 {} MB）", max >> 20),
                })?;
                upload = Some((file_name, bytes));
            }
            Some(name) => {
                fields.insert(name, field.text().await.unwrap_or_default());
            }
            None => {}
        }
    }
    Ok((fields, upload))
}

/// Splits the named keys (`version`, `confirm_duplicate`) off a JSON body and reads the rest as a
/// form's fields: numbers and booleans are taken where the form takes text; a key the form does
/// not have, or a value of the wrong kind, is a 400 naming the field.
pub(crate) fn split_body<T: serde::de::DeserializeOwned>(
    mut body: serde_json::Value,
    allowed: &[&str],
) -> Result<(serde_json::Map<String, serde_json::Value>, T), AppError> {
    use serde_json::Value;
    let obj = body.as_object_mut().ok_or(AppError::BadRequest {
        code: "malformed_json",
        field: None,
        message: "请求体应为 JSON 对象".into(),
    })?;
    let mut extra = serde_json::Map::new();
    for k in allowed {
        if let Some(v) = obj.remove(*k) {
            extra.insert((*k).to_owned(), v);
        }
    }
    for v in obj.values_mut() {
        match v {
            Value::Bool(b) => *v = Value::String(b.to_string()),
            Value::Number(n) => *v = Value::String(n.to_string()),
            _ => {}
        }
    }
    let input: T = serde_json::from_value(body).map_err(|e| {
        let text = e.to_string();
        AppError::BadRequest {
            code: "invalid_field",
            field: text.split('`').nth(1).map(str::to_owned),
            message: format!("请求内容不符合要求：{text}"),
        }
    })?;
    Ok((extra, input))
}

/// The `version` an edit is based on, split off its body by [`split_body`]; named when missing.
pub(crate) fn required_version(
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<i64, AppError> {
    extra
        .get("version")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| {
            shouwang_domain::validation::ValidationErrors::single(
                "version",
                "请提供所编辑记录的版本号 version（用于防止覆盖他人的修改）",
            )
            .into()
        })
}
