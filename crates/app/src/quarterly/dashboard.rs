//! Period figures and the home page's dashboard.

use super::*;

/// The figures of an area over a period (龙里 003 七(二): 1月1日至8月31日期间的汇总): the registry's
/// registrations, exits by reason and visits, with the protection cases' figures of the same days.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodFigures {
    pub region: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Files registered in the period.
    pub registered: i64,
    /// Files that left the roster in the period, by reason.
    pub exited: Vec<crate::protection::Count>,
    pub visits: i64,
    pub children_visited: i64,
    /// Reports, cases, placements and referrals of the period.
    pub cases: crate::protection::Figures,
}

pub async fn period(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PeriodFigures> {
    use shouwang_domain::lifecycle::ExitReason;
    // The cases' figures check the role and the period, and are audited with it.
    let cases = crate::protection::figures(app, actor, from, to).await?;
    let Scope::Region { code: region } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let instant = |d: NaiveDate| {
        shouwang_domain::clock::china_day_start(d)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let (start, end) = (instant(from), instant(to + chrono::Duration::days(1)));
    let r = app
        .store
        .quarterly()
        .registry_period(&region, (&start, &end), (from, to))
        .await?;
    Ok(PeriodFigures {
        region: region.as_str().to_owned(),
        from,
        to,
        registered: r.registered,
        exited: r
            .exits
            .into_iter()
            .map(|(code, count)| crate::protection::Count {
                label: ExitReason::parse(&code)
                    .map(|e| e.label().to_owned())
                    .unwrap_or_else(|| code.clone()),
                code,
                count,
            })
            .collect(),
        visits: r.visits,
        children_visited: r.children_visited,
        cases,
    })
}

/// What the home page shows of an area beyond its counts: the 汇总表 today and per unit below,
/// the roster at the last quarters' ends (frozen figures where a report was made), and this
/// quarter's verification.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub region: RegionCode,
    pub today: NaiveDate,
    /// Today's 汇总表 of the area.
    pub figures: Figures,
    /// The same per unit below (towns of a county…): code, name, figures.
    pub units: Vec<(String, String, Figures)>,
    /// Children on the roster at each of the last quarters' ends, oldest first, then today:
    /// (label, value, frozen).
    pub trend: Vec<(String, u64, bool)>,
    /// This quarter: children on the roster and those visited or called (counted live, for a
    /// county and below).
    pub verified: (i64, i64),
    /// Above the county the dashboard reads the quarterly reports (DHIS2's way: the aggregate
    /// side from approved data), never the files: which report its figures come from.
    pub source: Option<String>,
}

pub async fn dashboard(app: &App, actor: &Actor) -> Result<Option<Dashboard>> {
    let Scope::Region { code: region } = actor.scope() else {
        return Ok(None);
    };
    let today = app.store.today();
    if region.level() < RegionLevel::County {
        return Ok(Some(reported_dashboard(app, region, today).await?));
    }
    // Counted once by village: the units below (towns of a county, villages of a town) are
    // their villages summed, and the quarter's verification is read against the same counts.
    let c = count_units(app, &region, today, Some(RegionLevel::Village)).await?;
    let mut below: BTreeMap<String, Figures> = BTreeMap::new();
    if let Some(level) = region.level().below() {
        for (village, f) in &c.units {
            below
                .entry(village[..level.code_len().min(village.len())].to_owned())
                .or_default()
                .merge(f);
        }
    }
    let units = unit_names(app, &region)
        .await?
        .into_iter()
        .map(|(code, name)| {
            let f = below.get(&code).copied().unwrap_or_default();
            (code, name, f)
        })
        .collect();
    let mut trend = Vec::new();
    let mut q = Quarter::of(today).previous();
    let mut quarters = Vec::new();
    for _ in 0..4 {
        quarters.push(q);
        q = q.previous();
    }
    quarters.reverse();
    // A quarter without its frozen report is counted from today's files as of its end: from
    // the kept roll-up for a county, in one pass over the roster for a town or a village.
    let mut frozen = Vec::new();
    for q in &quarters {
        frozen.push(frozen_on(app, &region, q.end()).await?);
    }
    let counted = if region.level() > RegionLevel::County {
        let dates: Vec<NaiveDate> = quarters.iter().map(|q| q.end()).collect();
        app.store.quarterly().roster_totals(&region, &dates).await?
    } else {
        Vec::new()
    };
    for (i, (q, report)) in quarters.iter().zip(frozen).enumerate() {
        let label = format!("{}Q{}", q.year % 100, q.q);
        match report {
            Some(r) => trend.push((label, r.figures.first().copied().unwrap_or(0), true)),
            None => {
                let n = match counted.get(i) {
                    Some(n) => u64::try_from(*n).unwrap_or(0),
                    None => count(app, &region, q.end()).await?.0.get(1),
                };
                trend.push((label, n, false));
            }
        }
    }
    trend.push(("今天".to_owned(), c.total.get(1), false));
    let done = app
        .store
        .quarterly()
        .verified_in(&region, RegionLevel::Village, today)
        .await?;
    let verified = c.units.iter().fold((0, 0), |(n, v), (village, f)| {
        let on_roster = i64::try_from(f.get(1)).unwrap_or(i64::MAX);
        let verified = done.get(village).copied().unwrap_or(0).min(on_roster);
        (n + on_roster, v + verified)
    });
    Ok(Some(Dashboard {
        region,
        today,
        figures: c.total,
        units,
        trend,
        verified,
        source: None,
    }))
}

/// The units one level below `region`, by code, with their names.
async fn unit_names(app: &App, region: &RegionCode) -> Result<BTreeMap<String, String>> {
    Ok(match region.level().below() {
        Some(level) => app
            .store
            .regions()
            .regions_within(region, level)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        None => BTreeMap::new(),
    })
}

/// The dashboard of a prefecture or a province, from its quarterly reports: the trend from the
/// reports of the last quarters, the breakdowns and the units from the latest one.
async fn reported_dashboard(app: &App, region: RegionCode, today: NaiveDate) -> Result<Dashboard> {
    let mut quarters = Vec::new();
    let mut q = Quarter::of(today).previous();
    for _ in 0..4 {
        quarters.push(q);
        q = q.previous();
    }
    quarters.reverse();
    let mut trend = Vec::new();
    let mut latest = None;
    for q in &quarters {
        let r = app
            .store
            .quarterly()
            .quarterly_report_of(&region, *q)
            .await?;
        trend.push((
            format!("{}Q{}", q.year % 100, q.q),
            r.as_ref()
                .and_then(|r| r.figures.first().copied())
                .unwrap_or(0),
            r.is_some(),
        ));
        if r.is_some() {
            latest = r;
        }
    }
    let units = unit_names(app, &region)
        .await?
        .into_iter()
        .map(|(code, name)| {
            let f = latest
                .as_ref()
                .and_then(|r| r.units.get(&code))
                .map(|v| Figures::from_values(v))
                .unwrap_or_default();
            (code, name, f)
        })
        .collect();
    Ok(Dashboard {
        figures: latest
            .as_ref()
            .map(|r| Figures::from_values(&r.figures))
            .unwrap_or_default(),
        source: Some(match &latest {
            Some(r) => format!("{}报表（{}）", r.quarter.label(), r.status.label()),
            None => "近四个季度尚无本级报表".to_owned(),
        }),
        region,
        today,
        units,
        trend,
        verified: (0, 0),
    })
}
