//! The home page: first the person's work (今日待办, `app::work`), most urgent first, each line a
//! link to where it is done; then, for the levels that oversee (a town and above), the roster's
//! counts and the dashboard: the roster at the last quarters' ends, today's breakdowns, the units
//! below ranked by a chosen figure, this quarter's verification and the units' reports. Every
//! number links to the list behind it, which the list scopes to the viewer. `GET /api/v1/work`
//! answers the same work as JSON, and `/work` lists all of it.

use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use shouwang_app::children::Counts;
use shouwang_app::places::Region;
use shouwang_app::work::{self, Work, WorkQuery};
use shouwang_domain::authz::Role;
use shouwang_domain::child::Schooling;
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::summary_table::COLUMNS;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::work::{WorkItem, WorkKind};

use crate::auth::CurrentUser;
use crate::charts::{Bar, bars, columns};
use crate::error::AppError;
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/work", get(work_page))
        .route("/api/v1/work", get(work_api))
}

#[derive(OpenApi)]
#[openapi(paths(work_api), components(schemas(Work, WorkItem, WorkKind)))]
pub struct ApiDoc;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct WorkParams {
    /// Only lines of this kind (its code, e.g. `visit_due`).
    pub kind: Option<String>,
    /// The most lines returned: 1 to 500, 100 if absent.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

impl WorkParams {
    fn query(&self) -> Result<WorkQuery, AppError> {
        let kind = match self.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(k) => Some(WorkKind::parse(k).ok_or_else(|| {
                ValidationErrors::single(
                    "kind",
                    format!(
                        "kind 应为以下之一：{}",
                        WorkKind::ALL
                            .iter()
                            .map(|k| k.code())
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                )
            })?),
            None => None,
        };
        let limit = match self.limit {
            None => 0,
            Some(n @ 1..=work::MAX_SHOWN) => n,
            Some(_) => {
                return Err(ValidationErrors::single("limit", "limit 应为1到500").into());
            }
        };
        Ok(WorkQuery { kind, limit })
    }
}

/// 今日待办: the signed-in user's open work, most urgent first (late lines, then the soonest due,
/// then lines without a day), each with the page where it is done. `total` counts every line,
/// also those past `limit`.
#[utoipa::path(get, path = "/api/v1/work", params(WorkParams),
    responses((status = 200, body = Work)))]
pub async fn work_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<WorkParams>,
) -> Result<Json<Work>, AppError> {
    Ok(Json(work::of(&state.app, &user.actor, &p.query()?).await?))
}

/// A line of work as a page shows it.
pub struct Line {
    pub item: WorkItem,
    /// 今天, 明天, 12月20日前, or 已逾期.
    pub when: Option<String>,
}

fn lines(items: Vec<WorkItem>, today: chrono::NaiveDate) -> Vec<Line> {
    items
        .into_iter()
        .map(|item| {
            let when = match (item.overdue, item.due_on) {
                (true, Some(d)) => Some(format!("已逾期（{}）", d.format("%-m月%-d日"))),
                (true, None) => Some("已逾期".to_owned()),
                (false, Some(d)) if d == today => Some("今天到期".to_owned()),
                (false, Some(d)) if d == today + chrono::Duration::days(1) => {
                    Some("明天到期".to_owned())
                }
                (false, Some(d)) => Some(format!("{}前", d.format("%-m月%-d日"))),
                (false, None) => None,
            };
            Line { item, when }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "home/work.html")]
struct WorkPage {
    frame: Frame,
    lines: Vec<Line>,
    total: usize,
    kind: String,
    kinds: Vec<Opt>,
}

async fn work_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<WorkParams>,
) -> PageResult {
    let mut q = p.query()?;
    q.limit = work::MAX_SHOWN;
    let w = work::of(&state.app, &user.actor, &q).await?;
    Ok(render(&WorkPage {
        frame: Frame::of(&state, &user).await,
        lines: lines(w.items, state.app.today()),
        total: w.total,
        kind: q.kind.map(|k| k.code().to_owned()).unwrap_or_default(),
        kinds: WorkKind::ALL
            .iter()
            .map(|k| Opt {
                code: k.code().to_owned(),
                label: k.label().to_owned(),
            })
            .collect(),
    }))
}

/// Lines of work the home page shows before "全部待办".
const HOME_LINES: usize = 20;

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
    work: Vec<Line>,
    work_total: usize,
    work_overdue: usize,
    /// A level that oversees (a town and above): the counts and the dashboard follow the work.
    oversees: bool,
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
    let all = work::of(
        &state.app,
        &user.actor,
        &WorkQuery {
            kind: None,
            limit: work::MAX_SHOWN,
        },
    )
    .await?;
    let work_overdue = all.overdue();
    let work_total = all.total;
    let mut shown = all.items;
    shown.truncate(HOME_LINES);
    let oversees = matches!(
        user.actor.role,
        Role::Town | Role::County | Role::CountyAdmin | Role::Oversight
    );
    let counts = shouwang_app::children::counts(&state.app, &user.actor).await?;
    // The counts of cases and reports are the overseers'; the others have their work above.
    let (open_discoveries, cases) = if oversees {
        (
            shouwang_app::discoveries::open_count(&state.app, &user.actor).await?,
            shouwang_app::protection::home_counts(&state.app, &user.actor).await?,
        )
    } else {
        (0, Default::default())
    };
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
        work: lines(shown, state.app.today()),
        work_total,
        work_overdue,
        oversees,
        counts,
        open_discoveries,
        routings_open: if oversees {
            shouwang_app::routings::open_count(&state.app, &user.actor).await?
        } else {
            None
        },
        cases,
        today: state.app.today().to_string(),
        towns,
        charts: if oversees {
            charts(&state, &user, rank).await?
        } else {
            None
        },
    }))
}
