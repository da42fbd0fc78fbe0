//! Append-only, hash-chained audit log (SYSTEM.md: tamper-evident audit of every read of a child's
//! file and every change). Each event is written in the same transaction as what it records; each
//! row's hash covers its content and the previous row's hash, so an edited or deleted row breaks
//! the chain that [`Store::verify_audit_chain`] checks.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use shouwang_domain::audit::AuditAction;
use shouwang_domain::region::RegionCode;

use crate::rooms::AuditLogRoom;
pub use crate::stamp::Who;
use crate::{IdCipher, Result};

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
    action: AuditAction,
    entity: &str,
    entity_id: Option<&str>,
    region_code: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let action = action.code();
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get::<i64, _>("seq")? + 1;
    let prev: String = head.try_get("hash")?;
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
    /// The action's code (the API's filter takes it).
    pub action: String,
    /// The action in words.
    pub action_label: String,
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

impl AuditLogRoom<'_> {
    /// Writes one audit event in its own transaction (logins, exports, denied attempts).
    pub async fn audit(
        &self,
        who: Who<'_>,
        action: AuditAction,
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
                let action: String = r.try_get("action")?;
                Ok(AuditEvent {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                    action_label: AuditAction::words(&action),
                    action,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    region_code: r.try_get("region_code")?,
                    detail: r.try_get("detail")?,
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

    /// Recomputes the whole chain; returns the first broken sequence number, if any (see
    /// [`Store::verify_audit_log`], which also says why and checks an anchor).
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>> {
        Ok(match self.verify_audit_log(None).await? {
            AuditVerdict::Intact { .. } => None,
            AuditVerdict::Broken { seq, .. } => Some(seq),
        })
    }

    /// Recomputes the whole chain with the key. Refused: an event edited, inserted, moved to
    /// another user or region (its MAC), one removed anywhere (the sequence has a gap, or the
    /// last event is not the head the log keeps), an event of the old unkeyed algorithm (version
    /// 1: anyone can compute it, so a downgrade is a forgery until `shouwang audit upgrade` has
    /// re-chained a log written before version 2), and — against an anchor kept outside the
    /// database ([`AuditAnchor`]) — a log cut short or emptied, head and all.
    pub async fn verify_audit_log(&self, anchor: Option<&AuditAnchor>) -> Result<AuditVerdict> {
        let mut prev = "0".repeat(64);
        let mut after = 0i64;
        let broken = |seq: i64, why: String| Ok(AuditVerdict::Broken { seq, why });
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, user_id, username, action, entity, entity_id, region_code, detail, prev_hash, hash, hash_version \
                 FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let stored = StoredEvent::of(&r)?;
                let seq = stored.seq;
                if seq != after + 1 {
                    return broken(after + 1, format!("第 {} 条记录缺失（被删除）", after + 1));
                }
                after = seq;
                let version = stored.version;
                if version != 2 {
                    return broken(
                        seq,
                        format!(
                            "第 {seq} 条记录使用无密钥的旧算法（版本 {version}）：任何人都能算出，\
                             视为伪造；旧版本写下的日志请先核对后运行 shouwang audit upgrade"
                        ),
                    );
                }
                let expected = chain_mac(&self.cipher, &prev, &stored.event());
                let hash = stored.hash.clone();
                if stored.prev_hash != prev || hash != expected {
                    return broken(
                        seq,
                        format!(
                            "第 {seq} 条记录起哈希链断开：该记录或其前一条被修改、删除或插入过"
                        ),
                    );
                }
                if let Some(a) = anchor.filter(|a| a.seq == seq)
                    && a.hash != hash
                {
                    return broken(
                        seq,
                        format!("第 {seq} 条记录与库外的审计锚点不符：日志被改写"),
                    );
                }
                prev = hash;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
        if head_seq != after || head_hash != prev {
            return broken(
                after + 1,
                format!(
                    "日志头记着第 {head_seq} 条，日志只到第 {after} 条（或末条与日志头不符）：末尾的记录被删除，或日志头被改动"
                ),
            );
        }
        if let Some(a) = anchor
            && a.seq > after
        {
            return broken(
                after + 1,
                format!(
                    "库外的审计锚点记着第 {} 条（{}），数据库只有 {after} 条：日志末尾被删除或日志被清空",
                    a.seq, a.at
                ),
            );
        }
        Ok(AuditVerdict::Intact {
            events: after,
            anchored: anchor.map(|a| a.seq),
        })
    }

    /// Re-chains a log written before version 2 with the key, after checking its unkeyed
    /// prefix: run once by an operator who has compared the old events with a backup (an
    /// attacker can write a version 1 chain, so verification never accepts one).
    pub async fn upgrade_audit_chain(&self) -> Result<i64> {
        let mut conn = self.pool.begin().await?;
        lock_head(&mut conn).await?;
        let rows = sqlx::query(
            "SELECT seq, at, user_id, username, action, entity, entity_id, region_code, detail, prev_hash, hash, hash_version \
             FROM audit_events ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await?;
        let (mut old_prev, mut new_prev) = ("0".repeat(64), "0".repeat(64));
        let mut upgraded = 0i64;
        for r in rows {
            let stored = StoredEvent::of(&r)?;
            let seq = stored.seq;
            let event = stored.event();
            let expected = if stored.version == 1 {
                chain_hash(
                    &old_prev,
                    seq,
                    &stored.at,
                    &stored.username,
                    &stored.action,
                    &stored.entity,
                    stored.entity_id.as_deref(),
                    &stored.detail,
                )
            } else {
                chain_mac(&self.cipher, &old_prev, &event)
            };
            if stored.prev_hash != old_prev || stored.hash != expected {
                return Err(crate::StoreError::Conflict {
                    field: None,
                    message: format!("第 {seq} 条记录起哈希链断开，不能升级：请先从备份核对"),
                });
            }
            old_prev = expected;
            let hash = chain_mac(&self.cipher, &new_prev, &event);
            if stored.version != 2 || hash != old_prev {
                sqlx::query(
                    "UPDATE audit_events SET prev_hash = $1, hash = $2, hash_version = 2 WHERE seq = $3",
                )
                .bind(&new_prev)
                .bind(&hash)
                .bind(seq)
                .execute(&mut *conn)
                .await?;
                upgraded += 1;
            }
            new_prev = hash;
        }
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&new_prev)
            .execute(&mut *conn)
            .await?;
        conn.commit().await?;
        Ok(upgraded)
    }

    /// The head of the log as an anchor to keep outside the database, keyed so that nobody
    /// without the key file can write one.
    pub async fn audit_anchor_now(&self) -> Result<AuditAnchor> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let (seq, hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
        let at = self.clock.now().to_rfc3339();
        let mac = self
            .cipher
            .audit_mac(&["anchor", &seq.to_string(), &hash, &at]);
        Ok(AuditAnchor { seq, hash, at, mac })
    }

    /// Reads an anchor file; its MAC must be this key's.
    pub fn read_audit_anchor(&self, path: &std::path::Path) -> Result<Option<AuditAnchor>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(crate::StoreError::Config(format!(
                    "无法读取审计锚点 {}：{e}",
                    path.display()
                )));
            }
        };
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        let bad = || {
            crate::StoreError::Config(format!(
                "审计锚点 {} 已损坏或不是本数据库密钥写下的",
                path.display()
            ))
        };
        let (Some(seq), Some(hash), Some(at), Some(mac)) =
            (field("seq"), field("hash"), field("at"), field("mac"))
        else {
            return Err(bad());
        };
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if self
            .cipher
            .audit_mac(&["anchor", &seq.to_string(), &hash, &at])
            != mac
        {
            return Err(bad());
        }
        Ok(Some(AuditAnchor { seq, hash, at, mac }))
    }

    /// Writes the log's head to the anchor file (owner-only, replaced atomically), unless the
    /// anchor there records more than the log holds or an event the log no longer has: a log cut
    /// short or rewritten is never anchored over (the error says so, for the server's log).
    pub async fn write_audit_anchor(&self, path: &std::path::Path) -> Result<AuditAnchor> {
        let now = self.audit_anchor_now().await?;
        if let Some(kept) = self.read_audit_anchor(path)? {
            if kept.seq > now.seq {
                return Err(crate::StoreError::Config(format!(
                    "审计锚点记着第 {} 条，数据库只有 {} 条：审计日志末尾被删除，锚点未更新，请运行 shouwang audit verify",
                    kept.seq, now.seq
                )));
            }
            let at_kept: Option<String> =
                sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
                    .bind(kept.seq)
                    .fetch_optional(&self.pool)
                    .await?;
            if kept.seq > 0 && at_kept.as_deref() != Some(kept.hash.as_str()) {
                return Err(crate::StoreError::Config(format!(
                    "审计日志第 {} 条与锚点不符：日志被改写，锚点未更新，请运行 shouwang audit verify",
                    kept.seq
                )));
            }
            if kept.seq == now.seq {
                return Ok(kept);
            }
        }
        let text = format!(
            "# 守望 Shouwang 审计锚点：数据库之外记下的审计日志头（与密钥文件放在一起，勿删）。\n\
             seq = {}\nhash = \"{}\"\nat = \"{}\"\nmac = \"{}\"\n",
            now.seq, now.hash, now.at, now.mac
        );
        crate::crypto::replace_private(path, &text).map_err(|e| {
            crate::StoreError::Config(format!("无法写入审计锚点 {}：{e}", path.display()))
        })?;
        Ok(now)
    }
}

/// An event as the log holds it.
struct StoredEvent {
    seq: i64,
    version: i64,
    at: String,
    user_id: Option<String>,
    username: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    region_code: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl StoredEvent {
    fn of(r: &sqlx::any::AnyRow) -> Result<StoredEvent> {
        Ok(StoredEvent {
            seq: r.try_get("seq")?,
            version: r.try_get("hash_version")?,
            at: r.try_get("at")?,
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            action: r.try_get("action")?,
            entity: r.try_get("entity")?,
            entity_id: r.try_get("entity_id")?,
            region_code: r.try_get("region_code")?,
            detail: r.try_get("detail")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    }

    fn event(&self) -> Event<'_> {
        Event {
            seq: self.seq,
            at: &self.at,
            user_id: self.user_id.as_deref(),
            username: &self.username,
            action: &self.action,
            entity: &self.entity,
            entity_id: self.entity_id.as_deref(),
            region_code: self.region_code.as_deref(),
            detail: &self.detail,
        }
    }
}

/// The head of the audit log as it was at a moment, kept outside the database (beside the key
/// file, and in the server's log): an attacker with the database but not the key can cut the
/// log's tail and set its head to match, but cannot write an anchor, so the cut shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditAnchor {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub mac: String,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditVerdict {
    /// Every event checked; `anchored`: the anchor's event, when one was given.
    Intact { events: i64, anchored: Option<i64> },
    /// The first event that fails, and why (Chinese).
    Broken { seq: i64, why: String },
}
