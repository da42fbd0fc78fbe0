//! The protection figures: counts, times, and reporters' kinds without small cells.

use super::*;
use shouwang_domain::audit::AuditAction;

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
        .protection()
        .reports(&ReportFilter {
            area_within: Some(actor.region.clone()),
            filed_from: Some(start.clone()),
            filed_before: Some(end.clone()),
            limit: 100_000,
            with_archived: true,
            ..Default::default()
        })
        .await?;
    let activity = app
        .store
        .protection()
        .case_activity(&actor.region, &start, &end)
        .await?;
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
            receipt.push(report.filed_at.minutes_to(at));
            if let Some(first) = activity.first_action.get(case.id.as_str()) {
                first_action.push(at.minutes_to(first));
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
                .as_ref()
                .is_some_and(|t| protection::feedback_due(t.china_date()) < china_date(now))
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
        AuditAction::CaseFiguresRead,
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
