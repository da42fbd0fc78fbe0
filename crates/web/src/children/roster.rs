//! The roster (花名册) page: filters, sorting and paging over the children of one's area.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Deserialize;

use shouwang_app::children::{ChildSummary, Page, RosterQuery, Sort, StandingFilter};
use shouwang_app::places::Region;
use shouwang_domain::child::*;
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::input::parse_date;
use shouwang_domain::population::Population;
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render, urlencode};

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListParams {
    /// Region code inside your jurisdiction (town, village…).
    #[param(value_type = Option<crate::schema::DivisionCode>, inline)]
    pub region: Option<String>,
    /// Name, pinyin (full or initials) or full ID number.
    #[param(max_length = 50)]
    pub q: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    #[param(value_type = Option<shouwang_domain::child::GuardianshipType>, inline)]
    pub guardianship_type: Option<String>,
    /// 监护情况评估: good (较好), fair (一般), poor (差)
    #[param(value_type = Option<shouwang_domain::child::GuardianshipAssessment>, inline)]
    pub assessment: Option<String>,
    /// 1: only files with a field of the form left blank (待补充)
    #[param(value_type = Option<crate::schema::OneOrZero>, inline)]
    pub to_complete: Option<String>,
    #[param(value_type = Option<shouwang_domain::eligibility::KeyTargetFlag>, inline)]
    pub flag: Option<String>,
    #[param(value_type = Option<shouwang_domain::eligibility::AgeBand>, inline)]
    pub age_band: Option<String>,
    #[param(value_type = Option<shouwang_domain::child::Schooling>, inline)]
    pub schooling: Option<String>,
    /// on_roster (the default of a list), incomplete, not_eligible, aged_out, exited, all (the
    /// default of a search by `q`: a search finds every child the user may see, and says its state)
    #[param(value_type = Option<crate::schema::RosterStatus>, inline)]
    pub status: Option<String>,
    /// village (default), name, birth_date
    #[param(value_type = Option<crate::schema::RosterSort>, inline)]
    pub sort: Option<String>,
    /// Reference date (default today)
    #[param(value_type = Option<chrono::NaiveDate>, inline)]
    pub on: Option<String>,
    /// An import's id: only the files that import wrote (created or updated), whatever their
    /// state unless `status` says
    #[param(max_length = 64)]
    pub import: Option<String>,
    /// The population listed: left_behind (农村留守儿童, the default), in_difficulty (困境儿童),
    /// de_facto_unsupported (事实无人抚养儿童). Within another population, `status` may be
    /// on_roster, aged_out, exited or all, and incomplete for de_facto_unsupported (its files that
    /// leave a parent's situation blank).
    #[param(value_type = Option<shouwang_domain::population::Population>, inline)]
    pub population: Option<String>,
}

pub(super) fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses list filters, naming each bad one.
pub fn roster_query(p: &ListParams) -> Result<RosterQuery, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let mut q = RosterQuery {
        page: p.page.unwrap_or(1),
        per_page: p.per_page.unwrap_or(20),
        q: p.q.clone(),
        ..RosterQuery::default()
    };
    if let Some(r) = nonempty(&p.region) {
        match RegionCode::parse(r) {
            Ok(c) => q.region = Some(c),
            Err(err) => e.add("region", err.to_string()),
        }
    }
    macro_rules! choice {
        ($field:ident, $name:literal, $parse:expr) => {
            if let Some(v) = nonempty(&p.$field) {
                match $parse(v) {
                    Some(x) => q.$field = Some(x),
                    None => e.add($name, format!("“{v}”不是可选值")),
                }
            }
        };
    }
    choice!(
        guardianship_type,
        "guardianship_type",
        GuardianshipType::parse
    );
    choice!(assessment, "assessment", GuardianshipAssessment::parse);
    if let Some(v) = nonempty(&p.to_complete) {
        match shouwang_domain::input::parse_bool(v) {
            Some(b) => q.to_complete = b,
            None => e.add("to_complete", format!("“{v}”不是可选值（1 或 0）")),
        }
    }
    choice!(flag, "flag", KeyTargetFlag::parse);
    choice!(age_band, "age_band", AgeBand::parse);
    choice!(schooling, "schooling", Schooling::parse);
    if let Some(v) = nonempty(&p.status) {
        match StandingFilter::parse(v) {
            Some(s) => q.standing = s,
            None => e.add(
                "status",
                format!(
                    "“{v}”不是可选值（on_roster、incomplete、not_eligible、aged_out、exited、all）"
                ),
            ),
        }
    }
    if let Some(v) = nonempty(&p.population) {
        match Population::parse(v) {
            Some(Population::LeftBehind) => {}
            Some(x) => q.population = Some(x),
            None => e.add(
                "population",
                format!("“{v}”不是可选值（left_behind、in_difficulty、de_facto_unsupported）"),
            ),
        }
    }
    // Another population has no list of non-members (a blank is "未认定", not "不属于"), and only
    // 事实无人抚养 can be undecided.
    match (q.population, q.standing) {
        (Some(_), StandingFilter::NotEligible) => e.add(
            "status",
            "not_eligible（不属于）只用于农村留守儿童名单；其他人群只列出已认定的儿童",
        ),
        (Some(Population::InDifficulty), StandingFilter::Incomplete) => e.add(
            "status",
            "困境儿童按已填写的事实认定，没有“信息不全”名单；请用 to_complete=1 查看待补充的档案",
        ),
        _ => {}
    }
    // A search looks for one child: it finds them whatever the state of their file (信息不全,
    // exited…), which each row says; a list without one shows the roster.
    if let Some(v) = nonempty(&p.import) {
        if v.len() <= 64 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            q.import = Some(v.to_owned());
        } else {
            e.add("import", "导入编号格式不正确");
        }
    }
    // So does the list of one import's files: every row it wrote, 信息不全 or not.
    if nonempty(&p.status).is_none() && (nonempty(&p.q).is_some() || q.import.is_some()) {
        q.standing = StandingFilter::All;
    }
    if let Some(v) = nonempty(&p.sort) {
        match Sort::parse(v) {
            Some(s) => q.sort = s,
            None => e.add(
                "sort",
                format!("“{v}”不是可选值（village、name、birth_date）"),
            ),
        }
    }
    if let Some(v) = nonempty(&p.on) {
        match parse_date(v) {
            Some(d) => q.on = Some(d),
            None => e.add("on", format!("“{v}”不是有效日期")),
        }
    }
    if q.per_page > 200 {
        e.add("per_page", "每页最多200条");
    }
    e.into_result(q)
}

#[derive(Template)]
#[template(path = "children/roster.html")]
pub(super) struct RosterPage {
    frame: Frame,
    notice: Option<String>,
    table: RosterTable,
    regions: Vec<Region>,
    guardianship_types: Vec<Opt>,
    assessments: Vec<Opt>,
    flags: Vec<Opt>,
    age_bands: Vec<Opt>,
    schoolings: Vec<Opt>,
    standings: Vec<Opt>,
    populations: Vec<Opt>,
    sorts: Vec<Opt>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "children/roster_table.html")]
pub(super) struct RosterTable {
    /// Tick boxes and the 为所选儿童填写 form.
    can_fill: bool,
    /// Each name links to the child's file.
    can_open: bool,
    csrf: String,
    page: Page<ChildSummary>,
    params: ListParams,
    pages: u32,
    village_names: std::collections::HashMap<String, String>,
    query_base: String,
}

impl RosterTable {
    fn p(&self, name: &str) -> String {
        let v = match name {
            "region" => &self.params.region,
            "q" => &self.params.q,
            "guardianship_type" => &self.params.guardianship_type,
            "assessment" => &self.params.assessment,
            "to_complete" => &self.params.to_complete,
            "flag" => &self.params.flag,
            "age_band" => &self.params.age_band,
            "schooling" => &self.params.schooling,
            "status" => &self.params.status,
            "sort" => &self.params.sort,
            "import" => &self.params.import,
            "population" => &self.params.population,
            _ => &None,
        };
        v.clone().unwrap_or_default()
    }
    /// The population listed, in words (the left-behind roster when none is chosen).
    fn population_label(&self) -> &'static str {
        nonempty(&self.params.population)
            .and_then(Population::parse)
            .unwrap_or(Population::LeftBehind)
            .label()
    }
    fn village(&self, code: &str) -> String {
        self.village_names
            .get(code.trim_end_matches("000"))
            .cloned()
            .unwrap_or_else(|| place_name(code))
    }
}

pub(super) fn query_base(p: &ListParams) -> String {
    let mut pairs = Vec::new();
    for (k, v) in [
        ("region", &p.region),
        ("q", &p.q),
        ("guardianship_type", &p.guardianship_type),
        ("assessment", &p.assessment),
        ("to_complete", &p.to_complete),
        ("flag", &p.flag),
        ("age_band", &p.age_band),
        ("schooling", &p.schooling),
        ("status", &p.status),
        ("sort", &p.sort),
        ("import", &p.import),
        ("population", &p.population),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    }
    pairs.join("&")
}

pub async fn roster(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> PageResult {
    roster_view(
        &state,
        &user,
        headers.contains_key("hx-request"),
        p,
        None,
        vec![],
    )
    .await
}

/// 为所选儿童填写: the 待补充 list's form completes the ticked files with `字段=值` (one a line),
/// then shows the list again with what was done, or what was wrong.
pub async fn fill_submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let ids: Vec<shouwang_domain::ids::ChildId> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .take(shouwang_app::children::MAX_SELECTED + 1)
        .map(|(_, v)| shouwang_domain::ids::ChildId::new(v.clone()))
        .collect();
    let specs: Vec<String> = crate::ui::form_field(&pairs, "fill")
        .map(|f| {
            f.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(20)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let p = ListParams {
        to_complete: Some("1".into()),
        ..ListParams::default()
    };
    match shouwang_app::children::fill_selected(&state.app, &user.actor, &ids, &specs).await {
        Ok(done) => {
            let mut notice = format!("已为 {} 名儿童填写：{}", done.filled, specs.join("；"));
            if done.unchanged > 0 {
                notice.push_str(&format!("（另有 {} 名已填写该项，未改动）", done.unchanged));
            }
            roster_view(&state, &user, false, p, Some(notice), vec![]).await
        }
        Err(shouwang_app::Error::Validation(v)) => {
            let errors = v.0.iter().map(|f| f.message.clone()).collect();
            let page = roster_view(&state, &user, false, p, None, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn roster_view(
    state: &AppState,
    user: &CurrentUser,
    hx: bool,
    p: ListParams,
    notice: Option<String>,
    mut extra_errors: Vec<String>,
) -> PageResult {
    let (page, mut errors) = match roster_query(&p) {
        Ok(q) => (
            shouwang_app::children::roster(&state.app, &user.actor, &q).await?,
            vec![],
        ),
        Err(e) => (
            Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
            e.0.iter().map(|f| f.message.clone()).collect(),
        ),
    };
    // The area picker drills down: the way from the user's area to the one chosen, then the
    // units one level below it — never every village of a province (that was a page of 1 MB).
    errors.append(&mut extra_errors);
    let regions = if user.actor.agency_id.is_none() {
        area_choices(state, &user.actor.region, p.region.as_deref()).await?
    } else {
        vec![]
    };
    let divisions = shouwang_domain::region::Divisions::shipped();
    let village_names = page
        .items
        .iter()
        .filter_map(|c| {
            let code = RegionCode::parse(&c.village_code).ok()?;
            let name = divisions.get(&code).ok()?.name.to_owned();
            Some((code.as_str().to_owned(), name))
        })
        .collect();
    let pages = (page.total as u32).div_ceil(page.per_page.max(1)).max(1);
    // The 待补充 list completes many files at once (those who edit files).
    let can_fill = user.actor.may(shouwang_domain::authz::Action::EditChild)
        && p.to_complete
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "0");
    // A list sent to a unit that does not read the files (the county's 卫计 and 妇联, 龙里 003
    // 五(一)1) names the children without linking their files.
    let can_open = user.actor.may(shouwang_domain::authz::Action::ReadChild)
        && !matches!(user.actor.scope(), shouwang_domain::authz::Scope::CasesOnly)
        && !shouwang_app::places::receives_lists(&state.app, &user.actor).await?;
    let table = RosterTable {
        can_fill,
        can_open,
        csrf: user.csrf.clone(),
        query_base: query_base(&p),
        page,
        params: p,
        pages,
        village_names,
    };
    if hx {
        return Ok(render(&table));
    }
    Ok(render(&RosterPage {
        frame: Frame::of(state, user).await,
        notice,
        table,
        regions,
        guardianship_types: opts(
            GuardianshipType::ALL,
            GuardianshipType::code,
            GuardianshipType::label,
        ),
        assessments: opts(
            GuardianshipAssessment::ALL,
            GuardianshipAssessment::code,
            GuardianshipAssessment::label,
        ),
        flags: opts(
            KeyTargetFlag::ALL,
            KeyTargetFlag::code,
            KeyTargetFlag::label,
        ),
        age_bands: opts(AgeBand::ALL, AgeBand::code, AgeBand::label),
        schoolings: opts(Schooling::ALL, Schooling::code, Schooling::label),
        standings: vec![
            // No status chosen: the roster for a list, every state for a search by name (the
            // live search sends the select's value with each keystroke).
            Opt {
                code: "".into(),
                label: "在册（搜索姓名时不限）".into(),
            },
            Opt {
                code: "on_roster".into(),
                label: "仅在册".into(),
            },
            Opt {
                code: "incomplete".into(),
                label: "信息不全待补充".into(),
            },
            Opt {
                code: "not_eligible".into(),
                label: "已登记但不属于留守儿童".into(),
            },
            Opt {
                code: "aged_out".into(),
                label: "已满16周岁待退出".into(),
            },
            Opt {
                code: "exited".into(),
                label: "已退出".into(),
            },
            Opt {
                code: "all".into(),
                label: "全部".into(),
            },
        ],
        // 农村留守儿童 first, under the empty value: the default list.
        populations: Population::ALL
            .iter()
            .map(|p| Opt {
                code: if *p == Population::LeftBehind {
                    String::new()
                } else {
                    p.code().to_owned()
                },
                label: p.label().to_owned(),
            })
            .collect(),
        sorts: vec![
            Opt {
                code: "village".into(),
                label: "按村排序".into(),
            },
            Opt {
                code: "name".into(),
                label: "按姓名排序".into(),
            },
            Opt {
                code: "birth_date".into(),
                label: "按出生日期排序".into(),
            },
        ],
        errors,
    }))
}

/// The picker's choices: the way from `mine` down to the chosen area (each a step), then the
/// units one level below the chosen area (or below `mine`), indented by depth.
async fn area_choices(
    state: &AppState,
    mine: &RegionCode,
    chosen: Option<&str>,
) -> Result<Vec<Region>, crate::error::AppError> {
    let chosen = chosen
        .and_then(|c| RegionCode::parse(c.trim()).ok())
        .filter(|c| mine.contains(c))
        .unwrap_or_else(|| mine.clone());
    let indent = |depth: usize, name: &str| format!("{}{name}", "　".repeat(depth));
    let mut out = Vec::new();
    let mut way = Vec::new();
    let mut at = Some(chosen.clone());
    while let Some(c) = at {
        if c == *mine || !mine.contains(&c) {
            break;
        }
        at = c.parent();
        way.push(c);
    }
    way.reverse();
    let divisions = shouwang_domain::region::Divisions::shipped();
    for (depth, c) in way.iter().enumerate() {
        out.push(Region {
            code: c.as_str().to_owned(),
            name: indent(
                depth,
                divisions.get(c).map(|d| d.name).unwrap_or(c.as_str()),
            ),
            level: "step".into(),
        });
    }
    if let Some(below) = chosen.level().below() {
        for r in shouwang_app::places::regions_within(&state.app, &chosen, below).await? {
            out.push(Region {
                name: indent(way.len(), &r.name),
                ..r
            });
        }
    }
    Ok(out)
}
