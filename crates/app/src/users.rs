//! User administration's use cases: a county administrator adds and lists the users of their
//! jurisdiction. Sign-in, sessions and tokens are the web's `session` and `auth`.

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::users::{NewUser, SessionSummary, TokenSummary, UserSummary};
use shouwang_store::{Result, Store, StoreError, Subject};

/// Adds a user on behalf of an administrator: only inside their own jurisdiction, and never
/// with more reach than the administrator has.
pub async fn add(
    store: &Store,
    admin: &Actor,
    new: NewUser,
    email: Option<shouwang_domain::person::EmailAddress>,
) -> Result<UserSummary> {
    if !admin.may(Action::ManageUsers) {
        return Err(StoreError::Forbidden);
    }
    if !admin.region.contains(&new.region) {
        return Err(ValidationErrors::single(
            "org",
            format!("区划“{}”不在您的管辖范围内", new.region),
        )
        .into());
    }
    let created = store.create_user(Some(admin), new).await?;
    store.set_user_email(&created.id, email.as_ref()).await?;
    Ok(created)
}

/// The users of an administrator's jurisdiction.
pub async fn list(store: &Store, admin: &Actor) -> Result<Vec<UserSummary>> {
    if !admin.may(Action::ManageUsers) {
        return Err(StoreError::Forbidden);
    }
    store.users_within(&admin.region).await
}

/// Disables a user of the administrator's jurisdiction: sign-in refused, and every session and
/// API token of theirs ends at once. An administrator does not disable themselves.
pub async fn disable(store: &Store, admin: &Actor, user_id: &str) -> Result<()> {
    if !admin.may(Action::ManageUsers) {
        return Err(StoreError::Forbidden);
    }
    let region = store
        .user_region(user_id)
        .await?
        .filter(|r| admin.region.contains(r))
        .ok_or(StoreError::NotFound)?;
    if user_id == admin.user_id {
        return Err(ValidationErrors::single("user", "不能停用自己的账号").into());
    }
    let mut tx = store.begin().await?;
    let changed = tx.disable_user(user_id).await?;
    tx.audit(
        admin,
        "user_disable",
        Subject {
            entity: "user",
            id: Some(user_id),
            region: Some(region.as_str()),
        },
        serde_json::json!({"was_active": changed}),
    )
    .await?;
    tx.commit().await
}

/// Resets the second factor of a user of the administrator's jurisdiction (a lost phone, no
/// recovery codes left): their authenticator and recovery codes are removed and every session and
/// API token of theirs ends; at their next sign-in they set up a new one if their role requires.
pub async fn reset_second_factor(store: &Store, admin: &Actor, user_id: &str) -> Result<()> {
    if !admin.may(Action::ManageUsers) {
        return Err(StoreError::Forbidden);
    }
    let region = store
        .user_region(user_id)
        .await?
        .filter(|r| admin.region.contains(r))
        .ok_or(StoreError::NotFound)?;
    let mut tx = store.begin().await?;
    tx.clear_second_factor(user_id).await?;
    tx.end_all_sessions(user_id).await?;
    tx.audit(
        admin,
        "second_factor_reset",
        Subject {
            entity: "user",
            id: Some(user_id),
            region: Some(region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
}

/// The actor's own API tokens.
pub async fn tokens(store: &Store, actor: &Actor) -> Result<Vec<TokenSummary>> {
    store.tokens_of(&actor.user_id).await
}

/// Revokes one of the actor's own API tokens (anyone else's is not found).
pub async fn revoke_token(store: &Store, actor: &Actor, token_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    if !tx.revoke_token(&actor.user_id, token_id).await? {
        return Err(StoreError::NotFound);
    }
    tx.audit(
        actor,
        "token_revoke",
        Subject {
            entity: "token",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
}

/// The actor's own signed-in sessions (on this phone, that office PC…).
pub async fn sessions(
    store: &Store,
    actor: &Actor,
    current: Option<&str>,
) -> Result<Vec<SessionSummary>> {
    store.sessions_of(&actor.user_id, current).await
}

/// Ends one of the actor's own sessions (a phone left somewhere); anyone else's is not found.
pub async fn end_session(store: &Store, actor: &Actor, session_id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    if !tx.end_session(&actor.user_id, session_id).await? {
        return Err(StoreError::NotFound);
    }
    tx.audit(
        actor,
        "session_end",
        Subject {
            entity: "session",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await
}
