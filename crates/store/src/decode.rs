//! Reading a row's typed values: a recorded time as an [`At`], a date, a code as its enum, a JSON
//! column as its type. A value the
//! type cannot read is damaged data, named with its column and (when the row has an id) its row —
//! never replaced by some default.

use shouwang_domain::clock::At;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, StoreError};

/// A column of RFC 3339 text read as an [`At`].
pub(crate) fn at(r: &AnyRow, column: &str) -> Result<At> {
    let text: String = r.try_get(column)?;
    At::parse(&text).ok_or_else(|| damaged(r, column, format!("not a time: {text}")))
}

/// A time that may be absent.
pub(crate) fn at_opt(r: &AnyRow, column: &str) -> Result<Option<At>> {
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| At::parse(&t).ok_or_else(|| damaged(r, column, format!("not a time: {t}"))))
        .transpose()
}

/// A time read outside a row (a value a query returned with its key).
pub(crate) fn parse_at(column: &str, row: &str, text: &str) -> Result<At> {
    At::parse(text).ok_or_else(|| StoreError::Damaged {
        column: column.to_owned(),
        row: row.to_owned(),
        why: format!("not a time: {text}"),
    })
}

/// A code column read as its enum.
pub(crate) fn code<T>(r: &AnyRow, column: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    let text: String = r.try_get(column)?;
    parse(&text).ok_or_else(|| damaged(r, column, format!("unknown code: {text}")))
}

/// A column of ISO dates (`2016-07-31`) read as a date.
pub(crate) fn date(r: &AnyRow, column: &str) -> Result<chrono::NaiveDate> {
    let text: String = r.try_get(column)?;
    text.parse()
        .map_err(|_| damaged(r, column, format!("not a date: {text}")))
}

/// A column of JSON text read as `T`.
pub(crate) fn json<T: serde::de::DeserializeOwned>(r: &AnyRow, column: &str) -> Result<T> {
    let text: String = r.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| damaged(r, column, format!("not its JSON: {e}")))
}

/// Damaged data in `column`, with the row's id if the query read one (looked up only on failure).
fn damaged(r: &AnyRow, column: &str, why: String) -> StoreError {
    let row = ["id", "c_id", "r_id", "child_id"]
        .into_iter()
        .find_map(|name| r.try_get::<String, _>(name).ok())
        .unwrap_or_default();
    StoreError::Damaged {
        column: column.to_owned(),
        row,
        why,
    }
}
