//! The second factor (issue 12 §12): setting up an authenticator app (QR code, recovery codes),
//! entering its code after the password, turning it off where the role allows. The rules are
//! `shouwang_app::session`'s; which roles must is the server's configuration.

use crate::auth::NoFields;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use shouwang_app::session::{CodeOutcome, Enrolment, FactorStatus, SecondFactor};

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::ui::{PageResult, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/second-factor", get(code_page).post(code_submit))
        .route("/api/v1/session/second-factor", post(pass))
        .route("/second-factor", get(setup_page))
        .route("/second-factor/setup", post(setup_submit))
        .route("/second-factor/confirm", post(confirm_submit))
        .route("/second-factor/off", post(off_submit))
        .route("/api/v1/second-factor", get(status))
        .route("/api/v1/second-factor/setup", post(setup))
        .route("/api/v1/second-factor/confirm", post(confirm))
        .route("/api/v1/second-factor/off", post(turn_off))
}

#[derive(OpenApi)]
#[openapi(
    paths(pass, status, setup, confirm, turn_off),
    components(schemas(CodeBody, OffBody, RecoveryCodes, PassedResponse))
)]
pub struct ApiDoc;

/// A code from the authenticator app (6 digits), or at sign-in a recovery code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OffBody {
    pub current_password: String,
}

/// Shown once: each opens one sign-in without the phone.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// The session is signed in (under a new cookie).
#[derive(Serialize, ToSchema)]
pub struct PassedResponse {
    /// Send back as `csrf_token` in HTML forms.
    pub csrf_token: String,
}

/// Completes a sign-in whose answer said `second_factor: "code"`: the session is signed in
/// under a new cookie. Wrong codes are counted per user (5 in 15 minutes, then 429).
#[utoipa::path(post, path = "/api/v1/session/second-factor", request_body = CodeBody,
    responses((status = 200, body = PassedResponse), (status = 409, description = "this session is not waiting for a code", body = crate::error::ErrorBody), (status = 422, description = "wrong code", body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn pass(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, AppError> {
    match check_code(&state, &user, &body.code).await? {
        CodeOutcome::Passed {
            session_token,
            csrf_token,
        } => Ok((
            jar.add(crate::session::session_cookie(&state, session_token)),
            Json(PassedResponse { csrf_token }),
        )
            .into_response()),
        CodeOutcome::Wrong => Err(wrong_code()),
        CodeOutcome::Throttled => Err(AppError::TooManyRequests),
    }
}

/// Checks the code of a session that is waiting for one (others have nothing to pass).
async fn check_code(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> Result<CodeOutcome, AppError> {
    let token = match (&user.session_token, user.second_factor) {
        (Some(token), SecondFactor::Code) => token,
        _ => {
            return Err(AppError::Conflict {
                field: None,
                message: "此次登录不需要验证码".into(),
            });
        }
    };
    Ok(shouwang_app::session::pass_second_factor(&state.app, token, code).await?)
}

fn wrong_code() -> AppError {
    shouwang_domain::validation::ValidationErrors::single(
        "code",
        "验证码不正确或已用过：请输入验证器应用当前显示的6位数字（每个只能用一次），或一个恢复码",
    )
    .into()
}

/// Whether you have a second factor, whether your role requires one, recovery codes left.
#[utoipa::path(get, path = "/api/v1/second-factor", responses((status = 200, body = FactorStatus)))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<FactorStatus>, AppError> {
    Ok(Json(
        shouwang_app::session::second_factor_status(&state.app, &user.actor).await?,
    ))
}

/// Starts setting up an authenticator app: a new secret (as text and as the `otpauth://` address
/// of the QR code). Confirm it with a code; until then the old state stays.
#[utoipa::path(post, path = "/api/v1/second-factor/setup", responses((status = 200, body = Enrolment), (status = 409, body = crate::error::ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Enrolment>, AppError> {
    from_session(&user)?;
    Ok(Json(
        shouwang_app::session::begin_enrolment(&state.app, &user.actor).await?,
    ))
}

/// Confirms the secret being set up with a code from the app; answers the recovery codes (shown
/// this once).
#[utoipa::path(post, path = "/api/v1/second-factor/confirm", request_body = CodeBody, responses((status = 200, body = RecoveryCodes)))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<RecoveryCodes>, AppError> {
    from_session(&user)?;
    let recovery_codes = shouwang_app::session::confirm_enrolment(
        &state.app,
        &user.actor,
        user.session_token.as_deref(),
        &body.code,
    )
    .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turns your second factor off (with your password); refused where your role requires it.
#[utoipa::path(post, path = "/api/v1/second-factor/off", request_body = OffBody, responses((status = 204, description = "off")))]
pub async fn turn_off(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<OffBody>,
) -> Result<StatusCode, AppError> {
    from_session(&user)?;
    shouwang_app::session::turn_off_second_factor(&state.app, &user.actor, &body.current_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The second factor is the person's, at a screen: a program's token does not change it.
fn from_session(user: &CurrentUser) -> Result<(), AppError> {
    if user.by_token {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

#[derive(Template)]
#[template(path = "session/second_factor_code.html")]
struct CodePage {
    csrf: String,
    error: Option<String>,
}

async fn code_page(user: CurrentUser) -> PageResult {
    if user.second_factor != SecondFactor::Code {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(render(&CodePage {
        csrf: user.csrf,
        error: None,
    }))
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn code_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    CheckedForm(user, f): CheckedForm<CodeForm>,
) -> PageResult {
    let (status, error) = match check_code(&state, &user, &f.code).await? {
        CodeOutcome::Passed { session_token, .. } => {
            return Ok((
                jar.add(crate::session::session_cookie(&state, session_token)),
                Redirect::to("/"),
            )
                .into_response());
        }
        CodeOutcome::Wrong => (
            StatusCode::UNAUTHORIZED,
            "验证码不正确或已用过：请输入验证器应用当前显示的6位数字（每个只能用一次），或一个恢复码",
        ),
        CodeOutcome::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            "验证码错误次数过多，请15分钟后再试",
        ),
    };
    Ok((
        status,
        render(&CodePage {
            csrf: user.csrf,
            error: Some(error.to_owned()),
        }),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "session/second_factor.html")]
struct SetupPage {
    csrf: String,
    status: FactorStatus,
    /// Being set up: the secret and its QR code (an SVG drawn here, no outside service).
    enrolment: Option<(Enrolment, String)>,
    recovery_codes: Vec<String>,
    /// The session cannot do anything else until this is set up.
    forced: bool,
    error: Option<String>,
}

async fn setup_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let status = shouwang_app::session::second_factor_status(&state.app, &user.actor).await?;
    Ok(render(&SetupPage {
        csrf: user.csrf.clone(),
        forced: user.second_factor == SecondFactor::Enrol,
        status,
        enrolment: None,
        recovery_codes: vec![],
        error: None,
    }))
}

fn qr_svg(uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

async fn setup_submit(
    State(state): State<AppState>,
    CheckedForm(user, NoFields {}): CheckedForm<NoFields>,
) -> PageResult {
    let enrolment = shouwang_app::session::begin_enrolment(&state.app, &user.actor).await?;
    let svg = qr_svg(&enrolment.otpauth_uri)?;
    let status = shouwang_app::session::second_factor_status(&state.app, &user.actor).await?;
    Ok(render(&SetupPage {
        csrf: user.csrf.clone(),
        forced: user.second_factor == SecondFactor::Enrol,
        status,
        enrolment: Some((enrolment, svg)),
        recovery_codes: vec![],
        error: None,
    }))
}

async fn confirm_submit(
    State(state): State<AppState>,
    CheckedForm(user, f): CheckedForm<CodeForm>,
) -> PageResult {
    let outcome = shouwang_app::session::confirm_enrolment(
        &state.app,
        &user.actor,
        user.session_token.as_deref(),
        &f.code,
    )
    .await;
    let (recovery_codes, error) = match outcome {
        Ok(codes) => (codes, None),
        Err(shouwang_app::Error::Validation(v)) => (vec![], Some(v.summary())),
        Err(e) => return Err(e.into()),
    };
    // After a wrong code the same secret is shown again.
    let enrolment = match &error {
        Some(_) => match shouwang_app::session::pending_enrolment(&state.app, &user.actor).await? {
            Some(e) => {
                let svg = qr_svg(&e.otpauth_uri)?;
                Some((e, svg))
            }
            None => None,
        },
        None => None,
    };
    let status = shouwang_app::session::second_factor_status(&state.app, &user.actor).await?;
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        render(&SetupPage {
            csrf: user.csrf.clone(),
            forced: user.second_factor == SecondFactor::Enrol && error.is_some(),
            status,
            enrolment,
            recovery_codes,
            error,
        }),
    )
        .into_response())
}

#[derive(Deserialize)]
struct OffForm {
    current_password: String,
}

async fn off_submit(
    State(state): State<AppState>,
    CheckedForm(user, f): CheckedForm<OffForm>,
) -> PageResult {
    let error = match shouwang_app::session::turn_off_second_factor(
        &state.app,
        &user.actor,
        &f.current_password,
    )
    .await
    {
        Ok(()) => None,
        Err(shouwang_app::Error::Validation(v)) => Some(v.summary()),
        Err(e) => return Err(e.into()),
    };
    let status = shouwang_app::session::second_factor_status(&state.app, &user.actor).await?;
    Ok((
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        render(&SetupPage {
            csrf: user.csrf.clone(),
            forced: false,
            status,
            enrolment: None,
            recovery_codes: vec![],
            error,
        }),
    )
        .into_response())
}
