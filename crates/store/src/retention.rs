//! Retention's storage: archiving the files that left the roster, erasing their personal fields
//! when the period ends, and the county's archive (a reason is asked and audited by
//! `shouwang_app::retention`). The periods are `domain::retention`.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::eligibility::under_sixteen_born_after;
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;
use shouwang_domain::retention::{Retention, erased_birth_date};

use crate::audit::Who;
use crate::children::StoredChild;
use crate::pace::Pace;
use crate::regions::code_range;
use crate::rooms::RetentionRoom;
use crate::{Result, StoreError, Subject};

/// Files erased in one transaction.
const ERASE_BATCH: usize = 200;

/// Files archived in one transaction.
const ARCHIVE_BATCH: usize = 2000;

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionRun {
    pub archived: u64,
    pub erased: u64,
}

/// An archived file as the archive lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchivedSummary {
    pub id: String,
    /// Empty once erased.
    pub name: String,
    pub sex: String,
    /// The year only (1 January) once erased.
    pub birth_date: String,
    pub village_code: String,
    pub id_masked: Option<String>,
    pub status: String,
    pub exit_reason: Option<String>,
    pub exit_date: Option<String>,
    pub archived_at: String,
    /// When the personal fields were erased (the file and its history are gone).
    pub erased_at: Option<String>,
}

/// An archived file: whole while kept, only its counted row once erased.
pub enum ArchivedFile {
    Kept(Box<StoredChild>),
    Erased(Box<ArchivedSummary>),
}

const SUMMARY_COLUMNS: &str = "c.id, c.name, c.sex, c.birth_date, c.village_code, c.id_masked, c.status, \
     c.exit_reason, c.exit_date, c.archived_at, c.erased_at";

fn summary(r: &sqlx::any::AnyRow) -> Result<ArchivedSummary> {
    let village: i64 = r.try_get("village_code")?;
    Ok(ArchivedSummary {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        sex: r.try_get("sex")?,
        birth_date: r.try_get("birth_date")?,
        village_code: format!("{village:012}"),
        id_masked: r.try_get("id_masked")?,
        status: r.try_get("status")?,
        exit_reason: r.try_get("exit_reason")?,
        exit_date: r.try_get("exit_date")?,
        archived_at: r.try_get("archived_at")?,
        erased_at: r.try_get("erased_at")?,
    })
}

/// Which files left the roster on or before `left_by` ($1 the day, $2 the last birth date of a
/// child 16 by then), of those `state` selects: exited by then, or 16 by then. Written as a union
/// of the two so that each side is found on its own index (migration 0040), not by reading every
/// file.
fn left_files(state: &str) -> String {
    format!(
        "SELECT c.id FROM children c WHERE {state} AND c.status = 'exited' AND c.exit_date <= $1 \
         UNION SELECT c.id FROM children c WHERE {state} AND c.birth_date <= $2"
    )
}

fn left_by_binds(left_by: NaiveDate) -> (String, String) {
    (
        left_by.to_string(),
        under_sixteen_born_after(left_by).to_string(),
    )
}

impl RetentionRoom<'_> {
    /// One pass of retention on today's date: archives the files that left the roster
    /// `archive_after_days` ago, then erases those that left `erase_after_years` ago. Safe to run
    /// at any time and as often as wanted (the server runs it at start and every six hours; the
    /// CLI's `retention run` too).
    pub async fn run_retention(&self, policy: &Retention) -> Result<RetentionRun> {
        let today = self.today();
        Ok(RetentionRun {
            archived: self.archive_left(policy.archive_cutoff(today)).await?,
            erased: self.erase_left(policy.erase_cutoff(today)).await?,
        })
    }

    /// Archives in batches of at most [`ARCHIVE_BATCH`], each its own transaction sized by its
    /// [`Pace`]: a backlog (a server down for weeks, a first start on imported files — 65,029
    /// files at 7M) never holds SQLite's write lock or the audit head for more than a moment.
    async fn archive_left(&self, left_by: NaiveDate) -> Result<u64> {
        let (exit_by, born_by) = left_by_binds(left_by);
        // The exits not archived yet are few (their partial index, 0040): test them all.
        let exits = |limit: usize| {
            format!(
                "UPDATE children SET archived_at = $3 WHERE id IN (SELECT c.id FROM children c \
                 WHERE c.status = 'exited' AND c.archived_at IS NULL \
                 AND (c.exit_date <= $1 OR c.birth_date <= $2) LIMIT {limit})"
            )
        };
        let mut n = 0;
        let mut pace = Pace::new(50, 10, ARCHIVE_BATCH);
        loop {
            let limit = pace.begin();
            let done = self
                .archive_batch(&exits(limit), &[&exit_by, &born_by], None, &exit_by)
                .await?;
            pace.done().await;
            n += done;
            if done < limit as u64 {
                break;
            }
        }
        // The active files of children 16 by then, province by province on the aged files' index
        // (0038).
        let provinces = self.quarterly().province_keys().await?;
        let aged = |limit: usize| {
            format!(
                "UPDATE children SET archived_at = $2 WHERE id IN (SELECT c.id FROM children c \
                 WHERE c.status = 'active' AND c.archived_at IS NULL \
                 AND (c.village_code / {}) = $3 AND c.birth_date <= $1 LIMIT {limit})",
                crate::scope::PROVINCE
            )
        };
        for p in provinces {
            loop {
                let limit = pace.begin();
                let done = self
                    .archive_batch(&aged(limit), &[&born_by], Some(p), &exit_by)
                    .await?;
                pace.done().await;
                n += done;
                if done < limit as u64 {
                    break;
                }
            }
        }
        Ok(n)
    }

    /// One batch of [`Store::archive_left`]: `sql` binds `dates` first, then the time of
    /// archiving, then the province if there is one.
    async fn archive_batch(
        &self,
        sql: &str,
        dates: &[&String],
        province: Option<i64>,
        left_by: &str,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let now = tx.now().to_owned();
        let mut q = sqlx::query(sql);
        for d in dates {
            q = q.bind(d.as_str());
        }
        q = q.bind(&now);
        if let Some(p) = province {
            q = q.bind(p);
        }
        let n = q.execute(tx.conn()).await?.rows_affected();
        if n > 0 {
            // Links of schools and agencies end with the file's working life.
            sqlx::query(
                "DELETE FROM child_agencies WHERE child_id IN (SELECT id FROM children WHERE archived_at = $1)",
            )
            .bind(&now)
            .execute(tx.conn())
            .await?;
            tx.audit_as(
                system(),
                AuditAction::RetentionArchive,
                Subject {
                    entity: "child",
                    id: None,
                    region: None,
                },
                serde_json::json!({"files": n, "left_by": left_by}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn erase_left(&self, left_by: NaiveDate) -> Result<u64> {
        let (exit_by, born_by) = left_by_binds(left_by);
        let mut erased = 0;
        let mut pace = Pace::new(10, 2, ERASE_BATCH);
        loop {
            let limit = pace.begin();
            let rows = sqlx::query(&format!(
                "SELECT c.id, c.birth_date, c.village_code FROM children c WHERE c.id IN ({}) \
                 ORDER BY c.id LIMIT {limit}",
                left_files("c.archived_at IS NOT NULL AND c.erased_at IS NULL")
            ))
            .bind(&exit_by)
            .bind(&born_by)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(erased);
            }
            let mut tx = self.begin().await?;
            let now = tx.now().to_owned();
            for r in &rows {
                let id: String = r.try_get("id")?;
                let birth: String = r.try_get("birth_date")?;
                let village: i64 = r.try_get("village_code")?;
                let year_only = birth
                    .parse::<NaiveDate>()
                    .map(erased_birth_date)
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                // The counted row stays; who the child was goes.
                sqlx::query(
                    "UPDATE children SET name = '', name_pinyin = '', name_initials = '', birth_date = $1, \
                     id_cipher = NULL, id_hash = NULL, id_masked = NULL, erased_at = $2 WHERE id = $3",
                )
                .bind(&year_only)
                .bind(&now)
                .bind(&id)
                .execute(tx.conn())
                .await?;
                let history = sqlx::query("DELETE FROM child_history WHERE child_id = $1")
                    .bind(&id)
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM child_docs WHERE child_id = $1")
                    .bind(&id)
                    .execute(tx.conn())
                    .await?;
                tx.visits().erase_visits(&id).await?;
                let region = format!("{village:012}");
                tx.audit_as(
                    system(),
                    AuditAction::RetentionErase,
                    Subject {
                        entity: "child",
                        id: Some(&id),
                        region: Some(&region),
                    },
                    serde_json::json!({"history_entries": history}),
                )
                .await?;
            }
            tx.commit().await?;
            pace.done().await;
            erased += rows.len() as u64;
        }
    }

    /// Archived files of a region, newest archived first; `q` finds a name's beginning or a whole
    /// ID number (by its blind index). The caller has checked the region is the user's.
    pub async fn archived_children(
        &self,
        region: &RegionCode,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ArchivedSummary>> {
        let (lo, hi) = code_range(region);
        let mut sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM children c WHERE c.archived_at IS NOT NULL \
             AND c.village_code >= $1 AND c.village_code <= $2"
        );
        let q = q
            .map(shouwang_domain::text::clean)
            .filter(|q| !q.is_empty());
        let mut text_binds = Vec::new();
        if let Some(q) = &q {
            match shouwang_domain::id_number::IdNumber::parse(q) {
                Ok(id) => {
                    sql.push_str(" AND c.id_hash = $3");
                    text_binds.push(self.cipher.blind_index(id.as_str()));
                }
                Err(_) => {
                    sql.push_str(" AND c.name >= $3 AND c.name < $4");
                    text_binds.push(q.clone());
                    text_binds.push(crate::scope::upper_bound(q));
                }
            }
        }
        sql.push_str(&format!(
            " ORDER BY c.archived_at DESC, c.id LIMIT {}",
            limit.clamp(1, 500)
        ));
        let mut query = sqlx::query(&sql).bind(lo).bind(hi);
        for b in &text_binds {
            query = query.bind(b.as_str());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(summary)
            .collect()
    }

    /// One archived file inside `region`: the whole file while kept, its counted row once erased.
    pub async fn archived_child(&self, region: &RegionCode, id: &ChildId) -> Result<ArchivedFile> {
        let id = id.as_str();
        let (lo, hi) = code_range(region);
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM children c WHERE c.id = $1 AND c.archived_at IS NOT NULL \
             AND c.village_code >= $2 AND c.village_code <= $3"
        ))
        .bind(id)
        .bind(lo)
        .bind(hi)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let s = summary(&row)?;
        if s.erased_at.is_some() {
            return Ok(ArchivedFile::Erased(Box::new(s)));
        }
        Ok(ArchivedFile::Kept(Box::new(
            self.children().child(&ChildId::new(id)).await?,
        )))
    }
}

fn system() -> Who<'static> {
    Who {
        user_id: None,
        username: "system",
    }
}
