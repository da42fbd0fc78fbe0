//! Append-only, hash-chained audit log (SYSTEM.md: tamper-evident audit of every read of a child's
//! file and every change). Each event is written in the same transaction as what it records; each
//! row's hash covers its content and the previous row's hash, so an edited or deleted row breaks
//! the chain that [`Store::verify_audit_chain`] checks.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use shouwang_domain::authz::Actor;
use shouwang_domain::region::RegionCode;

use crate::{IdCipher, Result, Store};

/// Who did it: a signed-in user, or the system / an anonymous login attempt.
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

/// Takes the audit head's row lock. Every write transaction starts with this, which also makes a
/// SQLite transaction take the write lock at once (rust-stack P3).
pub(crate) async fn lock_head(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An event's fields as the chain covers them.
struct Event<'a> {
    seq: i64,
    at: &'a str,
    user_id: Option<&'a str>,
    username: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<&'a str>,
    region_code: Option<&'a str>,
    detail: &'a str,
}

/// Version 2 of the chain: keyed, over every column.
fn chain_mac(cipher: &IdCipher, prev: &str, e: &Event<'_>) -> String {
    cipher.audit_mac(&[
        prev,
        &e.seq.to_string(),
        e.at,
        e.user_id.unwrap_or(""),
        e.username,
        e.action,
        e.entity,
        e.entity_id.unwrap_or(""),
        e.region_code.unwrap_or(""),
        e.detail,
    ])
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    conn: &mut AnyConnection,
    cipher: &IdCipher,
    at: &str,
    who: Who<'_>,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    region_code: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get::<i64, _>(0)? + 1;
    let prev: String = head.try_get(1)?;
    let detail = detail.to_string();
    let hash = chain_mac(
        cipher,
        &prev,
        &Event {
            seq,
            at,
            user_id: who.user_id,
            username: who.username,
            action,
            entity,
            entity_id,
            region_code,
            detail: &detail,
        },
    );
    sqlx::query(
        "INSERT INTO audit_events (seq, at, user_id, username, action, entity, entity_id, region_code, detail, prev_hash, hash, hash_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 2)",
    )
    .bind(seq)
    .bind(at)
    .bind(who.user_id.map(str::to_owned))
    .bind(who.username)
    .bind(action)
    .bind(entity)
    .bind(entity_id.map(str::to_owned))
    .bind(region_code.map(str::to_owned))
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Version 1 of the chain (events written before version 2): unkeyed, without the user id and
/// the region.
#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev: &str,
    seq: i64,
    at: &str,
    username: &str,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        at,
        username,
        action,
        entity,
        entity_id.unwrap_or(""),
        detail,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub username: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub region_code: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub action: Option<String>,
    pub entity_id: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Writes one audit event in its own transaction (logins, exports, denied attempts).
    pub async fn audit(
        &self,
        who: Who<'_>,
        action: &str,
        entity: &str,
        entity_id: Option<&str>,
        region_code: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        lock_head(&mut tx).await?;
        record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            who,
            action,
            entity,
            entity_id,
            region_code,
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Audit events about `region` or by its users, newest first.
    pub async fn audit_events(
        &self,
        region: &RegionCode,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>> {
        let prefix = region.as_str();
        let hi = format!("{prefix}:");
        let rows = sqlx::query(
            "SELECT e.seq, e.at, e.username, e.action, e.entity, e.entity_id, e.region_code, e.detail \
             FROM audit_events e LEFT JOIN users u ON u.id = e.user_id \
             WHERE ((e.region_code >= $1 AND e.region_code < $2) OR (u.region_code >= $1 AND u.region_code < $2)) \
               AND ($3 = '' OR e.username = $3) AND ($4 = '' OR e.action = $4) \
               AND ($5 = '' OR e.entity_id = $5) AND e.seq < $6 \
             ORDER BY e.seq DESC LIMIT $7",
        )
        .bind(prefix)
        .bind(&hi)
        .bind(filter.username.clone().unwrap_or_default())
        .bind(filter.action.clone().unwrap_or_default())
        .bind(filter.entity_id.clone().unwrap_or_default())
        .bind(filter.before_seq.unwrap_or(i64::MAX))
        .bind(filter.limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    username: r.try_get(2)?,
                    action: r.try_get(3)?,
                    entity: r.try_get(4)?,
                    entity_id: r.try_get(5)?,
                    region_code: r.try_get(6)?,
                    detail: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// How many events the log holds.
    pub async fn audit_event_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Recomputes the whole chain; returns the first broken sequence number, if any. Version 2
    /// events are checked with the key: an event edited, deleted, inserted or moved to another
    /// region or user breaks the chain from there on.
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>> {
        let mut prev = "0".repeat(64);
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, user_id, username, action, entity, entity_id, region_code, detail, prev_hash, hash, hash_version \
                 FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            for r in rows {
                let seq: i64 = r.try_get(0)?;
                after = seq;
                let (at, username, action, entity, detail): (
                    String,
                    String,
                    String,
                    String,
                    String,
                ) = (
                    r.try_get(1)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(8)?,
                );
                let user_id: Option<String> = r.try_get(2)?;
                let entity_id: Option<String> = r.try_get(6)?;
                let region_code: Option<String> = r.try_get(7)?;
                let version: i64 = r.try_get(11)?;
                let expected = match version {
                    1 => chain_hash(
                        &prev,
                        seq,
                        &at,
                        &username,
                        &action,
                        &entity,
                        entity_id.as_deref(),
                        &detail,
                    ),
                    _ => chain_mac(
                        &self.cipher,
                        &prev,
                        &Event {
                            seq,
                            at: &at,
                            user_id: user_id.as_deref(),
                            username: &username,
                            action: &action,
                            entity: &entity,
                            entity_id: entity_id.as_deref(),
                            region_code: region_code.as_deref(),
                            detail: &detail,
                        },
                    ),
                };
                let stored_prev: String = r.try_get(9)?;
                let hash: String = r.try_get(10)?;
                if stored_prev != prev || hash != expected {
                    return Ok(Some(seq));
                }
                prev = hash;
            }
        }
    }
}
