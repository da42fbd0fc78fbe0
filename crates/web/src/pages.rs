//! The Chinese web UI. Server-rendered pages; htmx swaps the roster table and checks the ID number
//! as it is typed. Every form that changes state carries the session's CSRF token.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::{Map, Value};

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::*;
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::history::field_label;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::ChildInput;
use shouwang_domain::lifecycle::ExitReason;
use shouwang_domain::person::ETHNICITIES;
use shouwang_domain::region::{Divisions, RegionLevel};
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::children::{ChildRecord, EditMode, HistoryEntry};
use shouwang_store::discovery::{DiscoveryInput, DiscoveryReport};
use shouwang_store::regions::Region;
use shouwang_store::roster::{ChildSummary, Counts, Page};
use shouwang_store::users::LoginOutcome;

use crate::AppState;
use crate::api::{ListParams, parse_exit, roster_query, session_cookie};
use crate::auth::{CurrentUser, SESSION_COOKIE};
use crate::error::{AppError, PageError};

type PageResult = Result<Response, PageError>;

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "页面生成失败",
            )
                .into_response()
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/children", get(roster).post(register_submit))
        .route("/children/new", get(register_page))
        .route("/children/check-id", get(check_id))
        .route("/children/{id}", get(child_page))
        .route("/children/{id}/history", get(history_page))
        .route("/children/{id}/edit", get(edit_page).post(edit_submit))
        .route("/children/{id}/exit", post(exit_submit))
        .route("/children/{id}/transfer", post(transfer_submit))
        .route("/discoveries", get(discoveries_page).post(discovery_submit))
        .route("/discoveries/new", get(discovery_new))
        .route("/discoveries/{id}/close", post(discovery_close))
        .route("/audit", get(audit_page))
        .route("/users", get(users_page).post(users_submit))
        .route("/static/app.css", get(css))
        .route("/static/htmx.min.js", get(htmx))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/app.css"),
    )
}
async fn htmx() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=604800"),
        ],
        include_str!("../static/htmx.min.js"),
    )
}

/// What every page's frame needs.
pub struct Frame {
    pub username: String,
    pub role_label: String,
    pub org_name: String,
    pub csrf: String,
    pub can_register: bool,
    pub can_handle_discovery: bool,
    pub can_audit: bool,
    pub can_export: bool,
    pub can_reconcile: bool,
    /// Works 比对 items assigned to their unit.
    pub has_reconcile_tasks: bool,
}

impl Frame {
    pub async fn of(state: &AppState, user: &CurrentUser) -> Frame {
        let a = &user.actor;
        let org_name = match &a.agency_id {
            Some(id) => state.store.agency_name(id).await.ok().flatten(),
            None => None,
        }
        .unwrap_or_else(|| place_name(a.region.as_str()));
        Frame {
            username: a.username.clone(),
            role_label: a.role.label().to_owned(),
            org_name,
            csrf: user.csrf.clone(),
            can_register: a.may(Action::RegisterChild),
            can_handle_discovery: a.may(Action::HandleDiscovery),
            can_audit: a.may(Action::ReadAudit),
            can_export: a.may(Action::Export),
            can_reconcile: a.may(Action::Reconcile),
            has_reconcile_tasks: matches!(
                a.role,
                shouwang_domain::authz::Role::Town
                    | shouwang_domain::authz::Role::School
                    | shouwang_domain::authz::Role::Police
            ),
        }
    }
}

/// "贵州省 黔南州 龙里县 冠山街道" style name of a code, from the shipped table.
fn place_name(code: &str) -> String {
    shouwang_domain::region::RegionCode::parse(code)
        .ok()
        .and_then(|c| Divisions::shipped().lineage(&c).ok())
        .map(|l| {
            l.iter()
                .skip(if l.len() > 2 { 2 } else { 0 })
                .map(|d| d.name)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| code.to_owned())
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

// ---------- login ----------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    username: String,
}

async fn login_page() -> Response {
    render(&LoginPage {
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> PageResult {
    crate::auth::check_same_site(&headers)?;
    let outcome = state.store.login(f.username.trim(), &f.password).await?;
    Ok(match outcome {
        LoginOutcome::Ok { session_token, .. } => (
            jar.add(session_cookie(&state, session_token)),
            Redirect::to("/"),
        )
            .into_response(),
        LoginOutcome::BadCredentials => (
            axum::http::StatusCode::UNAUTHORIZED,
            render(&LoginPage {
                error: Some("用户名或密码错误".into()),
                username: f.username,
            }),
        )
            .into_response(),
        LoginOutcome::Throttled => (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            render(&LoginPage {
                error: Some("登录失败次数过多，请15分钟后再试".into()),
                username: f.username,
            }),
        )
            .into_response(),
    })
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    if let Some(t) = &user.session_token {
        state.store.logout(t).await?;
    }
    Ok((
        jar.remove(axum_extra::extract::cookie::Cookie::from(SESSION_COOKIE)),
        Redirect::to("/login"),
    )
        .into_response())
}

// ---------- home ----------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    counts: Counts,
    today: String,
    towns: Vec<Region>,
}

async fn home(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let counts = state.store.counts(&user.actor).await?;
    let towns = if user.actor.agency_id.is_none() {
        state.store.child_regions(&user.actor.region).await?
    } else {
        vec![]
    };
    Ok(render(&HomePage {
        frame: Frame::of(&state, &user).await,
        counts,
        today: state.store.today().to_string(),
        towns,
    }))
}

// ---------- roster ----------

pub struct Opt {
    pub code: String,
    pub label: String,
}

fn opts<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Opt> {
    all.iter()
        .map(|v| Opt {
            code: code(*v).to_owned(),
            label: label(*v).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    frame: Frame,
    table: RosterTable,
    regions: Vec<Region>,
    guardianship_types: Vec<Opt>,
    flags: Vec<Opt>,
    age_bands: Vec<Opt>,
    schoolings: Vec<Opt>,
    standings: Vec<Opt>,
    sorts: Vec<Opt>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "roster_table.html")]
struct RosterTable {
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
            "flag" => &self.params.flag,
            "age_band" => &self.params.age_band,
            "schooling" => &self.params.schooling,
            "status" => &self.params.status,
            "sort" => &self.params.sort,
            _ => &None,
        };
        v.clone().unwrap_or_default()
    }
    fn village(&self, code: &str) -> String {
        self.village_names
            .get(code.trim_end_matches("000"))
            .cloned()
            .unwrap_or_else(|| place_name(code))
    }
}

fn query_base(p: &ListParams) -> String {
    let mut pairs = Vec::new();
    for (k, v) in [
        ("region", &p.region),
        ("q", &p.q),
        ("guardianship_type", &p.guardianship_type),
        ("flag", &p.flag),
        ("age_band", &p.age_band),
        ("schooling", &p.schooling),
        ("status", &p.status),
        ("sort", &p.sort),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    }
    pairs.join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn roster(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> PageResult {
    let (page, errors) = match roster_query(&p) {
        Ok(q) => (state.store.roster(&user.actor, &q).await?, vec![]),
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
    let regions = if user.actor.agency_id.is_none() {
        let mut r = state
            .store
            .regions_within(&user.actor.region, RegionLevel::Town)
            .await?;
        r.extend(
            state
                .store
                .regions_within(&user.actor.region, RegionLevel::Village)
                .await?,
        );
        r.sort_by(|a, b| a.code.cmp(&b.code));
        r
    } else {
        vec![]
    };
    let village_names = regions
        .iter()
        .filter(|r| r.level == "village")
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    let pages = (page.total as u32).div_ceil(page.per_page.max(1)).max(1);
    let table = RosterTable {
        query_base: query_base(&p),
        page,
        params: p,
        pages,
        village_names,
    };
    if headers.contains_key("hx-request") {
        return Ok(render(&table));
    }
    Ok(render(&RosterPage {
        frame: Frame::of(&state, &user).await,
        table,
        regions,
        guardianship_types: opts(
            GuardianshipType::ALL,
            GuardianshipType::code,
            GuardianshipType::label,
        ),
        flags: opts(
            KeyTargetFlag::ALL,
            KeyTargetFlag::code,
            KeyTargetFlag::label,
        ),
        age_bands: opts(AgeBand::ALL, AgeBand::code, AgeBand::label),
        schoolings: opts(Schooling::ALL, Schooling::code, Schooling::label),
        standings: vec![
            Opt {
                code: "on_roster".into(),
                label: "在册".into(),
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

// ---------- register / edit form ----------

/// The form's values and errors, looked up by field name from the templates.
pub struct FormView {
    values: Map<String, Value>,
    errors: ValidationErrors,
    /// A conflict or duplicate warning shown above the form.
    pub notice: Option<String>,
    pub show_confirm: bool,
}

impl FormView {
    fn new(input: &ChildInput, errors: ValidationErrors) -> FormView {
        let values = match serde_json::to_value(input) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        FormView {
            values,
            errors,
            notice: None,
            show_confirm: false,
        }
    }
    pub fn v(&self, name: &str) -> String {
        match self.values.get(name) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        }
    }
    /// For enums: the stored code or the Chinese label both select the option.
    pub fn sel(&self, name: &str, opt: &Opt) -> bool {
        let v = self.v(name);
        v == opt.code || v == opt.label
    }
    pub fn has(&self, name: &str, opt: &Opt) -> bool {
        match self.values.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| s == opt.code || s == opt.label)),
            _ => false,
        }
    }
    pub fn yes(&self, name: &str) -> bool {
        shouwang_domain::input::parse_bool(&self.v(name)).unwrap_or(false)
    }
    pub fn err(&self, name: &str) -> String {
        self.errors.message_for(name).unwrap_or("").to_owned()
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
    pub fn error_count(&self) -> usize {
        self.errors.0.len()
    }
}

pub struct Choices {
    pub ethnicities: Vec<Opt>,
    pub health: Vec<Opt>,
    pub disability_categories: Vec<Opt>,
    pub disability_grades: Vec<Opt>,
    pub schoolings: Vec<Opt>,
    pub kin_statuses: Vec<Opt>,
    pub parent_situations: Vec<Opt>,
    pub incapacities: Vec<Opt>,
    pub relations: Vec<Opt>,
    pub guardianship_types: Vec<Opt>,
    pub income_sources: Vec<Opt>,
    pub assistance: Vec<Opt>,
    pub manual_flags: Vec<Opt>,
    pub villages: Vec<Opt>,
    pub work_places: Vec<Opt>,
    pub sexes: Vec<Opt>,
    pub kin: Vec<KinFields>,
    pub parents: Vec<ParentFields>,
}

/// Field names and labels of one grandparent's inputs.
pub struct KinFields {
    pub status: String,
    pub status_label: String,
    pub name: String,
    pub name_label: String,
    pub birth: String,
    pub birth_label: String,
}

/// Field names and labels of one parent's inputs.
pub struct ParentFields {
    pub label: &'static str,
    pub status: String,
    pub status_label: String,
    pub name: String,
    pub name_label: String,
    pub birth: String,
    pub birth_label: String,
    pub id: String,
    pub situation: String,
    pub situation_label: String,
    pub incapacity: String,
    pub work: String,
    pub phone: String,
}

impl Choices {
    async fn for_actor(state: &AppState, actor: &Actor) -> Result<Choices, PageError> {
        let villages = state
            .store
            .regions_within(&actor.region, RegionLevel::Village)
            .await?
            .into_iter()
            .map(|r| Opt {
                label: place_name(&r.code),
                code: r.code,
            })
            .collect();
        Ok(Choices {
            ethnicities: ETHNICITIES
                .iter()
                .enumerate()
                .map(|(i, e)| Opt {
                    code: format!("{:02}", i + 1),
                    label: (*e).to_owned(),
                })
                .collect(),
            health: opts(HealthStatus::ALL, HealthStatus::code, HealthStatus::label),
            disability_categories: opts(
                DisabilityCategory::ALL,
                DisabilityCategory::code,
                DisabilityCategory::label,
            ),
            disability_grades: opts(
                DisabilityGrade::ALL,
                DisabilityGrade::code,
                DisabilityGrade::label,
            ),
            schoolings: opts(Schooling::ALL, Schooling::code, Schooling::label),
            kin_statuses: opts(KinStatus::ALL, KinStatus::code, KinStatus::label),
            parent_situations: opts(
                ParentSituation::ALL,
                ParentSituation::code,
                ParentSituation::label,
            ),
            incapacities: opts(
                IncapacityReason::ALL,
                IncapacityReason::code,
                IncapacityReason::label,
            ),
            relations: opts(
                GuardianRelation::ALL,
                GuardianRelation::code,
                GuardianRelation::label,
            ),
            guardianship_types: opts(
                GuardianshipType::ALL,
                GuardianshipType::code,
                GuardianshipType::label,
            ),
            income_sources: opts(IncomeSource::ALL, IncomeSource::code, IncomeSource::label),
            assistance: opts(Assistance::ALL, Assistance::code, Assistance::label),
            manual_flags: opts(ManualFlag::ALL, ManualFlag::code, ManualFlag::label),
            villages,
            work_places: work_places(),
            sexes: vec![
                Opt {
                    code: "男".into(),
                    label: "男".into(),
                },
                Opt {
                    code: "女".into(),
                    label: "女".into(),
                },
            ],
            kin: [
                ("paternal_grandfather", "祖父"),
                ("paternal_grandmother", "祖母"),
                ("maternal_grandfather", "外祖父"),
                ("maternal_grandmother", "外祖母"),
            ]
            .into_iter()
            .map(|(k, l)| KinFields {
                status: format!("{k}_status"),
                status_label: format!("{l}状况"),
                name: format!("{k}_name"),
                name_label: format!("{l}姓名"),
                birth: format!("{k}_birth_date"),
                birth_label: format!("{l}出生日期"),
            })
            .collect(),
            parents: [("father", "父亲"), ("mother", "母亲")]
                .into_iter()
                .map(|(k, l)| ParentFields {
                    label: l,
                    status: format!("{k}_status"),
                    status_label: format!("{l}状况"),
                    name: format!("{k}_name"),
                    name_label: format!("{l}姓名"),
                    birth: format!("{k}_birth_date"),
                    birth_label: format!("{l}出生日期"),
                    id: format!("{k}_id_number"),
                    situation: format!("{k}_situation"),
                    situation_label: format!("{l}目前情况"),
                    incapacity: format!("{k}_incapacity"),
                    work: format!("{k}_work_place"),
                    phone: format!("{k}_phone"),
                })
                .collect(),
        })
    }
}

/// Provinces and prefectures as "省 市" options (附件1 note 7: 务工地点填到省、市).
fn work_places() -> Vec<Opt> {
    let t = Divisions::shipped();
    let mut out = Vec::new();
    for p in t.at_level(RegionLevel::Province) {
        let code = shouwang_domain::region::RegionCode::parse(p.code).expect("valid");
        for c in t.children(&code).unwrap_or_default() {
            let label = if matches!(
                c.name,
                "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
            ) {
                p.name.to_owned()
            } else {
                format!("{} {}", p.name, c.name)
            };
            out.push(Opt {
                code: c.code.to_owned(),
                label,
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "child_form.html")]
struct ChildFormPage {
    frame: Frame,
    form: FormView,
    c: Choices,
    /// None when registering.
    child_id: Option<String>,
    version: i64,
    ids_masked: Vec<(String, String)>,
}

async fn register_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::RegisterChild) {
        return Err(AppError::Forbidden.into());
    }
    let mut input = ChildInput {
        hukou_rural: Some("true".into()),
        hukou_registered: Some("true".into()),
        ethnicity: Some("01".into()),
        ..ChildInput::default()
    };
    if user.actor.region.level() == RegionLevel::Village {
        input.village_code = Some(user.actor.region.to_string());
    }
    Ok(render(&ChildFormPage {
        frame: Frame::of(&state, &user).await,
        form: FormView::new(&input, ValidationErrors::default()),
        c: Choices::for_actor(&state, &user.actor).await?,
        child_id: None,
        version: 0,
        ids_masked: vec![],
    }))
}

const MULTI: [&str; 3] = ["income_sources", "assistance", "manual_flags"];

/// Splits an HTML form into the child input and the control fields (csrf_token, version…).
fn form_input(pairs: Vec<(String, String)>) -> Result<(ChildInput, Map<String, Value>), AppError> {
    let mut fields = Map::new();
    let mut control = Map::new();
    for m in MULTI {
        fields.insert(m.to_owned(), Value::Array(vec![]));
    }
    for (k, v) in pairs {
        if matches!(k.as_str(), "csrf_token" | "version" | "confirm_duplicate") {
            control.insert(k, Value::String(v));
        } else if MULTI.contains(&k.as_str()) {
            if let Some(Value::Array(a)) = fields.get_mut(&k) {
                a.push(Value::String(v));
            }
        } else {
            fields.insert(k, Value::String(v));
        }
    }
    let input =
        serde_json::from_value(Value::Object(fields)).map_err(|e| AppError::BadRequest {
            code: "invalid_field",
            field: None,
            message: format!("表单内容不符合要求：{e}"),
        })?;
    Ok((input, control))
}

fn control_str(control: &Map<String, Value>, k: &str) -> String {
    control
        .get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

async fn register_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let (input, control) = form_input(pairs)?;
    user.check_csrf(&control_str(&control, "csrf_token"))?;
    let confirm = control_str(&control, "confirm_duplicate") == "true";
    match state
        .store
        .register_child(&user.actor, &input, confirm)
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/children/{}?registered=1", r.id)).into_response()),
        Err(e) => {
            let (errors, notice, show_confirm) = form_problem(e)?;
            let mut form = FormView::new(&input, errors);
            form.notice = notice;
            form.show_confirm = show_confirm;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&ChildFormPage {
                    frame: Frame::of(&state, &user).await,
                    form,
                    c: Choices::for_actor(&state, &user.actor).await?,
                    child_id: None,
                    version: 0,
                    ids_masked: vec![],
                }),
            )
                .into_response())
        }
    }
}

/// Turns a store error into what the form shows: field errors, a notice, and whether to offer
/// "确认登记" (same name and birth date in the town). Other errors become error pages.
fn form_problem(
    e: shouwang_store::StoreError,
) -> Result<(ValidationErrors, Option<String>, bool), PageError> {
    match AppError::from(e) {
        AppError::Validation(v) => Ok((v, Some("请修改标红的项目后重新提交".into()), false)),
        AppError::Conflict { field, message } => {
            let dup = field.as_deref() == Some("name");
            let errors = match field.as_deref() {
                Some(f) if f != "version" => ValidationErrors::single(f, message.clone()),
                _ => ValidationErrors::default(),
            };
            Ok((errors, Some(message), dup))
        }
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct CheckIdParams {
    #[serde(default)]
    id_number: String,
}

/// Validate-as-you-type for the ID number: checksum, date and the derived sex and birth date.
async fn check_id(_user: CurrentUser, Query(p): Query<CheckIdParams>) -> Response {
    let s = p.id_number.trim();
    let html = if s.is_empty() {
        String::new()
    } else {
        match IdNumber::parse(s) {
            Ok(id) => format!(
                "<span class=\"ok\">号码有效：{}，出生日期 {}</span>",
                id.sex().label(),
                id.birth_date()
            ),
            Err(e) => format!(
                "<span class=\"bad\">{}</span>",
                askama_escape(&e.to_string())
            ),
        }
    };
    Html(html).into_response()
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn masked_list(r: &ChildRecord) -> Vec<(String, String)> {
    let m = &r.ids_masked;
    [
        ("id_number", &m.child),
        ("father_id_number", &m.father),
        ("mother_id_number", &m.mother),
        ("guardian_id_number", &m.guardian),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
    .collect()
}

async fn edit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    let r = state.store.get_child(&user.actor, &id, false).await?;
    if !user.actor.may(Action::EditChild) {
        return Err(AppError::Forbidden.into());
    }
    Ok(render(&ChildFormPage {
        frame: Frame::of(&state, &user).await,
        form: FormView::new(&ChildInput::from_file(&r.file), ValidationErrors::default()),
        c: Choices::for_actor(&state, &user.actor).await?,
        ids_masked: masked_list(&r),
        child_id: Some(r.id),
        version: r.version,
    }))
}

async fn edit_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let (input, control) = form_input(pairs)?;
    user.check_csrf(&control_str(&control, "csrf_token"))?;
    let version: i64 = control_str(&control, "version")
        .parse()
        .map_err(|_| AppError::Validation(ValidationErrors::single("version", "缺少版本号")))?;
    match state
        .store
        .update_child(&user.actor, &id, version, input.clone(), EditMode::Replace)
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/children/{}?saved=1", r.id)).into_response()),
        Err(e) => {
            let current = state.store.get_child(&user.actor, &id, false).await?;
            let (errors, notice, _) = form_problem(e)?;
            let mut form = FormView::new(&input, errors);
            form.notice = notice;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&ChildFormPage {
                    frame: Frame::of(&state, &user).await,
                    form,
                    c: Choices::for_actor(&state, &user.actor).await?,
                    ids_masked: masked_list(&current),
                    child_id: Some(id),
                    version,
                }),
            )
                .into_response())
        }
    }
}

// ---------- the file ----------

#[derive(Template)]
#[template(path = "child.html")]
struct ChildPage {
    frame: Frame,
    r: ChildRecord,
    village_name: String,
    notice: Option<String>,
    can_edit: bool,
    can_reveal: bool,
    exit_reasons: Vec<Opt>,
    transfer_villages: Vec<Opt>,
    today: String,
    error: Option<String>,
}

impl ChildPage {
    fn id_shown(&self, masked: &Option<String>, full: Option<&IdNumber>) -> String {
        match full {
            Some(id) => id.to_string(),
            None => masked.clone().unwrap_or_else(|| "—".into()),
        }
    }
    fn kin(&self, k: &Kin) -> String {
        match k.status {
            KinStatus::Deceased => "—（已故）".into(),
            KinStatus::Unknown => "不详".into(),
            KinStatus::Alive => {
                let mut s = k
                    .name
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "（未填姓名）".into());
                if let Some(b) = k.birth_date {
                    s.push_str(&format!("，{b}"));
                }
                s
            }
        }
    }
    fn parent_state(&self, p: &Parent) -> String {
        match p.status {
            KinStatus::Deceased => "已故".into(),
            KinStatus::Unknown => "不详".into(),
            KinStatus::Alive => {
                let mut s = p
                    .situation
                    .map(|x| x.label().to_owned())
                    .unwrap_or_default();
                if let Some(i) = p.incapacity {
                    s.push_str(&format!("（{}）", i.label()));
                }
                if let Some(w) = &p.work_place {
                    s.push_str(&format!("，务工地点：{}", work_place_name(w)));
                }
                s
            }
        }
    }
    fn set_labels<T: Copy>(
        &self,
        items: &std::collections::BTreeSet<T>,
        label: fn(T) -> &'static str,
    ) -> String {
        if items.is_empty() {
            "无".into()
        } else {
            items
                .iter()
                .map(|i| label(*i))
                .collect::<Vec<_>>()
                .join("、")
        }
    }
    fn incomes(&self) -> String {
        self.set_labels(&self.r.file.income_sources, IncomeSource::label)
    }
    fn assistance(&self) -> String {
        self.set_labels(&self.r.file.assistance, Assistance::label)
    }
    fn actual(&self) -> String {
        match self.r.file.actual_guardianship() {
            ActualGuardianship::BothAway => "父母双方同时外出".into(),
            ActualGuardianship::OneAwayOtherUnable(w) => {
                format!("父母一方外出、另一方无监护能力（{}）", w.label())
            }
            ActualGuardianship::ParentAtHome => "父母至少一方在家监护".into(),
        }
    }
    fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "—".into())
    }
    fn phone(&self, v: &Option<shouwang_domain::person::PhoneNumber>) -> String {
        v.as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "—".into())
    }
    fn yn(&self, b: &bool) -> &'static str {
        if *b { "是" } else { "否" }
    }
}

fn work_place_name(code: &shouwang_domain::region::RegionCode) -> String {
    Divisions::shipped().written_name(code, " ")
}

#[derive(Deserialize, Default)]
struct ChildParams {
    #[serde(default)]
    reveal: Option<String>,
    #[serde(default)]
    registered: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

async fn child_view(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    reveal: bool,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let r = state.store.get_child(&user.actor, id, reveal).await?;
    let village_name = r
        .place
        .iter()
        .skip(2)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let can_edit = user.actor.may(Action::EditChild)
        && r.status == shouwang_domain::lifecycle::ChildStatus::Active;
    // Villages of the child's county, for the transfer picker.
    let transfer_villages = match (can_edit, r.file.village_code.at_level(RegionLevel::County)) {
        (true, Some(county)) => state
            .store
            .regions_within(&county, RegionLevel::Village)
            .await?
            .into_iter()
            .filter(|v| v.code != r.file.village_code.as_str())
            .map(|v| Opt {
                label: place_name(&v.code),
                code: v.code,
            })
            .collect(),
        _ => vec![],
    };
    Ok(render(&ChildPage {
        frame: Frame::of(state, user).await,
        village_name,
        notice,
        can_edit,
        transfer_villages,
        can_reveal: user.actor.may(Action::UnmaskIdNumber) && !reveal,
        exit_reasons: opts(ExitReason::ALL, ExitReason::code, ExitReason::label),
        today: state.store.today().to_string(),
        error,
        r,
    }))
}

async fn child_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<ChildParams>,
) -> PageResult {
    let notice = if p.registered.is_some() {
        Some("登记成功".to_owned())
    } else if p.saved.is_some() {
        Some("已保存".to_owned())
    } else {
        None
    };
    child_view(
        &state,
        &user,
        &id,
        p.reveal.as_deref() == Some("1"),
        notice,
        None,
    )
    .await
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    frame: Frame,
    id: String,
    name: String,
    entries: Vec<HistoryEntry>,
}

impl HistoryPage {
    fn label(&self, field: &str) -> String {
        field_label(field)
    }
    fn kind(&self, k: &str) -> &'static str {
        match k {
            "register" => "登记",
            "edit" => "修改",
            "exit" => "退出",
            "transfer" => "转移",
            _ => "其他",
        }
    }
}

async fn history_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    let r = state.store.get_child(&user.actor, &id, false).await?;
    let entries = state.store.child_history(&user.actor, &id).await?;
    Ok(render(&HistoryPage {
        frame: Frame::of(&state, &user).await,
        id,
        name: r.file.name.to_string(),
        entries,
    }))
}

#[derive(Deserialize)]
struct ExitForm {
    #[serde(default)]
    csrf_token: String,
    version: i64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

async fn exit_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<ExitForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let result = match parse_exit(&f.reason, &f.date) {
        Ok((reason, date)) => state
            .store
            .exit_child(&user.actor, &id, f.version, reason, date, Some(f.note))
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}?saved=1")).into_response()),
        Err(AppError::Validation(v)) => {
            child_view(&state, &user, &id, false, None, Some(v.summary())).await
        }
        Err(AppError::Conflict { message, .. }) => {
            child_view(&state, &user, &id, false, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct TransferForm {
    #[serde(default)]
    csrf_token: String,
    version: i64,
    #[serde(default)]
    to_village: String,
}

async fn transfer_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<TransferForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    match state
        .store
        .transfer_child(&user.actor, &id, f.version, &f.to_village)
        .await
        .map_err(AppError::from)
    {
        Ok(r) => {
            // After a transfer out of the jurisdiction the file is no longer visible here.
            if user.actor.covers(&r.file.village_code) {
                Ok(Redirect::to(&format!("/children/{id}?saved=1")).into_response())
            } else {
                Ok(Redirect::to("/children").into_response())
            }
        }
        Err(AppError::Validation(v)) => {
            child_view(&state, &user, &id, false, None, Some(v.summary())).await
        }
        Err(AppError::Conflict { message, .. }) => {
            child_view(&state, &user, &id, false, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- discovery reports ----------

#[derive(Template)]
#[template(path = "discovery_new.html")]
struct DiscoveryNewPage {
    frame: Frame,
    towns: Vec<Opt>,
    values: DiscoveryInput,
    errors: ValidationErrors,
    done: bool,
}

impl DiscoveryNewPage {
    fn err(&self, f: &str) -> String {
        self.errors.message_for(f).unwrap_or("").to_owned()
    }
    fn v(&self, f: &str) -> String {
        let v = match f {
            "town_code" => &self.values.town_code,
            "village_code" => &self.values.village_code,
            "child_name" => &self.values.child_name,
            "sex" => &self.values.sex,
            "birth_date" => &self.values.birth_date,
            "situation" => &self.values.situation,
            "reporter_phone" => &self.values.reporter_phone,
            _ => &None,
        };
        v.clone().unwrap_or_default()
    }
}

async fn discovery_towns(state: &AppState, actor: &Actor) -> Result<Vec<Opt>, PageError> {
    // Towns of the reporter's county (a school or village reports to its own town).
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| actor.region.clone());
    Ok(state
        .store
        .regions_within(&county, RegionLevel::Town)
        .await?
        .into_iter()
        .map(|r| Opt {
            label: r.name,
            code: r.code,
        })
        .collect())
}

async fn discovery_new(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let mut values = DiscoveryInput::default();
    if let Some(t) = user.actor.region.at_level(RegionLevel::Town) {
        values.town_code = Some(t.to_string());
    }
    Ok(render(&DiscoveryNewPage {
        frame: Frame::of(&state, &user).await,
        towns: discovery_towns(&state, &user.actor).await?,
        values,
        errors: ValidationErrors::default(),
        done: false,
    }))
}

async fn discovery_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let mut csrf = String::new();
    let mut values = DiscoveryInput::default();
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "csrf_token" => {
                csrf = v;
                continue;
            }
            "town_code" => &mut values.town_code,
            "village_code" => &mut values.village_code,
            "child_name" => &mut values.child_name,
            "sex" => &mut values.sex,
            "birth_date" => &mut values.birth_date,
            "situation" => &mut values.situation,
            "reporter_phone" => &mut values.reporter_phone,
            _ => continue,
        };
        *slot = Some(v);
    }
    user.check_csrf(&csrf)?;
    let (errors, done) = match state.store.file_discovery(&user.actor, &values).await {
        Ok(_) => (ValidationErrors::default(), true),
        Err(shouwang_store::StoreError::Validation(v)) => (v, false),
        Err(e) => return Err(e.into()),
    };
    Ok(render(&DiscoveryNewPage {
        frame: Frame::of(&state, &user).await,
        towns: discovery_towns(&state, &user.actor).await?,
        values: if done {
            DiscoveryInput::default()
        } else {
            values
        },
        errors,
        done,
    }))
}

#[derive(Template)]
#[template(path = "discoveries.html")]
struct DiscoveriesPage {
    frame: Frame,
    items: Vec<DiscoveryReport>,
}

impl DiscoveriesPage {
    fn town(&self, code: &str) -> String {
        place_name(code)
    }
}

async fn discoveries_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::HandleDiscovery) {
        return Err(AppError::Forbidden.into());
    }
    let items = state.store.discovery_queue(&user.actor).await?;
    Ok(render(&DiscoveriesPage {
        frame: Frame::of(&state, &user).await,
        items,
    }))
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    child_id: String,
    #[serde(default)]
    note: String,
}

async fn discovery_close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let child = Some(f.child_id.trim()).filter(|s| !s.is_empty());
    state
        .store
        .close_discovery(&user.actor, &id, child, &f.note)
        .await?;
    Ok(Redirect::to("/discoveries").into_response())
}

// ---------- audit ----------

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    items: Vec<shouwang_store::audit::AuditEvent>,
    username: String,
    action: String,
    next_before: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    username: String,
    action: String,
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let filter = shouwang_store::audit::AuditFilter {
        username: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim().to_owned()).filter(|s| !s.is_empty()),
        entity_id: None,
        before_seq: q.before,
        limit: 100,
    };
    let items = state.store.audit_events(&user.actor, &filter).await?;
    let next_before = (items.len() == 100)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(render(&AuditPage {
        frame: Frame::of(&state, &user).await,
        items,
        username: q.username,
        action: q.action,
        next_before,
    }))
}

// ---------- users ----------

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<shouwang_store::users::UserSummary>,
    roles: Vec<Opt>,
    orgs: Vec<Opt>,
    values: std::collections::HashMap<String, String>,
    errors: ValidationErrors,
    created: Option<String>,
}

impl UsersPage {
    fn v(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn err(&self, k: &str) -> String {
        self.errors.message_for(k).unwrap_or("").to_owned()
    }
    fn role_label(&self, code: &str) -> &'static str {
        shouwang_domain::authz::Role::parse(code)
            .map(|r| r.label())
            .unwrap_or("")
    }
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

async fn users_view(
    state: &AppState,
    user: &CurrentUser,
    values: std::collections::HashMap<String, String>,
    errors: ValidationErrors,
    created: Option<String>,
) -> PageResult {
    let users = state.store.list_users(&user.actor).await?;
    let mut orgs = vec![Opt {
        code: user.actor.region.to_string(),
        label: place_name(user.actor.region.as_str()),
    }];
    for level in [RegionLevel::Town, RegionLevel::Village] {
        orgs.extend(
            state
                .store
                .regions_within(&user.actor.region, level)
                .await?
                .into_iter()
                .map(|r| Opt {
                    label: place_name(&r.code),
                    code: r.code,
                }),
        );
    }
    orgs[1..].sort_by(|a, b| a.code.cmp(&b.code));
    let roles = opts(
        shouwang_domain::authz::Role::ALL,
        shouwang_domain::authz::Role::code,
        shouwang_domain::authz::Role::label,
    );
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&UsersPage {
            frame: Frame::of(state, user).await,
            users,
            roles,
            orgs,
            values,
            errors,
            created,
        }),
    )
        .into_response())
}

async fn users_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    users_view(
        &state,
        &user,
        Default::default(),
        ValidationErrors::default(),
        None,
    )
    .await
}

async fn users_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(values): Form<std::collections::HashMap<String, String>>,
) -> PageResult {
    user.check_csrf(values.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let body = crate::api::NewUserBody {
        username: get("username"),
        display_name: Some(get("display_name")),
        password: get("password"),
        role: get("role"),
        org: get("org"),
        agency: Some(get("agency")),
    };
    let result = match crate::api::new_user(body) {
        Ok(new) => state
            .store
            .add_user_as(&user.actor, new)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(u) => {
            users_view(
                &state,
                &user,
                Default::default(),
                ValidationErrors::default(),
                Some(u.username),
            )
            .await
        }
        Err(AppError::Validation(e)) => {
            let mut values = values;
            values.remove("password");
            users_view(&state, &user, values, e, None).await
        }
        Err(AppError::Conflict { field, message }) => {
            let mut values = values;
            values.remove("password");
            users_view(
                &state,
                &user,
                values,
                ValidationErrors::single(field.as_deref().unwrap_or("username"), message),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
