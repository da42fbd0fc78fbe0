//! 三方比对 in the registry: a county user compares the roster of their jurisdiction with the
//! education (学籍) or household (户籍) list, and the findings become a queue of items to accept,
//! reject or assign to the town, the school or the police (seeds/004 二(四) 比对核实，形成真实、统一
//! 数据; seeds/000 三(二)1). Decisions are kept on the item and audited; accepting an ID-number
//! correction changes the child's file (with history), accepting an undiscovered child files a
//! discovery report in the town's queue, and rejecting a suggested pair turns each side into the
//! finding it would have been unpaired.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use shouwang_domain::authz::{Actor, Role, Scope};
use shouwang_domain::id_number::mask_id;
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
pub use shouwang_domain::review::ItemStatus;
use shouwang_domain::review::{Access, Assignee};
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_linkage::Record;
use shouwang_linkage::discrepancy::{FindingKind, IdFix, ListEntry, ListKind, Tally};
use shouwang_linkage::prepare::{division_code, place_core};
use shouwang_linkage::registry::file_record;

use crate::regions::code_range;
use crate::rooms::{ReconcileRoom, ReconcileTxRoom};
use crate::scope;
use crate::sealed::{self, Json, Sealed};
use crate::{Result, StoreError};

pub(crate) const RECONCILE_ITEM: Sealed<Json<ItemDoc>> = sealed::listed("reconcile_items", "doc");

mod items;
pub use items::ItemReach;

/// Largest list one comparison takes (a county's students are tens of thousands).
pub const MAX_LIST: usize = 1_000_000;

/// One comparison as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub id: String,
    pub region_code: String,
    pub list_kind: ListKind,
    pub list_label: &'static str,
    pub source_name: String,
    pub created_at: String,
    pub created_by: String,
    pub tally: Tally,
    /// What the sizes say (a list far smaller than the part of the roster it was compared with,
    /// few rows matched): shown before anyone works the items.
    pub warnings: Vec<String>,
    /// Per kind of finding: (kind, label, all, still open or assigned).
    pub counts: Vec<KindCount>,
    /// Set when the county withdrew the run.
    pub withdrawn: Option<Withdrawal>,
}

/// Who withdrew a run, when and why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Withdrawal {
    pub at: String,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindCount {
    pub kind: FindingKind,
    pub label: &'static str,
    pub total: i64,
    pub pending: i64,
}

/// A field's part in a pair's score, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredReason {
    pub label: String,
    pub level: String,
    pub weight: f64,
}

/// What an item holds, encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ItemDoc {
    /// The roster child as compared (record_id = the child's id).
    pub child: Option<Record>,
    pub entry: Option<ListEntry>,
    pub probability: Option<f64>,
    pub reasons: Vec<StoredReason>,
    pub fix: Option<IdFix>,
    /// For not-on-roster items: the list entry's place in the jurisdiction, as names.
    pub place: Option<String>,
}

/// A person as an item shows them; ID numbers masked for users who may not see them whole.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    pub record_id: String,
    pub row: Option<u32>,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub id_number: String,
    pub place: String,
    pub hukou: Option<&'static str>,
    pub parents_away: Option<bool>,
    pub extra: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemView {
    pub id: String,
    pub run_id: String,
    pub list_kind: ListKind,
    pub seq: i64,
    pub kind: FindingKind,
    pub kind_label: &'static str,
    pub status: ItemStatus,
    pub status_label: &'static str,
    pub region_code: String,
    pub child_id: Option<String>,
    pub child: Option<PersonView>,
    pub entry: Option<PersonView>,
    pub probability: Option<f64>,
    pub reasons: Vec<StoredReason>,
    /// A suggested ID-number correction: which side, the number (masked as above) and why.
    pub fix: Option<FixView>,
    pub assignee: Option<String>,
    pub assignee_label: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
    /// Whether this user may accept or reject it now, and assign it.
    pub may_decide: bool,
    pub may_assign: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FixView {
    pub side: String,
    pub to: Option<String>,
    pub note: String,
}

/// Which items to list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ItemFilter {
    pub run_id: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Only items assigned to the user's unit (their task list).
    pub mine: bool,
    pub offset: i64,
    pub limit: i64,
}

/// An item as stored, its document decrypted.
pub struct ItemRow {
    pub id: String,
    pub run_id: String,
    pub list_kind: ListKind,
    pub seq: i64,
    pub kind: FindingKind,
    pub region_code: String,
    pub child_id: Option<ChildId>,
    pub status: ItemStatus,
    pub assignee: Option<Assignee>,
    pub doc: ItemDoc,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

const RUN_COLUMNS: &str = "id, region_code, list_kind, source_name, created_at, created_by, tally, \
     withdrawn_at, withdrawn_by, withdraw_reason";
/// Per kind of finding: all items and those still open or assigned.
const COUNT_COLUMNS: &str = "i.kind, COUNT(*) AS total, SUM(CASE WHEN i.status IN ('open', 'assigned') THEN 1 ELSE 0 END) \
     AS still_open";

/// A run's row (`RUN_COLUMNS`) with its counts per kind.
fn run_summary(
    row: &sqlx::any::AnyRow,
    by_kind: Option<&HashMap<String, (i64, i64)>>,
) -> Result<RunSummary> {
    let list_kind = crate::decode::code(row, "list_kind", ListKind::parse)?;
    let tally: Tally = crate::decode::json(row, "tally")?;
    Ok(RunSummary {
        id: row.try_get("id")?,
        region_code: row.try_get("region_code")?,
        list_kind,
        list_label: list_kind.label(),
        source_name: row.try_get("source_name")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        warnings: shouwang_linkage::coverage::warnings(&tally),
        tally,
        withdrawn: match row.try_get::<Option<String>, _>("withdrawn_at")? {
            Some(at) => Some(Withdrawal {
                at,
                by: row
                    .try_get::<Option<String>, _>("withdrawn_by")?
                    .unwrap_or_default(),
                reason: row
                    .try_get::<Option<String>, _>("withdraw_reason")?
                    .unwrap_or_default(),
            }),
            None => None,
        },
        counts: FindingKind::ALL
            .iter()
            .filter_map(|k| {
                let (total, pending) = *by_kind?.get(k.code())?;
                Some(KindCount {
                    kind: *k,
                    label: k.label(),
                    total,
                    pending,
                })
            })
            .collect(),
    })
}

const ITEM_COLUMNS: &str = "i.id, i.run_id, r.list_kind, i.seq, i.kind, i.region_code, i.child_id, i.status, \
     i.assignee_role, i.assignee_region, i.assignee_agency, i.doc, i.decided_by, i.decided_at, i.note";

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    ValidationErrors::single(field, message.into()).into()
}

/// `[lo, hi)` of the text codes under a region (codes are digits; ';' sorts after '9').
fn text_range(code: &str) -> (String, String) {
    (code.to_owned(), format!("{code};"))
}

/// The jurisdiction's places by name, to say where a list entry lives.
pub struct Places {
    county: Option<String>,
    /// (core name, code) of towns, and of villages per town code.
    towns: Vec<(String, String, String)>,
    villages: HashMap<String, Vec<(String, String, String)>>,
    names: HashMap<String, String>,
}

impl Places {
    /// The place of an entry inside the jurisdiction as (code, names), or None if its county
    /// says it is elsewhere.
    pub fn locate(&self, r: &Record, within: &RegionCode) -> Option<(String, String)> {
        let whole = || {
            (
                within.as_str().to_owned(),
                self.names.get(within.as_str()).cloned().unwrap_or_default(),
            )
        };
        let core = |s: &Option<String>| s.as_deref().map(|s| place_core(&text::clean(s)));
        // A division code (the deepest given) says where as far as it goes; names say the rest.
        let code = [&r.village, &r.town, &r.county]
            .into_iter()
            .find_map(|s| division_code(s.as_deref()?));
        match &code {
            Some(c) if !within.contains(c) => return c.contains(within).then(whole),
            Some(_) => {}
            None => {
                if let (Some(c), Some(mine)) = (core(&r.county), &self.county)
                    && !c.is_empty()
                    && c != place_core(mine)
                {
                    return None;
                }
            }
        }
        let code_at = |level| {
            code.as_ref()
                .and_then(|c| c.at_level(level))
                .map(|c| c.as_str().to_owned())
        };
        let Some((_, town_code, town_name)) = code_at(RegionLevel::Town)
            .and_then(|t| self.towns.iter().find(|(_, c, _)| *c == t))
            .or_else(|| {
                let t = core(&r.town)?;
                self.towns.iter().find(|(c, _, _)| *c == t)
            })
            .or_else(|| {
                // A list may name only the village; a name two towns share says no town.
                let v = core(&r.village)?;
                let mut towns = self.towns.iter().filter(|(_, t, _)| {
                    self.villages
                        .get(t)
                        .is_some_and(|vs| vs.iter().any(|(c, _, _)| *c == v))
                });
                towns.next().filter(|_| towns.next().is_none())
            })
        else {
            return Some(whole());
        };
        let village =
            self.villages
                .get(town_code)
                .and_then(|vs| match code_at(RegionLevel::Village) {
                    Some(v) => vs.iter().find(|(_, c, _)| *c == v),
                    None => {
                        let v = core(&r.village)?;
                        vs.iter().find(|(c, _, _)| *c == v)
                    }
                });
        Some(match village {
            Some((_, code, name)) => (code.clone(), format!("{town_name} {name}")),
            None => (town_code.clone(), town_name.clone()),
        })
    }
}

impl ReconcileRoom<'_> {
    /// The towns and villages of a jurisdiction by name, to place a list's rows.
    pub async fn places(&self, region: &RegionCode) -> Result<Places> {
        let mut names = HashMap::new();
        let county = self.regions().region(region).await?.map(|r| r.name);
        if let Some(c) = &county {
            names.insert(region.as_str().to_owned(), c.clone());
        }
        let core = |n: &str| place_core(&text::clean(n));
        let towns: Vec<(String, String, String)> = self
            .regions()
            .regions_within(region, RegionLevel::Town)
            .await?
            .into_iter()
            .map(|t| (core(&t.name), t.code, t.name))
            .collect();
        let mut villages: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
        for v in self
            .regions()
            .regions_within(region, RegionLevel::Village)
            .await?
        {
            let town = v.code[..9].to_owned();
            villages
                .entry(town)
                .or_default()
                .push((core(&v.name), v.code, v.name));
        }
        for (_, code, name) in &towns {
            names.insert(code.clone(), name.clone());
        }
        Ok(Places {
            county: if region.level() == RegionLevel::County {
                county
            } else {
                None
            },
            towns,
            villages,
            names,
        })
    }

    /// The children on the roster of a jurisdiction now, as linkage records (record id = the
    /// child's id), with their villages and the school their files name.
    pub async fn roster_records(
        &self,
        region: &RegionCode,
    ) -> Result<Vec<(Record, String, Option<String>)>> {
        let (lo, hi) = code_range(region);
        let rows = sqlx::query(&format!(
            "SELECT c.id, d.doc FROM children c JOIN child_docs d ON d.child_id = c.id \
             WHERE c.village_code >= $1 AND c.village_code <= $2 AND {} \
             ORDER BY c.village_code, c.name, c.id",
            scope::on_roster("c", "$3")
        ))
        .bind(lo)
        .bind(hi)
        .bind(scope::roster_cutoff(self.today()))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let file = self
                .children()
                .decrypt_file(&id, &r.try_get::<String, _>("doc")?)?;
            out.push((
                file_record(&id, &file),
                file.village_code.as_str().to_owned(),
                file.school_name.clone(),
            ));
        }
        Ok(out)
    }

    async fn insert_item(
        &self,
        tx: &mut AnyConnection,
        run_id: &str,
        seq: i64,
        kind: FindingKind,
        region_code: &str,
        doc: &ItemDoc,
    ) -> Result<String> {
        let id = crate::new_id();
        let child_id = doc.child.as_ref().map(|c| c.record_id.clone());
        sqlx::query(
            "INSERT INTO reconcile_items (id, run_id, seq, kind, region_code, child_id, status, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)",
        )
        .bind(&id)
        .bind(run_id)
        .bind(seq)
        .bind(kind.code())
        .bind(region_code)
        .bind(child_id)
        .bind(RECONCILE_ITEM.seal(&self.cipher, &id, doc))
        .execute(&mut *tx)
        .await?;
        Ok(id)
    }

    /// Comparisons run in `region`, newest first.
    pub async fn reconcile_runs(&self, region: &RegionCode) -> Result<Vec<RunSummary>> {
        let (lo, hi) = text_range(region.as_str());
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE region_code >= $1 AND region_code < $2 \
             ORDER BY created_at DESC, id DESC LIMIT 100"
        ))
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&self.pool)
        .await?;
        // The counts of every run of the jurisdiction at once.
        let counts = sqlx::query(&format!(
            "SELECT i.run_id, {COUNT_COLUMNS} FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id \
             WHERE r.region_code >= $1 AND r.region_code < $2 GROUP BY i.run_id, i.kind"
        ))
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&self.pool)
        .await?;
        let mut by_run: HashMap<String, HashMap<String, (i64, i64)>> = HashMap::new();
        for c in counts {
            by_run.entry(c.try_get("run_id")?).or_default().insert(
                c.try_get("kind")?,
                (c.try_get("total")?, c.try_get("still_open")?),
            );
        }
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                run_summary(r, by_run.get(&id))
            })
            .collect()
    }

    /// One comparison with its counts; outside `within` it does not exist.
    pub async fn reconcile_run(&self, within: &RegionCode, id: &str) -> Result<RunSummary> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let region: String = row.try_get("region_code")?;
        if !region.starts_with(within.as_str()) {
            return Err(StoreError::NotFound);
        }
        let counts = sqlx::query(&format!(
            "SELECT {COUNT_COLUMNS} FROM reconcile_items i WHERE i.run_id = $1 GROUP BY i.kind"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_kind = HashMap::new();
        for c in counts {
            by_kind.insert(
                c.try_get("kind")?,
                (c.try_get("total")?, c.try_get("still_open")?),
            );
        }
        run_summary(&row, Some(&by_kind))
    }
}

impl ReconcileTxRoom<'_> {
    /// Withdraws a run of `within` not withdrawn yet: the run says by whom and why, and its items
    /// still waiting for a decision are withdrawn. Returns how many items were withdrawn; None
    /// when there is no such run (or it was withdrawn already).
    pub async fn withdraw_run(
        &mut self,
        within: &RegionCode,
        id: &str,
        by: &str,
        reason: &str,
    ) -> Result<Option<u64>> {
        let (lo, hi) = text_range(within.as_str());
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE reconcile_runs SET withdrawn_at = $1, withdrawn_by = $2, withdraw_reason = $3 \
             WHERE id = $4 AND region_code >= $5 AND region_code < $6 AND withdrawn_at IS NULL",
        )
        .bind(&now)
        .bind(by)
        .bind(reason)
        .bind(id)
        .bind(lo)
        .bind(hi)
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let items = sqlx::query(
            "UPDATE reconcile_items SET status = 'withdrawn', decided_by = $1, decided_at = $2 \
             WHERE run_id = $3 AND status IN ('open', 'assigned')",
        )
        .bind(by)
        .bind(&now)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(Some(items.rows_affected()))
    }

    /// A comparison's run, before its items.
    pub async fn insert_run(
        &mut self,
        region: &RegionCode,
        kind: ListKind,
        source_name: &str,
        created_by: &str,
        tally: &Tally,
    ) -> Result<String> {
        let id = crate::new_id();
        let now = self.now().to_owned();
        sqlx::query(
            "INSERT INTO reconcile_runs (id, region_code, list_kind, source_name, created_at, created_by, tally) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(region.as_str())
        .bind(kind.code())
        .bind(source_name)
        .bind(&now)
        .bind(created_by)
        .bind(serde_json::to_string(tally).expect("tally serialises"))
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// One finding of a run; returns its id.
    pub async fn insert_item(
        &mut self,
        run_id: &str,
        seq: i64,
        kind: FindingKind,
        region_code: &str,
        doc: &ItemDoc,
    ) -> Result<String> {
        let store = self.store.clone();
        store
            .reconcile()
            .insert_item(self.conn(), run_id, seq, kind, region_code, doc)
            .await
    }

    /// An item by id, whoever may see it (the use case decides that with `review::Access`).
    pub async fn reconcile_item(&mut self, id: &str) -> Result<Option<ItemRow>> {
        let store = self.store.clone();
        store.reconcile().load_item(self.conn(), id).await
    }

    /// Assigns an item to a unit.
    pub async fn assign_item(&mut self, id: &str, to: &Assignee, note: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE reconcile_items SET status = 'assigned', assignee_role = $1, assignee_region = $2, assignee_agency = $3, note = $4 WHERE id = $5",
        )
        .bind(to.role.code())
        .bind(to.region.as_ref().map(|r| r.as_str().to_owned()))
        .bind(to.agency.clone())
        .bind(note.map(str::to_owned))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Closes an item with a decision (`Accepted` or `Rejected`).
    pub async fn close_item(
        &mut self,
        id: &str,
        status: ItemStatus,
        decided_by: &str,
        note: Option<&str>,
    ) -> Result<()> {
        let now = self.now().to_owned();
        sqlx::query(
            "UPDATE reconcile_items SET status = $1, decided_by = $2, decided_at = $3, note = COALESCE($4, note) WHERE id = $5",
        )
        .bind(status.code())
        .bind(decided_by)
        .bind(&now)
        .bind(note.map(str::to_owned))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// A new item that follows from a decision on `item`, in the same comparison, holding the
    /// item's child and/or list entry; returns its id.
    pub async fn spawn_item(
        &mut self,
        item: &ItemRow,
        kind: FindingKind,
        fix: Option<IdFix>,
        with_child: bool,
        with_entry: bool,
    ) -> Result<String> {
        let pair = with_child && with_entry;
        let doc = ItemDoc {
            child: item.doc.child.clone().filter(|_| with_child),
            entry: item.doc.entry.clone().filter(|_| with_entry),
            probability: item.doc.probability.filter(|_| pair),
            reasons: if pair {
                item.doc.reasons.clone()
            } else {
                Vec::new()
            },
            fix,
            place: item.doc.place.clone(),
        };
        let seq = sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM reconcile_items WHERE run_id = $1",
        )
        .bind(&item.run_id)
        .fetch_one(self.conn())
        .await?;
        let store = self.store.clone();
        store
            .reconcile()
            .insert_item(
                self.conn(),
                &item.run_id,
                seq,
                kind,
                &item.region_code,
                &doc,
            )
            .await
    }
}
