//! Who did something, as records keep it: [`By`] on a record's own columns (a case's timeline, a
//! visit, a 劝返 step, a routing), [`Who`] on the audit log. One place for both, so every room
//! stamps its records the same way.

use shouwang_domain::authz::Actor;

/// Who does something to a record (its own columns: user, username, role at the time).
pub struct By<'a> {
    pub user_id: Option<&'a str>,
    pub username: &'a str,
    pub role: &'a str,
}

impl<'a> By<'a> {
    /// The signed-in user who acts.
    pub fn of(actor: &'a Actor) -> By<'a> {
        By {
            user_id: Some(&actor.user_id),
            username: &actor.username,
            role: actor.role.code(),
        }
    }
}

/// Who did it, on the audit log: a signed-in user, or the system / an anonymous login attempt.
pub struct Who<'a> {
    pub user_id: Option<&'a str>,
    pub username: &'a str,
}

impl<'a> From<&'a Actor> for Who<'a> {
    fn from(a: &'a Actor) -> Self {
        Who {
            user_id: Some(&a.user_id),
            username: &a.username,
        }
    }
}
