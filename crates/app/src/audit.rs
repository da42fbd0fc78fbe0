//! Reading the audit log: an administrator reads the events of their jurisdiction.

/// The views this capability hands a front end.
pub use shouwang_store::audit::{AuditEvent, AuditFilter};

use crate::{App, Error, Result};
use shouwang_domain::authz::{Action, Actor};

/// Events about the actor's jurisdiction or by its users, newest first.
pub async fn events(app: &App, actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
    if !actor.may(Action::ReadAudit) {
        return Err(Error::Forbidden);
    }
    Ok(app
        .store
        .audit_log()
        .audit_events(&actor.region, filter)
        .await?)
}
