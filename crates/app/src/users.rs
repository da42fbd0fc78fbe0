//! User administration's use cases: a county administrator adds and lists the users of their
//! jurisdiction. Sign-in, sessions and tokens are the web's `session` and `auth`.

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::users::{NewUser, UserSummary};
use shouwang_store::{Result, Store, StoreError};

/// Adds a user on behalf of an administrator: only inside their own jurisdiction, and never
/// with more reach than the administrator has.
pub async fn add(store: &Store, admin: &Actor, new: NewUser) -> Result<UserSummary> {
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
    store.create_user(Some(admin), new).await
}

/// The users of an administrator's jurisdiction.
pub async fn list(store: &Store, admin: &Actor) -> Result<Vec<UserSummary>> {
    if !admin.may(Action::ManageUsers) {
        return Err(StoreError::Forbidden);
    }
    store.users_within(&admin.region).await
}
