//! The home page: the roster's counts for the user's area, open cases and overdue work, and —
//! for a region's users — the dashboard: the roster at the last quarters' ends, today's
//! breakdowns, the units below ranked by a chosen figure, this quarter's verification and the
//! units' reports. Every number links to the list behind it, which the list scopes to the viewer.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use shouwang_app::children::Counts;
use shouwang_app::places::Region;
use shouwang_domain::child::Schooling;
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::summary_table::COLUMNS;

use crate::auth::CurrentUser;
use crate::charts::{Bar, bars, columns};
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// The dashboard's charts, drawn.
struct Charts {
    trend: String,
    age: String,
    schooling: String,
    guardianship: String,
    health: String,
    units: Option<String>,
    /// This quarter's verification: children, verified, percent (a county and below).
    verified: (i64, i64, i64),
    /// Above the county: the quarterly report the figures come from.
    source: Option<String>,
    /// The figure the units are ranked by, and the choices.
    rank: usize,
    rank_options: Vec<Opt>,
    /// The units' reports of the quarter being reported: how many in each state, of how many.
    reports: Option<(String, usize, usize, usize)>,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    frame: Frame,
    counts: Counts,
    open_discoveries: i64,
    /// Open routings to the police and the departments (sent from here, or received).
    routings_open: Option<i64>,
    cases: shouwang_app::protection::HomeCounts,
    today: String,
    towns: Vec<Region>,
    charts: Option<Charts>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HomeParams {
    /// The 汇总表 column the units below are ranked by (1–32).
    rank: Option<usize>,
}

fn bar(label: &str, value: u64, href: Option<String>) -> Bar {
    Bar {
        label: label.to_owned(),
        value,
        href,
    }
}

async fn charts(
    state: &AppState,
    user: &CurrentUser,
    rank: usize,
) -> Result<Option<Charts>, crate::error::AppError> {
    let Some(d) = shouwang_app::quarterly::dashboard(&state.app, &user.actor).await? else {
        return Ok(None);
    };
    let f = &d.figures;
    let trend: Vec<Bar> = d
        .trend
        .iter()
        .map(|(label, value, _)| bar(label, *value, Some("/quarterly".into())))
        .collect();
    let age: Vec<Bar> = [
        (AgeBand::Infant, 2),
        (AgeBand::School, 5),
        (AgeBand::Teen, 8),
    ]
    .iter()
    .map(|(band, col)| {
        bar(
            band.label(),
            f.get(*col),
            Some(format!("/children?age_band={}", band.code())),
        )
    })
    .collect();
    let schooling: Vec<Bar> = Schooling::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            bar(
                s.label(),
                f.get(11 + i),
                Some(format!("/children?schooling={}", s.code())),
            )
        })
        .collect();
    // The 汇总表's own words, shortened to fit beside a bar on a phone.
    let guardianship: Vec<Bar> = [
        (19, "父母均外出"),
        (20, "一方外出一方无能力"),
        (26, "（外）祖父母照料"),
        (27, "其他亲属照料"),
        (28, "亲友邻居照料"),
        (29, "未委托照料人"),
    ]
    .iter()
    .map(|(c, label)| bar(label, f.get(*c), None))
    .collect();
    let health = vec![
        bar("健康", f.get(30), None),
        bar(
            "残疾",
            f.get(31),
            Some(format!("/children?flag={}", KeyTargetFlag::Disabled.code())),
        ),
        bar(
            "患病",
            f.get(32),
            Some(format!(
                "/children?flag={}",
                KeyTargetFlag::SeriouslyIll.code()
            )),
        ),
    ];
    let units = (!d.units.is_empty()).then(|| {
        let mut ranked: Vec<&(String, String, shouwang_domain::summary_table::Figures)> =
            d.units.iter().collect();
        ranked.sort_by_key(|(code, _, f)| (std::cmp::Reverse(f.get(rank)), code.clone()));
        let items: Vec<Bar> = ranked
            .iter()
            .map(|(code, name, f)| bar(name, f.get(rank), Some(format!("/children?region={code}"))))
            .collect();
        bars(&format!("下级单位：{}", COLUMNS[rank - 1].label), &items)
    });
    let (children, verified) = d.verified;
    let reports =
        if d.units.is_empty() || d.region.level() > shouwang_domain::region::RegionLevel::County {
            None
        } else {
            let o = shouwang_app::quarterly::overview(&state.app, &user.actor, None).await?;
            let count = |s: shouwang_domain::quarterly::ReportStatus| {
                o.below.iter().filter(|u| u.status == Some(s)).count()
            };
            Some((
                o.quarter_label,
                count(shouwang_domain::quarterly::ReportStatus::Approved),
                count(shouwang_domain::quarterly::ReportStatus::Submitted),
                o.below.len(),
            ))
        };
    Ok(Some(Charts {
        trend: columns("在册儿童（季度末）", &trend),
        age: bars("年龄段", &age),
        schooling: bars("就学情况", &schooling),
        guardianship: bars("监护情况", &guardianship),
        health: bars("身体状况", &health),
        units,
        verified: (
            children,
            verified,
            if children == 0 {
                100
            } else {
                verified * 100 / children
            },
        ),
        source: d.source.clone(),
        rank,
        rank_options: COLUMNS
            .iter()
            .map(|c| Opt {
                code: c.number.to_string(),
                label: if c.group == "合计" {
                    c.label.to_owned()
                } else {
                    format!("{} {}", c.group, c.label)
                },
            })
            .collect(),
        reports,
    }))
}

async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<HomeParams>,
) -> PageResult {
    let counts = shouwang_app::children::counts(&state.app, &user.actor).await?;
    let open_discoveries = shouwang_app::discoveries::open_count(&state.app, &user.actor).await?;
    let cases = shouwang_app::protection::home_counts(&state.app, &user.actor).await?;
    let towns = if user.actor.agency_id.is_none() {
        shouwang_app::places::child_regions(&state.app, &user.actor.region).await?
    } else {
        vec![]
    };
    let rank = p
        .rank
        .filter(|r| (1..=COLUMNS.len()).contains(r))
        .unwrap_or(1);
    Ok(render(&HomePage {
        frame: Frame::of(&state, &user).await,
        counts,
        open_discoveries,
        routings_open: shouwang_app::routings::open_count(&state.app, &user.actor).await?,
        cases,
        today: state.app.today().to_string(),
        towns,
        charts: charts(&state, &user, rank).await?,
    }))
}
