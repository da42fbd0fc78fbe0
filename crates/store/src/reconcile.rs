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

use shouwang_domain::authz::{Action, Actor, Role, Scope};
use shouwang_domain::id_number::mask_id;
use shouwang_domain::input::ChildInput;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_linkage::discrepancy::{
    self, FindingKind, IdFix, ListEntry, ListKind, Tally, id_fix, missing_from, unmatched_entry,
};
use shouwang_linkage::prepare::{division_code, place_core};
use shouwang_linkage::registry::file_record;
use shouwang_linkage::{Record, Settings, link};

use crate::children::EditMode;
use crate::discovery::DiscoveryInput;
use crate::regions::code_range;
use crate::scope;
use crate::{Result, Store, StoreError, audit};

const DOC_AAD: &str = "reconcile_items.doc";
/// Largest list one comparison takes (a county's students are tens of thousands).
pub const MAX_LIST: usize = 1_000_000;

/// One comparison as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub region_code: String,
    pub list_kind: ListKind,
    pub list_label: &'static str,
    pub source_name: String,
    pub created_at: String,
    pub created_by: String,
    pub tally: Tally,
    /// Per kind of finding: (kind, label, all, still open or assigned).
    pub counts: Vec<KindCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindCount {
    pub kind: FindingKind,
    pub label: &'static str,
    pub total: i64,
    pub pending: i64,
}

shouwang_domain::code_enum! {
    /// Where an item stands.
    pub enum ItemStatus {
        Open = ("open", "待处理"),
        Assigned = ("assigned", "已交办"),
        Accepted = ("accepted", "已确认"),
        Rejected = ("rejected", "已否定"),
    }
}

impl ItemStatus {
    fn pending(self) -> bool {
        matches!(self, ItemStatus::Open | ItemStatus::Assigned)
    }
}

/// A field's part in a pair's score, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReason {
    pub label: String,
    pub level: String,
    pub weight: f64,
}

/// What an item holds, encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ItemDoc {
    /// The roster child as compared (record_id = the child's id).
    child: Option<Record>,
    entry: Option<ListEntry>,
    probability: Option<f64>,
    reasons: Vec<StoredReason>,
    fix: Option<IdFix>,
    /// For not-on-roster items: the list entry's place in the jurisdiction, as names.
    place: Option<String>,
}

/// A person as an item shows them; ID numbers masked for users who may not see them whole.
#[derive(Debug, Clone, Serialize)]
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

/// A person's decision on an item.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ItemDecision {
    /// `accept`, `reject` or `assign`.
    pub action: String,
    /// `town:<乡镇代码>`, `police:<区划代码>` or `school:<机构ID>`.
    pub assignee: Option<String>,
    /// For an accepted not-on-roster child whose town the list did not say: the town to notify.
    pub town_code: Option<String>,
    pub note: Option<String>,
}

/// An assignee as stored: role, region, agency.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Assignee {
    role: Role,
    region: Option<RegionCode>,
    agency: Option<String>,
}

struct ItemRow {
    id: String,
    run_id: String,
    list_kind: ListKind,
    seq: i64,
    kind: FindingKind,
    region_code: String,
    child_id: Option<String>,
    status: ItemStatus,
    assignee: Option<Assignee>,
    doc: ItemDoc,
    decided_by: Option<String>,
    decided_at: Option<String>,
    note: Option<String>,
}

const RUN_COLUMNS: &str = "id, region_code, list_kind, source_name, created_at, created_by, tally";
/// Per kind of finding: all items and those still open or assigned.
const COUNT_COLUMNS: &str =
    "i.kind, COUNT(*), SUM(CASE WHEN i.status IN ('open', 'assigned') THEN 1 ELSE 0 END)";

/// A run's row (`RUN_COLUMNS`) with its counts per kind.
fn run_summary(
    row: &sqlx::any::AnyRow,
    by_kind: Option<&HashMap<String, (i64, i64)>>,
) -> Result<RunSummary> {
    let list_kind = ListKind::parse(&row.try_get::<String, _>(2)?).unwrap_or(ListKind::Education);
    let tally: Tally = serde_json::from_str(&row.try_get::<String, _>(6)?).unwrap_or_default();
    Ok(RunSummary {
        id: row.try_get(0)?,
        region_code: row.try_get(1)?,
        list_kind,
        list_label: list_kind.label(),
        source_name: row.try_get(3)?,
        created_at: row.try_get(4)?,
        created_by: row.try_get(5)?,
        tally,
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
struct Places {
    county: Option<String>,
    /// (core name, code) of towns, and of villages per town code.
    towns: Vec<(String, String, String)>,
    villages: HashMap<String, Vec<(String, String, String)>>,
    names: HashMap<String, String>,
}

impl Places {
    /// The place of an entry inside the jurisdiction as (code, names), or None if its county
    /// says it is elsewhere.
    fn locate(&self, r: &Record, within: &RegionCode) -> Option<(String, String)> {
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

impl Store {
    async fn places(&self, region: &RegionCode) -> Result<Places> {
        let mut names = HashMap::new();
        let county = self.region(region).await?.map(|r| r.name);
        if let Some(c) = &county {
            names.insert(region.as_str().to_owned(), c.clone());
        }
        let core = |n: &str| place_core(&text::clean(n));
        let towns: Vec<(String, String, String)> = self
            .regions_within(region, RegionLevel::Town)
            .await?
            .into_iter()
            .map(|t| (core(&t.name), t.code, t.name))
            .collect();
        let mut villages: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
        for v in self.regions_within(region, RegionLevel::Village).await? {
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

    /// Compares the roster of the actor's jurisdiction (children on it now) with a list and
    /// keeps the findings as items. The comparison runs on a blocking thread (both cores).
    pub async fn reconcile(
        &self,
        actor: &Actor,
        kind: ListKind,
        source_name: &str,
        entries: Vec<ListEntry>,
    ) -> Result<RunSummary> {
        if !actor.may(Action::Reconcile) {
            return Err(StoreError::Forbidden);
        }
        if entries.is_empty() {
            return Err(invalid("file", "名单中没有记录"));
        }
        if entries.len() > MAX_LIST {
            return Err(invalid(
                "file",
                format!("名单超过 {MAX_LIST} 行，请按乡镇分开比对"),
            ));
        }
        let region = actor.region.clone();
        let places = self.places(&region).await?;
        let (lo, hi) = code_range(&region);
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
        let mut roster = Vec::with_capacity(rows.len());
        let mut child_villages = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get(0)?;
            let file = self.decrypt_file(&r.try_get::<String, _>(1)?)?;
            roster.push(file_record(&id, &file));
            child_villages.push(file.village_code.as_str().to_owned());
        }
        let today = self.today();
        let list = entries;
        let (roster, list, found, tally) = tokio::task::spawn_blocking(move || {
            let records: Vec<Record> = list.iter().map(|e| e.record.clone()).collect();
            let linkage = link(&roster, &records, &Settings::default());
            let (found, tally) = discrepancy::findings(kind, &roster, &list, &linkage, today);
            (roster, list, found, tally)
        })
        .await
        .map_err(|e| StoreError::Config(format!("comparison failed: {e}")))?;

        let run_id = crate::new_id();
        let now = self.now_text();
        let mut items = Vec::with_capacity(found.len());
        let mut outside = 0usize;
        for f in &found {
            let mut doc = ItemDoc {
                child: f.roster.map(|r| roster[r].clone()),
                entry: f.entry.map(|e| list[e].clone()),
                probability: f.probability,
                reasons: f
                    .reasons
                    .iter()
                    .map(|x| StoredReason {
                        label: x.label.to_owned(),
                        level: x.level.to_owned(),
                        weight: x.weight,
                    })
                    .collect(),
                fix: f.fix.clone(),
                place: None,
            };
            let region_code = match f.roster {
                Some(r) => child_villages[r].clone(),
                None => {
                    let entry = &list[f.entry.expect("a finding has a side")];
                    match places.locate(&entry.record, &region) {
                        Some((code, names)) => {
                            doc.place = Some(names);
                            code
                        }
                        None => {
                            outside += 1;
                            continue;
                        }
                    }
                }
            };
            items.push((f.kind, region_code, doc));
        }
        let mut tally = tally;
        tally.findings = items.len();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        sqlx::query(
            "INSERT INTO reconcile_runs (id, region_code, list_kind, source_name, created_at, created_by, tally) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&run_id)
        .bind(region.as_str())
        .bind(kind.code())
        .bind(source_name)
        .bind(&now)
        .bind(&actor.username)
        .bind(serde_json::to_string(&tally).expect("tally serialises"))
        .execute(&mut *tx)
        .await?;
        for (seq, (kind, region_code, doc)) in items.iter().enumerate() {
            self.insert_item(&mut tx, &run_id, seq as i64 + 1, *kind, region_code, doc)
                .await?;
        }
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "reconcile_run",
            "reconcile_run",
            Some(&run_id),
            Some(region.as_str()),
            serde_json::json!({"list": kind.code(), "source": source_name, "roster": tally.roster,
                "list_rows": tally.list, "matched": tally.matched, "review": tally.review,
                "findings": tally.findings, "outside": outside}),
        )
        .await?;
        tx.commit().await?;
        self.reconcile_run(actor, &run_id).await
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
        let json = serde_json::to_vec(doc).expect("item serialises");
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
        .bind(self.cipher.encrypt_bytes(DOC_AAD, &json))
        .execute(&mut *tx)
        .await?;
        Ok(id)
    }

    /// Comparisons run in the actor's jurisdiction, newest first.
    pub async fn reconcile_runs(&self, actor: &Actor) -> Result<Vec<RunSummary>> {
        if !actor.may(Action::Reconcile) {
            return Err(StoreError::Forbidden);
        }
        let (lo, hi) = text_range(actor.region.as_str());
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
            by_run
                .entry(c.try_get(0)?)
                .or_default()
                .insert(c.try_get(1)?, (c.try_get(2)?, c.try_get(3)?));
        }
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                run_summary(r, by_run.get(&id))
            })
            .collect()
    }

    /// One comparison with its counts; outside the jurisdiction it does not exist.
    pub async fn reconcile_run(&self, actor: &Actor, id: &str) -> Result<RunSummary> {
        if !actor.may(Action::Reconcile) {
            return Err(StoreError::Forbidden);
        }
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let region: String = row.try_get(1)?;
        if !region.starts_with(actor.region.as_str()) {
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
            by_kind.insert(c.try_get(0)?, (c.try_get(1)?, c.try_get(2)?));
        }
        run_summary(&row, Some(&by_kind))
    }

    fn item_from(&self, r: &sqlx::any::AnyRow) -> Result<ItemRow> {
        let role: Option<String> = r.try_get(8)?;
        let region: Option<String> = r.try_get(9)?;
        let agency: Option<String> = r.try_get(10)?;
        let doc = self
            .cipher
            .decrypt_bytes(DOC_AAD, &r.try_get::<String, _>(11)?)?;
        Ok(ItemRow {
            id: r.try_get(0)?,
            run_id: r.try_get(1)?,
            list_kind: ListKind::parse(&r.try_get::<String, _>(2)?).unwrap_or(ListKind::Education),
            seq: r.try_get(3)?,
            kind: FindingKind::parse(&r.try_get::<String, _>(4)?)
                .ok_or_else(|| StoreError::Config("unknown finding kind".into()))?,
            region_code: r.try_get(5)?,
            child_id: r.try_get(6)?,
            status: ItemStatus::parse(&r.try_get::<String, _>(7)?).unwrap_or(ItemStatus::Open),
            assignee: role.as_deref().and_then(Role::parse).map(|role| Assignee {
                role,
                region: region.as_deref().and_then(|s| RegionCode::parse(s).ok()),
                agency,
            }),
            doc: serde_json::from_slice(&doc)
                .map_err(|e| StoreError::Config(format!("stored item unreadable: {e}")))?,
            decided_by: r.try_get(12)?,
            decided_at: r.try_get(13)?,
            note: r.try_get(14)?,
        })
    }

    /// Whether the actor manages this item (the county that ran the comparison) or it was
    /// assigned to the actor's unit.
    fn item_access(&self, actor: &Actor, item: &ItemRow) -> (bool, bool) {
        let manages =
            actor.may(Action::Reconcile) && item.region_code.starts_with(actor.region.as_str());
        let assigned = match &item.assignee {
            Some(a) if a.role == actor.role => match (&a.agency, actor.scope()) {
                (Some(agency), Scope::Agency { agency_id }) => *agency == agency_id,
                (None, Scope::Region { code }) => a
                    .region
                    .as_ref()
                    .is_some_and(|r| r.contains(&code) || code.contains(r)),
                _ => false,
            },
            _ => false,
        };
        (manages, assigned)
    }

    async fn assignee_label(&self, a: &Assignee) -> Result<String> {
        let place = match (&a.agency, &a.region) {
            (Some(agency), _) => self.agency_name(agency).await?.unwrap_or_default(),
            (None, Some(r)) => Divisions::shipped()
                .get(r)
                .map(|d| d.name.to_owned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        Ok(format!("{}（{}）", place, a.role.label()))
    }

    async fn item_view(&self, actor: &Actor, item: ItemRow) -> Result<ItemView> {
        let (manages, assigned) = self.item_access(actor, &item);
        let whole = actor.may(Action::UnmaskIdNumber);
        let show_id = |s: Option<&str>| match s {
            Some(s) if whole => s.to_owned(),
            Some(s) => mask_id(s),
            None => String::new(),
        };
        let person = |r: &Record, place: String| PersonView {
            record_id: r.record_id.clone(),
            row: None,
            name: r.name.clone().unwrap_or_default(),
            sex: r.sex.clone().unwrap_or_default(),
            birth_date: r.birth_date.clone().unwrap_or_default(),
            id_number: show_id(r.id_number.as_deref()),
            place,
            hukou: None,
            parents_away: None,
            extra: Vec::new(),
        };
        let join = |r: &Record| {
            [&r.county, &r.town, &r.village]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let assignee_label = match &item.assignee {
            Some(a) => Some(self.assignee_label(a).await?),
            None => None,
        };
        Ok(ItemView {
            may_decide: item.status.pending() && (manages || assigned),
            may_assign: item.status.pending() && manages,
            child: item.doc.child.as_ref().map(|c| person(c, join(c))),
            entry: item.doc.entry.as_ref().map(|e| PersonView {
                row: Some(e.row),
                hukou: e.hukou.map(|h| h.label()),
                parents_away: e.parents_away,
                extra: e.extra.clone(),
                ..person(
                    &e.record,
                    item.doc.place.clone().unwrap_or_else(|| join(&e.record)),
                )
            }),
            fix: item.doc.fix.as_ref().map(|f| FixView {
                side: f.side.clone(),
                to: f.to.as_deref().map(|t| show_id(Some(t))),
                note: f.note.clone(),
            }),
            id: item.id,
            run_id: item.run_id,
            list_kind: item.list_kind,
            seq: item.seq,
            kind: item.kind,
            kind_label: item.kind.label(),
            status: item.status,
            status_label: item.status.label(),
            region_code: item.region_code,
            child_id: item.child_id,
            probability: item.doc.probability,
            reasons: item.doc.reasons,
            assignee: item
                .assignee
                .as_ref()
                .map(|a| match (&a.agency, &a.region) {
                    (Some(g), _) => format!("{}:{g}", a.role.code()),
                    (None, Some(r)) => format!("{}:{r}", a.role.code()),
                    _ => a.role.code().to_owned(),
                }),
            assignee_label,
            decided_by: item.decided_by,
            decided_at: item.decided_at,
            note: item.note,
        })
    }

    /// Items the actor may see: everything of their county's comparisons for county users, the
    /// items assigned to their unit for the others. Paged; the read is audited.
    pub async fn reconcile_items(
        &self,
        actor: &Actor,
        filter: &ItemFilter,
    ) -> Result<(Vec<ItemView>, i64)> {
        let mut sql =
            String::from("FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id WHERE ");
        let mut binds: Vec<String> = Vec::new();
        let arg = |v: String, binds: &mut Vec<String>| {
            binds.push(v);
            format!("${}", binds.len())
        };
        if actor.may(Action::Reconcile) && !filter.mine {
            let (lo, hi) = text_range(actor.region.as_str());
            let (a, b) = (arg(lo, &mut binds), arg(hi, &mut binds));
            sql.push_str(&format!("i.region_code >= {a} AND i.region_code < {b}"));
        } else {
            let role = arg(actor.role.code().to_owned(), &mut binds);
            match actor.scope() {
                Scope::Agency { agency_id } => {
                    let g = arg(agency_id, &mut binds);
                    sql.push_str(&format!(
                        "i.assignee_role = {role} AND i.assignee_agency = {g}"
                    ));
                }
                Scope::Region { code } => {
                    // Assigned to a region that holds the user's, or one inside it.
                    let prefixes: Vec<String> = [6usize, 9, 12]
                        .into_iter()
                        .filter(|n| *n <= code.as_str().len())
                        .map(|n| arg(code.as_str()[..n].to_owned(), &mut binds))
                        .collect();
                    let (lo, hi) = text_range(code.as_str());
                    let (a, b) = (arg(lo, &mut binds), arg(hi, &mut binds));
                    sql.push_str(&format!(
                        "i.assignee_role = {role} AND i.assignee_agency IS NULL AND \
                         (i.assignee_region IN ({}) OR (i.assignee_region >= {a} AND i.assignee_region < {b}))",
                        prefixes.join(", ")
                    ));
                }
            }
        }
        if let Some(run) = filter.run_id.as_deref().filter(|s| !s.is_empty()) {
            let a = arg(run.to_owned(), &mut binds);
            sql.push_str(&format!(" AND i.run_id = {a}"));
        }
        if let Some(kind) = filter.kind.as_deref().filter(|s| !s.is_empty()) {
            let kind = FindingKind::parse(kind).ok_or_else(|| invalid("kind", "未知的差异类型"))?;
            let a = arg(kind.code().to_owned(), &mut binds);
            sql.push_str(&format!(" AND i.kind = {a}"));
        }
        match filter.status.as_deref().filter(|s| !s.is_empty()) {
            Some("pending") => sql.push_str(" AND i.status IN ('open', 'assigned')"),
            Some(s) => {
                let status = ItemStatus::parse(s).ok_or_else(|| invalid("status", "未知的状态"))?;
                let a = arg(status.code().to_owned(), &mut binds);
                sql.push_str(&format!(" AND i.status = {a}"));
            }
            None => {}
        }
        let count_sql = format!("SELECT COUNT(*) {sql}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(&self.pool).await?;
        let limit = if filter.limit <= 0 {
            50
        } else {
            filter.limit.min(500)
        };
        let list_sql = format!(
            "SELECT {ITEM_COLUMNS} {sql} ORDER BY r.created_at DESC, i.run_id, i.seq LIMIT {limit} OFFSET {}",
            filter.offset.max(0)
        );
        let mut q = sqlx::query(&list_sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = self.item_from(r)?;
            items.push(self.item_view(actor, row).await?);
        }
        self.audit(
            actor.into(),
            "reconcile_items_read",
            "reconcile_item",
            None,
            Some(actor.region.as_str()),
            serde_json::json!({"run": filter.run_id, "kind": filter.kind, "status": filter.status,
                "shown": items.len(), "items": items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>()}),
        )
        .await?;
        Ok((items, total))
    }

    async fn load_item(&self, conn: &mut AnyConnection, id: &str) -> Result<Option<ItemRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id WHERE i.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(|r| self.item_from(r)).transpose()
    }

    /// One item, if the actor manages it or it was assigned to them.
    pub async fn reconcile_item(&self, actor: &Actor, id: &str) -> Result<ItemView> {
        let mut conn = self.pool.acquire().await?;
        let item = self
            .load_item(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        drop(conn);
        let (manages, assigned) = self.item_access(actor, &item);
        if !manages && !assigned {
            return Err(StoreError::NotFound);
        }
        self.item_view(actor, item).await
    }

    async fn parse_assignee(&self, actor: &Actor, s: &str) -> Result<Assignee> {
        let bad = || {
            invalid(
                "assignee",
                "请选择交办对象（乡镇、学校或公安），格式如 town:522730001",
            )
        };
        let (role, target) = s.trim().split_once(':').ok_or_else(bad)?;
        let role = Role::parse(role).ok_or_else(bad)?;
        match role {
            Role::Town | Role::Police => {
                let code = RegionCode::parse(target.trim()).map_err(|_| bad())?;
                if role == Role::Town && code.level() != RegionLevel::Town {
                    return Err(invalid("assignee", "交办乡镇时应选择乡镇（街道）级区划"));
                }
                if !actor.region.contains(&code) || self.region(&code).await?.is_none() {
                    return Err(invalid("assignee", "交办对象不在本辖区内"));
                }
                Ok(Assignee {
                    role,
                    region: Some(code),
                    agency: None,
                })
            }
            Role::School => {
                let region = self
                    .agency_region(target.trim())
                    .await?
                    .and_then(|r| RegionCode::parse(&r).ok())
                    .filter(|r| actor.region.contains(r))
                    .ok_or_else(|| invalid("assignee", "该学校不在本辖区内"))?;
                Ok(Assignee {
                    role,
                    region: Some(region),
                    agency: Some(target.trim().to_owned()),
                })
            }
            _ => Err(bad()),
        }
    }

    /// Accepts, rejects or assigns an item. Managers (the county) may do all three; the unit an
    /// item was assigned to may accept or reject it. Every decision is audited with its note.
    pub async fn decide_reconcile_item(
        &self,
        actor: &Actor,
        id: &str,
        decision: &ItemDecision,
    ) -> Result<ItemView> {
        let note = decision
            .note
            .as_deref()
            // Free text keeps its Chinese punctuation (clean() would make it half-width).
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(invalid("note", "说明不能超过500字"));
        }
        let action = decision.action.trim();
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let item = self
            .load_item(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (manages, assigned) = self.item_access(actor, &item);
        if !manages && !assigned {
            return Err(StoreError::NotFound);
        }
        if !item.status.pending() {
            return Err(StoreError::Conflict {
                field: None,
                message: format!(
                    "该条目已于 {} 处理（{}）",
                    item.decided_at.as_deref().unwrap_or(""),
                    item.status.label()
                ),
            });
        }
        let mut effects = serde_json::Map::new();
        match action {
            "assign" => {
                if !manages {
                    return Err(StoreError::Forbidden);
                }
                let a = match decision
                    .assignee
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                {
                    Some(s) => self.parse_assignee(actor, s).await?,
                    None => return Err(invalid("assignee", "请选择交办对象")),
                };
                sqlx::query(
                    "UPDATE reconcile_items SET status = 'assigned', assignee_role = $1, assignee_region = $2, assignee_agency = $3, note = $4 WHERE id = $5",
                )
                .bind(a.role.code())
                .bind(a.region.as_ref().map(|r| r.as_str().to_owned()))
                .bind(a.agency.clone())
                .bind(note.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                effects.insert(
                    "assignee".into(),
                    serde_json::json!(format!(
                        "{}:{}",
                        a.role.code(),
                        a.agency
                            .clone()
                            .or(a.region.map(|r| r.as_str().to_owned()))
                            .unwrap_or_default()
                    )),
                );
            }
            "accept" => {
                self.accept_effects(&mut tx, actor, &item, decision, &now, &mut effects)
                    .await?;
                self.close_item(&mut tx, id, ItemStatus::Accepted, actor, &now, note.clone())
                    .await?;
            }
            "reject" => {
                self.reject_effects(&mut tx, &item, &mut effects).await?;
                self.close_item(&mut tx, id, ItemStatus::Rejected, actor, &now, note.clone())
                    .await?;
            }
            _ => {
                return Err(invalid(
                    "action",
                    "操作应为 accept（确认）、reject（否定）或 assign（交办）",
                ));
            }
        }
        effects.insert("kind".into(), serde_json::json!(item.kind.code()));
        effects.insert("note".into(), serde_json::json!(note));
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            &format!("reconcile_item_{action}"),
            "reconcile_item",
            Some(id),
            Some(&item.region_code),
            serde_json::Value::Object(effects),
        )
        .await?;
        tx.commit().await?;
        self.reconcile_item(actor, id).await
    }

    async fn close_item(
        &self,
        tx: &mut AnyConnection,
        id: &str,
        status: ItemStatus,
        actor: &Actor,
        now: &str,
        note: Option<String>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE reconcile_items SET status = $1, decided_by = $2, decided_at = $3, note = COALESCE($4, note) WHERE id = $5",
        )
        .bind(status.code())
        .bind(&actor.username)
        .bind(now)
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    async fn next_seq(&self, tx: &mut AnyConnection, run_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM reconcile_items WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_one(&mut *tx)
        .await?)
    }

    async fn accept_effects(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        item: &ItemRow,
        decision: &ItemDecision,
        now: &str,
        effects: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        match item.kind {
            FindingKind::IdNumber => {
                let Some(fix) = item.doc.fix.as_ref().filter(|f| f.side == "roster") else {
                    return Ok(());
                };
                let (Some(child), Some(to)) = (&item.child_id, &fix.to) else {
                    return Ok(());
                };
                if !actor.may(Action::EditChild) {
                    return Err(StoreError::Conflict {
                        field: None,
                        message: "更正身份证号码须由县民政部门确认，请退回县民政部门处理".into(),
                    });
                }
                let input = ChildInput {
                    id_number: Some(to.clone()),
                    ..ChildInput::default()
                };
                let changed = self
                    .edit_in(tx, actor, child, None, input, EditMode::Patch, now)
                    .await?;
                effects.insert("id_number_corrected".into(), serde_json::json!(changed));
            }
            FindingKind::NotOnRoster => {
                let entry = item
                    .doc
                    .entry
                    .as_ref()
                    .expect("not-on-roster items have an entry");
                let town = match decision
                    .town_code
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                {
                    Some(t) => t.trim().to_owned(),
                    None if item.region_code.len() >= 9 => item.region_code[..9].to_owned(),
                    None => {
                        return Err(invalid(
                            "town_code",
                            "名单未写明所在乡镇，请选择该儿童所在乡镇后再确认",
                        ));
                    }
                };
                let r = &entry.record;
                let extra: Vec<String> = entry
                    .extra
                    .iter()
                    .map(|(k, v)| format!("{k}：{v}"))
                    .collect();
                let input = DiscoveryInput {
                    town_code: Some(town),
                    village_code: (item.region_code.len() == 12).then(|| item.region_code.clone()),
                    child_name: r.name.clone(),
                    sex: r.sex.clone(),
                    birth_date: r.birth_date.clone(),
                    situation: Some(format!(
                        "三方比对：{}第{}行标注为留守儿童，花名册中未找到。{}",
                        item.list_kind.list_name(),
                        entry.row,
                        extra.join("；")
                    )),
                    reporter_phone: None,
                };
                let report = self.discovery_in(tx, actor, &input, now).await?;
                effects.insert("discovery_report".into(), serde_json::json!(report));
            }
            FindingKind::Review => {
                // The same child: what a linked pair would have shown.
                let (Some(child), Some(entry)) = (&item.doc.child, &item.doc.entry) else {
                    return Ok(());
                };
                let mut spawned = Vec::new();
                if let Some(fix) = id_fix(item.list_kind, child, &entry.record) {
                    spawned.push((FindingKind::IdNumber, Some(fix)));
                }
                if item.list_kind == ListKind::Household
                    && entry.hukou == Some(discrepancy::Hukou::Urban)
                {
                    spawned.push((FindingKind::UrbanHukou, None));
                }
                self.spawn_items(tx, item, spawned, true, true, effects)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn reject_effects(
        &self,
        tx: &mut AnyConnection,
        item: &ItemRow,
        effects: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        if item.kind != FindingKind::Review {
            return Ok(());
        }
        // Not the same child: each side is what it would have been without the other.
        let today = self.today();
        if let Some(child) = &item.doc.child
            && let Some(kind) = missing_from(item.list_kind, child, today)
        {
            self.spawn_items(tx, item, vec![(kind, None)], true, false, effects)
                .await?;
        }
        if let Some(entry) = &item.doc.entry
            && let Some(kind) = unmatched_entry(entry)
        {
            self.spawn_items(tx, item, vec![(kind, None)], false, true, effects)
                .await?;
        }
        Ok(())
    }

    /// New items that follow from a decision, in the same comparison.
    async fn spawn_items(
        &self,
        tx: &mut AnyConnection,
        item: &ItemRow,
        kinds: Vec<(FindingKind, Option<IdFix>)>,
        with_child: bool,
        with_entry: bool,
        effects: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        for (kind, fix) in kinds {
            let doc = ItemDoc {
                child: if with_child {
                    item.doc.child.clone()
                } else {
                    None
                },
                entry: if with_entry {
                    item.doc.entry.clone()
                } else {
                    None
                },
                probability: if with_child && with_entry {
                    item.doc.probability
                } else {
                    None
                },
                reasons: if with_child && with_entry {
                    item.doc.reasons.clone()
                } else {
                    Vec::new()
                },
                fix,
                place: item.doc.place.clone(),
            };
            let seq = self.next_seq(tx, &item.run_id).await?;
            let new = self
                .insert_item(tx, &item.run_id, seq, kind, &item.region_code, &doc)
                .await?;
            effects
                .entry("spawned")
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
                .expect("an array")
                .push(serde_json::json!({"id": new, "kind": kind.code()}));
        }
        Ok(())
    }
}
