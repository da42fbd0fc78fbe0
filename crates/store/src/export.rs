//! Reading whole rosters for the official outputs (花名册, 汇总表, 登记表): the children of a region
//! who were on the roster on a reference date, decrypted, in village and name order. Who may
//! export what, and the audit, are `shouwang_app::exports`.

use chrono::NaiveDate;
use sqlx::Row;

use shouwang_domain::child::ChildFile;
use shouwang_domain::region::RegionCode;
use shouwang_domain::summary_table::counts_on;

use crate::Result;
use crate::regions::code_range;
use crate::rooms::ExportsRoom;

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

impl ExportsRoom<'_> {
    /// The children of `region` on the roster on `on`: registered by then, not exited by then,
    /// under 16 then and meeting the definition. The caller has checked the region is the
    /// user's to export.
    pub async fn roster_on(&self, region: &RegionCode, on: NaiveDate) -> Result<Vec<ExportChild>> {
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
            let file = self.children().decrypt_file(
                &r.try_get::<String, _>("id")?,
                &r.try_get::<String, _>("doc")?,
            )?;
            if counts_on(&file, on) {
                out.push(ExportChild {
                    id: r.try_get("id")?,
                    file,
                });
            }
        }
        Ok(out)
    }
}

impl std::borrow::Borrow<ChildFile> for ExportChild {
    fn borrow(&self) -> &ChildFile {
        &self.file
    }
}
