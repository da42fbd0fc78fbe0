//! One write transaction, for the use cases in `shouwang-app`: they check permissions and apply
//! the rules, then read and write through the narrow functions each capability's module adds to
//! [`Tx`], and record the audit event in the same transaction.
//!
//! Beginning takes the audit head's row lock: every write is audited, and the lock also makes a
//! SQLite transaction take the write lock at once (rust-stack P3), so two writers never deadlock
//! on an upgrade.

use chrono::NaiveDate;
use sqlx::AnyConnection;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Actor;

use crate::audit::{self, Who};
use crate::{Result, Store};

/// A write transaction. Dropped without [`Tx::commit`], it rolls back: nothing is half-saved.
pub struct Tx {
    conn: sqlx::Transaction<'static, sqlx::Any>,
    pub(crate) store: Store,
    now: String,
}

/// What an audit event says about its subject.
pub struct Subject<'a> {
    /// `child`, `discovery`, `reconcile_item`…
    pub entity: &'a str,
    pub id: Option<&'a str>,
    /// The division the subject belongs to (scopes who may read the event).
    pub region: Option<&'a str>,
}

impl Store {
    /// Begins a write transaction, stamped with the clock's time.
    pub async fn begin(&self) -> Result<Tx> {
        let mut conn = self.pool.begin().await?;
        audit::lock_head(&mut conn).await?;
        Ok(Tx {
            conn,
            store: self.clone(),
            now: self.now_text(),
        })
    }
}

impl Tx {
    /// The transaction's time, as stored (RFC 3339, milliseconds, UTC).
    pub fn now(&self) -> &str {
        &self.now
    }
    pub fn today(&self) -> NaiveDate {
        self.store.today()
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Records an audit event of `actor` in this transaction.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: AuditAction,
        subject: Subject<'_>,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.audit_as(actor.into(), action, subject, detail).await
    }

    /// Records an audit event of the system or an anonymous caller.
    pub async fn audit_as(
        &mut self,
        who: Who<'_>,
        action: AuditAction,
        subject: Subject<'_>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let now = self.now.clone();
        audit::record(
            &mut self.conn,
            &self.store.cipher,
            &now,
            who,
            action,
            subject.entity,
            subject.id,
            subject.region,
            detail,
        )
        .await
    }

    pub async fn commit(self) -> Result<()> {
        self.conn.commit().await?;
        Ok(())
    }
}
