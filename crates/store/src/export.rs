//! Reading whole rosters for the official outputs (花名册, 汇总表, 登记表): the children of a region
//! who were on the roster on a reference date, decrypted, in village and name order. Scoped to
//! the user's jurisdiction and audited as an export.

use chrono::NaiveDate;
use sqlx::Row;

use shouwang_domain::authz::{Action, Actor, Scope};
use shouwang_domain::child::ChildFile;
use shouwang_domain::region::RegionCode;
use shouwang_domain::summary_table::counts_on;

use crate::audit;
use crate::regions::code_range;
use crate::{Result, Store, StoreError};

/// A child in an export.
#[derive(Debug, Clone)]
pub struct ExportChild {
    pub id: String,
    pub file: ChildFile,
}

/// What an export is of, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Roster,
    Summary,
    Form,
    Agreement,
}

impl ExportKind {
    pub fn code(self) -> &'static str {
        match self {
            ExportKind::Roster => "roster",
            ExportKind::Summary => "summary",
            ExportKind::Form => "form",
            ExportKind::Agreement => "agreement",
        }
    }
}

impl Store {
    fn export_region_check(&self, actor: &Actor, region: &RegionCode) -> Result<()> {
        if !actor.may(Action::Export) {
            return Err(StoreError::Forbidden);
        }
        match actor.scope() {
            // Outside the jurisdiction reads as not found, as everywhere else.
            Scope::Region { code } if code.contains(region) => Ok(()),
            Scope::Region { .. } => Err(StoreError::NotFound),
            Scope::Agency { .. } => Err(StoreError::Forbidden),
        }
    }

    /// The children of `region` on the roster on `on`: registered by then, not exited by then,
    /// under 16 then and meeting the definition. Records one audit event.
    pub async fn roster_on(
        &self,
        actor: &Actor,
        region: &RegionCode,
        on: NaiveDate,
        kind: ExportKind,
    ) -> Result<Vec<ExportChild>> {
        self.export_region_check(actor, region)?;
        let (lo, hi) = code_range(region);
        let rows = sqlx::query(
            "SELECT c.id, d.doc FROM children c JOIN child_docs d ON d.child_id = c.id \
             WHERE c.village_code >= $1 AND c.village_code <= $2 AND c.qualifies = 1 \
             AND (c.status = 'active' OR (c.exit_date IS NOT NULL AND c.exit_date > $3)) \
             AND substr(c.created_at, 1, 10) <= $3 \
             ORDER BY c.village_code, c.name, c.id",
        )
        .bind(lo)
        .bind(hi)
        .bind(on.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let file = self.decrypt_file(&r.try_get::<String, _>(1)?)?;
            if counts_on(&file, on) {
                out.push(ExportChild {
                    id: r.try_get(0)?,
                    file,
                });
            }
        }
        self.audit_export(actor, kind, region.as_str(), None, on, out.len())
            .await?;
        Ok(out)
    }

    /// One child's file for a printed form, if the user may export it. Audited.
    pub async fn child_for_form(
        &self,
        actor: &Actor,
        id: &str,
        kind: ExportKind,
    ) -> Result<ExportChild> {
        if !actor.may(Action::Export) {
            return Err(StoreError::Forbidden);
        }
        let row = self.visible_child(actor, id).await?;
        self.audit_export(
            actor,
            kind,
            row.file.village_code.as_str(),
            Some(id),
            self.today(),
            1,
        )
        .await?;
        Ok(ExportChild {
            id: row.id,
            file: row.file,
        })
    }

    async fn audit_export(
        &self,
        actor: &Actor,
        kind: ExportKind,
        region: &str,
        child: Option<&str>,
        on: NaiveDate,
        count: usize,
    ) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "export",
            if child.is_some() { "child" } else { "region" },
            child,
            Some(region),
            serde_json::json!({"kind": kind.code(), "date": on.to_string(), "count": count}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl std::borrow::Borrow<ChildFile> for ExportChild {
    fn borrow(&self) -> &ChildFile {
        &self.file
    }
}
