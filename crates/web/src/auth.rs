//! Who is calling: a session cookie (browser) or a bearer token (API clients), and the CSRF rules.
//!
//! HTML forms carry a synchronizer token stored in the session. JSON requests authenticated by
//! cookie must be `application/json` (which a cross-site form cannot send without a preflight)
//! and must not come from another site (`Sec-Fetch-Site`/`Origin`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::CookieJar;

use shouwang_app::session::SecondFactor;
use shouwang_domain::authz::Actor;

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "sw_session";
/// The cookie's name when it is Secure: the `__Host-` prefix makes a browser refuse it unless it
/// came over HTTPS from this very host, for the whole site (no Domain, Path=/).
pub const SECURE_SESSION_COOKIE: &str = "__Host-sw_session";

/// The session cookie's name on this server.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub actor: Actor,
    pub csrf: String,
    pub by_token: bool,
    pub session_token: Option<String>,
    /// Signed in with a password an administrator chose (only the password form is open).
    pub must_change_password: bool,
    /// What the session still lacks (only the second factor's own routes see anything but None).
    pub second_factor: SecondFactor,
    /// Whether the session's second factor is fresh (`None`: the user has none).
    pub factor_fresh: Option<bool>,
}

impl FromRequestParts<AppState> for CurrentUser {
    /// Browsers on pages are sent to the login page by [`crate::error::negotiate`].
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::authenticate(parts, state).await
    }
}

impl CurrentUser {
    async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            let actor = shouwang_app::session::token_actor(&state.app, token.trim())
                .await?
                .ok_or(AppError::Unauthorized)?;
            return Ok(CurrentUser {
                actor,
                csrf: String::new(),
                by_token: true,
                session_token: None,
                must_change_password: false,
                second_factor: SecondFactor::None,
                factor_fresh: None,
            });
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(session_cookie_name(state.secure_cookies))
            .map(|c| c.value().to_owned())
            .ok_or(AppError::Unauthorized)?;
        let session = shouwang_app::session::session(&state.app, &token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        // A cookie rides along with whatever a browser sends, so a change made with one must show
        // where it came from (raw uploads too; HTML forms also carry their token).
        if is_state_changing(&parts.method) {
            check_cookie_request(&parts.headers)?;
        }
        // In order: the second factor's code (until then the session is not signed in), a
        // password an administrator chose, then setting up a second factor the role requires.
        let path = parts.uri.path();
        let leaving = matches!(path, "/logout" | "/api/v1/session");
        if session.second_factor == SecondFactor::Code
            && !leaving
            && !matches!(
                path,
                "/login/second-factor" | "/api/v1/session/second-factor"
            )
        {
            return Err(AppError::SecondFactorRequired);
        }
        let changing_password = matches!(path, "/password" | "/api/v1/password");
        if session.must_change_password && !leaving && !changing_password {
            return Err(AppError::PasswordChangeRequired);
        }
        if session.second_factor == SecondFactor::Enrol
            && !leaving
            && !changing_password
            && !path.starts_with("/second-factor")
            && !path.starts_with("/api/v1/second-factor")
        {
            return Err(AppError::SecondFactorEnrolment);
        }
        Ok(CurrentUser {
            actor: session.actor,
            csrf: session.csrf_token,
            by_token: false,
            session_token: Some(token),
            must_change_password: session.must_change_password,
            second_factor: session.second_factor,
            factor_fresh: session.factor_fresh,
        })
    }

    /// An administrator's change (accounts, a county's settings) is made in a signed-in session,
    /// never with an API token (a token lives in scripts and files; issue 24: a county_admin
    /// token could create accounts), and — for a user with a second factor — one whose code was
    /// given within the last minutes: past that the session is asked for it again.
    pub async fn require_admin_session(&self, state: &AppState) -> Result<(), AppError> {
        if self.by_token {
            return Err(AppError::Forbidden);
        }
        if self.factor_fresh == Some(false)
            && let Some(token) = &self.session_token
        {
            shouwang_app::session::ask_second_factor_again(&state.app, token).await?;
            return Err(AppError::SecondFactorRequired);
        }
        Ok(())
    }
}

fn is_state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses cookie-authenticated state changes that a browser marks as cross-site.
pub fn check_same_site(headers: &HeaderMap) -> Result<(), AppError> {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Err(csrf_error());
    }
    if let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        // `null` is what a sandboxed frame or a data: page sends: never this site.
        if origin == "null" || origin_host != host {
            return Err(csrf_error());
        }
    }
    Ok(())
}

/// A state change made with the session cookie: from this site, and saying so — a request with
/// neither `Origin` nor `Sec-Fetch-Site` (every browser sends one) is refused, since nothing shows
/// it did not come from another site. Scripts use a bearer token instead.
pub fn check_cookie_request(headers: &HeaderMap) -> Result<(), AppError> {
    check_same_site(headers)?;
    if headers.get(header::ORIGIN).is_none() && headers.get("sec-fetch-site").is_none() {
        return Err(csrf_error());
    }
    Ok(())
}

pub fn csrf_error() -> AppError {
    AppError::BadRequest {
        code: "csrf",
        field: Some("csrf_token".into()),
        message: "页面已过期或请求来源不明，请刷新页面后重试".into(),
    }
}

/// An HTML form posted by the signed-in user, its synchronizer token (`csrf_token`) checked before
/// the handler runs: `CheckedForm(user, form): CheckedForm<T>` takes the place of the user and the
/// form, so a handler cannot forget the check. `T` may be a struct or the raw
/// `Vec<(String, String)>` pairs. (Uploads are multipart, streamed to disk; they check the token
/// they read, by hand.)
pub struct CheckedForm<T>(pub CurrentUser, pub T);

/// A form that carries nothing but its token (a button: sign out, revoke, receive).
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for CheckedForm<T> {
    type Rejection = AppError;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        let method = parts.method.clone();
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        let crate::extract::RawBody(bytes) = crate::extract::RawBody::from_request(
            axum::extract::Request::from_parts(parts, body),
            state,
        )
        .await?;
        // The same bytes read twice: once for the token, once as the handler's type.
        let again = || {
            let mut r = axum::extract::Request::new(axum::body::Body::from(bytes.clone()));
            *r.method_mut() = method.clone();
            if let Some(t) = &content_type {
                r.headers_mut().insert(header::CONTENT_TYPE, t.clone());
            }
            r
        };
        let crate::extract::Form(pairs) =
            crate::extract::Form::<Vec<(String, String)>>::from_request(again(), state).await?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        user.check_csrf(token)?;
        let crate::extract::Form(form) =
            crate::extract::Form::<T>::from_request(again(), state).await?;
        Ok(CheckedForm(user, form))
    }
}

impl CurrentUser {
    /// Checks the synchronizer token of an HTML form.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        if self.by_token
            || (!self.csrf.is_empty()
                && constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()))
        {
            Ok(())
        } else {
            Err(csrf_error())
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
