//! 发现报告's use cases: anyone who works with children files a report; the town registers the
//! child or dismisses the report with a reason (景洪 000 三(一); rules in `domain::discovery`).

/// The views this capability hands a front end.
pub use shouwang_store::discovery::DiscoveryReport;

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::discovery::{self, DiscoveryInput};
use shouwang_domain::ids::{ChildId, DiscoveryId};
use shouwang_domain::protection::CaseEventKind;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::{Subject, Tx};

/// Files a report in its town's queue; returns its id.
pub async fn file(app: &App, actor: &Actor, input: &DiscoveryInput) -> Result<String> {
    if !actor.may(Action::ReportDiscovery) {
        return Err(Error::Forbidden);
    }
    let mut tx = app.store.begin().await?;
    let id = file_in(&mut tx, actor, input).await?;
    tx.commit().await?;
    Ok(id)
}

/// Files a report inside the caller's transaction (an accepted 三方比对 finding files one).
pub async fn file_in(tx: &mut Tx, actor: &Actor, input: &DiscoveryInput) -> Result<String> {
    let store = tx.store().clone();
    let report = input.parse(store.today())?;
    // A report goes to a town of the reporter's own area (a village's or a school's town, a
    // county's towns): a user cannot fill another county's queues.
    if !(actor.region.contains(&report.town) || report.town.contains(&actor.region)) {
        return Err(ValidationErrors::single("town_code", "所选乡镇不在您的管辖范围内").into());
    }
    if store.regions().region(&report.town).await?.is_none() {
        return Err(ValidationErrors::single("town_code", "该乡镇不在本系统服务范围内").into());
    }
    let org = match &actor.agency_id {
        Some(a) => store.regions().agency_name(a).await?.unwrap_or_default(),
        None => store
            .regions()
            .region(&actor.region)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
    };
    let id = tx
        .discoveries()
        .insert_discovery(
            &report,
            &actor.user_id,
            &format!("{org}（{}）", actor.username),
        )
        .await?;
    // The town registers it: its users are told, not only the reporter who waits (the message
    // names no child; the queue does, to those who may read it).
    tx.notifications()
        .notify_org(
            &report.town,
            &[shouwang_domain::authz::Role::Town],
            "discovery_filed",
            None,
            "守望：新的发现报告待登记",
            "有一份发现报告报送本乡镇（街道），请登录守望核实后登记建档或说明不予登记的理由。",
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::DiscoveryFile,
        Subject {
            entity: "discovery",
            id: Some(&id),
            region: Some(report.town.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    Ok(id)
}

/// Open reports of the towns inside the actor's jurisdiction (none for roles that do not handle
/// them).
pub async fn queue(app: &App, actor: &Actor) -> Result<Vec<DiscoveryReport>> {
    if !actor.may(Action::HandleDiscovery) {
        return Ok(vec![]);
    }
    let reports = app
        .store
        .discoveries()
        .open_discoveries(&actor.region)
        .await?;
    // Reports name children and reporters: reading the queue is audited.
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::DiscoveryQueueRead,
        Subject {
            entity: "discovery",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": reports.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(reports)
}

/// How many reports wait for the actor (0 for roles that do not handle them).
pub async fn open_count(app: &App, actor: &Actor) -> Result<i64> {
    if !actor.may(Action::HandleDiscovery) {
        return Ok(0);
    }
    Ok(app
        .store
        .discoveries()
        .open_discovery_count(&actor.region)
        .await?)
}

/// Closes a report: registered as `child_id` (a file in the report's town), or dismissed with a
/// note.
pub async fn close(
    app: &App,
    actor: &Actor,
    id: &DiscoveryId,
    child_id: Option<&ChildId>,
    note: &str,
) -> Result<()> {
    if !actor.may(Action::HandleDiscovery) {
        return Err(Error::Forbidden);
    }
    let mut tx = app.store.begin().await?;
    close_in(&mut tx, actor, id, child_id, note).await?;
    tx.commit().await?;
    Ok(())
}

/// An open report of the actor's area, to register the child it names.
pub async fn one(app: &App, actor: &Actor, id: &DiscoveryId) -> Result<DiscoveryReport> {
    if !actor.may(Action::HandleDiscovery) {
        return Err(Error::Forbidden);
    }
    app.store
        .discoveries()
        .open_discoveries(&actor.region)
        .await?
        .into_iter()
        .find(|d| d.id == id.as_str())
        .ok_or(Error::NotFound)
}

/// [`close`] inside the caller's transaction (a registration that settles the report).
pub(crate) async fn close_in(
    tx: &mut Tx,
    actor: &Actor,
    id: &DiscoveryId,
    child_id: Option<&ChildId>,
    note: &str,
) -> Result<()> {
    if !actor.may(Action::HandleDiscovery) {
        return Err(Error::Forbidden);
    }
    let town = tx
        .discoveries()
        .open_discovery_town(id.as_str())
        .await?
        .filter(|t| actor.region.contains(t))
        .ok_or(Error::NotFound)?;
    let child_in_town = match child_id {
        Some(c) => {
            let row = tx.children().visible_child(actor, c).await?;
            Some(town.contains(&row.file.village_code))
        }
        None => None,
    };
    let status = discovery::closing(child_in_town, note)?;
    tx.discoveries()
        .close_discovery(
            id.as_str(),
            status,
            child_id.map(ChildId::as_str),
            &actor.username,
            note,
        )
        .await?;
    // A report of a child not yet registered came with a case: the case now follows the file.
    if let (Some(child), Some(case)) = (
        child_id,
        tx.discoveries().discovery_case(id.as_str()).await?,
    ) && tx.protection().link_case_child(&case, child).await?
    {
        tx.protection()
            .add_case_event(
                &case,
                &shouwang_store::By::of(actor),
                CaseEventKind::ChildRegistered,
                None,
                None,
                "",
            )
            .await?;
    }
    tx.audit(
        actor,
        AuditAction::DiscoveryClose,
        Subject {
            entity: "discovery",
            id: Some(id.as_str()),
            region: Some(town.as_str()),
        },
        serde_json::json!({"child_id": child_id}),
    )
    .await?;
    Ok(())
}

/// The reports waiting to be registered or dismissed (`app::work`), oldest first; not audited (the
/// work list is, once).
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::HandleDiscovery) {
        return Ok(vec![]);
    }
    let reports = app
        .store
        .discoveries()
        .open_discoveries(&actor.region)
        .await?;
    Ok(reports
        .into_iter()
        .map(|r| {
            let line = WorkItem::new(
                WorkKind::RegistrationWaiting,
                format!("登记建档：{}（{}）", r.child_name, brief(&r.situation)),
                "/discoveries",
            );
            match r.child_id {
                Some(id) => line.about(id),
                None => line,
            }
        })
        .collect())
}

/// A report's situation as a line of a list shows it.
fn brief(situation: &str) -> String {
    const SHOWN: usize = 24;
    let s = situation.trim();
    match s.char_indices().nth(SHOWN) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
