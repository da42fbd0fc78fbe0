//! The quarter's overview and the 定期通报 ranking.

use super::*;
use shouwang_domain::audit::AuditAction;

/// A unit and where its report of the quarter stands.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitReport {
    pub region: String,
    pub name: String,
    /// None: not made yet.
    pub report_id: Option<String>,
    pub status: Option<ReportStatus>,
    pub submitted_at: Option<String>,
}

/// The reports of a quarter that concern the actor: their own unit's, and those of the units
/// directly below it that report to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarterOverview {
    pub quarter: String,
    pub quarter_label: String,
    pub own: Option<UnitReport>,
    pub below: Vec<UnitReport>,
}

pub async fn overview(app: &App, actor: &Actor, quarter: Option<&str>) -> Result<QuarterOverview> {
    let today = app.store.today();
    let q = match quarter.filter(|q| !q.trim().is_empty()) {
        Some(s) => parse_quarter(s, today)?,
        // The quarter just ended is the one being reported in its first month; else this one.
        None => {
            let now = Quarter::of(today);
            if today < now.start() + chrono::Duration::days(30) {
                now.previous()
            } else {
                now
            }
        }
    };
    let Scope::Region { code: mine } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let reports = app
        .store
        .quarterly()
        .quarterly_reports_within(&mine, q)
        .await?;
    let unit = |code: &str, name: String| {
        let r = reports.iter().find(|r| r.region.as_str() == code);
        UnitReport {
            region: code.to_owned(),
            name,
            report_id: r.map(|r| r.id.clone()),
            status: r.map(|r| r.status),
            submitted_at: r.and_then(|r| r.submitted_at.clone()),
        }
    };
    let own = match reporting_level(&mine) {
        Some(_) => Some(unit(
            mine.as_str(),
            app.store
                .regions()
                .region(&mine)
                .await?
                .map(|r| r.name)
                .unwrap_or_default(),
        )),
        None => None,
    };
    let below = match reporting_level(&mine).filter(|l| *l != RegionLevel::Village) {
        Some(level) => app
            .store
            .regions()
            .regions_within(&mine, level)
            .await?
            .into_iter()
            .map(|r| unit(&r.code, r.name))
            .collect(),
        None => vec![],
    };
    Ok(QuarterOverview {
        quarter: q.to_string(),
        quarter_label: q.label(),
        own,
        below,
    })
}

/// One unit on the 定期通报 ranking: its report's timeliness and state, and its children's
/// verification this quarter.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedUnit {
    pub region: String,
    pub name: String,
    /// Whether the unit reports (towns and above); a town's villages only verify.
    pub reports: bool,
    pub report_id: Option<String>,
    pub status: Option<ReportStatus>,
    pub due: Option<NaiveDate>,
    /// The first submission (a report returned and submitted again keeps its first date).
    pub first_submitted: Option<NaiveDate>,
    pub timeliness: Option<quarterly::Timeliness>,
    /// How many times the level above returned it.
    pub returned: usize,
    /// Children on the roster, and those visited or called this quarter (每季度核查).
    pub children: i64,
    pub verified: i64,
    pub verified_percent: u32,
}

/// The quarter's 定期通报 for the units below the actor: on time first, then not yet due, late,
/// missing; within each, the better verified first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ranking {
    pub region: String,
    pub quarter: String,
    pub quarter_label: String,
    pub units: Vec<RankedUnit>,
}

pub async fn ranking(app: &App, actor: &Actor, quarter: Option<&str>) -> Result<Ranking> {
    let Scope::Region { code: mine } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let today = app.store.today();
    let q = match quarter.filter(|q| !q.trim().is_empty()) {
        Some(s) => parse_quarter(s, today)?,
        None => Quarter::of(today),
    };
    let Some(below) = mine.level().below() else {
        return Err(Error::Forbidden);
    };
    let units = app.store.regions().regions_within(&mine, below).await?;
    let reports = app
        .store
        .quarterly()
        .quarterly_reports_within(&mine, q)
        .await?;
    let on = q.end().min(today);
    let verification = app
        .store
        .quarterly()
        .verification_counts(&mine, below, q.start(), on)
        .await?;
    let deadlines = app.policies.report_deadlines;
    // Each unit's deadline is its county's (`domain::settings`): read once per county.
    let mut county_deadlines: std::collections::HashMap<String, quarterly::Deadlines> =
        Default::default();
    let mut out = Vec::with_capacity(units.len());
    for u in units {
        let code = RegionCode::parse(&u.code).map_err(|e| Error::Internal(e.to_string()))?;
        let reports_here = reporting_level(&code).is_some();
        let report = reports.iter().find(|r| r.region == code);
        let (first_submitted, returned) = match report {
            Some(r) => {
                let events = app.store.quarterly().quarterly_report_events(&r.id).await?;
                (
                    events
                        .iter()
                        .filter(|e| e.kind == "submitted")
                        .map(|e| e.at.china_date())
                        .min(),
                    events.iter().filter(|e| e.kind == "returned").count(),
                )
            }
            None => (None, 0),
        };
        // A town's and a county's deadlines are their county's (`domain::settings`).
        let due = match reports_here {
            true => {
                let county = code
                    .at_level(RegionLevel::County)
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                let d = match county_deadlines.get(&county) {
                    Some(d) => *d,
                    None => {
                        let d = app
                            .store
                            .counties()
                            .county_settings(&code)
                            .await?
                            .deadlines(deadlines);
                        county_deadlines.insert(county, d);
                        d
                    }
                };
                Some(d.due(&code, q))
            }
            false => None,
        };
        let (children, verified) = verification
            .iter()
            .find(|(c, _, _)| *c == u.code)
            .map(|(_, n, v)| (*n, *v))
            .unwrap_or((0, 0));
        out.push(RankedUnit {
            timeliness: due.map(|d| quarterly::timeliness(d, first_submitted, today)),
            region: u.code,
            name: u.name,
            reports: reports_here,
            report_id: report.map(|r| r.id.clone()),
            status: report.map(|r| r.status),
            due,
            first_submitted,
            returned,
            children,
            verified,
            verified_percent: if children == 0 {
                100
            } else {
                u32::try_from(verified * 100 / children).unwrap_or(100)
            },
        });
    }
    let rank = |t: Option<quarterly::Timeliness>| match t {
        Some(quarterly::Timeliness::OnTime) => 0,
        Some(quarterly::Timeliness::Pending) | None => 1,
        Some(quarterly::Timeliness::Late) => 2,
        Some(quarterly::Timeliness::Missing) => 3,
    };
    out.sort_by(|a, b| {
        rank(a.timeliness)
            .cmp(&rank(b.timeliness))
            .then(a.first_submitted.cmp(&b.first_submitted))
            .then(b.verified_percent.cmp(&a.verified_percent))
            .then(a.region.cmp(&b.region))
    });
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::RankingRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(mine.as_str()),
        },
        serde_json::json!({"quarter": q.to_string()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ranking {
        region: mine.as_str().to_owned(),
        quarter: q.to_string(),
        quarter_label: q.label(),
        units: out,
    })
}
