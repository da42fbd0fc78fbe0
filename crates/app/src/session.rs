//! Signing in and staying signed in: the password (with its throttling), sessions, API tokens
//! and the second factor. The rules are decided here — which roles must have a second factor,
//! whether one may be turned off — and the store keeps their rows and hashes.

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Actor;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::Subject;

use shouwang_domain::signin;
pub use shouwang_store::second_factor::{CodeOutcome, Enrolment, FactorStatus, SecondFactor};
use shouwang_store::users::{self, Reservation};
pub use shouwang_store::users::{Session, SessionSummary, TokenSummary};

use crate::{App, Error, Result};

/// What a sign-in came to.
#[derive(Debug)]
pub enum LoginOutcome {
    Ok {
        actor: Actor,
        session_token: String,
        csrf_token: String,
        /// What the new session still lacks (a code, or setting one up).
        second_factor: SecondFactor,
    },
    BadCredentials,
    Throttled,
}

/// Passwords checked at once by the server (argon2 takes memory and a core each).
pub const HASHES_AT_ONCE: usize = 2;

/// Checks a password from a client address and opens a session. The attempt is counted before
/// the password is checked, so parallel guesses are all counted; the limits are
/// [`shouwang_domain::signin`]'s (per account and address, per address, per account a day), a
/// much-guessed account answers slower, and a role the policy names gets a session that still
/// owes a second factor. An unknown name costs the same hash as a known one.
pub async fn login(
    app: &App,
    username: &str,
    password: &str,
    address: &str,
) -> Result<LoginOutcome> {
    if signin::implausible(username, password) {
        return Ok(LoginOutcome::BadCredentials);
    }
    let before = match app
        .store
        .sessions()
        .reserve_login_attempt(username, address, signin::refusal)
        .await?
    {
        Reservation::Refused => return Ok(LoginOutcome::Throttled),
        Reservation::Counted(before) => before,
    };
    // Many failures on this account from elsewhere: answer slower, but answer.
    let delay = signin::delay_secs(&before);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
    }
    let candidate = app.store.sessions().login_candidate(username).await?;
    let hash = candidate
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| users::dummy_hash().to_owned());
    let right = {
        static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHES_AT_ONCE);
        let _turn = HASHING
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    };
    let candidate = match candidate {
        Some(candidate) if right => candidate,
        // The attempt reserved above stays as the failure.
        other => {
            app.store
                .sessions()
                .record_login_failure(username, other.as_ref().map(|c| &c.actor))
                .await?;
            return Ok(LoginOutcome::BadCredentials);
        }
    };
    // The password is right; a second factor may still be owed before the session works.
    let second_factor = if candidate.has_second_factor {
        SecondFactor::Code
    } else if app.policies.second_factor.requires(candidate.actor.role) {
        SecondFactor::Enrol
    } else {
        SecondFactor::None
    };
    let (session_token, csrf_token) = app
        .store
        .sessions()
        .open_session(&candidate.actor, address, second_factor)
        .await?;
    Ok(LoginOutcome::Ok {
        actor: candidate.actor,
        session_token,
        csrf_token,
        second_factor,
    })
}

/// The live session of a cookie's token, if any.
pub async fn session(app: &App, token: &str) -> Result<Option<Session>> {
    Ok(app.store.sessions().session(token).await?)
}

/// The user of an API token. A token of a user whose role must have a second factor, and who has
/// none (it was issued before the policy said so), is not accepted until they set one up.
pub async fn token_actor(app: &App, token: &str) -> Result<Option<Actor>> {
    Ok(app
        .store
        .sessions()
        .token_actor(token, &app.policies.second_factor)
        .await?)
}

/// Ends the session of this token.
pub async fn logout(app: &App, token: &str) -> Result<()> {
    Ok(app.store.sessions().logout(token).await?)
}

/// Asks the session for a fresh code (an administrator's sensitive change, past the fresh window).
pub async fn ask_second_factor_again(app: &App, token: &str) -> Result<()> {
    Ok(app.store.sessions().ask_second_factor_again(token).await?)
}

/// Replaces one's own password after checking the current one; every other session and token
/// of the user ends, `keep_session` stays.
pub async fn change_password(
    app: &App,
    actor: &Actor,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    Ok(app
        .store
        .sessions()
        .change_password(actor, current, new, keep_session)
        .await?)
}

/// Issues an API token of the actor, valid `days`; the token is shown once.
pub async fn issue_token(app: &App, actor: &Actor, name: &str, days: i64) -> Result<String> {
    Ok(app.store.sessions().issue_token(actor, name, days).await?)
}

/// Whether the actor has a second factor, whether the policy requires one of their role, and
/// the recovery codes left.
pub async fn second_factor_status(app: &App, actor: &Actor) -> Result<FactorStatus> {
    let required = app.policies.second_factor.requires(actor.role);
    Ok(app
        .store
        .second_factor()
        .second_factor_status(actor, required)
        .await?)
}

/// Starts setting up an authenticator app (refused while one is on).
pub async fn begin_enrolment(app: &App, actor: &Actor) -> Result<Enrolment> {
    Ok(app.store.second_factor().begin_enrolment(actor).await?)
}

/// The set-up begun and not yet confirmed, if any.
pub async fn pending_enrolment(app: &App, actor: &Actor) -> Result<Option<Enrolment>> {
    Ok(app.store.second_factor().pending_enrolment(actor).await?)
}

/// Confirms the set-up with a code of the app; returns the recovery codes (shown once).
pub async fn confirm_enrolment(
    app: &App,
    actor: &Actor,
    session_token: Option<&str>,
    code: &str,
) -> Result<Vec<String>> {
    Ok(app
        .store
        .second_factor()
        .confirm_enrolment(actor, session_token, code)
        .await?)
}

/// Checks a six-digit code or a recovery code for a session that owes one.
pub async fn pass_second_factor(app: &App, session_token: &str, code: &str) -> Result<CodeOutcome> {
    Ok(app
        .store
        .second_factor()
        .pass_second_factor(session_token, code)
        .await?)
}

/// Turns one's own second factor off, with the password; refused when the policy requires it
/// of the role (a new phone is an administrator's reset).
pub async fn turn_off_second_factor(app: &App, actor: &Actor, password: &str) -> Result<()> {
    if app.policies.second_factor.requires(actor.role) {
        return Err(ValidationErrors::single(
            "second_factor",
            format!(
                "{}必须使用两步验证，不能关闭；更换手机请联系管理员重置",
                actor.role.label()
            ),
        )
        .into());
    }
    Ok(app
        .store
        .second_factor()
        .turn_off_second_factor(actor, password)
        .await?)
}

/// The actor's own API tokens.
pub async fn tokens(app: &App, actor: &Actor) -> Result<Vec<TokenSummary>> {
    Ok(app.store.sessions().tokens_of(&actor.user_id).await?)
}

/// Revokes one of the actor's own API tokens (anyone else's is not found).
pub async fn revoke_token(app: &App, actor: &Actor, token_id: &str) -> Result<()> {
    let mut tx = app.store.begin().await?;
    if !tx.sessions().revoke_token(&actor.user_id, token_id).await? {
        return Err(Error::NotFound);
    }
    tx.audit(
        actor,
        AuditAction::TokenRevoke,
        Subject {
            entity: "token",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// The actor's own signed-in sessions (on this phone, that office PC…).
pub async fn sessions(
    app: &App,
    actor: &Actor,
    current: Option<&str>,
) -> Result<Vec<SessionSummary>> {
    Ok(app
        .store
        .sessions()
        .sessions_of(&actor.user_id, current)
        .await?)
}

/// Ends one of the actor's own sessions (a phone left somewhere); anyone else's is not found.
pub async fn end_session(app: &App, actor: &Actor, session_id: &str) -> Result<()> {
    let mut tx = app.store.begin().await?;
    if !tx
        .sessions()
        .end_session(&actor.user_id, session_id)
        .await?
    {
        return Err(Error::NotFound);
    }
    tx.audit(
        actor,
        AuditAction::SessionEnd,
        Subject {
            entity: "session",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    Ok(tx.commit().await?)
}
