//! The visiting schedule: each child's next visit, the lists of children due and overdue, and the
//! visits waiting on a person (`app::work`).

use serde::Serialize;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Role};
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::visits::{Cadence, DueState, VisitorRole, next_due};
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::Subject;

use chrono::NaiveDate;

use crate::{App, Result};

/// One child on the visiting schedule.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueItem {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    pub cadence: Cadence,
    pub last_visit: Option<NaiveDate>,
    pub due: NaiveDate,
    pub state: DueState,
    /// Who visits: the person assigned to the child, else the village's 儿童主任 (its user).
    pub assignee: Option<String>,
    pub assignee_role: Option<VisitorRole>,
}

/// How many children are in each state.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueCounts {
    pub done: usize,
    pub due: usize,
    pub overdue: usize,
}

/// One child due a visit (`GET /api/v1/visits/due`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueEntry {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    /// The day by which the child is to be visited.
    pub due_on: NaiveDate,
    pub overdue: bool,
    /// Who visits: the person the child's visits are assigned to, else the village's 儿童主任
    /// (its village user), if it has one.
    pub assignee: Option<String>,
    pub assignee_role: Option<VisitorRole>,
}

/// The children of an area due a visit, overdue first; a child visited this period is not due.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueList {
    pub items: Vec<DueEntry>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

pub async fn due(app: &App, actor: &Actor, q: &ScheduleQuery) -> Result<DueList> {
    let q = ScheduleQuery {
        state: q.state.filter(|s| *s != DueState::Done),
        ..q.clone()
    };
    let s = schedule(app, actor, &q).await?;
    Ok(DueList {
        items: s
            .items
            .into_iter()
            .map(|i| DueEntry {
                assignee: i.assignee,
                assignee_role: i.assignee_role,
                child_id: i.child_id,
                name: i.name,
                village_code: i.village_code,
                due_on: i.due,
                overdue: i.state == DueState::Overdue,
            })
            .collect(),
        total: s.total,
        page: s.page,
        per_page: s.per_page,
    })
}

/// Whether the schedule asked for covers more than a county: it is worked out child by child, so a
/// prefecture or a province picks a county first (its pages offer them).
pub fn schedule_too_wide(actor: &Actor, region: Option<&RegionCode>) -> bool {
    let area = region.unwrap_or(&actor.region);
    matches!(actor.scope(), shouwang_domain::authz::Scope::Region { .. })
        && area.level() < shouwang_domain::region::RegionLevel::County
}

/// A page of the visiting schedule.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub counts: DueCounts,
    pub items: Vec<DueItem>,
    /// Children in the chosen state (the pages' total).
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

/// What the schedule shows.
#[derive(Debug, Clone, Default)]
pub struct ScheduleQuery {
    pub region: Option<RegionCode>,
    /// None: due and overdue (what needs a visit), overdue first.
    pub state: Option<DueState>,
    pub page: usize,
    pub per_page: usize,
    /// Only the villages whose 儿童主任 has this name (a person's own list).
    pub assignee: Option<String>,
}

/// Every child of the schedule asked for (the state is not applied), with the counts of each
/// state; not audited (its callers are).
async fn due_children(
    app: &App,
    actor: &Actor,
    q: &ScheduleQuery,
) -> Result<(DueCounts, Vec<DueItem>)> {
    if schedule_too_wide(actor, q.region.as_ref()) {
        return Err(ValidationErrors::single(
            "region",
            "走访计划逐人列出，按县（市、区）及以下查看：请指定一个县级或以下区划",
        )
        .into());
    }
    let today = app.store.today();
    let policy = app
        .store
        .counties()
        .county_settings(q.region.as_ref().unwrap_or(&actor.region))
        .await?
        .visits;
    let rows = app
        .store
        .visits()
        .visit_schedule(actor, q.region.as_ref())
        .await?;
    // Who visits: the person the child is assigned to, else the village's 儿童主任.
    let area = q.region.clone().unwrap_or_else(|| actor.region.clone());
    let directors: std::collections::HashMap<String, String> = app
        .store
        .visits()
        .village_directors(&area)
        .await?
        .into_iter()
        .collect();
    let assigned: std::collections::HashMap<String, (String, VisitorRole)> = app
        .store
        .visits()
        .visit_assignments(&area)
        .await?
        .into_iter()
        .map(|(child, name, role)| (child, (name, role)))
        .collect();
    let who = |child: &str, village: &str| match assigned.get(child) {
        Some((name, role)) => (Some(name.clone()), Some(*role)),
        None => (
            directors.get(village).cloned(),
            directors.get(village).map(|_| VisitorRole::ChildDirector),
        ),
    };
    let mut counts = DueCounts::default();
    let items: Vec<DueItem> = rows
        .into_iter()
        .map(|r| {
            let (assignee, assignee_role) = who(&r.child_id, r.village.as_str());
            let cadence = policy.cadence_in(r.risk, r.flags, r.populations);
            let due = next_due(r.last_visit, r.since, cadence);
            let state = DueState::of(due, r.last_visit, today, cadence);
            match state {
                DueState::Done => counts.done += 1,
                DueState::Due => counts.due += 1,
                DueState::Overdue => counts.overdue += 1,
            }
            DueItem {
                child_id: r.child_id,
                name: r.name,
                village_code: r.village.as_str().to_owned(),
                cadence,
                last_visit: r.last_visit,
                due,
                state,
                assignee,
                assignee_role,
            }
        })
        .filter(|i| q.assignee.is_none() || i.assignee == q.assignee)
        .collect();
    Ok((counts, items))
}

/// The children on the roster in the actor's area with their next visit: due, overdue or done
/// this period. The read is audited like a roster page (names of many children).
pub async fn schedule(app: &App, actor: &Actor, q: &ScheduleQuery) -> Result<Schedule> {
    let (counts, mut items) = due_children(app, actor, q).await?;
    items.retain(|i| match q.state {
        Some(s) => i.state == s,
        None => i.state != DueState::Done,
    });
    // Overdue first, then the soonest due; the village and name order otherwise stays.
    items.sort_by_key(|i| (i.state != DueState::Overdue, i.due));
    let per_page = q.per_page.clamp(1, 200);
    let page = q.page.max(1);
    let total = items.len();
    let items: Vec<DueItem> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::VisitScheduleRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(q.region.as_ref().unwrap_or(&actor.region).as_str()),
        },
        serde_json::json!({"state": q.state.map(|s| s.code()), "shown": items.len(), "total": total}),
    )
    .await?;
    tx.commit().await?;
    Ok(Schedule {
        counts,
        items,
        total,
        page,
        per_page,
    })
}

/// The visits waiting on the actor (`app::work`), not audited (the work list is, once). Those who
/// visit (a village's 儿童主任, a school, a service organisation) get a line per child due or
/// overdue; a town one line per village and a county one per town, with how many are late, since
/// they see that the visits are made rather than make them all. Nothing above a county: the
/// schedule is worked out child by child.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::RecordVisit) || schedule_too_wide(actor, None) {
        return Ok(vec![]);
    }
    let today = app.store.today();
    let (_, items) = due_children(app, actor, &ScheduleQuery::default()).await?;
    let due = items.into_iter().filter(|i| i.state != DueState::Done);
    let group = match actor.role {
        Role::Town => Some(shouwang_domain::region::RegionLevel::Village),
        Role::County | Role::CountyAdmin => Some(shouwang_domain::region::RegionLevel::Town),
        _ => None,
    };
    let Some(level) = group else {
        // Whose visits: the village's 儿童主任 makes those not given to someone else; a teacher or
        // a social worker those given to them by name.
        let me = app.store.users().display_name(&actor.user_id).await?;
        let mine = |i: &DueItem| match (&i.assignee, i.assignee_role) {
            (Some(a), _) if Some(a) == me.as_ref() => true,
            (_, None | Some(VisitorRole::ChildDirector)) => actor.role == Role::Village,
            _ => false,
        };
        return Ok(due
            .filter(|i| mine(i))
            .map(|i| {
                let line = WorkItem::new(
                    WorkKind::VisitDue,
                    format!("走访{}", i.name),
                    format!("/children/{}/visits", i.child_id),
                )
                .due(i.due, today)
                .about(i.child_id);
                match i.state {
                    DueState::Overdue => line.late(),
                    _ => line,
                }
            })
            .collect());
    };
    // (children due, of them late, the soonest day) per unit.
    let mut units: std::collections::BTreeMap<String, (usize, usize, NaiveDate)> =
        Default::default();
    for i in due {
        let Some(unit) = RegionCode::parse(&i.village_code)
            .ok()
            .and_then(|v| v.at_level(level))
        else {
            continue;
        };
        let e = units
            .entry(unit.as_str().to_owned())
            .or_insert((0, 0, i.due));
        e.0 += 1;
        e.1 += usize::from(i.state == DueState::Overdue);
        e.2 = e.2.min(i.due);
    }
    let names: std::collections::HashMap<String, String> =
        crate::places::child_regions(app, &actor.region)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
    // A unit with visits overdue is a line of its own; the others, on time, are one line for the
    // whole area (a town's twenty villages would otherwise fill its list).
    let mut out = Vec::new();
    let (mut on_time, mut on_time_units, mut soonest_on_time) = (0usize, 0usize, None);
    for (code, (n, late, soonest)) in units {
        if late == 0 {
            on_time += n;
            on_time_units += 1;
            soonest_on_time = Some(soonest_on_time.map_or(soonest, |d: NaiveDate| d.min(soonest)));
            continue;
        }
        let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
        out.push(
            WorkItem::new(
                WorkKind::VisitDue,
                format!("{name}：{late} 名儿童走访已逾期（共 {n} 名待走访）"),
                format!("/visits?region={code}&state=overdue"),
            )
            .due(soonest, today)
            .late(),
        );
    }
    if let Some(day) = soonest_on_time {
        let unit = match level {
            shouwang_domain::region::RegionLevel::Village => "个村（社区）",
            _ => "个乡镇（街道）",
        };
        out.push(
            WorkItem::new(
                WorkKind::VisitDue,
                format!("{on_time} 名儿童本期待走访（{on_time_units} {unit}）"),
                "/visits",
            )
            .due(day, today),
        );
    }
    Ok(out)
}
