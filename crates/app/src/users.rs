//! User administration's use cases: a county administrator adds and lists the users of their
//! jurisdiction. Sign-in, sessions and tokens are the web's `session` and `auth`.

/// The views this capability hands a front end.
pub use shouwang_store::users::{NewUser, UserSummary};

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::ids::UserId;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::Subject;

/// Adds a user on behalf of an administrator: only inside their own jurisdiction, and never
/// with more reach than the administrator has.
pub async fn add(
    app: &App,
    admin: &Actor,
    new: NewUser,
    email: Option<shouwang_domain::person::EmailAddress>,
) -> Result<UserSummary> {
    if !admin.may(Action::ManageUsers) {
        return Err(Error::Forbidden);
    }
    if !admin.region.contains(&new.region) {
        return Err(ValidationErrors::single(
            "org",
            format!("区划“{}”不在您的管辖范围内", new.region),
        )
        .into());
    }
    let created = app.store.users().create_user(Some(admin), new).await?;
    app.store
        .users()
        .set_user_email(&created.id, email.as_ref())
        .await?;
    Ok(created)
}

/// The users of an administrator's jurisdiction.
pub async fn list(app: &App, admin: &Actor) -> Result<Vec<UserSummary>> {
    if !admin.may(Action::ManageUsers) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.users().users_within(&admin.region).await?)
}

/// Disables a user of the administrator's jurisdiction: sign-in refused, and every session and
/// API token of theirs ends at once. An administrator does not disable themselves.
pub async fn disable(app: &App, admin: &Actor, user_id: &UserId) -> Result<()> {
    let user_id = user_id.as_str();
    if !admin.may(Action::ManageUsers) {
        return Err(Error::Forbidden);
    }
    let region = app
        .store
        .users()
        .user_region(user_id)
        .await?
        .filter(|r| admin.region.contains(r))
        .ok_or(Error::NotFound)?;
    if user_id == admin.user_id {
        return Err(ValidationErrors::single("user", "不能停用自己的账号").into());
    }
    let mut tx = app.store.begin().await?;
    let changed = tx.users().disable_user(user_id).await?;
    tx.audit(
        admin,
        AuditAction::UserDisable,
        Subject {
            entity: "user",
            id: Some(user_id),
            region: Some(region.as_str()),
        },
        serde_json::json!({"was_active": changed}),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// Resets the second factor of a user of the administrator's jurisdiction (a lost phone, no
/// recovery codes left): their authenticator and recovery codes are removed and every session and
/// API token of theirs ends; at their next sign-in they set up a new one if their role requires.
pub async fn reset_second_factor(app: &App, admin: &Actor, user_id: &UserId) -> Result<()> {
    let user_id = user_id.as_str();
    if !admin.may(Action::ManageUsers) {
        return Err(Error::Forbidden);
    }
    let region = app
        .store
        .users()
        .user_region(user_id)
        .await?
        .filter(|r| admin.region.contains(r))
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.second_factor().clear_second_factor(user_id).await?;
    tx.users().end_all_sessions(user_id).await?;
    tx.audit(
        admin,
        AuditAction::SecondFactorReset,
        Subject {
            entity: "user",
            id: Some(user_id),
            region: Some(region.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// A user's name as forms prefill it (a visitor's own name; they may change it).
pub async fn display_name(app: &App, user_id: &str) -> Result<Option<String>> {
    Ok(app.store.users().display_name(user_id).await?)
}
