//! One error type for the web layer: structured JSON under /api, a Chinese page elsewhere.
//! Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use shouwang_domain::validation::{FieldError, ValidationErrors};
use shouwang_store::StoreError;

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

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Validation(v) => AppError::Validation(v),
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden => AppError::Forbidden,
            StoreError::Conflict { field, message } => AppError::Conflict { field, message },
            StoreError::Config(m) => AppError::Internal(m),
            StoreError::Database(e) => AppError::Internal(e.to_string()),
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
        (self.status(), Json(self.body())).into_response()
    }
}

/// The same error rendered as a Chinese page for browsers.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}
impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::Unauthorized) {
            return axum::response::Redirect::to("/login").into_response();
        }
        if let AppError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error");
        }
        let status = self.0.status();
        let body = self.0.body();
        let page = crate::pages::ErrorPage {
            status: status.as_u16(),
            message: body.message,
        };
        (status, crate::pages::render(&page)).into_response()
    }
}
