//! The register of left-behind elderly people's storage (issue 27; 龙里 003 五(一)1). The rules are
//! `shouwang_domain::elder`; the use cases `shouwang_app::elders`. A record is sealed for its row
//! like a child's file; the row keeps what the register filters and sorts on.

use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::elder::{self, ElderExitReason, ElderFile, ElderStatus, LivingWith};
use shouwang_domain::history::FieldChange;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::ids::ElderId;
use shouwang_domain::region::RegionCode;

use crate::regions::code_range;
use crate::rooms::{EldersRoom, EldersTxRoom};
use crate::scope::{Bind, Where, upper_bound};
use crate::sealed::{self, Journal, Json, Sealed};
use crate::{IdCipher, Result, StoreError};

/// A record's history and the register's pages have the shapes of a child's and the roster's.
pub use crate::children::HistoryEntry;
pub use crate::roster::Page;

const ELDER_DOC: Sealed<Json<ElderFile>> = sealed::listed("elders", "doc");
const ELDER_HISTORY: Sealed<Journal<FieldChange>> = sealed::listed("elder_history", "changes");

/// A stored record with its state.
#[derive(Debug, Clone)]
pub struct StoredElder {
    pub id: ElderId,
    pub file: ElderFile,
    pub status: ElderStatus,
    pub exit_reason: Option<ElderExitReason>,
    pub exit_date: Option<chrono::NaiveDate>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One line of the register.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElderSummary {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub village_code: String,
    pub id_number_masked: Option<String>,
    /// 居住情况 in words; empty while not stated (待补充).
    pub living_with: String,
    /// 独居 or unable to care for themselves: the first to visit.
    pub watched: bool,
    /// Something the register needs is not stated (待补充).
    pub incomplete: bool,
    pub status: String,
}

/// Filters of the register.
#[derive(Debug, Clone, Default)]
pub struct ElderQuery {
    pub region: Option<RegionCode>,
    /// A name (its start), its pinyin, or a whole ID number.
    pub q: Option<String>,
    pub living_with: Option<LivingWith>,
    pub watched: bool,
    pub incomplete: bool,
    /// `None`: the records on the register (在册).
    pub status: Option<ElderStatus>,
    pub page: u32,
    pub per_page: u32,
}

/// The elders an actor may see, as a WHERE clause over `e` (elders): the actor's region (narrowed
/// to `region`), as for children; an agency, a court or a department sees none.
fn scoped(actor: &Actor, region: Option<&RegionCode>) -> Option<Where> {
    let Scope::Region { code } = actor.scope() else {
        return None;
    };
    let effective = match region {
        Some(r) if code.contains(r) => r.clone(),
        Some(r) if r.contains(&code) => code,
        Some(_) => return None,
        None => code,
    };
    let (lo, hi) = code_range(&effective);
    let mut w = Where::new();
    w.int("e.village_code >= ?", lo);
    w.int("e.village_code <= ?", hi);
    Some(w)
}

/// The row's columns, derived from the record.
struct ElderColumns {
    village: i64,
    name: String,
    pinyin: String,
    sex: &'static str,
    birth: String,
    id_hash: Option<String>,
    id_masked: Option<String>,
    living_with: &'static str,
    incomplete: i64,
    watched: i64,
}

impl ElderColumns {
    fn of(file: &ElderFile, cipher: &IdCipher) -> ElderColumns {
        ElderColumns {
            village: code_range(&file.village_code).0,
            name: file.name.as_str().to_owned(),
            pinyin: shouwang_domain::text::name_pinyin(file.name.as_str()).0,
            sex: file.sex.label(),
            birth: file.birth_date.to_string(),
            id_hash: file
                .id_number
                .as_ref()
                .map(|i| cipher.blind_index(i.as_str())),
            id_masked: file.id_number.as_ref().map(IdNumber::masked),
            living_with: file.living_with.map_or("", |l| l.code()),
            incomplete: i64::from(!elder::missing(file).is_empty()),
            watched: i64::from(elder::watched(file)),
        }
    }
}

impl ElderColumns {
    /// The columns in the order both writes name them (village_code … watched).
    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.village)
            .bind(self.name)
            .bind(self.pinyin)
            .bind(self.sex)
            .bind(self.birth)
            .bind(self.id_hash)
            .bind(self.id_masked)
            .bind(self.living_with)
            .bind(self.incomplete)
            .bind(self.watched)
    }
}

fn decode(r: &sqlx::any::AnyRow, cipher: &IdCipher) -> Result<StoredElder> {
    let id: String = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    Ok(StoredElder {
        file: ELDER_DOC.open(cipher, &id, &r.try_get::<String, _>("doc")?)?,
        status: ElderStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("elder status {status}")))?,
        exit_reason: r
            .try_get::<Option<String>, _>("exit_reason")?
            .and_then(|c| ElderExitReason::parse(&c)),
        exit_date: r
            .try_get::<Option<String>, _>("exit_date")?
            .and_then(|d| d.parse().ok()),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        id: ElderId::new(id),
    })
}

impl EldersRoom<'_> {
    /// A record the actor may see; missing and out of scope are the same `NotFound`.
    pub async fn visible_elder(&self, actor: &Actor, id: &ElderId) -> Result<StoredElder> {
        let Some(mut w) = scoped(actor, None) else {
            return Err(StoreError::NotFound);
        };
        w.text("e.id = ?", id.as_str().to_owned());
        let sql = format!(
            "SELECT e.id, e.doc, e.status, e.exit_reason, e.exit_date, e.version, e.created_at, e.updated_at FROM elders e{}",
            w.sql
        );
        let row = w
            .bind(sqlx::query(&sql))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        decode(&row, &self.cipher)
    }

    /// One page of the register the actor may see, in village and name order.
    pub async fn elder_roster(
        &self,
        actor: &Actor,
        query: &ElderQuery,
    ) -> Result<Page<ElderSummary>> {
        let per_page = query.per_page.clamp(1, 200);
        let page = query.page.max(1);
        let Some(mut w) = scoped(actor, query.region.as_ref()) else {
            return Ok(Page {
                items: vec![],
                total: 0,
                page,
                per_page,
            });
        };
        w.text(
            "e.status = ?",
            query
                .status
                .unwrap_or(ElderStatus::Active)
                .code()
                .to_owned(),
        );
        if let Some(l) = query.living_with {
            w.text("e.living_with = ?", l.code().to_owned());
        }
        if query.watched {
            w.raw("e.watched = 1");
        }
        if query.incomplete {
            w.raw("e.incomplete = 1");
        }
        if let Some(q) = query
            .q
            .as_deref()
            .map(shouwang_domain::text::clean)
            .filter(|q| !q.is_empty())
        {
            if q.len() >= 15 && q.chars().all(|c| c.is_ascii_alphanumeric()) {
                match IdNumber::parse(&q) {
                    Ok(id) => w.text("e.id_hash = ?", self.cipher.blind_index(id.as_str())),
                    Err(_) => w.raw("1 = 0"),
                }
            } else if q.chars().all(|c| c.is_ascii_alphabetic()) {
                let q = q.to_ascii_lowercase();
                w.binds.push(Bind::T(q.clone()));
                let a = w.binds.len();
                w.binds.push(Bind::T(upper_bound(&q)));
                let b = w.binds.len();
                w.raw(&format!("e.name_pinyin >= ${a} AND e.name_pinyin < ${b}"));
            } else {
                w.text_range("e.name", &q);
            }
        }
        let total: i64 = w
            .bind(sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM elders e{}",
                w.sql
            )))
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let sql = format!(
            "SELECT e.id, e.name, e.sex, e.birth_date, e.village_code, e.id_masked, e.living_with, \
             e.watched, e.incomplete, e.status FROM elders e{} ORDER BY e.village_code, e.name, e.id \
             LIMIT {per_page} OFFSET {}",
            w.sql,
            u64::from(page - 1) * u64::from(per_page)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let village: i64 = r.try_get("village_code")?;
            let living: String = r.try_get("living_with")?;
            let status: String = r.try_get("status")?;
            items.push(ElderSummary {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                sex: r.try_get("sex")?,
                birth_date: r.try_get("birth_date")?,
                village_code: format!("{village:012}"),
                id_number_masked: r.try_get("id_masked")?,
                living_with: LivingWith::parse(&living)
                    .map(|l| l.label().to_owned())
                    .unwrap_or_default(),
                watched: r.try_get::<i64, _>("watched")? == 1,
                incomplete: r.try_get::<i64, _>("incomplete")? == 1,
                status: ElderStatus::parse(&status)
                    .map(|s| s.label().to_owned())
                    .unwrap_or(status),
            });
        }
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Every record on the register inside `region`, in village and name order (the 花名册;
    /// the caller has checked the region is the actor's).
    pub async fn elders_in(&self, region: &RegionCode) -> Result<Vec<StoredElder>> {
        let (lo, hi) = code_range(region);
        let rows = sqlx::query(
            "SELECT id, doc, status, exit_reason, exit_date, version, created_at, updated_at FROM elders \
             WHERE village_code >= $1 AND village_code <= $2 AND status = 'active' \
             ORDER BY village_code, name, id",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| decode(r, &self.cipher)).collect()
    }

    /// Records with this ID number anywhere, except `exclude`: (id, village).
    pub async fn elders_with_id_number(
        &self,
        id: &IdNumber,
        exclude: Option<&ElderId>,
    ) -> Result<Vec<(ElderId, RegionCode)>> {
        let rows =
            sqlx::query("SELECT id, village_code FROM elders WHERE id_hash = $1 AND id <> $2")
                .bind(self.cipher.blind_index(id.as_str()))
                .bind(exclude.map_or("", |e| e.as_str()))
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let village: i64 = r.try_get("village_code")?;
            if let Ok(v) = RegionCode::parse(&format!("{village:012}")) {
                out.push((ElderId::new(r.try_get::<String, _>("id")?), v));
            }
        }
        Ok(out)
    }

    /// A record's history, newest first (the caller has checked it is visible).
    pub async fn elder_history(&self, id: &ElderId) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT id, version, at, username, kind, changes FROM elder_history \
             WHERE elder_id = $1 ORDER BY version DESC",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    version: r.try_get("version")?,
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                    kind: r.try_get("kind")?,
                    changes: ELDER_HISTORY.open(
                        &self.cipher,
                        &r.try_get::<String, _>("id")?,
                        &r.try_get::<String, _>("changes")?,
                    )?,
                })
            })
            .collect()
    }
}

impl EldersTxRoom<'_> {
    /// A new record (version 1).
    pub async fn insert_elder(&mut self, id: &ElderId, file: &ElderFile) -> Result<()> {
        let cipher = self.store.cipher.clone();
        let now = self.now().to_owned();
        let q = sqlx::query(
            "INSERT INTO elders (id, village_code, name, name_pinyin, sex, birth_date, id_hash, \
             id_masked, living_with, incomplete, watched, status, doc, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, 1, $13, $13)",
        )
        .bind(id.as_str());
        ElderColumns::of(file, &cipher)
            .bind(q)
            .bind(ELDER_DOC.seal(&cipher, id.as_str(), file))
            .bind(&now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces a record if it is still at `expected_version`; false if someone saved between.
    pub async fn write_elder(
        &mut self,
        id: &ElderId,
        file: &ElderFile,
        expected_version: i64,
    ) -> Result<bool> {
        let cipher = self.store.cipher.clone();
        let now = self.now().to_owned();
        let q = sqlx::query(
            "UPDATE elders SET village_code = $1, name = $2, name_pinyin = $3, sex = $4, \
             birth_date = $5, id_hash = $6, id_masked = $7, living_with = $8, incomplete = $9, \
             watched = $10, doc = $11, version = version + 1, updated_at = $12 \
             WHERE id = $13 AND version = $14",
        );
        let done = ElderColumns::of(file, &cipher)
            .bind(q)
            .bind(ELDER_DOC.seal(&cipher, id.as_str(), file))
            .bind(&now)
            .bind(id.as_str())
            .bind(expected_version)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Marks a record exited if it is still at `expected_version`; false if someone saved between.
    pub async fn set_elder_exited(
        &mut self,
        id: &ElderId,
        reason: ElderExitReason,
        date: chrono::NaiveDate,
        expected_version: i64,
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE elders SET status = 'exited', exit_reason = $1, exit_date = $2, \
             version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5 AND status = 'active'",
        )
        .bind(reason.code())
        .bind(date.to_string())
        .bind(&now)
        .bind(id.as_str())
        .bind(expected_version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One history entry: the record's `version` after the change, what kind, by whom.
    pub async fn add_elder_history(
        &mut self,
        elder_id: &ElderId,
        version: i64,
        actor: &Actor,
        kind: &str,
        changes: &[FieldChange],
    ) -> Result<()> {
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = ELDER_HISTORY.seal(&self.store.cipher, &id, changes);
        sqlx::query(
            "INSERT INTO elder_history (id, elder_id, version, at, user_id, username, kind, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(elder_id.as_str())
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
}
