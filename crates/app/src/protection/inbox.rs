//! The police's and the towns' inboxes, and the counts on a home page.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::{CaseId, ChildId};

/// A report as an inbox lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSummary {
    pub id: String,
    pub case_id: CaseId,
    /// `unreceived` or `received`
    pub status: String,
    pub case_status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub child_name: String,
    pub village_code: String,
    pub receiving_org: String,
    pub filed_at: At,
    pub received_at: Option<At>,
    /// Sent up to the county because nobody received it in time.
    pub escalated: bool,
    /// Unreceived past the escalation delay.
    pub overdue: bool,
    /// The police's 受案/立案 and the feedback due three days after it.
    pub accepted_at: Option<At>,
    pub feedback_at: Option<At>,
    pub feedback_overdue: bool,
    pub reporter: Option<Reporter>,
    pub reporter_confidential: bool,
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
    let rows = app.store.protection().reports(&filter).await?;
    let now = app.store.clock().now();
    // The registered children's names in one query.
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|(case, _)| case.child_id.as_ref().map(ChildId::as_str))
        .collect();
    let names = app.store.children().child_names(&ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut shown_reporters = 0;
    for (case, report) in rows {
        let sees =
            protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
        if sees && report.reporter_user_id != actor.user_id {
            shown_reporters += 1;
        }
        let name = match &case.child_id {
            Some(id) => names.get(id.as_str()).cloned().unwrap_or_default(),
            None => report.body.child_name.clone().unwrap_or_default(),
        };
        out.push(summary(&case, &report, name, sees, now, delay));
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ReportInboxRead,
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

fn summary(
    case: &CaseRow,
    report: &ReportRow,
    child_name: String,
    sees_reporter: bool,
    now: DateTime<Utc>,
    delay: Duration,
) -> ReportSummary {
    let overdue = report.status == "unreceived"
        && protection::escalation_due(report.filed_at.instant(), now, delay);
    // The police's feedback is due some days after acceptance, counted in China's dates.
    let feedback_overdue = report.feedback_at.is_none()
        && report
            .accepted_at
            .as_ref()
            .is_some_and(|t| protection::feedback_due(t.china_date()) < china_date(now));
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
    let rows = app.store.protection().reports(&filter).await?;
    let now = app.store.clock().now();
    let delay = app.policies.escalation;
    let mut c = HomeCounts::default();
    for (case, report) in &rows {
        if report.status == "unreceived" {
            c.unreceived += 1;
            if protection::escalation_due(report.filed_at.instant(), now, delay) {
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
        c.unreported = usize::try_from(app.store.protection().unreported_count(actor, None).await?)
            .unwrap_or(0)
            + unreported_visits(app, actor, None, 1000).await?.len();
    }
    Ok(c)
}
