//! 三方比对's use cases: compare the roster of a county with the education (学籍) or household
//! (户籍) list, and decide the findings (seeds/004 二(四) 比对核实，形成真实、统一数据; seeds/000
//! 三(二)1). Who may decide what is `domain::review`; what a finding means is
//! `linkage::discrepancy`; the effects of a decision are here: accepting an ID-number correction
//! edits the child's file (with history), accepting an undiscovered child files a discovery report
//! in the town's queue, and rejecting a suggested pair turns each side into the finding it would
//! have been unpaired.

use serde::{Deserialize, Serialize};

/// The views this capability hands a front end.
pub use shouwang_store::reconcile::{ItemFilter, ItemView, RunSummary};

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Role};
use shouwang_domain::discovery::DiscoveryInput;
use shouwang_domain::ids::{ChildId, ItemId, RunId};
use shouwang_domain::input::ChildInput;
use shouwang_domain::review::{self, Access, Assignee, AssigneeRef, Decision};
use shouwang_domain::routing::{Need, Unit};
use shouwang_domain::validation::ValidationErrors;
use shouwang_linkage::coverage::{Coverage, RosterChild};
use shouwang_linkage::discrepancy::{
    self, FindingKind, ListEntry, ListKind, id_fix, missing_from, unmatched_entry,
};
use shouwang_linkage::{Record, Settings, link};
use shouwang_store::reconcile::{ItemDoc, ItemReach, ItemRow, MAX_LIST, StoredReason};
use shouwang_store::{Subject, Tx};

use crate::children::{self, EditMode};
use crate::discoveries;

mod bulk;
pub use bulk::*;

/// A person's decision on an item.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

fn invalid(field: &str, message: impl Into<String>) -> Error {
    ValidationErrors::single(field, message.into()).into()
}

fn review_error(e: review::ReviewError) -> Error {
    use review::ReviewError::*;
    match e {
        NotVisible => Error::NotFound,
        OnlyTheCountyAssigns => Error::Forbidden,
        AlreadyDecided(_) => Error::Conflict {
            field: None,
            message: e.to_string(),
        },
        BadAssignee | TownNotATown => invalid("assignee", e.to_string()),
    }
}

/// Compares the roster of the actor's jurisdiction (children on it now) with a list and keeps the
/// findings as items. The comparison runs on a blocking thread (both cores).
pub async fn run(
    app: &App,
    actor: &Actor,
    kind: ListKind,
    source_name: &str,
    entries: Vec<ListEntry>,
) -> Result<RunSummary> {
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
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
    let places = app.store.reconcile().places(&region).await?;
    let mut roster = Vec::new();
    let mut child_villages = Vec::new();
    let mut child_schools = Vec::new();
    for (record, village, school) in app.store.reconcile().roster_records(&region).await? {
        roster.push(record);
        child_villages.push(village);
        child_schools.push(school);
    }
    let today = app.store.today();
    let list = entries;
    let (roster, list, linkage) = tokio::task::spawn_blocking(move || {
        let records: Vec<Record> = list.iter().map(|e| e.record.clone()).collect();
        let linkage = link(&roster, &records, &Settings::default());
        (roster, list, linkage)
    })
    .await
    .map_err(|e| Error::Internal(format!("comparison failed: {e}")))?;
    // What the list can speak for: where its rows live (their matched child's village, or the
    // village or town they name), the schools it names, the ages it holds.
    // Only a pair the linkage is sure of places a row; a pair still to review does not.
    let row_places = list
        .iter()
        .filter_map(|e| {
            places
                .locate(&e.record, &region)
                .map(|(code, _)| code)
                .filter(|code| *code != region.as_str())
        })
        .chain(
            linkage
                .links
                .iter()
                .filter(|k| k.decision == shouwang_linkage::Decision::Match)
                .map(|k| child_villages[k.left].clone()),
        );
    let coverage = Coverage::of(&list, row_places);
    let covered: Vec<bool> = roster
        .iter()
        .enumerate()
        .map(|(r, record)| {
            let (id, _) = shouwang_linkage::prepare::id_of(record);
            coverage.covers(
                kind,
                RosterChild {
                    village: &child_villages[r],
                    school: child_schools[r].as_deref(),
                    birth: shouwang_linkage::prepare::birth_of(record, id.as_ref()),
                },
            )
        })
        .collect();
    let (found, tally) = discrepancy::findings(kind, &roster, &list, &linkage, &covered, today);

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
                    // Not in this county: not this county's finding.
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
    let mut tx = app.store.begin().await?;
    let run_id = tx
        .reconcile()
        .insert_run(&region, kind, source_name, &actor.username, &tally)
        .await?;
    for (seq, (kind, region_code, doc)) in items.iter().enumerate() {
        tx.reconcile()
            .insert_item(&run_id, seq as i64 + 1, *kind, region_code, doc)
            .await?;
    }
    tx.audit(
        actor,
        AuditAction::ReconcileRun,
        Subject {
            entity: "reconcile_run",
            id: Some(&run_id),
            region: Some(region.as_str()),
        },
        serde_json::json!({"list": kind.code(), "source": source_name, "roster": tally.roster,
            "list_rows": tally.list, "matched": tally.matched, "review": tally.review,
            "covered": tally.covered,
            "findings": tally.findings, "outside": outside}),
    )
    .await?;
    tx.commit().await?;
    Ok(app
        .store
        .reconcile()
        .reconcile_run(&actor.region, &run_id)
        .await?)
}

/// The unit an assignee names, if it lies in the actor's jurisdiction, is set up here, and covers
/// the item's place (issue 24: an item assigned to a school of another town gave that school the
/// child's name, sex, birth date and place).
async fn assignee(app: &App, actor: &Actor, written: &str, item_region: &str) -> Result<Assignee> {
    let covers =
        |unit: &shouwang_domain::region::RegionCode| item_region.starts_with(unit.as_str());
    match AssigneeRef::parse(written).map_err(review_error)? {
        AssigneeRef::Region(role, code) => {
            if !actor.region.contains(&code) || app.store.regions().region(&code).await?.is_none() {
                return Err(invalid("assignee", "交办对象不在本辖区内"));
            }
            if !covers(&code) {
                return Err(invalid("assignee", "交办对象不负责该儿童所在地"));
            }
            Ok(Assignee {
                role,
                region: Some(code),
                agency: None,
            })
        }
        AssigneeRef::School(agency) => {
            let region = app
                .store
                .regions()
                .agency_region(&agency)
                .await?
                .and_then(|r| shouwang_domain::region::RegionCode::parse(&r).ok())
                .filter(|r| actor.region.contains(r))
                .ok_or_else(|| invalid("assignee", "该学校不在本辖区内"))?;
            if !covers(&region) {
                return Err(invalid("assignee", "该学校不在该儿童所在乡镇"));
            }
            Ok(Assignee {
                role: Role::School,
                region: Some(region),
                agency: Some(agency),
            })
        }
    }
}

type Effects = serde_json::Map<String, serde_json::Value>;

/// Accepts, rejects or assigns an item. The county that ran the comparison may do all three; the
/// unit an item was assigned to may accept or reject it (`domain::review::decide`). Every
/// decision is audited with its note and effects, in the transaction that makes them.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: &ItemId,
    decision: &ItemDecision,
) -> Result<ItemView> {
    let (item_id, id) = (id, id.as_str());
    let note = decision
        .note
        .as_deref()
        // Free text keeps its Chinese punctuation (clean() would make it half-width).
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(invalid("note", "说明不能超过500字"));
    }
    let action = Decision::parse(decision.action.trim()).ok_or_else(|| {
        invalid(
            "action",
            "操作应为 accept（确认）、reject（否定）或 assign（交办）",
        )
    })?;
    let mut tx = app.store.begin().await?;
    let item = tx
        .reconcile()
        .reconcile_item(id)
        .await?
        .ok_or(Error::NotFound)?;
    let access = Access::of(actor, &item.region_code, item.assignee.as_ref());
    let to = review::decide(item.status, action, access).map_err(|e| match e {
        review::ReviewError::AlreadyDecided(s) => Error::Conflict {
            field: None,
            message: format!(
                "该条目已于 {} 处理（{}）",
                item.decided_at.as_deref().unwrap_or(""),
                s.label()
            ),
        },
        e => review_error(e),
    })?;
    let mut effects = Effects::new();
    match action {
        Decision::Assign => {
            let written = decision
                .assignee
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid("assignee", "请选择交办对象"))?;
            let a = assignee(app, actor, written, &item.region_code).await?;
            tx.reconcile().assign_item(id, &a, note).await?;
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
        Decision::Accept => {
            accept_effects(&mut tx, actor, &item, decision, &mut effects).await?;
            tx.reconcile()
                .close_item(id, to, &actor.username, note)
                .await?;
        }
        Decision::Reject => {
            reject_effects(&mut tx, &item, &mut effects).await?;
            tx.reconcile()
                .close_item(id, to, &actor.username, note)
                .await?;
        }
    }
    effects.insert("kind".into(), serde_json::json!(item.kind.code()));
    effects.insert("note".into(), serde_json::json!(note));
    tx.audit(
        actor,
        AuditAction::reconcile_item(action),
        Subject {
            entity: "reconcile_item",
            id: Some(id),
            region: Some(&item.region_code),
        },
        serde_json::Value::Object(effects),
    )
    .await?;
    tx.commit().await?;
    self::item(app, actor, item_id, false).await
}

async fn accept_effects(
    tx: &mut Tx,
    actor: &Actor,
    item: &ItemRow,
    decision: &ItemDecision,
    effects: &mut Effects,
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
                return Err(Error::Conflict {
                    field: None,
                    message: "更正身份证号码须由县民政部门确认，请退回县民政部门处理".into(),
                });
            }
            let input = ChildInput {
                id_number: Some(to.clone()),
                ..ChildInput::default()
            };
            let changed = children::edit_in(tx, actor, child, None, input, EditMode::Patch).await?;
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
            let report = discoveries::file_in(tx, actor, &input).await?;
            effects.insert("discovery_report".into(), serde_json::json!(report));
        }
        FindingKind::Review => {
            // The same child: what a linked pair would have shown.
            let (Some(child), Some(entry)) = (&item.doc.child, &item.doc.entry) else {
                return Ok(());
            };
            if let Some(fix) = id_fix(item.list_kind, child, &entry.record) {
                spawn(
                    tx,
                    item,
                    FindingKind::IdNumber,
                    Some(fix),
                    true,
                    true,
                    effects,
                )
                .await?;
            }
            if item.list_kind == ListKind::Household
                && entry.hukou == Some(discrepancy::Hukou::Urban)
            {
                spawn(tx, item, FindingKind::UrbanHukou, None, true, true, effects).await?;
            }
        }
        // 疑似辍学: the 劝返 starts (沈阳 002 一3; 龙里 003 五(三)2), with the pupil's school when
        // the file is linked to one, else worked by the town and village.
        FindingKind::NotInSchoolList => {
            let Some(child) = &item.child_id else {
                return Ok(());
            };
            let task = open_return_from(tx, item, child).await?;
            effects.insert("return_task".into(), serde_json::json!(task));
        }
        // 疑似无户籍: the child goes to the police station until registered (龙里 003 五(四)1–2).
        FindingKind::NotInHouseholdList => {
            let Some(child) = &item.child_id else {
                return Ok(());
            };
            let village = tx.store().children().child(child).await?.file.village_code;
            let (id, _) = crate::routings::send_in(
                tx,
                actor,
                child,
                &village,
                Need::NoHukou,
                Unit::Police,
                Some(&format!(
                    "三方比对：{}中未找到该儿童，疑似无户籍，请核查并依法办理户籍登记。",
                    item.list_kind.list_name()
                )),
                Some(&format!("reconcile:{}", item.id)),
            )
            .await?;
            effects.insert("routing".into(), serde_json::json!(id));
        }
        // 非农业户口: the town reviews whether the child is a 农村 left-behind child at all; the
        // item keeps the child, and the town is told where to look.
        FindingKind::UrbanHukou => {
            let Some(child) = &item.child_id else {
                return Ok(());
            };
            let village = tx.store().children().child(child).await?.file.village_code;
            if let Some(town) = village.parent() {
                tx.notifications().notify_org(
                    &town,
                    &[Role::Town],
                    "eligibility_review",
                    None,
                    "请复核农村留守儿童认定",
                    &format!(
                        "三方比对发现贵乡镇一名登记儿童为非农业户口，请复核其是否属于农村留守儿童（守望系统 /children/{child}；比对条目 /reconcile/items/{}）。",
                        item.id
                    ),
                )
                .await?;
                effects.insert(
                    "eligibility_review".into(),
                    serde_json::json!(town.as_str()),
                );
            }
        }
    }
    Ok(())
}

/// Opens the 劝返 of a child found missing from the student list, or finds the one open.
async fn open_return_from(tx: &mut Tx, item: &ItemRow, child: &ChildId) -> Result<String> {
    let store = tx.store().clone();
    if let Some(open) = store.attendance().open_return_task(child).await? {
        return Ok(open.id);
    }
    let file = store.children().child(child).await?.file;
    let school = store
        .regions()
        .child_agencies(child)
        .await?
        .into_iter()
        .find(|a| a.kind == Role::School.code())
        .map(|a| a.id);
    let today = tx.today();
    let id = tx
        .attendance()
        .open_return(
            child,
            school.as_deref(),
            &file.village_code,
            (today, today),
            Some(&format!("reconcile:{}", item.id)),
        )
        .await?;
    if let Some(school) = &school {
        tx.notifications().notify_agency(
            school,
            "return_opened",
            None,
            "三方比对：疑似失学辍学",
            "县民政部门三方比对发现贵校一名农村留守儿童不在学籍名单中，已开启劝返，请登录守望系统查看。",
        )
        .await?;
    }
    if let Some(town) = file.village_code.parent() {
        tx.notifications().notify_org(
            &town,
            &[Role::Town],
            "return_opened",
            None,
            "三方比对：疑似失学辍学",
            "三方比对发现贵乡镇一名农村留守儿童不在学籍名单中，已开启劝返，请会同村（居）委会和学校核查劝返。",
        )
        .await?;
    }
    Ok(id)
}

async fn reject_effects(tx: &mut Tx, item: &ItemRow, effects: &mut Effects) -> Result<()> {
    if item.kind != FindingKind::Review {
        return Ok(());
    }
    // Not the same child: each side is what it would have been without the other.
    let today = tx.today();
    if let Some(child) = &item.doc.child
        && let Some(kind) = missing_from(item.list_kind, child, today)
    {
        spawn(tx, item, kind, None, true, false, effects).await?;
    }
    if let Some(entry) = &item.doc.entry
        && let Some(kind) = unmatched_entry(entry)
    {
        spawn(tx, item, kind, None, false, true, effects).await?;
    }
    Ok(())
}

/// A new item that follows from a decision, in the same comparison, noted in the effects.
async fn spawn(
    tx: &mut Tx,
    item: &ItemRow,
    kind: FindingKind,
    fix: Option<discrepancy::IdFix>,
    with_child: bool,
    with_entry: bool,
    effects: &mut Effects,
) -> Result<()> {
    let new = tx
        .reconcile()
        .spawn_item(item, kind, fix, with_child, with_entry)
        .await?;
    effects
        .entry("spawned")
        .or_insert_with(|| serde_json::json!([]))
        .as_array_mut()
        .expect("an array")
        .push(serde_json::json!({"id": new, "kind": kind.code()}));
    Ok(())
}

/// The comparisons of the actor's county, newest first.
pub async fn runs(app: &App, actor: &Actor) -> Result<Vec<RunSummary>> {
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.reconcile().reconcile_runs(&actor.region).await?)
}

/// One comparison of the actor's county with its counts.
pub async fn run_summary(app: &App, actor: &Actor, id: &RunId) -> Result<RunSummary> {
    let id = id.as_str();
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
    }
    Ok(app
        .store
        .reconcile()
        .reconcile_run(&actor.region, id)
        .await?)
}

/// The items the actor may see (the county's, or those assigned to their unit), paged. The read
/// is audited with the items shown.
pub async fn items(app: &App, actor: &Actor, filter: &ItemFilter) -> Result<(Vec<ItemView>, i64)> {
    // A county user reads all of their county's comparisons (unless they ask for their own
    // queue); anyone else, the items assigned to their unit.
    let reach = if actor.may(Action::Reconcile) && !filter.mine {
        ItemReach::Within(&actor.region)
    } else {
        ItemReach::AssignedTo(actor)
    };
    let (rows, total) = app.store.reconcile().reconcile_items(reach, filter).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(view(app, actor, row, false).await?);
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ReconcileItemsRead,
        Subject {
            entity: "reconcile_item",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"run": filter.run_id, "kind": filter.kind, "status": filter.status,
            "shown": items.len(), "items": items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok((items, total))
}

/// One item, if the actor's county ran its comparison or it was assigned to their unit. Its ID
/// numbers are masked as the roster masks them; `reveal` shows them whole to a user who may
/// unmask ID numbers, and that read is audited.
pub async fn item(app: &App, actor: &Actor, id: &ItemId, reveal: bool) -> Result<ItemView> {
    let id = id.as_str();
    let row = app
        .store
        .reconcile()
        .item_row(id)
        .await?
        .ok_or(Error::NotFound)?;
    if !Access::of(actor, &row.region_code, row.assignee.as_ref()).sees() {
        return Err(Error::NotFound);
    }
    if !reveal {
        return view(app, actor, row, false).await;
    }
    if !actor.may(Action::UnmaskIdNumber) {
        return Err(Error::Forbidden);
    }
    let region = row.region_code.clone();
    let shown = view(app, actor, row, true).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ReconcileIdReveal,
        Subject {
            entity: "reconcile_item",
            id: Some(id),
            region: Some(&region),
        },
        serde_json::json!({"child": shown.child_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(shown)
}

/// An item as `actor` reads it: ID numbers masked unless `whole` (a reveal the caller checked and
/// audits), and what they may do with it (`review::Access`).
async fn view(app: &App, actor: &Actor, row: ItemRow, whole: bool) -> Result<ItemView> {
    let access = Access::of(actor, &row.region_code, row.assignee.as_ref());
    Ok(app.store.reconcile().item_view(row, whole, access).await?)
}

/// Saves a list's column choices for the next list with the same header, in the county.
pub async fn save_columns(
    app: &App,
    actor: &Actor,
    signature: &str,
    choices: &std::collections::BTreeMap<String, String>,
) -> Result<()> {
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
    }
    Ok(app
        .store
        .imports()
        .save_import_mapping(actor, signature, choices)
        .await?)
}

/// The column choices saved for a list with this header, in the county (see [`save_columns`]).
pub async fn saved_mapping(
    app: &App,
    actor: &Actor,
    signature: &str,
) -> Result<Option<std::collections::BTreeMap<String, String>>> {
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.imports().import_mapping(actor, signature).await?)
}
