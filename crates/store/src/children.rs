//! The child registry's storage: the stored file and its derived columns, history rows, agency
//! links and the candidates for a duplicate check. SQL only: the use cases (permission, rules,
//! audit) are `shouwang_app::children`.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::child::ChildFile;
use shouwang_domain::history::FieldChange;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::ids::ChildId;
use shouwang_domain::lifecycle::{ChildStatus, ExitReason};
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::db::{Backend, Params};
use crate::regions::code_range;
use crate::rooms::{ChildrenRoom, ChildrenTxRoom};
use crate::summary::{CHILD_DOC, CHILD_HISTORY};
use crate::{Result, Store, StoreError};

/// One entry of a file's history, newest first when listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub version: i64,
    pub at: String,
    pub username: String,
    pub kind: String,
    pub changes: Vec<FieldChange>,
}

/// A stored file with its state, decrypted.
#[derive(Debug, Clone)]
pub struct StoredChild {
    pub id: ChildId,
    pub file: ChildFile,
    pub status: ChildStatus,
    pub exit_reason: Option<ExitReason>,
    pub exit_date: Option<NaiveDate>,
    /// When the file was archived (`domain::retention`): then only the county's archive reads it.
    pub archived_at: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A child of the county that may be the same as a file being registered: found by the same
/// ID number, the same name sound, or a near birth date. What is shown of it depends on the
/// user's area, which the use case decides.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub village: RegionCode,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    /// The blind index of its ID number, if it has one.
    pub id_hash: Option<String>,
}

const LOAD_SQL: &str = "SELECT c.id, d.doc, c.status, c.exit_reason, c.exit_date, c.version, c.created_at, c.updated_at, c.archived_at \
     FROM children c JOIN child_docs d ON d.child_id = c.id WHERE c.id";

async fn load(conn: &mut AnyConnection, store: &Store, id: &str) -> Result<Option<StoredChild>> {
    let row = sqlx::query(&format!("{LOAD_SQL} = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| decode(store, &r)).transpose()
}

/// Several children by id (those that exist), in no particular order.
pub(crate) async fn load_many(
    conn: &mut AnyConnection,
    store: &Store,
    ids: &[&str],
) -> Result<Vec<StoredChild>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{LOAD_SQL} IN ({})",
        crate::db::Params::new(store.backend).list(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| decode(store, r))
        .collect()
}

fn decode(store: &Store, r: &sqlx::any::AnyRow) -> Result<StoredChild> {
    let id: String = r.try_get("id")?;
    let file = store
        .children()
        .decrypt_file(&id, &r.try_get::<String, _>("doc")?)?;
    let exit_reason: Option<String> = r.try_get("exit_reason")?;
    let exit_date: Option<String> = r.try_get("exit_date")?;
    Ok(StoredChild {
        id: ChildId::new(id),
        file,
        status: crate::decode::code(r, "status", ChildStatus::parse)?,
        exit_reason: exit_reason.as_deref().and_then(ExitReason::parse),
        exit_date: exit_date.as_deref().and_then(|d| d.parse().ok()),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        archived_at: r.try_get("archived_at")?,
    })
}

/// Whether the actor's jurisdiction includes this stored child: its village inside their area,
/// or, for a school or agency, a link to it while the child lives in the agency's area.
async fn in_scope(conn: &mut AnyConnection, actor: &Actor, row: &StoredChild) -> Result<bool> {
    Ok(match actor.scope() {
        Scope::Region { code } => code.contains(&row.file.village_code),
        Scope::CasesOnly => false,
        Scope::Agency { agency_id } => {
            actor.region.contains(&row.file.village_code)
                && sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM child_agencies WHERE agency_id = $1 AND child_id = $2",
                )
                .bind(agency_id)
                .bind(row.id.as_str())
                .fetch_one(&mut *conn)
                .await?
                    > 0
        }
    })
}

/// Loads a child the actor may see; missing and out of scope are the same `NotFound`.
async fn visible(
    conn: &mut AnyConnection,
    store: &Store,
    actor: &Actor,
    id: &str,
) -> Result<StoredChild> {
    let row = load(conn, store, id).await?.ok_or(StoreError::NotFound)?;
    // An archived file is read through the archive only (with a reason).
    if row.archived_at.is_none() && in_scope(conn, actor, &row).await? {
        Ok(row)
    } else {
        Err(StoreError::NotFound)
    }
}

impl ChildrenRoom<'_> {
    /// A stored, encrypted file.
    pub(crate) fn decrypt_file(&self, child_id: &str, doc: &str) -> Result<ChildFile> {
        let mut file: ChildFile = CHILD_DOC.open(&self.cipher, child_id, doc)?;
        // A file kept before 是否委托 was stored on its own says it by naming a carer.
        file.entrusted = file.entrusted();
        Ok(file)
    }

    /// The blind index an ID number is looked up by.
    pub fn id_hash(&self, id: &IdNumber) -> String {
        self.cipher.blind_index(id.as_str())
    }

    /// A child the actor may see (outside a transaction); missing and out of scope are the same
    /// `NotFound`.
    pub async fn visible_child(&self, actor: &Actor, id: &ChildId) -> Result<StoredChild> {
        let id = id.as_str();
        let mut conn = self.pool.acquire().await?;
        visible(&mut conn, self, actor, id).await
    }

    /// A child by id, whoever may see it (after a write the use case has checked).
    pub async fn child(&self, id: &ChildId) -> Result<StoredChild> {
        let id = id.as_str();
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, self, id).await?.ok_or(StoreError::NotFound)
    }

    /// A file's history, newest first. The caller has checked the child is visible.
    pub async fn child_history(&self, id: &ChildId) -> Result<Vec<HistoryEntry>> {
        let id = id.as_str();
        let rows = sqlx::query("SELECT version, at, username, kind, changes, id FROM child_history WHERE child_id = $1 ORDER BY version DESC")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    version: r.try_get("version")?,
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                    kind: r.try_get("kind")?,
                    changes: CHILD_HISTORY.open_or_plain(
                        &self.cipher,
                        &r.try_get::<String, _>("id")?,
                        &r.try_get::<String, _>("changes")?,
                    )?,
                })
            })
            .collect()
    }

    /// Children with this ID number, anywhere, except `exclude`: (id, village).
    pub async fn children_with_id_number(
        &self,
        id: &IdNumber,
        exclude: Option<&str>,
    ) -> Result<Vec<(String, RegionCode)>> {
        let rows =
            sqlx::query("SELECT id, village_code FROM children WHERE id_hash = $1 AND id <> $2")
                .bind(self.id_hash(id))
                .bind(exclude.unwrap_or(""))
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let village: i64 = r.try_get("village_code")?;
            if let Ok(v) = RegionCode::parse(&format!("{village:012}")) {
                out.push((r.try_get("id")?, v));
            }
        }
        Ok(out)
    }

    /// Children of the file's county that may be the same child typed differently: the same
    /// name sound, or a birth date equal, with day and month swapped, or a day or one digit off
    /// ([`near_dates`]). Each child once.
    pub async fn near_children(
        &self,
        file: &ChildFile,
        exclude: Option<&str>,
    ) -> Result<Vec<Candidate>> {
        let exclude = exclude.unwrap_or("");
        let county = file
            .village_code
            .at_level(RegionLevel::County)
            .expect("village codes have a county");
        let (lo, hi) = code_range(&county);
        let (pinyin, _) = file.name_pinyin();
        let dates = near_dates(file.birth_date);
        let mut rows = sqlx::query(
            "SELECT id, village_code, name, sex, birth_date, id_hash FROM children \
             WHERE name_pinyin = $1 AND village_code >= $2 AND village_code <= $3 AND id <> $4",
        )
        .bind(&pinyin)
        .bind(lo)
        .bind(hi)
        .bind(exclude)
        .fetch_all(&self.pool)
        .await?;
        let mut marks = Params::new(self.backend);
        let date_list = marks.list(dates.len());
        let (a, b, c) = (marks.one(), marks.one(), marks.one());
        let sql = format!(
            "SELECT id, village_code, name, sex, birth_date, id_hash FROM children \
             WHERE birth_date IN ({date_list}) AND village_code >= {a} AND village_code <= {b} AND id <> {c}"
        );
        let mut q = sqlx::query(&sql);
        for d in &dates {
            q = q.bind(d.to_string());
        }
        rows.extend(
            q.bind(lo)
                .bind(hi)
                .bind(exclude)
                .fetch_all(&self.pool)
                .await?,
        );
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            if !seen.insert(id.clone()) {
                continue;
            }
            let village: i64 = r.try_get("village_code")?;
            let Ok(village) = RegionCode::parse(&format!("{village:012}")) else {
                continue;
            };
            out.push(Candidate {
                id,
                village,
                name: r.try_get("name")?,
                sex: r.try_get("sex")?,
                birth_date: r.try_get("birth_date")?,
                id_hash: r.try_get("id_hash")?,
            });
        }
        Ok(out)
    }
}

impl ChildrenTxRoom<'_> {
    /// A child the actor may see, read in this transaction.
    pub async fn visible_child(&mut self, actor: &Actor, id: &ChildId) -> Result<StoredChild> {
        let id = id.as_str();
        let store = self.store.clone();
        visible(self.conn(), &store, actor, id).await
    }

    /// A new file (version 1).
    pub async fn insert_child(&mut self, id: &ChildId, file: &ChildFile) -> Result<()> {
        let id = id.as_str();
        let (backend, cipher, now) = (
            self.store.backend,
            self.store.cipher.clone(),
            self.now().to_owned(),
        );
        crate::summary::insert(
            self.conn(),
            backend,
            &cipher,
            &[(id.to_owned(), file)],
            &now,
        )
        .await
    }

    /// Replaces a file if it is still at `expected_version`; false if someone saved in between.
    pub async fn write_child(
        &mut self,
        id: &ChildId,
        file: &ChildFile,
        expected_version: i64,
    ) -> Result<bool> {
        let id = id.as_str();
        let (cipher, now) = (self.store.cipher.clone(), self.now().to_owned());
        crate::summary::update(self.conn(), &cipher, id, file, expected_version, &now).await
    }

    /// Marks a file exited if it is still at `expected_version`; false if someone saved in
    /// between.
    pub async fn set_exited(
        &mut self,
        id: &ChildId,
        reason: ExitReason,
        date: NaiveDate,
        expected_version: i64,
    ) -> Result<bool> {
        let id = id.as_str();
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE children SET status = 'exited', exit_reason = $1, exit_date = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        )
        .bind(reason.code())
        .bind(date.to_string())
        .bind(&now)
        .bind(id)
        .bind(expected_version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One history entry: the file's `version` after the change, what kind of change, by whom.
    pub async fn add_history(
        &mut self,
        child_id: &ChildId,
        version: i64,
        actor: &Actor,
        kind: &str,
        changes: &[FieldChange],
    ) -> Result<()> {
        let child_id = child_id.as_str();
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = CHILD_HISTORY.seal(&self.store.cipher, &id, changes);
        sqlx::query("INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&id)
            .bind(child_id)
            .bind(version)
            .bind(&now)
            .bind(&actor.user_id)
            .bind(&actor.username)
            .bind(kind)
            .bind(sealed)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Ends a child's agency links: all of them (`None`, an exit), or those of agencies whose area
    /// does not hold the village the child moves to. Returns how many ended.
    pub async fn end_agency_links(
        &mut self,
        child_id: &ChildId,
        keep_within: Option<&RegionCode>,
    ) -> Result<u64> {
        let child_id = child_id.as_str();
        let done = match keep_within {
            None => {
                sqlx::query("DELETE FROM child_agencies WHERE child_id = $1")
                    .bind(child_id)
                    .execute(self.conn())
                    .await?
            }
            Some(village) => {
                sqlx::query(
                    "DELETE FROM child_agencies WHERE child_id = $1 AND agency_id IN \
                     (SELECT id FROM agencies WHERE substr($2, 1, length(region_code)) <> region_code)",
                )
                .bind(child_id)
                .bind(village.as_str())
                .execute(self.conn())
                .await?
            }
        };
        Ok(done.rows_affected())
    }

    /// Links a child to an agency (once).
    pub async fn link_agency(&mut self, child_id: &ChildId, agency_id: &str) -> Result<()> {
        let child_id = child_id.as_str();
        sqlx::query("INSERT INTO child_agencies (child_id, agency_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(child_id)
            .bind(agency_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

/// Inserts an import's history entries `(child id, version, changes)` in one multi-row
/// statement, each naming the import (its job's id) so that its result can list the files it
/// wrote.
pub(crate) async fn insert_import_history(
    conn: &mut AnyConnection,
    backend: Backend,
    cipher: &crate::IdCipher,
    entries: &[(String, i64, Vec<FieldChange>)],
    at: &str,
    who: impl Into<crate::audit::Who<'_>>,
    import_id: &str,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let who = who.into();
    let sql = format!(
        "INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes, import_id) VALUES {}",
        Params::new(backend).rows(entries.len(), 9)
    );
    let mut q = sqlx::query(&sql);
    for (child, version, changes) in entries {
        let id = crate::new_id();
        let sealed = CHILD_HISTORY.seal(cipher, &id, changes);
        q = q
            .bind(id)
            .bind(child.clone())
            .bind(*version)
            .bind(at.to_owned())
            .bind(who.user_id.unwrap_or("system").to_owned())
            .bind(who.username.to_owned())
            .bind("import")
            .bind(sealed)
            .bind(import_id.to_owned());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The birth date, its day and month swapped, and every valid date one digit away.
fn near_dates(d: NaiveDate) -> Vec<NaiveDate> {
    let mut out = vec![d];
    let digits: Vec<u8> = d.format("%Y%m%d").to_string().into_bytes();
    for i in 0..digits.len() {
        for c in b'0'..=b'9' {
            if c == digits[i] {
                continue;
            }
            let mut v = digits.clone();
            v[i] = c;
            let s = String::from_utf8(v).expect("digits");
            if let Ok(x) = NaiveDate::parse_from_str(&s, "%Y%m%d") {
                out.push(x);
            }
        }
    }
    if let Some(x) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
        && x != d
    {
        out.push(x);
    }
    // A day off, across a month or a year (04-30 / 05-01).
    out.extend([d.pred_opt(), d.succ_opt()].into_iter().flatten());
    out.sort_unstable();
    out.dedup();
    out
}

/// Names for lists (an inbox's page, a case's heading): no file's contents.
impl ChildrenRoom<'_> {
    /// The names of registered children by id (an inbox's page in one query).
    pub async fn child_names(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, name FROM children WHERE id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// The name of a registered child (for inboxes and the case page).
    pub async fn child_name(&self, child_id: &ChildId) -> Result<Option<String>> {
        let child_id = child_id.as_str();
        Ok(
            sqlx::query_scalar("SELECT name FROM children WHERE id = $1")
                .bind(child_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
