//! Who did something, as records keep it: [`By`] on a record's own columns (a case's timeline, a
//! visit, a 劝返 step, a routing), [`Who`] on the audit log. One place for both, so every room
//! stamps its records the same way.

use shouwang_domain::authz::Actor;
use shouwang_domain::clock::At;

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

/// When, as records keep it: a column of RFC 3339 text read as a [`At`]; text that is not a time
/// is damaged data, named with its column.
pub(crate) fn at(r: &sqlx::any::AnyRow, column: &str) -> crate::Result<At> {
    use sqlx::Row;
    let text: String = r.try_get(column)?;
    parse_at(column, &text)
}

/// A time that may be absent.
pub(crate) fn at_opt(r: &sqlx::any::AnyRow, column: &str) -> crate::Result<Option<At>> {
    use sqlx::Row;
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| parse_at(column, &t)).transpose()
}

/// A code column read as its enum; a code the enum does not know is damaged data, named with its
/// column (never read as some default).
pub(crate) fn code<T>(
    r: &sqlx::any::AnyRow,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> crate::Result<T> {
    use sqlx::Row;
    let text: String = r.try_get(column)?;
    parse(&text).ok_or_else(|| crate::StoreError::Damaged {
        column: column.to_owned(),
        row: String::new(),
        why: format!("unknown code: {text}"),
    })
}

pub(crate) fn parse_at(column: &str, text: &str) -> crate::Result<At> {
    At::parse(text).ok_or_else(|| crate::StoreError::Damaged {
        column: column.to_owned(),
        row: String::new(),
        why: format!("not a time: {text}"),
    })
}
