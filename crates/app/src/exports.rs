//! The official outputs' use cases (花名册, 汇总表, 登记表, 确认书): who may export which area's or
//! which child's files, and one audit event per export. The file formats are `exchange` and
//! `print`.

use chrono::NaiveDate;

use shouwang_domain::authz::{Action, Actor, Scope};
use shouwang_domain::region::RegionCode;
use shouwang_store::export::{ExportChild, ExportKind};
use shouwang_store::{Result, Store, StoreError, Subject};

/// Whether the actor may export the files of `region`: an exporting role, and the region inside
/// their jurisdiction (outside it reads as not found, as everywhere else). Agencies export
/// nothing: they see single children, not areas.
fn may_export(actor: &Actor, region: &RegionCode) -> Result<()> {
    if !actor.may(Action::Export) {
        return Err(StoreError::Forbidden);
    }
    match actor.scope() {
        Scope::Region { code } if code.contains(region) => Ok(()),
        Scope::Region { .. } => Err(StoreError::NotFound),
        Scope::Agency { .. } | Scope::CasesOnly => Err(StoreError::Forbidden),
    }
}

async fn audit_export(
    store: &Store,
    actor: &Actor,
    kind: ExportKind,
    region: &str,
    child: Option<&str>,
    on: NaiveDate,
    count: usize,
) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.audit(
        actor,
        "export",
        Subject {
            entity: if child.is_some() { "child" } else { "region" },
            id: child,
            region: Some(region),
        },
        serde_json::json!({"kind": kind.code(), "date": on.to_string(), "count": count}),
    )
    .await?;
    tx.commit().await
}

/// The children of `region` on the roster on `on` (see `Store::roster_on`), for an export of
/// `kind`. Records one audit event.
pub async fn roster_on(
    store: &Store,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    kind: ExportKind,
) -> Result<Vec<ExportChild>> {
    may_export(actor, region)?;
    let out = store.roster_on(region, on).await?;
    audit_export(store, actor, kind, region.as_str(), None, on, out.len()).await?;
    Ok(out)
}

/// One child's file for a printed form, if the user may export it. Audited.
pub async fn child_for_form(
    store: &Store,
    actor: &Actor,
    id: &str,
    kind: ExportKind,
) -> Result<ExportChild> {
    if !actor.may(Action::Export) {
        return Err(StoreError::Forbidden);
    }
    let row = store.visible_child(actor, id).await?;
    audit_export(
        store,
        actor,
        kind,
        row.file.village_code.as_str(),
        Some(id),
        store.today(),
        1,
    )
    .await?;
    Ok(ExportChild {
        id: row.id,
        file: row.file,
    })
}
