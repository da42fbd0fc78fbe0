//! Logging in and out: the login page, the session API and bearer tokens.

use crate::auth::NoFields;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use shouwang_app::session::LoginOutcome;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser, check_same_site};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Form};
use crate::state::AppState;
use crate::ui::{PageResult, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_page))
        .route("/api/v1/session", post(login).delete(logout))
        .route("/password", get(password_page).post(password_submit))
        .route("/api/v1/password", post(change_password))
        .route("/api/v1/sessions", get(list_sessions))
        .route("/api/v1/sessions/{id}", axum::routing::delete(end_session))
        .route("/api/v1/tokens", post(issue_token).get(list_tokens))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        login,
        logout,
        change_password,
        list_sessions,
        end_session,
        issue_token,
        list_tokens,
        revoke_token
    ),
    components(schemas(LoginBody, LoginResponse, TokenBody, PasswordBody))
)]
pub struct ApiDoc;

#[derive(Template)]
#[template(path = "session/login.html")]
struct LoginPage {
    error: Option<String>,
    username: String,
}

async fn login_page() -> Response {
    render(&LoginPage {
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    crate::extract::ClientAddress(address): crate::extract::ClientAddress,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> PageResult {
    crate::auth::check_same_site(&headers)?;
    let outcome =
        shouwang_app::session::login(&state.app, f.username.trim(), &f.password, &address).await?;
    Ok(match outcome {
        LoginOutcome::Ok { session_token, .. } => (
            jar.add(session_cookie(&state, session_token)),
            Redirect::to("/"),
        )
            .into_response(),
        LoginOutcome::BadCredentials => (
            axum::http::StatusCode::UNAUTHORIZED,
            render(&LoginPage {
                error: Some("用户名或密码错误".into()),
                username: f.username,
            }),
        )
            .into_response(),
        LoginOutcome::Throttled => (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            render(&LoginPage {
                error: Some("登录失败次数过多，请15分钟后再试".into()),
                username: f.username,
            }),
        )
            .into_response(),
    })
}

async fn logout_page(
    State(state): State<AppState>,
    jar: CookieJar,
    CheckedForm(user, NoFields {}): CheckedForm<NoFields>,
) -> PageResult {
    if let Some(t) = &user.session_token {
        shouwang_app::session::logout(&state.app, t).await?;
    }
    Ok((
        jar.remove(
            axum_extra::extract::cookie::Cookie::build(crate::auth::session_cookie_name(
                state.secure_cookies,
            ))
            .path("/")
            .build(),
        ),
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub username: String,
    pub role: String,
    pub region: String,
    /// Send back as `csrf_token` in HTML forms (JSON clients do not need it).
    pub csrf_token: String,
    /// What the session still lacks: `none`; `code` — send the authenticator app's code to
    /// `POST /api/v1/session/second-factor`; `enrol` — the role requires a second factor, set one
    /// up (`POST /api/v1/second-factor/setup`, then `/confirm`). Until then other operations answer
    /// 401 `second_factor_required` or 403 `second_factor_enrolment_required`.
    pub second_factor: shouwang_app::session::SecondFactor,
}

/// Cookie attributes: HttpOnly, SameSite=Lax, Secure unless serving plain HTTP on loopback. No
/// Max-Age: the cookie ends with the browser (shared office PCs); the server expires sessions too.
pub fn session_cookie(
    state: &AppState,
    token: String,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((
        crate::auth::session_cookie_name(state.secure_cookies),
        token,
    ))
    .http_only(true)
    .secure(state.secure_cookies)
    .same_site(axum_extra::extract::cookie::SameSite::Lax)
    .path("/")
    .build()
}

#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "用户名或密码不对", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    crate::extract::ClientAddress(address): crate::extract::ClientAddress,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse, AppError> {
    check_same_site(&headers)?;
    match shouwang_app::session::login(&state.app, body.username.trim(), &body.password, &address)
        .await?
    {
        LoginOutcome::Ok {
            actor,
            session_token,
            csrf_token,
            second_factor,
        } => Ok((
            jar.add(session_cookie(&state, session_token)),
            Json(LoginResponse {
                username: actor.username,
                role: actor.role.code().to_owned(),
                region: actor.region.to_string(),
                csrf_token,
                second_factor,
            }),
        )),
        LoginOutcome::BadCredentials => Err(AppError::BadCredentials),
        LoginOutcome::Throttled => Err(AppError::TooManyRequests),
    }
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> Result<impl IntoResponse, AppError> {
    if let Some(t) = &user.session_token {
        shouwang_app::session::logout(&state.app, t).await?;
    }
    Ok((
        jar.remove(
            axum_extra::extract::cookie::Cookie::build(crate::auth::session_cookie_name(
                state.secure_cookies,
            ))
            .path("/")
            .build(),
        ),
        StatusCode::NO_CONTENT,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    pub name: String,
    #[serde(default = "default_days")]
    pub days: i64,
}
/// A new API token, shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// `sw_…`
    pub token: String,
}

fn default_days() -> i64 {
    90
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenBody, responses((status = 201, description = "send it as Authorization: Bearer", body = TokenResponse)))]
pub async fn issue_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<impl IntoResponse, AppError> {
    // A token is for a program to read and write; making more of itself would let a leaked one
    // outlive its revocation. Tokens are issued from a signed-in session only.
    if user.by_token {
        return Err(AppError::Forbidden);
    }
    if body.name.trim().is_empty() {
        return Err(ValidationErrors::single("name", "请填写令牌用途").into());
    }
    let token =
        shouwang_app::session::issue_token(&state.app, &user.actor, body.name.trim(), body.days)
            .await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// Your API tokens that have not expired (the tokens themselves were shown once; each is listed
/// by its id, name and dates).
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, description = "your tokens", body = crate::schema::Items<shouwang_app::session::TokenSummary>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<crate::schema::Items<shouwang_app::session::TokenSummary>>, AppError> {
    Ok(Json(crate::schema::Items {
        items: shouwang_app::session::tokens(&state.app, &user.actor).await?,
    }))
}

/// Revokes one of your API tokens: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path)), responses((status = 204, description = "revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Path(id): crate::extract::Path<String>,
) -> Result<StatusCode, AppError> {
    shouwang_app::session::revoke_token(&state.app, &user.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "session/password.html")]
struct PasswordPage {
    csrf: String,
    forced: bool,
    error: Option<String>,
}

async fn password_page(user: CurrentUser) -> PageResult {
    Ok(render(&PasswordPage {
        csrf: user.csrf,
        forced: user.must_change_password,
        error: None,
    }))
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn password_submit(
    State(state): State<AppState>,
    CheckedForm(user, f): CheckedForm<PasswordForm>,
) -> PageResult {
    let result = if f.new_password != f.confirm_password {
        Err("两次输入的新密码不一致".to_owned())
    } else {
        shouwang_app::session::change_password(
            &state.app,
            &user.actor,
            &f.current_password,
            &f.new_password,
            user.session_token.as_deref(),
        )
        .await
        .map_err(|e| match e {
            shouwang_app::Error::Validation(v) => v.summary(),
            other => other.to_string(),
        })
    };
    Ok(match result {
        Ok(()) => Redirect::to("/").into_response(),
        Err(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage {
                csrf: user.csrf,
                forced: user.must_change_password,
                error: Some(message),
            }),
        )
            .into_response(),
    })
}

/// A new password for the signed-in user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    /// At least 10 characters, not the current one.
    pub new_password: String,
}

/// Changes your password; your other sessions and your API tokens end. An account an
/// administrator created must do this first (every other operation answers 403
/// `password_change_required` until then).
#[utoipa::path(post, path = "/api/v1/password", request_body = PasswordBody, responses((status = 204, description = "changed")))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, AppError> {
    if user.by_token {
        return Err(AppError::Forbidden);
    }
    shouwang_app::session::change_password(
        &state.app,
        &user.actor,
        &body.current_password,
        &body.new_password,
        user.session_token.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your signed-in sessions; `current` is the one asking.
#[utoipa::path(get, path = "/api/v1/sessions", responses((status = 200, description = "your sessions", body = crate::schema::Items<shouwang_app::session::SessionSummary>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<crate::schema::Items<shouwang_app::session::SessionSummary>>, AppError> {
    Ok(Json(crate::schema::Items {
        items: shouwang_app::session::sessions(
            &state.app,
            &user.actor,
            user.session_token.as_deref(),
        )
        .await?,
    }))
}

/// Ends one of your sessions (a phone lost, an office PC left signed in) at once.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", params(("id" = String, Path)), responses((status = 204, description = "ended")))]
pub async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Path(id): crate::extract::Path<String>,
) -> Result<StatusCode, AppError> {
    shouwang_app::session::end_session(&state.app, &user.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
