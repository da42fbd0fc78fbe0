//! The store's own settings (`store_settings`): which one-time passes at open have run, and which
//! version of the rules derived the stored summaries.

use sqlx::AnyConnection;

use crate::Result;

/// Whether `key` holds `value` (a pass already ran).
pub(crate) async fn is(pool: &sqlx::AnyPool, key: &str, value: &str) -> Result<bool> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    Ok(stored.as_deref() == Some(value))
}

/// Sets `key` to `value`, inside the transaction of the work it records.
pub(crate) async fn set(conn: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO store_settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}
