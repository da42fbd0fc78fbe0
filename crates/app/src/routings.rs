//! Routing until done (转办, issue 15): the village, town or county sends a child without hukou to
//! the police station and a child in hardship, seriously ill or disabled to the county departments
//! (龙里 003 五(四)1–3, 五(五)1); each routing sits in the receiving unit's inbox and on the
//! sender's list until the unit closes it — registered (with the date, the 户口 number and, for a
//! child not registered as the parents' own, the DNA taken) or done with its feedback, or declined
//! with a reason. The rules are `domain::routing`; who may is here.
//!
//! A department sees of the child only what it needs to act (name, sex, birth date, village, the
//! carer and the village contact to reach), never the file (least privilege); every read of a
//! routing is audited.

use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::routings::Routing;

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Role, Scope};
use shouwang_domain::ids::{ChildId, RoutingId};
use shouwang_domain::region::RegionCode;
use shouwang_domain::routing::{self, Event, EventInput, Need, RoutingInput, Status, Unit};
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::By;
use shouwang_store::routings::{EventRecord, Which};
use shouwang_store::{Subject, Tx};

/// A routing as a user sees it: what was sent, about whom, and what the user may do next.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingView {
    #[serde(flatten)]
    pub routing: Routing,
    pub child_name: String,
    pub child_sex: String,
    pub child_birth_date: String,
    /// 乡镇 and village, by name.
    pub place: String,
    /// Who to reach about the child: the carer (or a parent) and the village contact.
    pub contacts: Vec<String>,
    /// The events this user may record now.
    pub actions: Vec<Event>,
}

/// Which side of routings an actor is on.
enum Side {
    /// The receiving unit, over an area.
    Receiver(Unit, RegionCode),
    /// The offices that send, over their area.
    Sender(RegionCode),
}

async fn side(app: &App, actor: &Actor) -> Result<Side> {
    if actor.may(Action::Route) {
        return Ok(Side::Sender(actor.region.clone()));
    }
    if !actor.may(Action::HandleRouting) {
        return Err(Error::Forbidden);
    }
    match (actor.role, actor.scope()) {
        (Role::Police, Scope::Region { code }) => Ok(Side::Receiver(Unit::Police, code)),
        (Role::Education, Scope::Region { code }) => Ok(Side::Receiver(Unit::Education, code)),
        (Role::Department, _) => {
            let agency_id = actor.agency_id.as_deref().ok_or(Error::Forbidden)?;
            let (kind, region) = app
                .store
                .regions()
                .agency_kind(agency_id)
                .await?
                .ok_or(Error::Forbidden)?;
            let unit = Unit::parse(&kind).ok_or(Error::Forbidden)?;
            let region = RegionCode::parse(&region).map_err(|e| Error::Internal(e.to_string()))?;
            Ok(Side::Receiver(unit, region))
        }
        _ => Err(Error::Forbidden),
    }
}

fn village_of(r: &Routing) -> Result<RegionCode> {
    RegionCode::parse(&r.village_code).map_err(|e| Error::Internal(e.to_string()))
}

/// Whether the side reaches the routing, and the events it may record on it.
fn reach(side: &Side, r: &Routing) -> Result<Option<Vec<Event>>> {
    let village = village_of(r)?;
    let open = r.status.is_open();
    Ok(match side {
        // A department reaches a routing while it is open; the police keep theirs (a hukou
        // registered is the police's own record).
        Side::Receiver(unit, _) if !open && Unit::DEPARTMENTS.contains(unit) => None,
        Side::Receiver(unit, area) if *unit == r.unit && area.contains(&village) => Some(
            [
                Event::Accept,
                Event::Progress,
                Event::Finish,
                Event::Decline,
            ]
            .into_iter()
            .filter(|e| open && (*e != Event::Accept || r.status == Status::Sent))
            .collect(),
        ),
        Side::Sender(area) if area.contains(&village) => {
            Some(if open { vec![Event::Withdraw] } else { vec![] })
        }
        _ => None,
    })
}

async fn view(app: &App, r: Routing, actions: Vec<Event>) -> Result<RoutingView> {
    let child = app.store.children().child(&r.child_id).await?;
    let f = &child.file;
    let mut contacts = Vec::new();
    if let Some(g) = &f.entrusted_guardian {
        contacts.push(format!(
            "受委托监护人 {}{}",
            match (&g.name, g.relation) {
                (Some(n), _) => n.as_str().to_owned(),
                (None, Some(r)) => format!("（{}，姓名未填写）", r.label()),
                (None, None) => "（姓名未填写）".to_owned(),
            },
            g.phone
                .as_ref()
                .map(|p| format!(" {}", p.as_str()))
                .unwrap_or_default()
        ));
    }
    for (who, p) in [("父亲", &f.father), ("母亲", &f.mother)] {
        if let (Some(n), Some(phone)) = (&p.name, &p.phone) {
            contacts.push(format!("{who} {} {}", n.as_str(), phone.as_str()));
        }
    }
    if let (Some(n), Some(phone)) = (&f.contact.name, &f.contact.phone) {
        contacts.push(format!("村（居）联系人 {} {}", n.as_str(), phone.as_str()));
    }
    Ok(RoutingView {
        child_name: f.name.as_str().to_owned(),
        child_sex: f.sex.label().to_owned(),
        child_birth_date: f.birth_date.to_string(),
        place: crate::protection::place_of(&f.village_code),
        contacts,
        actions,
        routing: r,
    })
}

fn subject<'a>(r: &'a Routing) -> Subject<'a> {
    Subject {
        entity: "routing",
        id: Some(&r.id),
        region: Some(&r.village_code),
    }
}

/// Tells the receiving unit: the police of the child's town and county, or the department's
/// users over the village.
async fn tell_receiver(
    tx: &mut Tx,
    unit: Unit,
    village: &RegionCode,
    subject: &str,
    body: &str,
) -> Result<()> {
    match unit {
        Unit::Police | Unit::Education => {
            let role = if unit == Unit::Police {
                Role::Police
            } else {
                Role::Education
            };
            let mut at = village.parent();
            while let Some(org) = at {
                tx.notifications()
                    .notify_org(&org, &[role], "routing_sent", None, subject, body)
                    .await?;
                at = org.parent();
            }
        }
        _ => {
            for agency in tx
                .store()
                .routes()
                .department_agencies(unit, village)
                .await?
            {
                tx.notifications()
                    .notify_agency(&agency, "routing_sent", None, subject, body)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Sends a routing inside `tx` (the 三方比对 acceptance uses it too). A routing of the child for
/// the need to the unit still open is answered with that one (nothing new is stored).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_in(
    tx: &mut Tx,
    actor: &Actor,
    child_id: &ChildId,
    village: &RegionCode,
    need: Need,
    unit: Unit,
    note: Option<&str>,
    source: Option<&str>,
) -> Result<(String, bool)> {
    if let Some(open) = tx
        .store()
        .routes()
        .open_routing(child_id, need, unit)
        .await?
    {
        return Ok((open.id, false));
    }
    let id = tx
        .routes()
        .add_routing(child_id, village, need, unit, note, source, &By::of(actor))
        .await?;
    tell_receiver(
        tx,
        unit,
        village,
        &format!("新的转办：{}", unit.label()),
        "有农村留守儿童转办到贵单位，请登录守望系统“部门转办”查看并办理，办结后填写办理结果。",
    )
    .await?;
    tx.audit(
        actor,
        AuditAction::RoutingSend,
        Subject {
            entity: "routing",
            id: Some(&id),
            region: Some(village.as_str()),
        },
        serde_json::json!({"child": child_id, "need": need.code(), "unit": unit.code(), "source": source}),
    )
    .await?;
    Ok((id, true))
}

/// Sends a child to the units the need goes to (one routing each).
pub async fn send(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &RoutingInput,
) -> Result<Vec<RoutingView>> {
    if !actor.may(Action::Route) {
        return Err(Error::Forbidden);
    }
    let child = app.store.children().visible_child(actor, child_id).await?;
    let new = input.parse()?;
    let age = shouwang_domain::eligibility::age_on(child.file.birth_date, app.store.today());
    if new.need == Need::Vocational && !shouwang_domain::attendance::vocational_age(age) {
        return Err(shouwang_domain::validation::ValidationErrors::single(
            "need",
            format!("中等职业教育动员适用于14至16周岁未在学的儿童（该儿童{age}周岁）"),
        )
        .into());
    }
    let mut tx = app.store.begin().await?;
    let mut ids = Vec::new();
    for unit in &new.units {
        let (id, _) = send_in(
            &mut tx,
            actor,
            child_id,
            &child.file.village_code,
            new.need,
            *unit,
            new.note.as_deref(),
            None,
        )
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(get(app, actor, &RoutingId::new(id)).await?);
    }
    Ok(out)
}

/// One routing the actor reaches (audited: it says who the child is and how to reach them).
pub async fn get(app: &App, actor: &Actor, id: &RoutingId) -> Result<RoutingView> {
    let side = side(app, actor).await?;
    let r = app
        .store
        .routes()
        .routing(id.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let actions = reach(&side, &r)?.ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::RoutingRead,
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    view(app, r, actions).await
}

/// The actor's list: a receiving unit's inbox, or the routings of the sender's area; open ones
/// first, oldest waiting first.
pub async fn list(app: &App, actor: &Actor, open_only: bool) -> Result<Vec<RoutingView>> {
    let out = list_of(app, &side(app, actor).await?, open_only).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::RoutingsRead,
        Subject {
            entity: "routing",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"count": out.len(), "open_only": open_only}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The list of one side, not audited (its callers are).
async fn list_of(app: &App, side: &Side, open_only: bool) -> Result<Vec<RoutingView>> {
    let rows = match side {
        Side::Receiver(unit, area) => {
            app.store
                .routes()
                .routings(Which::Inbox { unit: *unit, area }, open_only, 200)
                .await?
        }
        Side::Sender(area) => {
            app.store
                .routes()
                .routings(Which::Area { area }, open_only, 200)
                .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(actions) = reach(side, &r)? {
            out.push(view(app, r, actions).await?);
        }
    }
    Ok(out)
}

/// The routings waiting on a receiving unit (`app::work`), the oldest first; not audited (the
/// work list is, once). The offices that send them wait; the unit that receives them works.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    let side = match side(app, actor).await {
        Ok(s @ Side::Receiver(..)) => s,
        Ok(Side::Sender(_)) | Err(Error::Forbidden) => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    Ok(list_of(app, &side, true)
        .await?
        .into_iter()
        .filter(|v| !v.actions.is_empty())
        .map(|v| {
            let what = match v.routing.status {
                Status::Sent => "受理",
                _ => "办理",
            };
            WorkItem::new(
                WorkKind::RoutingWaiting,
                format!("{what}转办：{}（{}）", v.child_name, v.routing.need.label()),
                format!("/routings/{}", v.routing.id),
            )
            .about(v.routing.child_id.as_str())
        })
        .collect())
}

/// How many routings the actor's list has open (none for those who neither send nor receive).
pub async fn open_count(app: &App, actor: &Actor) -> Result<Option<i64>> {
    let side = match side(app, actor).await {
        Ok(s) => s,
        Err(Error::Forbidden) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(match &side {
        Side::Receiver(unit, area) => {
            app.store
                .routes()
                .open_routings(Which::Inbox { unit: *unit, area })
                .await?
        }
        Side::Sender(area) => {
            app.store
                .routes()
                .open_routings(Which::Area { area })
                .await?
        }
    }))
}

/// A child's routings (on the child's page, for those who see the file).
pub async fn of_child(app: &App, actor: &Actor, child_id: &ChildId) -> Result<Vec<Routing>> {
    app.store.children().visible_child(actor, child_id).await?;
    Ok(app.store.routes().child_routings(child_id).await?)
}

/// Records an event: the receiving unit accepts, notes progress, finishes or declines; the sender
/// withdraws. The other side is told.
pub async fn act(
    app: &App,
    actor: &Actor,
    id: &RoutingId,
    input: &EventInput,
) -> Result<RoutingView> {
    let side = side(app, actor).await?;
    let mut r = app
        .store
        .routes()
        .routing(id.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let allowed = reach(&side, &r)?.ok_or(Error::NotFound)?;
    let t = routing::transition(r.unit, r.status, input, app.store.today())?;
    if !allowed.contains(&t.event) {
        return Err(Error::Conflict {
            field: Some("event".into()),
            message: match side {
                Side::Receiver(..) => format!("接收单位不能{}该转办", t.event.label()),
                Side::Sender(_) => format!("转办由接收单位{}", t.event.label()),
            },
        });
    }
    r.status = t.to;
    if t.registered_on.is_some() {
        r.registered_on = t.registered_on;
        r.hukou_number = t.hukou_number.clone();
        r.dna_collected = t.dna_collected;
    }
    let mut tx = app.store.begin().await?;
    r.events.push(EventRecord {
        event: t.event,
        note: t.note.clone(),
        at: tx.now().to_owned(),
        by: actor.username.clone(),
    });
    if !tx.routes().save_routing(&r).await? {
        return Err(Error::Conflict {
            field: Some("version".into()),
            message: "该转办刚被他人更新，请刷新后重试".into(),
        });
    }
    // The police registered the child (龙里 003 五(四) 落实户籍登记责任): the file says so by an
    // ordinary edit in its history, and its 无户籍 flag goes with it.
    if r.need == shouwang_domain::routing::Need::NoHukou
        && t.event == Event::Finish
        && t.registered_on.is_some()
    {
        crate::children::edit_in(
            &mut tx,
            actor,
            &r.child_id,
            None,
            shouwang_domain::input::ChildInput {
                hukou_registered: Some("是".into()),
                ..Default::default()
            },
            crate::children::EditMode::Patch,
        )
        .await?;
    }
    let village = village_of(&r)?;
    match side {
        Side::Receiver(..) => {
            if let Some(town) = village.parent() {
                tx.notifications().notify_org(
                    &town,
                    &[Role::Town],
                    "routing_event",
                    None,
                    &format!("转办{}：{}", t.event.label(), r.unit.label()),
                    "您所在乡镇的一名农村留守儿童的转办有了新进展，请登录守望系统“部门转办”查看。",
                )
                .await?;
            }
        }
        Side::Sender(_) => tell_receiver(
            &mut tx,
            r.unit,
            &village,
            "转办已撤回",
            "一项转办到贵单位的农村留守儿童事项已由转出单位撤回，请登录守望系统“部门转办”查看。",
        )
        .await?,
    }
    tx.audit(
        actor,
        AuditAction::RoutingEvent,
        subject(&r),
        serde_json::json!({"event": t.event.code(), "status": r.status.code()}),
    )
    .await?;
    tx.commit().await?;
    match get(app, actor, id).await {
        // A department's reach ends with the routing it closed: it gets the routing as it left
        // it, without anything more to do.
        Err(Error::NotFound) => {
            let r = app
                .store
                .routes()
                .routing(id.as_str())
                .await?
                .ok_or(Error::NotFound)?;
            view(app, r, vec![]).await
        }
        other => other,
    }
}
