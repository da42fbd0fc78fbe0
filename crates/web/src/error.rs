//! One error type for the web layer, answered one way: every handler returns [`AppError`], which
//! becomes structured JSON; [`negotiate`] turns it into a Chinese page (or the login page) for
//! anything a browser asked for outside `/api/`, downloads included. Internal details are logged,
//! never sent.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use shouwang_domain::validation::{FieldError, ValidationErrors};

use crate::render::{ErrorPage, render};

#[derive(Debug)]
pub enum AppError {
    Validation(ValidationErrors),
    NotFound,
    Forbidden,
    Unauthorized,
    BadCredentials,
    Conflict {
        field: Option<String>,
        message: String,
    },
    BadRequest {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    TooManyRequests,
    /// The address exists, the method does not (405).
    MethodNotAllowed,
    /// Signed in with a password an administrator chose: set one's own first (403; the pages go
    /// to the form that does it).
    PasswordChangeRequired,
    /// The password was right; the code of the user's authenticator app is still owed (401; the
    /// pages go to the form that asks for it).
    SecondFactorRequired,
    /// The user's role must sign in with a second factor, and none is set up yet (403; the pages
    /// go to the set-up).
    SecondFactorEnrolment,
    /// The request took longer than the server allows (408).
    Timeout,
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `validation`, `not_found`, `conflict`.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    /// The offending input, when there is one.
    pub field: Option<String>,
    /// Every offending input (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorBody {
    fn from(e: &FieldError) -> Self {
        FieldErrorBody {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

impl From<shouwang_app::Error> for AppError {
    fn from(e: shouwang_app::Error) -> Self {
        match e {
            shouwang_app::Error::Validation(v) => AppError::Validation(v),
            shouwang_app::Error::NotFound => AppError::NotFound,
            shouwang_app::Error::Forbidden => AppError::Forbidden,
            shouwang_app::Error::Conflict { field, message } => {
                AppError::Conflict { field, message }
            }
            shouwang_app::Error::Internal(m) => AppError::Internal(m),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(v: ValidationErrors) -> Self {
        AppError::Validation(v)
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::BadRequest { code, .. } if *code == "payload_too_large" => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::SecondFactorRequired => StatusCode::UNAUTHORIZED,
            AppError::SecondFactorEnrolment => StatusCode::FORBIDDEN,
            AppError::Timeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, message, field, errors) = match self {
            AppError::Validation(v) => {
                let first = v.first();
                (
                    "validation",
                    v.summary(),
                    first.map(|f| f.field.clone()),
                    v.0.iter().map(FieldErrorBody::from).collect(),
                )
            }
            AppError::NotFound => (
                "not_found",
                "记录不存在或不在您的管辖范围内".to_owned(),
                None,
                vec![],
            ),
            AppError::Forbidden => (
                "forbidden",
                "您的角色无权执行此操作".to_owned(),
                None,
                vec![],
            ),
            AppError::Unauthorized => ("unauthorized", "请先登录".to_owned(), None, vec![]),
            AppError::BadCredentials => (
                "bad_credentials",
                "用户名或密码错误".to_owned(),
                Some("password".to_owned()),
                vec![],
            ),
            AppError::Conflict { field, message } => {
                ("conflict", message.clone(), field.clone(), vec![])
            }
            AppError::BadRequest {
                code,
                field,
                message,
            } => (*code, message.clone(), field.clone(), vec![]),
            AppError::TooManyRequests => (
                "too_many_attempts",
                "登录失败次数过多，请15分钟后再试".to_owned(),
                None,
                vec![],
            ),
            AppError::PasswordChangeRequired => (
                "password_change_required",
                "请先修改初始密码（POST /api/v1/password，或在页面上修改）".to_owned(),
                None,
                vec![],
            ),
            AppError::SecondFactorRequired => (
                "second_factor_required",
                "请输入验证器应用中的6位验证码（POST /api/v1/session/second-factor，或在页面上输入）"
                    .to_owned(),
                None,
                vec![],
            ),
            AppError::SecondFactorEnrolment => (
                "second_factor_enrolment_required",
                "您的角色须使用两步验证：请先设置验证器应用（POST /api/v1/second-factor/setup，或在页面上设置）"
                    .to_owned(),
                None,
                vec![],
            ),
            AppError::MethodNotAllowed => (
                "method_not_allowed",
                "该地址不支持这种请求方式".to_owned(),
                None,
                vec![],
            ),
            AppError::Timeout => (
                "timeout",
                "请求处理超时，请稍后再试；大批量的导入请在导入页面查看进度".to_owned(),
                None,
                vec![],
            ),
            AppError::Internal(_) => (
                "internal",
                "系统内部错误，请稍后再试或联系管理员".to_owned(),
                None,
                vec![],
            ),
        };
        ErrorBody {
            code: code.to_owned(),
            message,
            field,
            errors,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, body) = (self.status(), self.body());
        let rendered = Rendered {
            status,
            message: body.message.clone(),
            // Where a browser goes instead of an error page.
            redirect: match self {
                AppError::Unauthorized => Some("/login"),
                AppError::PasswordChangeRequired => Some("/password"),
                AppError::SecondFactorRequired => Some("/login/second-factor"),
                AppError::SecondFactorEnrolment => Some("/second-factor"),
                _ => None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(rendered);
        response
    }
}

/// Kept on an error response so that [`negotiate`] can render it as a page.
#[derive(Clone)]
struct Rendered {
    status: StatusCode,
    message: String,
    redirect: Option<&'static str>,
}

/// Errors of handlers that answer pages; the same type, named for the reader.
pub type PageError = AppError;

/// Middleware: an error answered to a request outside `/api/` becomes the Chinese error page
/// (or, for "not logged in", the login page), whichever handler produced it; under `/api/` it is
/// the JSON `ErrorBody`, including the router's 405 and the time limit's 408.
pub async fn negotiate(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    // The router's own refusals (a method the address does not take) and the time limit answer
    // without a body of ours: give them the same shape as every other error.
    let response = match (response.extensions().get::<Rendered>(), response.status()) {
        (None, StatusCode::METHOD_NOT_ALLOWED) => AppError::MethodNotAllowed.into_response(),
        (None, StatusCode::REQUEST_TIMEOUT) => AppError::Timeout.into_response(),
        // A body refused by a limit before any extractor of ours saw it.
        (None, StatusCode::PAYLOAD_TOO_LARGE) => AppError::BadRequest {
            code: "payload_too_large",
            field: None,
            message: "请求体过大".into(),
        }
        .into_response(),
        _ => response,
    };
    if api {
        return response;
    }
    match response.extensions().get::<Rendered>().cloned() {
        Some(Rendered {
            redirect: Some(to), ..
        }) => Redirect::to(to).into_response(),
        Some(r) => {
            let page = ErrorPage {
                status: r.status.as_u16(),
                message: r.message,
            };
            (r.status, render(&page)).into_response()
        }
        None => response,
    }
}

impl AppError {
    /// A refusal a person can act on from the form that sent it (a wrong or too large file, too
    /// many unfinished jobs): its message, for the form to show; any other error as it is.
    pub fn into_form_message(self) -> Result<String, AppError> {
        match self {
            AppError::BadRequest { message, .. } | AppError::Conflict { message, .. } => {
                Ok(message)
            }
            other => Err(other),
        }
    }
}

/// What the owner reads of an error that ended a job: the message of a refusal, else `fallback`
/// (the detail is logged, never shown).
pub fn job_failure_message(e: AppError, forbidden: &str, fallback: &str) -> String {
    match e {
        AppError::BadRequest { message, .. } => message,
        AppError::Validation(v) => v.to_string(),
        AppError::Forbidden => forbidden.to_owned(),
        other => {
            tracing::error!(error = ?other, "job failed");
            fallback.to_owned()
        }
    }
}
