//! 保护个案's use cases: filing a mandatory report, the police inbox and receipt, the emergency
//! response, the town's notification, closing with approval, and the escalation of reports nobody
//! received. Who sees a case: the police of its town and county, the civil-affairs and village
//! users of its area, oversight of its area; the reporter sees what they filed and the feedback.
//! Who sees the reporter: `domain::protection::sees_reporter`, and every such view is audited.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::protection::Attachment;

use crate::{App, Error, Result};
use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::discovery::Discovery;
use shouwang_domain::protection::{
    self, CaseAction, CaseError, CaseStatus, PoliceRecord, ReportInput, ReportedChild, Severity,
    Situation, Step, StepOutcome,
};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::By;
use shouwang_store::protection::{CaseRow, NewCase, ReportBody, ReportFilter, ReportRow};
use shouwang_store::{Subject, Tx};

/// What the reporter reads back after filing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filed {
    pub id: String,
    pub case_id: String,
    /// `unreceived` until the police receive it.
    pub status: String,
    /// The region code of the police org it went to (the child's town's station, else the county).
    pub receiving_org: String,
    pub receiving_org_name: String,
}

/// Who reported, for those who may know.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reporter {
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
}

/// A report as an inbox lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSummary {
    pub id: String,
    pub case_id: String,
    /// `unreceived` or `received`
    pub status: String,
    pub case_status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub child_name: String,
    pub village_code: String,
    pub receiving_org: String,
    pub filed_at: String,
    pub received_at: Option<String>,
    /// Sent up to the county because nobody received it in time.
    pub escalated: bool,
    /// Unreceived past the escalation delay.
    pub overdue: bool,
    /// The police's 受案/立案 and the feedback due three days after it.
    pub accepted_at: Option<String>,
    pub feedback_at: Option<String>,
    pub feedback_overdue: bool,
    pub reporter: Option<Reporter>,
    pub reporter_confidential: bool,
}

/// One entry of a case's timeline as its reader may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: String,
    /// filed, received, escalated, step, police_record, notified_town, close_requested, closed,
    /// close_rejected, reopened
    pub kind: String,
    /// What happened, in Chinese.
    pub label: String,
    /// Who did it (报告人信息已保密 for a reporter the reader may not know).
    pub by: String,
    pub code: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

/// A step of the emergency response and how far it got.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepState {
    pub step: Step,
    pub label: String,
    pub outcome: Option<StepOutcome>,
    pub at: Option<String>,
    /// When it should be recorded by (after receipt; `Step::time_limit`), and whether it is late.
    pub due_at: Option<String>,
    pub overdue: bool,
}

/// A case as its reader may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    pub id: String,
    pub report_id: String,
    pub child_id: Option<String>,
    pub child_name: String,
    pub status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub town_code: String,
    pub village_code: String,
    pub description: String,
    pub place: Option<String>,
    pub discovered_at: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub version: i64,
    pub timeline: Vec<TimelineEntry>,
    /// The emergency response's steps for the situations found.
    pub steps: Vec<StepState>,
    pub reporter: Option<Reporter>,
    pub reporter_confidential: bool,
    /// Only what the reporter may read (status and feedback): they do not work on the case.
    pub reporter_view: bool,
    /// The latest assessment's risk level, and the days between visits it calls for.
    pub risk_level: Option<shouwang_domain::protection::RiskLevel>,
    pub visit_interval_days: Option<u32>,
    /// The town's assessments, newest first (for those who work on the case).
    pub assessments: Vec<shouwang_store::protection::RecordedAssessment>,
    /// The help plan: referrals to providers, with those overdue marked.
    pub referrals: Vec<ReferralView>,
    /// Temporary guardianships (临时监护) of the child on this case.
    pub placements: Vec<shouwang_store::protection::PlacementView>,
    /// Guardianship intervention: each measure's steps as recorded.
    pub interventions: Vec<shouwang_store::protection::InterventionStep>,
    /// The grounds of 民法典 Art. 36 the recorded facts meet while nobody has applied: civil affairs
    /// must apply when nobody else does.
    pub revocation_reminders: Vec<String>,
}

/// A referral as the case or the provider sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralView {
    #[serde(flatten)]
    pub referral: shouwang_store::protection::Referral,
    /// Unanswered after 7 days, or accepted and not delivered after 30.
    pub overdue: bool,
    /// For the provider: who the child is and where (the report itself is not theirs).
    pub child_name: String,
    pub village_code: String,
}

const CONFIDENTIAL: &str = "报告人信息已保密";

fn case_error(e: CaseError) -> Error {
    match e {
        CaseError::Role(_) => Error::Forbidden,
        other => Error::Conflict {
            field: None,
            message: other.to_string(),
        },
    }
}

/// Whether the actor works on this case (beyond having filed it). The court and the
/// procuratorate: see [`sent_to`].
fn works_on(actor: &Actor, case: &CaseRow, report: &ReportRow) -> bool {
    match actor.role {
        Role::Police => {
            actor.region.contains(&case.town) || actor.region.contains(&report.receiving_org)
        }
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight => {
            actor.region.contains(&case.village)
        }
        Role::School
        | Role::Agency
        | Role::Court
        | Role::Procuratorate
        | Role::Education
        | Role::Department => false,
    }
}

/// Whether a case of the court's or procuratorate's county was sent to it: an application for a
/// protection order or a revocation (the court), a criminal referral (both).
async fn sent_to(app: &App, actor: &Actor, case: &CaseRow) -> Result<bool> {
    use shouwang_domain::protection::Measure;
    if !actor.region.contains(&case.town) {
        return Ok(false);
    }
    let measures: Vec<Measure> = app
        .store
        .interventions(&case.id)
        .await?
        .into_iter()
        .map(|i| i.measure)
        .collect();
    Ok(measures
        .iter()
        .any(|m| measures_sent_to(actor.role).contains(m)))
}

/// The measures that send a case to a court or a procuratorate.
fn measures_sent_to(role: Role) -> &'static [shouwang_domain::protection::Measure] {
    use shouwang_domain::protection::Measure;
    match role {
        Role::Court => &[
            Measure::ProtectionOrder,
            Measure::Revocation,
            Measure::CriminalReferral,
        ],
        Role::Procuratorate => &[Measure::CriminalReferral],
        _ => &[],
    }
}

fn subject(case: &CaseRow) -> Subject<'_> {
    Subject {
        entity: "case",
        id: Some(&case.id),
        region: Some(case.village.as_str()),
    }
}

async fn unit_of(app: &App, actor: &Actor) -> Result<String> {
    Ok(match &actor.agency_id {
        Some(a) => app.store.agency_name(a).await?.unwrap_or_default(),
        None => app
            .store
            .region(&actor.region)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
    })
}

/// Files a mandatory report: the case opens, the report lands in the inbox of the police of the
/// child's town (else the county's) and in the town's; a child not on the registry also enters the
/// town's registration queue (without the reporter).
pub async fn file(app: &App, actor: &Actor, input: &ReportInput) -> Result<Filed> {
    if !protection::may_report(actor.role) {
        return Err(Error::Forbidden);
    }
    let report = input.parse(app.store.clock().now())?;
    let (child_id, village, child_name) = match &report.child {
        ReportedChild::Registered(id) => {
            // Any child the reporter can see (a teacher's linked pupil, a village's child).
            let row =
                app.store
                    .visible_child(actor, id)
                    .await
                    .map_err(|e| match Error::from(e) {
                        Error::NotFound => {
                            ValidationErrors::single("child_id", "找不到该儿童，请改为填写儿童情况")
                                .into()
                        }
                        other => other,
                    })?;
            (
                Some(row.id.clone()),
                row.file.village_code.clone(),
                row.file.name.as_str().to_owned(),
            )
        }
        ReportedChild::New { name, village, .. } => {
            // Reports go to a place inside the reporter's county (a village cannot fill another
            // county's queues; a town's or school's area is inside it).
            let county = actor
                .region
                .at_level(RegionLevel::County)
                .unwrap_or_else(|| actor.region.clone());
            if !(county.contains(village) || village.contains(&actor.region)) {
                return Err(ValidationErrors::single(
                    "child.village_code",
                    "所选村（社区）不在您所在的县（市、区）",
                )
                .into());
            }
            (None, village.clone(), name.as_str().to_owned())
        }
    };
    let town = village
        .at_level(RegionLevel::Town)
        .ok_or_else(|| ValidationErrors::single("child.village_code", "请选择到村（社区）一级"))?;
    if app.store.region(&town).await?.is_none() {
        return Err(
            ValidationErrors::single("child.village_code", "该地不在本系统服务范围内").into(),
        );
    }
    let receiving = app.store.police_org_for(&town).await?;
    let body = ReportBody {
        description: report.description.clone(),
        place: report.place.clone(),
        reporter_name: actor.username.clone(),
        reporter_unit: unit_of(app, actor).await?,
        reporter_phone: report.reporter_phone.clone(),
        child_name: matches!(report.child, ReportedChild::New { .. }).then(|| child_name.clone()),
        child_sex: match &report.child {
            ReportedChild::New { sex, .. } => sex.map(|s| s.label().to_owned()),
            _ => None,
        },
        child_birth: match &report.child {
            ReportedChild::New { birth, .. } => birth.map(|b| b.to_string()),
            _ => None,
        },
    };
    let discovered = report
        .discovered_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut tx = app.store.begin().await?;
    let (case_id, report_id) = tx
        .insert_case(&NewCase {
            child_id: child_id.as_deref(),
            town: &town,
            village: &village,
            situations: &report.situations,
            severity: report.severity,
            reporter_user_id: &actor.user_id,
            reporter_role: actor.role.code(),
            receiving_org: &receiving,
            discovered_at: &discovered,
            body: &body,
        })
        .await?;
    tx.add_case_event(&case_id, &By::of(actor), "filed", None, None, "")
        .await?;
    if let ReportedChild::New {
        name, sex, birth, ..
    } = &report.child
    {
        // The town registers the child; the queue does not name the reporter.
        let labels: Vec<&str> = report.situations.iter().map(|s| s.label()).collect();
        let queued = tx
            .insert_discovery(
                &Discovery {
                    town: town.clone(),
                    village: Some(village.clone()),
                    name: name.clone(),
                    sex: *sex,
                    birth: *birth,
                    situation: format!("强制报告：{}", labels.join("、")),
                    phone: None,
                },
                &actor.user_id,
                "强制报告转入（报告人信息已保密）",
            )
            .await?;
        tx.set_discovery_case(&queued, &case_id).await?;
    }
    // The police and the town learn of it now, wherever they are; the message names no one.
    let message = format!(
        "{}有一份新的强制报告（{}），请立即登录守望受理。",
        place_of(&village),
        report.severity.label()
    );
    tx.notify_org(
        &receiving,
        &[Role::Police],
        "report_filed",
        Some(&case_id),
        "守望：新的强制报告",
        &message,
    )
    .await?;
    tx.notify_org(
        &town,
        &[Role::Town],
        "report_filed",
        Some(&case_id),
        "守望：新的强制报告",
        &message,
    )
    .await?;
    tx.audit(
        actor,
        "report_file",
        Subject {
            entity: "case",
            id: Some(&case_id),
            region: Some(village.as_str()),
        },
        serde_json::json!({"report": report_id, "situations": report.situations.iter().map(|s| s.code()).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Filed {
        id: report_id,
        case_id,
        status: "unreceived".into(),
        receiving_org_name: police_name(&receiving),
        receiving_org: receiving.as_str().to_owned(),
    })
}

/// A place's name as people say it (县 乡镇 村).
pub(crate) fn place_of(code: &RegionCode) -> String {
    Divisions::shipped()
        .lineage(code)
        .map(|l| {
            l.iter()
                .skip(2)
                .map(|d| d.name.to_owned())
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_else(|_| code.to_string())
}

/// The police org's name: the town's station or the county's public security bureau.
fn police_name(org: &RegionCode) -> String {
    let place = Divisions::shipped()
        .lineage(org)
        .map(|l| l.iter().map(|d| d.name.to_owned()).collect::<Vec<_>>())
        .unwrap_or_default();
    let last = place.last().cloned().unwrap_or_else(|| org.to_string());
    match org.level() {
        RegionLevel::Town => format!("{last}派出所"),
        _ => format!("{last}公安局"),
    }
}

/// Sends up to the county the reports nobody received within `delay` (run by the server every
/// minute and before every inbox is read): their receiving org becomes the county, the case's
/// timeline and the audit log say so.
pub async fn escalate(app: &App) -> Result<usize> {
    let delay = app.policies.escalation;
    let filed_by =
        (app.store.clock().now() - delay).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Inboxes call this on every read: take the write lock only when something is due.
    if !app.store.unreceived_due(&filed_by).await? {
        return Ok(0);
    }
    let mut tx = app.store.begin().await?;
    let sent = tx.escalate_unreceived(&filed_by).await?;
    for (report_id, case_id, county) in &sent {
        tx.add_case_event(
            case_id,
            &By {
                user_id: None,
                username: "system",
                role: "system",
            },
            "escalated",
            None,
            None,
            &format!(
                "超过{}分钟未受理，已上报至{}",
                delay.num_minutes(),
                police_name(county)
            ),
        )
        .await?;
        tx.notify_org(
            county,
            &[Role::Police, Role::County, Role::CountyAdmin],
            "report_escalated",
            Some(case_id),
            "守望：强制报告超时未受理",
            &format!(
                "一份强制报告超过{}分钟未受理，已上报县级，请立即登录处理。",
                delay.num_minutes()
            ),
        )
        .await?;
        tx.audit_as(
            shouwang_store::Who {
                user_id: None,
                username: "system",
            },
            "report_escalate",
            Subject {
                entity: "case",
                id: Some(case_id),
                region: Some(county.as_str()),
            },
            serde_json::json!({"report": report_id}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(sent.len())
}

/// Which reports an inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    Unreceived,
    Received,
    All,
}

/// The actor's inbox: for the police, the reports sent to their org (a county's police see the
/// county's); for civil affairs, villages and oversight, the reports about children of their area;
/// for everyone else, the reports they filed.
pub async fn inbox(app: &App, actor: &Actor, status: InboxStatus) -> Result<Vec<ReportSummary>> {
    escalate(app).await?;
    let delay = app.policies.escalation;
    let mut filter = ReportFilter {
        status: match status {
            InboxStatus::Unreceived => Some("unreceived".into()),
            InboxStatus::Received => Some("received".into()),
            InboxStatus::All => None,
        },
        limit: 200,
        ..Default::default()
    };
    match actor.role {
        Role::Police => filter.area_within = Some(actor.region.clone()),
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight => {
            filter.area_within = Some(actor.region.clone())
        }
        Role::School | Role::Agency | Role::Education | Role::Department => {
            filter.reporter = Some(actor.user_id.clone())
        }
        Role::Court | Role::Procuratorate => {
            filter.area_within = Some(actor.region.clone());
            filter.with_measures = Some(measures_sent_to(actor.role).to_vec());
        }
    }
    let rows = app.store.reports(&filter).await?;
    let now = app.store.clock().now();
    // The registered children's names in one query.
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|(case, _)| case.child_id.as_deref())
        .collect();
    let names = app.store.child_names(&ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut shown_reporters = 0;
    for (case, report) in rows {
        let sees =
            protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
        if sees && report.reporter_user_id != actor.user_id {
            shown_reporters += 1;
        }
        let name = match &case.child_id {
            Some(id) => names.get(id).cloned().unwrap_or_default(),
            None => report.body.child_name.clone().unwrap_or_default(),
        };
        out.push(summary(&case, &report, name, sees, now, delay));
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "report_inbox_read",
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": out.len(), "reporters_shown": shown_reporters}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn summary(
    case: &CaseRow,
    report: &ReportRow,
    child_name: String,
    sees_reporter: bool,
    now: DateTime<Utc>,
    delay: Duration,
) -> ReportSummary {
    let overdue = report.status == "unreceived"
        && parse_time(&report.filed_at).is_some_and(|t| protection::escalation_due(t, now, delay));
    let feedback_overdue = report.feedback_at.is_none()
        && report
            .accepted_at
            .as_deref()
            .and_then(parse_time)
            .is_some_and(|t| protection::feedback_due(t.date_naive()) < now.date_naive());
    ReportSummary {
        id: report.id.clone(),
        case_id: case.id.clone(),
        status: report.status.clone(),
        case_status: case.status,
        situations: case.situations.clone(),
        severity: case.severity,
        child_name,
        village_code: case.village.as_str().to_owned(),
        receiving_org: report.receiving_org.as_str().to_owned(),
        filed_at: report.filed_at.clone(),
        received_at: report.received_at.clone(),
        escalated: report.escalated_at.is_some(),
        overdue,
        accepted_at: report.accepted_at.clone(),
        feedback_at: report.feedback_at.clone(),
        feedback_overdue,
        reporter: sees_reporter.then(|| reporter_of(report)),
        reporter_confidential: !sees_reporter,
    }
}

async fn child_name(app: &App, case: &CaseRow, report: &ReportRow) -> Result<String> {
    Ok(match &case.child_id {
        Some(id) => app.store.child_name(id).await?.unwrap_or_default(),
        None => report.body.child_name.clone().unwrap_or_default(),
    })
}

fn reporter_of(report: &ReportRow) -> Reporter {
    Reporter {
        name: report.body.reporter_name.clone(),
        unit: report.body.reporter_unit.clone(),
        phone: report.body.reporter_phone.clone(),
    }
}

/// A case the actor works on or filed; anything else is not found.
async fn load(app: &App, actor: &Actor, case_id: &str) -> Result<(CaseRow, ReportRow, bool)> {
    let (case, report) = app
        .store
        .case_with_report(case_id)
        .await?
        .ok_or(Error::NotFound)?;
    let works = works_on(actor, &case, &report)
        || (matches!(actor.role, Role::Court | Role::Procuratorate)
            && sent_to(app, actor, &case).await?);
    if !works && report.reporter_user_id != actor.user_id {
        return Err(Error::NotFound);
    }
    Ok((case, report, works))
}

/// The case a visit follows up (随访): one the actor works on, not closed, about `child_id`.
pub(crate) async fn follow_up_case(
    app: &App,
    actor: &Actor,
    case_id: &str,
    child_id: &str,
) -> Result<CaseRow> {
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works {
        return Err(Error::NotFound);
    }
    if case.child_id.as_deref() != Some(child_id) {
        return Err(ValidationErrors::single("case_id", "该个案不是这名儿童的个案").into());
    }
    if case.status == CaseStatus::Closed {
        return Err(Error::Conflict {
            field: Some("case_id".into()),
            message: "该个案已结案，随访请记为普通走访".into(),
        });
    }
    Ok(case)
}

/// A case as the actor may see it; reading it is audited, and reading its reporter separately.
pub async fn case(app: &App, actor: &Actor, case_id: &str) -> Result<CaseView> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let sees = protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
    let events = app.store.case_events(&case.id).await?;
    let reporter_id = report.reporter_user_id.clone();
    let timeline: Vec<TimelineEntry> = events
        .into_iter()
        // The reporter who does not work on the case reads its status and the feedback only.
        .filter(|e| {
            works
                || matches!(e.kind.as_str(), "filed" | "received" | "closed")
                || e.code.as_deref() == Some(PoliceRecord::Feedback.code())
        })
        .map(|e| {
            // Everything the reporter does on the case is the reporter's (issue 24: their
            // evidence's file name and their username were read by the town and the village):
            // who did it and what they wrote are kept from those who may not see the reporter,
            // and so is the police's feedback to them.
            let reporters = e.user_id.as_deref() == Some(reporter_id.as_str())
                || e.code.as_deref() == Some(PoliceRecord::Feedback.code());
            let (by, note) = if reporters && !sees {
                (
                    if e.user_id.as_deref() == Some(reporter_id.as_str()) {
                        CONFIDENTIAL.to_owned()
                    } else {
                        e.username.clone()
                    },
                    None,
                )
            } else {
                (e.username.clone(), e.note)
            };
            TimelineEntry {
                label: event_label(&e.kind, e.code.as_deref(), e.outcome.as_deref()),
                at: e.at,
                kind: e.kind,
                by,
                code: e.code,
                outcome: e.outcome,
                note,
            }
        })
        .collect();
    let received_at = timeline
        .iter()
        .find(|e| e.kind == "received")
        .and_then(|e| parse_time(&e.at));
    let now = app.store.clock().now();
    let steps = protection::playbook(&case.situations)
        .into_iter()
        .map(|step| {
            let last = timeline.iter().rev().find(|e| {
                (e.kind == "step" && e.code.as_deref() == Some(step.code()))
                    || (step == Step::NotifyTown && e.kind == "notified_town")
            });
            StepState {
                step,
                label: step.label().to_owned(),
                outcome: last.and_then(|e| {
                    if e.kind == "notified_town" {
                        Some(StepOutcome::Done)
                    } else {
                        e.outcome.as_deref().and_then(StepOutcome::parse)
                    }
                }),
                at: last.map(|e| e.at.clone()),
                due_at: received_at.map(|r| {
                    (r + step.time_limit()).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                }),
                overdue: last.is_none()
                    && case.status == CaseStatus::Responding
                    && received_at.is_some_and(|r| protection::step_overdue(step, r, now)),
            }
        })
        .collect();
    let view = CaseView {
        id: case.id.clone(),
        report_id: report.id.clone(),
        child_id: if works { case.child_id.clone() } else { None },
        child_name: child_name(app, &case, &report).await?,
        status: case.status,
        situations: case.situations.clone(),
        severity: case.severity,
        town_code: case.town.as_str().to_owned(),
        village_code: case.village.as_str().to_owned(),
        description: report.body.description.clone(),
        place: report.body.place.clone(),
        discovered_at: report.discovered_at.clone(),
        opened_at: case.opened_at.clone(),
        closed_at: case.closed_at.clone(),
        version: case.version,
        timeline,
        steps: if works { steps } else { vec![] },
        reporter: sees.then(|| reporter_of(&report)),
        reporter_confidential: !sees,
        reporter_view: !works,
        risk_level: case.risk.filter(|_| works),
        visit_interval_days: case.risk.filter(|_| works).map(|r| r.visit_interval_days()),
        assessments: if works {
            app.store.assessments(&case.id).await?
        } else {
            vec![]
        },
        referrals: if works {
            referral_views(app, app.store.referrals_of_case(&case.id).await?).await?
        } else {
            vec![]
        },
        placements: if works {
            app.store.placements(&case.id).await?
        } else {
            vec![]
        },
        interventions: if works {
            app.store.interventions(&case.id).await?
        } else {
            vec![]
        },
        revocation_reminders: vec![],
    };
    let mut view = view;
    if works {
        let silent_since = match &case.child_id {
            Some(child) => {
                shouwang_domain::guardianship::silent_since(&app.store.contact_facts(child).await?)
            }
            None => None,
        };
        view.revocation_reminders = revocation_reminders(&view, silent_since, app.store.today());
    }
    let mut tx = app.store.begin().await?;
    tx.audit(actor, "case_read", subject(&case), serde_json::json!({}))
        .await?;
    if sees && actor.user_id != report.reporter_user_id {
        tx.audit(
            actor,
            "case_reporter_read",
            subject(&case),
            serde_json::json!({"report": report.id}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(view)
}

fn event_label(kind: &str, code: Option<&str>, outcome: Option<&str>) -> String {
    let outcome = outcome.and_then(StepOutcome::parse).map(|o| o.label());
    match kind {
        "filed" => "提交强制报告".into(),
        "received" => "公安机关受理".into(),
        "escalated" => "超时未受理，上报县级".into(),
        "step" => format!(
            "应急处置：{}{}",
            code.and_then(Step::parse).map(|s| s.label()).unwrap_or(""),
            outcome.map(|o| format!("（{o}）")).unwrap_or_default()
        ),
        "police_record" => format!(
            "公安机关：{}",
            code.and_then(PoliceRecord::parse)
                .map(|r| r.label())
                .unwrap_or("")
        ),
        "notified_town" => "通报乡镇人民政府（街道办）".into(),
        "close_requested" => "申请结案".into(),
        "closed" => "批准结案".into(),
        "close_rejected" => "退回结案申请".into(),
        "reopened" => "重新开启".into(),
        "attachment" => "上传附件".into(),
        "referred" => format!(
            "转介：{}",
            code.and_then(shouwang_domain::protection::HelpKind::parse)
                .map(|k| k.label())
                .unwrap_or("")
        ),
        "referral_answered" => format!(
            "服务机构：{}",
            code.and_then(shouwang_domain::protection::ReferralStatus::parse)
                .map(|s| s.label())
                .unwrap_or("")
        ),
        "placed" => format!(
            "临时监护：{}",
            code.and_then(shouwang_domain::protection::Placement::parse)
                .map(|p| p.label())
                .unwrap_or("")
        ),
        "placement_ended" => "临时监护结束".into(),
        "child_registered" => "儿童已登记建档，个案关联儿童档案".into(),
        "follow_up" => format!(
            "随访：儿童状况{}",
            code.and_then(shouwang_domain::visits::Condition::parse)
                .map(|c| c.label())
                .unwrap_or("")
        ),
        "intervention" => format!(
            "监护干预：{}{}",
            code.and_then(shouwang_domain::protection::Measure::parse)
                .map(|m| m.label())
                .unwrap_or(""),
            outcome
                .and_then(shouwang_domain::protection::Stage::parse)
                .map(|s| format!("（{}）", s.label()))
                .unwrap_or_default()
        ),
        "assessed" => format!(
            "评估：风险等级{}",
            code.and_then(shouwang_domain::protection::RiskLevel::parse)
                .map(|r| r.label())
                .unwrap_or("")
        ),
        other => other.into(),
    }
}

/// Applies `action` to a case the actor works on, in one transaction with its timeline entry and
/// audit event; a case moved meanwhile is a conflict.
async fn act(
    app: &App,
    actor: &Actor,
    case_id: &str,
    action: CaseAction,
    write: impl AsyncFnOnce(&mut Tx, &CaseRow, &ReportRow) -> Result<()>,
    close_requested_by: Option<&str>,
) -> Result<CaseView> {
    let (case, report, works) = load(app, actor, case_id).await?;
    if !works {
        return Err(Error::Forbidden);
    }
    let next = protection::transition(case.status, action, actor.role).map_err(case_error)?;
    let mut tx = app.store.begin().await?;
    if !tx
        .set_case_status(&case.id, case.version, next, close_requested_by)
        .await?
    {
        return Err(Error::Conflict {
            field: None,
            message: "该个案已被他人更新，请刷新后再操作".into(),
        });
    }
    write(&mut tx, &case, &report).await?;
    tx.audit(
        actor,
        &format!("case_{}", action_code(action)),
        subject(&case),
        serde_json::json!({"from": case.status.code(), "to": next.code()}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

fn action_code(a: CaseAction) -> &'static str {
    match a {
        CaseAction::Receive => "receive",
        CaseAction::Respond => "respond",
        CaseAction::NotifyTown => "notify_town",
        CaseAction::RequestClose => "request_close",
        CaseAction::ApproveClose => "approve_close",
        CaseAction::RejectClose => "reject_close",
        CaseAction::Reopen => "reopen",
    }
}

fn note_of(note: &str, field: &str, required: Option<&str>) -> Result<String> {
    let n = shouwang_domain::text::clean(note);
    if n.chars().count() > 1000 {
        return Err(ValidationErrors::single(field, "说明请不超过1000字").into());
    }
    if let Some(msg) = required
        && n.is_empty()
    {
        return Err(ValidationErrors::single(field, msg).into());
    }
    Ok(n)
}

/// The police receive a report (受理); a report escalated to the county may be received by the
/// county's civil affairs too.
pub async fn receive(app: &App, actor: &Actor, report_id: &str) -> Result<CaseView> {
    let (case, report) = app
        .store
        .report_with_case(report_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !works_on(actor, &case, &report) {
        return Err(Error::NotFound);
    }
    if matches!(actor.role, Role::County | Role::CountyAdmin) && report.escalated_at.is_none() {
        return Err(Error::Conflict {
            field: None,
            message: "该报告尚未超时上报，请由派出所受理".into(),
        });
    }
    let who = actor.user_id.clone();
    act(
        app,
        actor,
        &case.id,
        CaseAction::Receive,
        async |tx: &mut Tx, case: &CaseRow, report: &ReportRow| {
            if !tx.receive_report(&report.id, &who).await? {
                return Err(Error::Conflict {
                    field: None,
                    message: "该报告已被受理".into(),
                });
            }
            Ok(tx
                .add_case_event(&case.id, &By::of(actor), "received", None, None, "")
                .await?)
        },
        None,
    )
    .await
}

/// Records a step of the emergency response; a skipped or failed step says why.
pub async fn record_step(
    app: &App,
    actor: &Actor,
    case_id: &str,
    step: Step,
    outcome: StepOutcome,
    note: &str,
) -> Result<CaseView> {
    let note = note_of(
        note,
        "note",
        matches!(outcome, StepOutcome::Skipped | StepOutcome::Failed)
            .then_some("跳过或未成功的步骤请说明原因"),
    )?;
    if step == Step::NotifyTown {
        return Err(ValidationErrors::single("step", "通报乡镇请使用“通报乡镇”操作").into());
    }
    let (case, _, _) = load(app, actor, case_id).await?;
    if !protection::playbook(&case.situations).contains(&step) {
        return Err(ValidationErrors::single("step", "该步骤不属于本个案情形的处置流程").into());
    }
    act(
        app,
        actor,
        case_id,
        CaseAction::Respond,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.add_case_event(
                &case.id,
                &By::of(actor),
                "step",
                Some(step.code()),
                Some(outcome.code()),
                &note,
            )
            .await
            .map_err(Error::from)
        },
        None,
    )
    .await
}

/// Records 受案、立案、反馈 or a transfer.
pub async fn police_record(
    app: &App,
    actor: &Actor,
    case_id: &str,
    record: PoliceRecord,
    note: &str,
) -> Result<CaseView> {
    let note = note_of(
        note,
        "note",
        (record == PoliceRecord::Feedback).then_some("请填写向报告人反馈的内容"),
    )?;
    act(
        app,
        actor,
        case_id,
        CaseAction::Respond,
        async |tx: &mut Tx, case: &CaseRow, report: &ReportRow| {
            match record {
                PoliceRecord::CaseAccepted | PoliceRecord::CaseFiled => {
                    tx.mark_report(&report.id, false).await?
                }
                PoliceRecord::Feedback => {
                    tx.mark_report(&report.id, true).await?;
                    tx.notify_user(
                        &report.reporter_user_id,
                        "feedback",
                        Some(&case.id),
                        "守望：您的强制报告有新的反馈",
                        "公安机关对您提交的强制报告作出了反馈，请登录守望查看。",
                    )
                    .await?;
                }
                PoliceRecord::Transferred => {}
            }
            tx.add_case_event(
                &case.id,
                &By::of(actor),
                "police_record",
                Some(record.code()),
                None,
                &note,
            )
            .await
            .map_err(Error::from)
        },
        None,
    )
    .await
}

/// The police notify the town (通报乡镇): the town's assessment and help begin.
pub async fn notify_town(app: &App, actor: &Actor, case_id: &str, note: &str) -> Result<CaseView> {
    let note = note_of(note, "note", None)?;
    act(
        app,
        actor,
        case_id,
        CaseAction::NotifyTown,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.add_case_event(&case.id, &By::of(actor), "notified_town", None, None, &note)
                .await?;
            tx.notify_org(
                &case.town,
                &[Role::Town],
                "town_notified",
                Some(&case.id),
                "守望：公安机关通报个案",
                "公安机关已就一起个案通报本乡镇（街道），请登录守望开展评估帮扶。",
            )
            .await?;
            Ok(())
        },
        None,
    )
    .await
}

/// The town asks to close the case, saying why.
pub async fn request_close(
    app: &App,
    actor: &Actor,
    case_id: &str,
    reason: &str,
) -> Result<CaseView> {
    let reason = note_of(reason, "reason", Some("请说明结案理由"))?;
    act(
        app,
        actor,
        case_id,
        CaseAction::RequestClose,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.add_case_event(
                &case.id,
                &By::of(actor),
                "close_requested",
                None,
                None,
                &reason,
            )
            .await
            .map_err(Error::from)
        },
        Some(&actor.user_id),
    )
    .await
}

/// Another town or county user approves closing, or returns it with a note.
pub async fn decide_close(
    app: &App,
    actor: &Actor,
    case_id: &str,
    approve: bool,
    note: &str,
) -> Result<CaseView> {
    let note = note_of(note, "note", (!approve).then_some("退回结案申请请说明原因"))?;
    let (case, _, _) = load(app, actor, case_id).await?;
    if case.status == CaseStatus::Closing
        && case.close_requested_by.as_deref() == Some(actor.user_id.as_str())
    {
        return Err(case_error(CaseError::SelfApproval));
    }
    let (action, kind) = if approve {
        (CaseAction::ApproveClose, "closed")
    } else {
        (CaseAction::RejectClose, "close_rejected")
    };
    act(
        app,
        actor,
        case_id,
        action,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.add_case_event(&case.id, &By::of(actor), kind, None, None, &note)
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}

/// Reopens a closed case, saying why.
pub async fn reopen(app: &App, actor: &Actor, case_id: &str, reason: &str) -> Result<CaseView> {
    let reason = note_of(reason, "reason", Some("请说明重新开启的理由"))?;
    act(
        app,
        actor,
        case_id,
        CaseAction::Reopen,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.add_case_event(&case.id, &By::of(actor), "reopened", None, None, &reason)
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}

/// 应报未报 of an area: how many children, and the first of them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreportedList {
    /// All of them in the area (the files' count kept by the triggers, and the visits').
    pub total: i64,
    /// The longest unreported first, at most the limit asked for.
    pub items: Vec<shouwang_store::protection::Unreported>,
}

/// Children of the actor's area (or of `region` inside it) whose file records 单独居住 or 无人监护
/// with no mandatory report filed (未保法 Art. 117): the town's and oversight's list, at most
/// `limit` (1–500) of them with the total; looking at it is audited.
pub async fn unreported(
    app: &App,
    actor: &Actor,
    region: Option<&str>,
    limit: i64,
) -> Result<UnreportedList> {
    if !matches!(
        actor.role,
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight
    ) {
        return Err(Error::Forbidden);
    }
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            let code = RegionCode::parse(r)
                .map_err(|_| ValidationErrors::single("region", "区划代码不正确"))?;
            if !actor.region.contains(&code) {
                return Err(Error::NotFound);
            }
            Some(code)
        }
    };
    let limit = limit.clamp(1, 500);
    let visits = unreported_visits(app, actor, region.as_ref(), 1000).await?;
    let total = app.store.unreported_count(actor, region.as_ref()).await? + visits.len() as i64;
    let mut items = app.store.unreported(actor, region.as_ref(), limit).await?;
    items.extend(visits);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "unreported_read",
        Subject {
            entity: "region",
            id: None,
            region: Some(region.as_ref().unwrap_or(&actor.region).as_str()),
        },
        serde_json::json!({"shown": items.len(), "total": total}),
    )
    .await?;
    tx.commit().await?;
    Ok(UnreportedList { total, items })
}

/// Children a visit found in a reportable situation with no report filed since, whose file is not
/// on the files' list already.
async fn unreported_visits(
    app: &App,
    actor: &Actor,
    region: Option<&RegionCode>,
    limit: i64,
) -> Result<Vec<shouwang_store::protection::Unreported>> {
    Ok(app
        .store
        .reportable_visits(actor, region, limit)
        .await?
        .into_iter()
        .filter(|v| {
            let opened = v.last_case_opened.as_deref().and_then(parse_time);
            !v.in_file_list && !protection::reported_since(v.visited_on, opened)
        })
        .map(|v| shouwang_store::protection::Unreported {
            child_id: v.child_id,
            name: v.name,
            village_code: v.village_code,
            recorded_at: v.recorded_at,
            source: "visit".into(),
        })
        .collect())
}

/// The home page's figures of the cases capability for the actor.
#[derive(Debug, Clone, Default)]
pub struct HomeCounts {
    /// Reports in the actor's inbox not yet received.
    pub unreceived: usize,
    /// Of them, past the escalation delay.
    pub overdue: usize,
    /// Cases not closed.
    pub open_cases: usize,
    /// Children whose file records a situation that must be reported, with no report (town and up).
    pub unreported: usize,
}

/// Counts for the home page (the inbox's own scope).
pub async fn home_counts(app: &App, actor: &Actor) -> Result<HomeCounts> {
    escalate(app).await?;
    let mut filter = ReportFilter {
        limit: 500,
        ..Default::default()
    };
    match actor.role {
        Role::School | Role::Agency => filter.reporter = Some(actor.user_id.clone()),
        // Only the cases sent to them.
        Role::Court | Role::Procuratorate => return Ok(HomeCounts::default()),
        _ => filter.area_within = Some(actor.region.clone()),
    }
    let rows = app.store.reports(&filter).await?;
    let now = app.store.clock().now();
    let delay = app.policies.escalation;
    let mut c = HomeCounts::default();
    for (case, report) in &rows {
        if report.status == "unreceived" {
            c.unreceived += 1;
            if parse_time(&report.filed_at)
                .is_some_and(|t| protection::escalation_due(t, now, delay))
            {
                c.overdue += 1;
            }
        }
        if case.status != CaseStatus::Closed {
            c.open_cases += 1;
        }
    }
    if matches!(
        actor.role,
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight
    ) {
        c.unreported = usize::try_from(app.store.unreported_count(actor, None).await?).unwrap_or(0)
            + unreported_visits(app, actor, None, 1000).await?.len();
    }
    Ok(c)
}

/// Adds evidence to a case: by those who work on it, or by its reporter. What the bytes are is
/// read from them (a name or a declared type is not trusted); at most
/// [`protection::MAX_EVIDENCE_BYTES`] each and [`protection::MAX_EVIDENCE_PER_CASE`] a case.
pub async fn attach(
    app: &App,
    actor: &Actor,
    case_id: &str,
    name: &str,
    bytes: &[u8],
) -> Result<shouwang_store::protection::Attachment> {
    let (case, _, _) = load(app, actor, case_id).await?;
    let kind =
        protection::EvidenceKind::sniff(bytes).map_err(|m| ValidationErrors::single("file", m))?;
    let name = protection::evidence_name(name);
    let mut tx = app.store.begin().await?;
    let id = tx
        .add_attachment(
            &case.id,
            &By::of(actor),
            kind.code(),
            &name,
            bytes,
            protection::MAX_EVIDENCE_PER_CASE,
        )
        .await?
        .ok_or_else(|| {
            ValidationErrors::single(
                "file",
                format!("每个个案最多{}个附件", protection::MAX_EVIDENCE_PER_CASE),
            )
        })?;
    tx.add_case_event(&case.id, &By::of(actor), "attachment", None, None, &name)
        .await?;
    tx.audit(
        actor,
        "case_attachment_add",
        subject(&case),
        serde_json::json!({"attachment": id, "kind": kind.code(), "size": bytes.len()}),
    )
    .await?;
    tx.commit().await?;
    app.store
        .attachments(&case.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(Error::NotFound)
}

/// Which evidence the actor may read: their own uploads; those who work on the case, the rest —
/// but the reporter's uploads only where the reporter may be seen (a photo's name, a letterhead,
/// the uploader's account name identify the reporter as surely as the report's own form).
fn evidence_reader<'a>(
    actor: &'a Actor,
    report: &'a ReportRow,
    works: bool,
) -> impl Fn(&shouwang_store::protection::Attachment) -> bool + 'a {
    let sees = protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
    move |a| a.user_id == actor.user_id || (works && (sees || a.user_id != report.reporter_user_id))
}

/// A case's evidence as the actor may see it: all of it for those who work on the case (the
/// reporter's only where the reporter may be seen), their own uploads for the reporter.
pub async fn attachments(
    app: &App,
    actor: &Actor,
    case_id: &str,
) -> Result<Vec<shouwang_store::protection::Attachment>> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let may = evidence_reader(actor, &report, works);
    Ok(app
        .store
        .attachments(&case.id)
        .await?
        .into_iter()
        .filter(|a| may(a))
        .collect())
}

/// One piece of evidence with its bytes, for the same readers; each read is audited.
pub async fn attachment(
    app: &App,
    actor: &Actor,
    case_id: &str,
    id: &str,
) -> Result<(shouwang_store::protection::Attachment, Vec<u8>)> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let may = evidence_reader(actor, &report, works);
    let (a, data) = app
        .store
        .attachment(&case.id, id)
        .await?
        .filter(|(a, _)| may(a))
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "case_attachment_read",
        subject(&case),
        serde_json::json!({"attachment": id}),
    )
    .await?;
    tx.commit().await?;
    Ok((a, data))
}

/// The town (or the county) records an assessment of a case it assesses: the four areas, what was
/// found, who took part and the child's own view; the risk level follows and is kept on the case.
pub async fn assess(
    app: &App,
    actor: &Actor,
    case_id: &str,
    input: &shouwang_domain::protection::AssessmentInput,
) -> Result<CaseView> {
    let assessment = input.parse()?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if case.status != CaseStatus::Assessing {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，公安机关通报乡镇后才能评估",
                case.status.label()
            ),
        });
    }
    let mut tx = app.store.begin().await?;
    tx.add_assessment(&case.id, &By::of(actor), &assessment)
        .await?;
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "assessed",
        Some(assessment.risk.code()),
        None,
        "",
    )
    .await?;
    tx.audit(
        actor,
        "case_assess",
        subject(&case),
        serde_json::json!({"risk": assessment.risk.code()}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

async fn referral_views(
    app: &App,
    referrals: Vec<shouwang_store::protection::Referral>,
) -> Result<Vec<ReferralView>> {
    let today = app.store.today();
    let mut out = Vec::with_capacity(referrals.len());
    for r in referrals {
        let day = |t: &Option<String>| {
            t.as_deref()
                .and_then(parse_time)
                .map(shouwang_domain::clock::china_date)
        };
        let overdue = protection::referral_overdue(
            r.status,
            day(&Some(r.referred_at.clone())).unwrap_or(today),
            day(&r.answered_at),
            today,
        );
        let (child_name, village_code) = match app.store.case_with_report(&r.case_id).await? {
            Some((case, report)) => (
                child_name(app, &case, &report).await?,
                case.village.as_str().to_owned(),
            ),
            None => (String::new(), String::new()),
        };
        out.push(ReferralView {
            referral: r,
            overdue,
            child_name,
            village_code,
        });
    }
    Ok(out)
}

/// The town (or the county) refers the child of a case it assesses to a provider of the county
/// (a social-work organisation, a hospital, a legal-aid centre…) for one kind of help; the
/// provider's users are told.
pub async fn refer(
    app: &App,
    actor: &Actor,
    case_id: &str,
    kind: shouwang_domain::protection::HelpKind,
    agency_id: &str,
    note: &str,
) -> Result<CaseView> {
    let note = note_of(note, "note", Some("请写明需要服务机构提供的帮助"))?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if case.status != CaseStatus::Assessing {
        return Err(Error::Conflict {
            field: None,
            message: format!("该个案当前状态为“{}”，不能转介", case.status.label()),
        });
    }
    let county = case
        .town
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| case.town.clone());
    // A service organisation of the case's county (a school is not a provider of help).
    let provider = app
        .store
        .agencies_within(&county)
        .await?
        .into_iter()
        .any(|a| a.id == agency_id && a.kind == "agency");
    if !provider {
        return Err(ValidationErrors::single("agency_id", "请选择本县（市、区）的服务机构").into());
    }
    let mut tx = app.store.begin().await?;
    let id = tx
        .insert_referral(&case.id, kind, agency_id, &actor.user_id, &note)
        .await?;
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "referred",
        Some(kind.code()),
        None,
        &note,
    )
    .await?;
    tx.notify_agency(
        agency_id,
        "referral",
        Some(&case.id),
        "守望：新的转介",
        &format!(
            "乡镇转介了一名儿童，需要“{}”服务，请登录守望接收。",
            kind.label()
        ),
    )
    .await?;
    tx.audit(
        actor,
        "case_refer",
        subject(&case),
        serde_json::json!({"referral": id, "kind": kind.code(), "agency": agency_id}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

/// A provider's referrals (its users'), newest first.
pub async fn provider_referrals(app: &App, actor: &Actor) -> Result<Vec<ReferralView>> {
    let Some(agency) = actor.agency_id.as_deref() else {
        return Err(Error::Forbidden);
    };
    let list = referral_views(app, app.store.referrals_of_agency(agency).await?).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "referrals_read",
        Subject {
            entity: "agency",
            id: Some(agency),
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": list.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// A provider accepts or declines a referral (declining says why), or records what it delivered
/// (`complete` when the help is done).
pub async fn answer_referral(
    app: &App,
    actor: &Actor,
    referral_id: &str,
    action: shouwang_domain::protection::ReferralAction,
    note: &str,
) -> Result<ReferralView> {
    use shouwang_domain::protection::ReferralAction;
    let r = app
        .store
        .referral(referral_id)
        .await?
        .filter(|r| actor.agency_id.as_deref() == Some(r.agency_id.as_str()))
        .ok_or(Error::NotFound)?;
    let note = note_of(
        note,
        "note",
        match action {
            ReferralAction::Decline => Some("拒绝转介请说明原因"),
            ReferralAction::Deliver { .. } => Some("请记录提供的服务"),
            ReferralAction::Accept => None,
        },
    )?;
    let next = protection::referral_transition(r.status, action).map_err(|m| Error::Conflict {
        field: None,
        message: m,
    })?;
    let kind = match action {
        ReferralAction::Accept => "accepted",
        ReferralAction::Decline => "declined",
        ReferralAction::Deliver { complete: false } => "delivered",
        ReferralAction::Deliver { complete: true } => "completed",
    };
    let mut log = r.log.clone();
    log.push(shouwang_store::protection::ReferralEntry {
        at: app
            .store
            .clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        username: actor.username.clone(),
        kind: kind.into(),
        note: note.clone(),
    });
    let (case, _) = app
        .store
        .case_with_report(&r.case_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    if !tx.update_referral(&r, next, &log).await? {
        return Err(Error::Conflict {
            field: None,
            message: "该转介已被他人更新，请刷新后再操作".into(),
        });
    }
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "referral_answered",
        Some(next.code()),
        None,
        &format!("{}：{}", r.kind.label(), note),
    )
    .await?;
    tx.audit(
        actor,
        &format!("referral_{kind}"),
        subject(&case),
        serde_json::json!({"referral": r.id}),
    )
    .await?;
    tx.commit().await?;
    let updated = app.store.referral(&r.id).await?.ok_or(Error::NotFound)?;
    Ok(referral_views(app, vec![updated]).await?.remove(0))
}

/// The service organisations of the actor's county (agencies that are not schools).
pub async fn providers(app: &App, actor: &Actor) -> Result<Vec<shouwang_store::regions::Agency>> {
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| actor.region.clone());
    Ok(app
        .store
        .agencies_within(&county)
        .await?
        .into_iter()
        .filter(|a| a.kind == "agency")
        .collect())
}

/// Civil affairs takes the child of a case into temporary guardianship (未成年人保护法 Art. 92's
/// grounds, Art. 93's placements); while the response or the assessment runs.
pub async fn place(
    app: &App,
    actor: &Actor,
    case_id: &str,
    input: &shouwang_domain::protection::PlacementInput,
) -> Result<CaseView> {
    let record = input.parse(app.store.today())?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if !matches!(case.status, CaseStatus::Responding | CaseStatus::Assessing) {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，不能安排临时监护",
                case.status.label()
            ),
        });
    }
    if app
        .store
        .placements(&case.id)
        .await?
        .iter()
        .any(|p| p.record.end_date.is_none())
    {
        return Err(Error::Conflict {
            field: None,
            message: "该儿童已在临时监护中，请先结束当前临时监护".into(),
        });
    }
    let mut tx = app.store.begin().await?;
    let id = tx.add_placement(&case.id, &By::of(actor), &record).await?;
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "placed",
        Some(record.placement.code()),
        None,
        &format!("{}：{}", record.reason.label(), record.carer),
    )
    .await?;
    tx.audit(
        actor,
        "case_place",
        subject(&case),
        serde_json::json!({"placement": id, "reason": record.reason.code(), "type": record.placement.code()}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

/// Ends a temporary guardianship on the assessment that lets the child return (or says where the
/// child goes).
pub async fn end_placement(
    app: &App,
    actor: &Actor,
    case_id: &str,
    placement_id: &str,
    end_date: Option<&str>,
    assessment: &str,
) -> Result<CaseView> {
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    let p = app
        .store
        .placements(&case.id)
        .await?
        .into_iter()
        .find(|p| p.id == placement_id)
        .ok_or(Error::NotFound)?;
    let ended = p.record.ended(end_date, assessment, app.store.today())?;
    let mut tx = app.store.begin().await?;
    if !tx.end_placement(&p, &ended).await? {
        return Err(Error::Conflict {
            field: None,
            message: "该临时监护已被他人更新，请刷新后再操作".into(),
        });
    }
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "placement_ended",
        None,
        None,
        ended.end_assessment.as_deref().unwrap_or(""),
    )
    .await?;
    tx.audit(
        actor,
        "case_placement_end",
        subject(&case),
        serde_json::json!({"placement": p.id}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

/// One count of the figures, with its label.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Count {
    pub code: String,
    pub label: String,
    pub count: i64,
}

/// The figures of an area over a period (issue 13: reports by situation and reporter, time to
/// receipt and to first action, open and closed cases, placements, referrals, overdue).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    pub region_code: String,
    /// The first and last day counted (China time).
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub reports: i64,
    pub by_situation: Vec<Count>,
    pub by_reporter: Vec<Count>,
    pub by_severity: Vec<Count>,
    pub received: i64,
    pub unreceived: i64,
    pub escalated: i64,
    /// Minutes from filing to receipt: median and 90th percentile of those received.
    pub receipt_minutes_median: Option<i64>,
    pub receipt_minutes_p90: Option<i64>,
    /// Minutes from receipt to the first response step or police record.
    pub first_action_minutes_median: Option<i64>,
    pub cases_open: i64,
    pub cases_closed: i64,
    pub placements: i64,
    pub referrals: Vec<Count>,
    /// Police feedback due and not given.
    pub feedback_overdue: i64,
}

fn minutes_between(a: &str, b: &str) -> Option<i64> {
    Some((parse_time(b)? - parse_time(a)?).num_minutes().max(0))
}

fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() - 1) as f64 * q).round() as usize])
}

/// The figures of the actor's area for the days `from` to `to` (China time), computed from the
/// reports, cases and their records; reading them is audited.
/// Who reported, as a breakdown fit for the reader: the county's civil-affairs staff may know
/// every reporter of their county and read it whole; anyone else reads no cell under
/// [`protection::MIN_REPORTER_CELL`] (a town asking for one day saw "学校 1" and could tie it to
/// the case filed that day). Small cells are summed into one "其他" when that sum is large
/// enough; otherwise the breakdown is not shown.
fn publishable_reporters(cells: Vec<Count>, whole: bool) -> Vec<Count> {
    if whole {
        return cells;
    }
    let (shown, small): (Vec<Count>, Vec<Count>) = cells
        .into_iter()
        .filter(|c| c.count > 0)
        .partition(|c| c.count >= protection::MIN_REPORTER_CELL);
    let other: i64 = small.iter().map(|c| c.count).sum();
    match other {
        0 => shown,
        n if n >= protection::MIN_REPORTER_CELL => {
            let mut shown = shown;
            shown.push(Count {
                code: "other".into(),
                label: "其他".into(),
                count: n,
            });
            shown
        }
        // One small cell and the total would give it away: nothing.
        _ => Vec::new(),
    }
}

pub async fn figures(
    app: &App,
    actor: &Actor,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Figures> {
    if !matches!(
        actor.role,
        Role::Town | Role::County | Role::CountyAdmin | Role::Oversight | Role::Police
    ) {
        return Err(Error::Forbidden);
    }
    if to < from || (to - from).num_days() > 3660 {
        return Err(ValidationErrors::single(
            "to",
            "统计期间应为不超过十年的日期区间，结束不早于开始",
        )
        .into());
    }
    // Days in China (UTC+8) as instants.
    let instant = |d: chrono::NaiveDate| {
        shouwang_domain::clock::china_day_start(d)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let (start, end) = (instant(from), instant(to + Duration::days(1)));
    let rows = app
        .store
        .reports(&ReportFilter {
            area_within: Some(actor.region.clone()),
            filed_from: Some(start.clone()),
            filed_before: Some(end.clone()),
            limit: 100_000,
            with_archived: true,
            ..Default::default()
        })
        .await?;
    let activity = app.store.case_activity(&actor.region, &start, &end).await?;
    let now = app.store.clock().now();
    let mut situations: std::collections::BTreeMap<Situation, i64> = Default::default();
    let mut reporters: std::collections::BTreeMap<String, i64> = Default::default();
    let mut severities: std::collections::BTreeMap<Severity, i64> = Default::default();
    let (mut received, mut escalated, mut open, mut closed, mut feedback_overdue) = (0, 0, 0, 0, 0);
    let mut receipt = Vec::new();
    let mut first_action = Vec::new();
    for (case, report) in &rows {
        for s in &case.situations {
            *situations.entry(*s).or_default() += 1;
        }
        *reporters.entry(report.reporter_role.clone()).or_default() += 1;
        *severities.entry(case.severity).or_default() += 1;
        if let Some(at) = &report.received_at {
            received += 1;
            receipt.extend(minutes_between(&report.filed_at, at));
            if let Some(first) = activity.first_action.get(&case.id) {
                first_action.extend(minutes_between(at, first));
            }
        }
        if report.escalated_at.is_some() {
            escalated += 1;
        }
        if case.status == CaseStatus::Closed {
            closed += 1;
        } else {
            open += 1;
        }
        if report.feedback_at.is_none()
            && report
                .accepted_at
                .as_deref()
                .and_then(parse_time)
                .is_some_and(|t| protection::feedback_due(t.date_naive()) < now.date_naive())
        {
            feedback_overdue += 1;
        }
    }
    receipt.sort_unstable();
    first_action.sort_unstable();
    let result = Figures {
        region_code: actor.region.as_str().to_owned(),
        from,
        to,
        reports: rows.len() as i64,
        by_situation: situations
            .into_iter()
            .map(|(s, count)| Count {
                code: s.code().into(),
                label: s.label().into(),
                count,
            })
            .collect(),
        by_reporter: publishable_reporters(
            reporters
                .into_iter()
                .map(|(r, count)| Count {
                    label: Role::parse(&r).map(|x| x.label()).unwrap_or("").into(),
                    code: r,
                    count,
                })
                .collect(),
            matches!(actor.role, Role::County | Role::CountyAdmin),
        ),
        by_severity: severities
            .into_iter()
            .map(|(s, count)| Count {
                code: s.code().into(),
                label: s.label().into(),
                count,
            })
            .collect(),
        received,
        unreceived: rows.len() as i64 - received,
        escalated,
        receipt_minutes_median: quantile(&receipt, 0.5),
        receipt_minutes_p90: quantile(&receipt, 0.9),
        first_action_minutes_median: quantile(&first_action, 0.5),
        cases_open: open,
        cases_closed: closed,
        placements: activity.placements.values().sum(),
        referrals: shouwang_domain::protection::ReferralStatus::ALL
            .iter()
            .map(|s| Count {
                code: s.code().into(),
                label: s.label().into(),
                count: activity.referrals.get(s.code()).copied().unwrap_or(0),
            })
            .collect(),
        feedback_overdue,
    };
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "case_figures_read",
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"from": from, "to": to}),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// What one intervention step records.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct InterventionInput {
    /// criticism_education, admonition, warning_letter, protection_order, administrative_penalty,
    /// criminal_referral, revocation
    pub measure: String,
    /// The step (see each measure's steps: e.g. warning_letter issued → served → village_told →
    /// follow_up).
    pub stage: String,
    pub note: String,
    /// Revocation's application: the ground (民法典 Art. 36) and the applicant.
    pub ground: Option<String>,
    pub applicant: Option<String>,
}

/// Records a step of a guardianship intervention on a case the actor works on: the measure's
/// steps in order, by the role the law gives it; a revocation's application names its ground and
/// applicant.
pub async fn intervene(
    app: &App,
    actor: &Actor,
    case_id: &str,
    input: &InterventionInput,
) -> Result<CaseView> {
    use shouwang_domain::protection::{Measure, RevocationGround, Stage};
    let measure = Measure::parse(&input.measure)
        .ok_or_else(|| ValidationErrors::single("measure", "请选择干预措施"))?;
    let stage = Stage::parse(&input.stage)
        .ok_or_else(|| ValidationErrors::single("stage", "请选择步骤"))?;
    let note = note_of(
        &input.note,
        "note",
        Some("请填写具体情况（时间、对象、内容）"),
    )?;
    let (ground, applicant) = if measure == Measure::Revocation && stage == Stage::Applied {
        let ground = input
            .ground
            .as_deref()
            .and_then(RevocationGround::parse)
            .ok_or_else(|| {
                ValidationErrors::single(
                    "ground",
                    "请选择撤销监护资格的法定情形（民法典第三十六条）",
                )
            })?;
        let applicant = input
            .applicant
            .as_deref()
            .map(shouwang_domain::text::clean)
            .filter(|a| !a.is_empty() && a.chars().count() <= 100)
            .ok_or_else(|| ValidationErrors::single("applicant", "请填写申请人（100字以内）"))?;
        (Some(ground), Some(applicant))
    } else {
        (None, None)
    };
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !measure.recorded_by(stage, actor.role) {
        return Err(Error::Forbidden);
    }
    if matches!(case.status, CaseStatus::Reported | CaseStatus::Closed) {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，不能记录监护干预",
                case.status.label()
            ),
        });
    }
    let mut tx = app.store.begin().await?;
    let done = tx.recorded_stages(&case.id, measure).await?;
    protection::next_stage(measure, &done, stage)
        .map_err(|m| ValidationErrors::single("stage", m))?;
    tx.add_intervention(
        &case.id,
        &By::of(actor),
        measure,
        stage,
        &shouwang_store::protection::InterventionDetail {
            note: note.clone(),
            ground,
            applicant,
        },
    )
    .await?;
    tx.add_case_event(
        &case.id,
        &By::of(actor),
        "intervention",
        Some(measure.code()),
        Some(stage.code()),
        &note,
    )
    .await?;
    tx.audit(
        actor,
        "case_intervene",
        subject(&case),
        serde_json::json!({"measure": measure.code(), "stage": stage.code()}),
    )
    .await?;
    tx.commit().await?;
    self::case(app, actor, case_id).await
}

/// What the case's records say about revoking the guardian's qualification.
fn revocation_reminders(
    view: &CaseView,
    parents_silent_since: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Vec<String> {
    use shouwang_domain::protection::{GuardianshipFacts, Measure, Stage};
    let facts = GuardianshipFacts {
        placement_since: view
            .placements
            .iter()
            .filter(|p| p.record.end_date.is_none())
            .map(|p| p.record.start_date)
            .min(),
        protection_order_breached: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::ProtectionOrder && i.stage == Stage::Breached),
        criminal_referral: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::CriminalReferral),
        revocation_applied: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::Revocation),
        parents_silent_since,
    };
    protection::revocation_grounds(&facts, today)
        .into_iter()
        .map(|(ground, why)| format!("{why}，符合民法典第三十六条“{}”", ground.label()))
        .collect()
}
