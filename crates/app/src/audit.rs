//! Reading the audit log: an administrator reads the events of their jurisdiction.

use shouwang_domain::authz::{Action, Actor};
use shouwang_store::audit::{AuditEvent, AuditFilter};
use shouwang_store::{Result, Store, StoreError};

/// Events about the actor's jurisdiction or by its users, newest first.
pub async fn events(store: &Store, actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
    if !actor.may(Action::ReadAudit) {
        return Err(StoreError::Forbidden);
    }
    store.audit_events(&actor.region, filter).await
}
