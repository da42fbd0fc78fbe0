//! Guardianship: the parents' contact log (未成年人保护法 Art. 23: at least weekly) and the list of
//! lapsed ones, the checks of the carer (Art. 22's checklist), and 委托监护 (issue 15): the
//! agreement as a tracked document — printed, signed after the carer passed the initial
//! assessment, the scan of the signed paper kept, in force for a term, renewed before it lapses,
//! the school and village told — and the area's lists of what is due: carers to re-assess and
//! agreements to renew. The rules are `domain::guardianship`.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::guardianship::{CarerCheckView, ContactView};

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::guardianship::{
    self, AgreementInput, AgreementState, ContactInput, LatestCheck, RENEW_WITHIN_DAYS,
};
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::ChildInput;
use shouwang_domain::protection::EvidenceKind;
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::By;
use shouwang_store::Subject;

/// The contact log shows this many entries.
const SHOWN: i64 = 50;
use shouwang_store::guardianship::{AgreementView, GuardianshipDue};

/// An agreement with where it stands today.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementNow {
    #[serde(flatten)]
    pub view: AgreementView,
    pub state: AgreementState,
}

fn subject<'a>(child_id: &'a ChildId, village: &'a str) -> Subject<'a> {
    Subject {
        entity: "child",
        id: Some(child_id.as_str()),
        region: Some(village),
    }
}

/// A child's agreements, newest first, each with its state today.
pub async fn agreements(app: &App, actor: &Actor, child_id: &ChildId) -> Result<Vec<AgreementNow>> {
    app.store.children().visible_child(actor, child_id).await?;
    let today = app.store.today();
    Ok(app
        .store
        .guardianship()
        .agreements(child_id)
        .await?
        .into_iter()
        .map(|view| AgreementNow {
            state: guardianship::agreement_state(
                view.agreement.ends_on,
                view.replaced_by.is_some(),
                today,
            ),
            view,
        })
        .collect())
}

/// Records a signed agreement (it replaces the child's current one), with the scan of the signed
/// paper when given: a photo or a PDF, read from its bytes, at most
/// [`shouwang_domain::protection::MAX_EVIDENCE_BYTES`].
pub async fn record(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &AgreementInput,
    scan: Option<&[u8]>,
) -> Result<Vec<AgreementNow>> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordParentContact) {
        return Err(Error::Forbidden);
    }
    let latest = app
        .store
        .guardianship()
        .carer_checks(child_id)
        .await?
        .into_iter()
        .next()
        .map(|c| LatestCheck {
            carer_name: c.check.carer_name.clone(),
            verdict: c.check.verdict,
            on: c
                .recorded_at
                .get(..10)
                .and_then(|d| d.parse().ok())
                .unwrap_or_default(),
        });
    let term = app
        .store
        .counties()
        .county_settings(&child.file.village_code)
        .await?
        .agreement_term_months;
    // Every wrong field at once: the form's and the scan's.
    let parsed = input.parse(
        app.store.today(),
        latest.as_ref(),
        term,
        child.file.birth_date,
    );
    let scan = scan.filter(|b| !b.is_empty());
    let kind = scan.map(EvidenceKind::sniff).transpose();
    let (agreement, kind) = match (parsed, kind) {
        (Ok(a), Ok(k)) => (a, k),
        (parsed, kind) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(m) = kind {
                errors.add("scan", m);
            }
            return Err(errors.into());
        }
    };
    let village = child.file.village_code.clone();
    let mut tx = app.store.begin().await?;
    let id = tx
        .guardianship()
        .add_agreement(
            child_id,
            &By::of(actor),
            &agreement,
            kind.zip(scan).map(|(k, b)| (k.code(), b)),
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::AgreementRecord,
        subject(child_id, village.as_str()),
        serde_json::json!({"agreement": id, "kind": agreement.kind.code(), "ends_on": agreement.ends_on,
            "scan": kind.map(|k| k.code())}),
    )
    .await?;
    tx.commit().await?;
    agreements(app, actor, child_id).await
}

/// The scan of a signed agreement (audited: it shows who signed for the child).
pub async fn scan(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    id: &str,
) -> Result<(String, Vec<u8>)> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let out = app
        .store
        .guardianship()
        .agreement_scan(child_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::AgreementScanRead,
        subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"agreement": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// What is due on 委托监护 in the actor's area: carers to re-assess and agreements that end within
/// [`RENEW_WITHIN_DAYS`] (or have ended), soonest first, with the children's names.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Due {
    pub reassess: Vec<DueItem>,
    pub renew: Vec<DueItem>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueItem {
    #[serde(flatten)]
    pub due: GuardianshipDue,
    pub overdue: bool,
}

pub async fn due(app: &App, actor: &Actor) -> Result<Due> {
    if !actor.may(Action::RecordParentContact) {
        return Err(Error::Forbidden);
    }
    let today = app.store.today();
    let until = today + Duration::days(RENEW_WITHIN_DAYS);
    let area = &actor.region;
    let dated = |rows: Vec<GuardianshipDue>| -> Vec<DueItem> {
        rows.into_iter()
            .map(|due| DueItem {
                overdue: due.due_on < today,
                due,
            })
            .collect()
    };
    let reassess = dated(
        app.store
            .guardianship()
            .reassessments_due(area, until, 500)
            .await?,
    );
    let renew = dated(
        app.store
            .guardianship()
            .agreements_ending(area, until, 500)
            .await?,
    );
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::GuardianshipDueRead,
        Subject {
            entity: "child",
            id: None,
            region: Some(area.as_str()),
        },
        serde_json::json!({"reassess": reassess.len(), "renew": renew.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Due { reassess, renew })
}

/// A child's contact log with the parents and how long they have been silent.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactLog {
    pub items: Vec<ContactView>,
    /// The last day the parents were reached or sent support (else the first recorded attempt).
    pub silent_since: Option<NaiveDate>,
    /// Days of silence, when they pass the lapse that warns the village.
    pub lapse_days: Option<i64>,
}

pub async fn contacts(app: &App, actor: &Actor, child_id: &ChildId) -> Result<ContactLog> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let items = app
        .store
        .guardianship()
        .parent_contacts(child_id, SHOWN)
        .await?;
    let facts = app.store.guardianship().contact_facts(child_id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ParentContactsRead,
        subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"shown": items.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(ContactLog {
        items,
        silent_since: guardianship::silent_since(&facts),
        lapse_days: guardianship::lapse(
            &facts,
            app.store.today(),
            app.store
                .counties()
                .county_settings(&child.file.village_code)
                .await?
                .contact_lapse_days,
        ),
    })
}

/// Records a contact with the parents (or an attempt that did not reach them).
pub async fn record_contact(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &ContactInput,
) -> Result<ContactLog> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordParentContact) {
        return Err(Error::Forbidden);
    }
    let record = input.parse(app.store.today())?;
    let mut tx = app.store.begin().await?;
    let id = tx
        .guardianship()
        .add_parent_contact(child_id, &By::of(actor), &record)
        .await?;
    tx.audit(
        actor,
        AuditAction::ParentContactRecord,
        subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"contact": id, "reached": record.reached, "support": record.support}),
    )
    .await?;
    tx.commit().await?;
    contacts(app, actor, child_id).await
}

/// A child whose parents have not been heard from for longer than the lapse.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lapsed {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    /// The last day the parents were reached or sent support (else the first recorded attempt).
    pub silent_since: NaiveDate,
    pub days: i64,
}

/// 父母联系中断: the children of the actor's area whose parents' contact log has lapsed
/// (未成年人保护法 Art. 23: at least weekly; warned after `guardianship::DEFAULT_LAPSE_DAYS`),
/// the longest silence first. Audited like a list of names.
pub async fn lapsed(app: &App, actor: &Actor) -> Result<Vec<Lapsed>> {
    let out = lapsed_of(app, actor).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ContactLapsesRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": out.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The lapses and each one's lapse in days, not audited (its callers are).
async fn lapsed_of(app: &App, actor: &Actor) -> Result<Vec<Lapsed>> {
    let today = app.store.today();
    let summaries = app.store.guardianship().contact_summaries(actor).await?;
    // Each county's own lapse (`domain::settings`), read once per county.
    let mut lapse_of = std::collections::HashMap::new();
    for c in &summaries {
        if let Some(county) = c
            .village
            .at_level(shouwang_domain::region::RegionLevel::County)
            && !lapse_of.contains_key(&county)
        {
            let days = app
                .store
                .counties()
                .county_settings(&county)
                .await?
                .contact_lapse_days;
            lapse_of.insert(county, days);
        }
    }
    let mut out: Vec<Lapsed> = summaries
        .into_iter()
        .filter_map(|c| {
            let since = guardianship::silence_start(c.last_heard, c.first_recorded);
            let days = (today - since).num_days();
            let lapse = c
                .village
                .at_level(shouwang_domain::region::RegionLevel::County)
                .and_then(|k| lapse_of.get(&k).copied())
                .unwrap_or(guardianship::DEFAULT_LAPSE_DAYS);
            (days >= lapse).then(|| Lapsed {
                child_id: c.child_id,
                name: c.name,
                village_code: c.village.as_str().to_owned(),
                silent_since: since,
                days,
            })
        })
        .collect();
    out.sort_by(|a, b| b.days.cmp(&a.days).then(a.child_id.cmp(&b.child_id)));
    Ok(out)
}

/// Records a check of the child's carer (委托监护: Art. 22's checklist and the initial assessment
/// of capacity), by the village, town or county. An unfit carer starts the replacement: the file's
/// 监护类型 becomes 受委托监护人监护能力不足 through the ordinary edit (its history, the roster's
/// flag) and the town is told to have the parents name another carer (沈阳 002 一2: 对不具备监护能力的,
/// 及时督促留守儿童父母确定其他受委托监护人).
pub async fn record_carer_check(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &shouwang_domain::guardianship::CarerCheckInput,
) -> Result<Vec<CarerCheckView>> {
    use shouwang_domain::guardianship::CarerVerdict;
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordParentContact) {
        return Err(Error::Forbidden);
    }
    let check = input.parse(app.store.today())?;
    let village = child.file.village_code.clone();
    let mut tx = app.store.begin().await?;
    let id = tx
        .guardianship()
        .add_carer_check(child_id, &By::of(actor), &check)
        .await?;
    if check.verdict == CarerVerdict::Unfit {
        let patch = ChildInput {
            guardianship_type: Some("受委托监护人监护能力不足".into()),
            ..ChildInput::default()
        };
        crate::children::edit_in(
            &mut tx,
            actor,
            child_id,
            None,
            patch,
            crate::children::EditMode::Patch,
        )
        .await?;
        if let Some(town) = village.parent() {
            tx.notifications().notify_org(
                &town,
                &[shouwang_domain::authz::Role::Town],
                "carer_unfit",
                None,
                "受委托监护人不具备监护能力",
                "一名农村留守儿童的受委托监护人经评估不具备监护能力，请督促其父母另行确定受委托监护人。",
            )
            .await?;
        }
    }
    tx.audit(
        actor,
        AuditAction::CarerCheck,
        Subject {
            entity: "child",
            id: Some(child_id.as_str()),
            region: Some(village.as_str()),
        },
        serde_json::json!({"check": id, "verdict": check.verdict.code()}),
    )
    .await?;
    tx.commit().await?;
    carer_checks(app, actor, child_id).await
}

/// A child's carer checks, newest first (audited: they say what was found about a person).
pub async fn carer_checks(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
) -> Result<Vec<CarerCheckView>> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let out = app.store.guardianship().carer_checks(child_id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::CarerChecksRead,
        Subject {
            entity: "child",
            id: Some(child_id.as_str()),
            region: Some(child.file.village_code.as_str()),
        },
        serde_json::json!({"shown": out.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The lapses waiting on the actor (`app::work`), not audited (the work list is, once): a line per
/// child for the village, whose 儿童主任 reaches the parents; one line for a town or a county, which
/// sees that they are reached.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::RecordParentContact) {
        return Ok(vec![]);
    }
    let lapsed = lapsed_of(app, actor).await?;
    if actor.role == shouwang_domain::authz::Role::Village {
        return Ok(lapsed
            .into_iter()
            .map(|l| {
                WorkItem::new(
                    WorkKind::ParentContactLapsed,
                    format!("{}的父母已 {} 天没有联系", l.name, l.days),
                    format!("/children/{}/visits", l.child_id),
                )
                .late()
                .about(l.child_id)
            })
            .collect());
    }
    Ok(match lapsed.len() {
        0 => vec![],
        n => vec![
            WorkItem::new(
                WorkKind::ParentContactLapsed,
                format!("{n} 名儿童的父母联系中断，请督促联系"),
                "/visits#lapsed",
            )
            .late(),
        ],
    })
}
