//! The 留守老人 pages: the register with its filters, the record, the form to register or edit one,
//! and the 花名册 (附件6) and 登记表 (附件7) to download.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use shouwang_app::elders::{ElderRecord, ElderSummary, HistoryEntry, Page};
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::Assistance;
use shouwang_domain::elder::{
    ChildAwayInput, ElderExitReason, ElderHealthStatus, ElderIncome, ElderInput, HealthDetail,
    HealthInput, LivingWith, SelfCare,
};
use shouwang_domain::ids::ElderId;
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::validation::ValidationErrors;

use super::api::{ElderListParams, elder_query};
use crate::auth::{CheckedForm, CurrentUser};
use crate::error::{AppError, PageError};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, XLSX, download, place_name, render, urlencode};

fn opts(options: &[(&str, &str)]) -> Vec<Opt> {
    options
        .iter()
        .map(|(c, l)| Opt {
            code: (*c).to_owned(),
            label: (*l).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "elders/list.html")]
struct ListPage {
    frame: Frame,
    page: Page<ElderSummary>,
    params: ElderListParams,
    errors: Vec<String>,
    can_register: bool,
    living: Vec<Opt>,
    pages: u32,
    query_base: String,
    export_region: String,
}

impl ListPage {
    fn p(&self, name: &str) -> String {
        match name {
            "q" => &self.params.q,
            "living_with" => &self.params.living_with,
            "watched" => &self.params.watched,
            "incomplete" => &self.params.incomplete,
            "status" => &self.params.status,
            _ => &None,
        }
        .clone()
        .unwrap_or_default()
    }
    fn village(&self, code: &str) -> String {
        place_name(code)
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ElderListParams>,
) -> PageResult {
    let (page, errors) = match elder_query(&p) {
        Ok(q) => (
            shouwang_app::elders::roster(&state.app, &user.actor, &q).await?,
            vec![],
        ),
        Err(e) => (
            Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
            e.0.into_iter().map(|e| e.message).collect(),
        ),
    };
    let pages = (page.total.max(0) as u32).div_ceil(page.per_page.max(1));
    let mut pairs = Vec::new();
    for (k, v) in [
        ("q", &p.q),
        ("living_with", &p.living_with),
        ("watched", &p.watched),
        ("incomplete", &p.incomplete),
        ("status", &p.status),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    }
    Ok(render(&ListPage {
        frame: Frame::of(&state, &user).await,
        page,
        errors,
        can_register: user.actor.may(Action::RegisterElder),
        living: opts(LivingWith::OPTIONS),
        pages,
        query_base: pairs.join("&"),
        export_region: user.actor.region.as_str().to_owned(),
        params: p,
    }))
}

/// The form's values as typed (or as the record holds them), one list per name.
#[derive(Default)]
struct Values(Vec<(String, String)>);

impl Values {
    fn of(input: &ElderInput) -> Values {
        let mut v = Vec::new();
        let mut put = |k: &str, x: &Option<String>| {
            if let Some(x) = x {
                v.push((k.to_owned(), x.clone()));
            }
        };
        put("name", &input.name);
        put("sex", &input.sex);
        put("birth_date", &input.birth_date);
        put("village_code", &input.village_code);
        put("address", &input.address);
        put("phone", &input.phone);
        put("living_with", &input.living_with);
        if let Some(HealthInput::Detail(d)) = &input.health {
            put("health", &d.status);
            put("self_care", &d.self_care);
            put("illness", &d.illness);
        }
        put("care", &input.care);
        put("needs", &input.needs);
        put("contact_name", &input.contact_name);
        put("contact_phone", &input.contact_phone);
        put("remarks", &input.remarks);
        for s in input.income_sources.iter().flatten() {
            v.push(("income_sources".into(), s.clone()));
        }
        for s in input.assistance.iter().flatten() {
            v.push(("assistance".into(), s.clone()));
        }
        for c in input.children_away.iter().flatten() {
            v.push(("away_name".into(), c.name.clone().unwrap_or_default()));
            v.push((
                "away_place".into(),
                c.work_place.clone().unwrap_or_default(),
            ));
            v.push(("away_phone".into(), c.phone.clone().unwrap_or_default()));
        }
        Values(v)
    }
    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }
    /// The record as typed: blank fields are blank (an edit clears them), the children away are
    /// the lines that say something.
    fn input(&self) -> ElderInput {
        let one = |k: &str| Some(self.get(k).unwrap_or("").to_owned());
        let many = |k: &str| Some(self.all(k).map(str::to_owned).collect::<Vec<_>>());
        let names: Vec<&str> = self.all("away_name").collect();
        let places: Vec<&str> = self.all("away_place").collect();
        let phones: Vec<&str> = self.all("away_phone").collect();
        let rows = names.len().max(places.len()).max(phones.len());
        let cell = |v: &[&str], i: usize| v.get(i).map(|s| (*s).to_owned());
        ElderInput {
            name: one("name"),
            sex: one("sex"),
            birth_date: one("birth_date"),
            id_number: self
                .get("id_number")
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned),
            village_code: one("village_code"),
            address: one("address"),
            phone: one("phone"),
            living_with: one("living_with"),
            children_away: Some(
                (0..rows.min(shouwang_domain::elder::MAX_CHILDREN_AWAY + 1))
                    .map(|i| ChildAwayInput {
                        name: cell(&names, i),
                        work_place: cell(&places, i),
                        phone: cell(&phones, i),
                    })
                    .collect(),
            ),
            health: Some(HealthInput::Detail(HealthDetail {
                status: one("health"),
                self_care: one("self_care"),
                illness: one("illness"),
            })),
            income_sources: many("income_sources"),
            assistance: many("assistance"),
            care: one("care"),
            needs: one("needs"),
            contact_name: one("contact_name"),
            contact_phone: one("contact_phone"),
            remarks: one("remarks"),
        }
    }
}

#[derive(Template)]
#[template(path = "elders/form.html")]
struct FormPage {
    frame: Frame,
    /// Set when editing.
    id: Option<String>,
    version: i64,
    values: Values,
    errors: ValidationErrors,
    villages: Vec<Opt>,
    living: Vec<Opt>,
    health: Vec<Opt>,
    self_care: Vec<Opt>,
    income: Vec<Opt>,
    assistance: Vec<Opt>,
    /// The lines of 外出子女 (those typed, then empty ones to three).
    away: Vec<AwayRow>,
}

impl FormPage {
    fn v(&self, name: &str) -> String {
        self.values.get(name).unwrap_or("").to_owned()
    }
    fn has(&self, name: &str, o: &Opt) -> bool {
        self.values.all(name).any(|v| v == o.code || v == o.label)
    }
    fn sel(&self, name: &str, o: &Opt) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v == o.code || v == o.label)
    }
    fn sexes(&self) -> Vec<Opt> {
        opts(&[("男", "男"), ("女", "女")])
    }
    fn err(&self, name: &str) -> String {
        self.errors.message_for(name).unwrap_or("").to_owned()
    }
}

/// One line of 外出子女 on the form, with the error of each of its fields.
#[derive(Default)]
struct AwayRow {
    name: String,
    place: String,
    phone: String,
    name_err: String,
    place_err: String,
    phone_err: String,
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    id: Option<String>,
    version: i64,
    values: Values,
    errors: ValidationErrors,
) -> Result<FormPage, PageError> {
    let villages = villages(state, &user.actor).await?;
    // Each line keeps its own errors (`children_away[i].phone`: `i` counts the lines as sent);
    // lines sent empty and without an error are dropped, and empty ones added up to three.
    let mut away: Vec<AwayRow> = {
        let n: Vec<&str> = values.all("away_name").collect();
        let p: Vec<&str> = values.all("away_place").collect();
        let t: Vec<&str> = values.all("away_phone").collect();
        (0..n.len().max(p.len()).max(t.len()))
            .map(|i| {
                let at = |v: &[&str]| v.get(i).copied().unwrap_or("").to_owned();
                let err = |f: &str| {
                    errors
                        .message_for(&format!("children_away[{i}].{f}"))
                        .unwrap_or("")
                        .to_owned()
                };
                AwayRow {
                    name: at(&n),
                    place: at(&p),
                    phone: at(&t),
                    name_err: err("name"),
                    place_err: err("work_place"),
                    phone_err: err("phone"),
                }
            })
            .filter(|r| {
                [
                    &r.name,
                    &r.place,
                    &r.phone,
                    &r.name_err,
                    &r.place_err,
                    &r.phone_err,
                ]
                .iter()
                .any(|v| !v.is_empty())
            })
            .collect()
    };
    while away.len() < 3 {
        away.push(AwayRow::default());
    }
    Ok(FormPage {
        frame: Frame::of(state, user).await,
        id,
        version,
        values,
        errors,
        villages,
        living: opts(LivingWith::OPTIONS),
        health: opts(ElderHealthStatus::OPTIONS),
        self_care: opts(SelfCare::OPTIONS),
        income: opts(ElderIncome::OPTIONS),
        assistance: opts(Assistance::OPTIONS),
        away,
    })
}

async fn villages(state: &AppState, actor: &Actor) -> Result<Vec<Opt>, PageError> {
    Ok(
        shouwang_app::places::regions_within(&state.app, &actor.region, RegionLevel::Village)
            .await?
            .into_iter()
            .map(|r| Opt {
                label: place_name(&r.code),
                code: r.code,
            })
            .collect(),
    )
}

pub async fn new_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::RegisterElder) {
        return Err(AppError::Forbidden);
    }
    let mut values = Values::default();
    // A village's own register: its village is the only choice.
    if user.actor.region.level() == RegionLevel::Village {
        values
            .0
            .push(("village_code".into(), user.actor.region.as_str().to_owned()));
    }
    Ok(render(
        &form_page(&state, &user, None, 0, values, ValidationErrors::default()).await?,
    ))
}

pub async fn new_submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let values = Values(pairs);
    match shouwang_app::elders::register(&state.app, &user.actor, &values.input()).await {
        Ok(r) => Ok(Redirect::to(&format!("/elders/{}?saved=1", r.id)).into_response()),
        Err(shouwang_app::Error::Validation(errors)) => Ok(render(
            &form_page(&state, &user, None, 0, values, errors).await?,
        )),
        Err(shouwang_app::Error::Conflict { field, message }) => Ok(render(
            &form_page(
                &state,
                &user,
                None,
                0,
                values,
                ValidationErrors::single(field.as_deref().unwrap_or("name"), message),
            )
            .await?,
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
) -> PageResult {
    let r = shouwang_app::elders::get(&state.app, &user.actor, &id, false).await?;
    if !user.actor.may(Action::RegisterElder) {
        return Err(AppError::Forbidden);
    }
    let values = Values::of(&ElderInput::from_file(&r.file));
    Ok(render(
        &form_page(
            &state,
            &user,
            Some(id.to_string()),
            r.version,
            values,
            ValidationErrors::default(),
        )
        .await?,
    ))
}

pub async fn edit_submit(
    State(state): State<AppState>,
    Path(id): Path<ElderId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let values = Values(pairs);
    let version = values
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let errors =
        match shouwang_app::elders::update(&state.app, &user.actor, &id, version, values.input())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/elders/{id}?saved=1")).into_response()),
            Err(shouwang_app::Error::Validation(errors)) => errors,
            Err(shouwang_app::Error::Conflict { field, message }) => {
                ValidationErrors::single(field.as_deref().unwrap_or("name"), message)
            }
            Err(e) => return Err(e.into()),
        };
    Ok(render(
        &form_page(&state, &user, Some(id.to_string()), version, values, errors).await?,
    ))
}

#[derive(Template)]
#[template(path = "elders/elder.html")]
struct ElderPage {
    frame: Frame,
    r: ElderRecord,
    village_name: String,
    history: Vec<HistoryEntry>,
    can_edit: bool,
    can_print: bool,
    saved: bool,
    /// What was wrong with an exit just tried.
    error: Option<String>,
    exit_reasons: Vec<Opt>,
    today: String,
}

impl ElderPage {
    fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "未填写".to_owned())
    }
    fn joined(v: Vec<&str>) -> String {
        if v.is_empty() {
            "未填写".to_owned()
        } else {
            v.join("、")
        }
    }
    fn income(&self) -> String {
        Self::joined(
            self.r
                .file
                .income_sources
                .iter()
                .map(|s| s.label())
                .collect(),
        )
    }
    fn assistance(&self) -> String {
        Self::joined(self.r.file.assistance.iter().map(|s| s.label()).collect())
    }
    fn at(&self, at: &str) -> String {
        crate::ui::china_time(at)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ViewParams {
    saved: Option<String>,
}

pub async fn elder_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
    Query(p): Query<ViewParams>,
) -> PageResult {
    Ok(render(
        &elder_view(&state, &user, &id, p.saved.is_some(), None).await?,
    ))
}

/// The record's page: what was just saved, or what was wrong with an exit just tried.
async fn elder_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ElderId,
    saved: bool,
    error: Option<String>,
) -> Result<ElderPage, PageError> {
    let r = shouwang_app::elders::get(&state.app, &user.actor, id, false).await?;
    let history = shouwang_app::elders::history(&state.app, &user.actor, id).await?;
    Ok(ElderPage {
        frame: Frame::of(state, user).await,
        village_name: place_name(r.file.village_code.as_str()),
        history,
        can_edit: user.actor.may(Action::RegisterElder),
        can_print: state.printer.is_some() && user.actor.may(Action::Export),
        saved,
        error,
        exit_reasons: opts(ElderExitReason::OPTIONS),
        today: state.app.today().to_string(),
        r,
    })
}

/// 退出名册 from the record's page: back to the page, with what was wrong if anything was (and the
/// refusal's status).
pub async fn exit_submit(
    State(state): State<AppState>,
    Path(id): Path<ElderId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let field = |k: &str| crate::ui::form_field(&pairs, k).unwrap_or_default();
    let version = field("version").parse().unwrap_or(0);
    let outcome = match super::api::parse_exit(&field("reason"), &field("date")) {
        Ok((reason, date)) => {
            shouwang_app::elders::exit(&state.app, &user.actor, &id, version, reason, date).await
        }
        Err(e) => Err(e.into()),
    };
    let (status, error) = match outcome {
        Ok(_) => return Ok(Redirect::to(&format!("/elders/{id}?saved=1")).into_response()),
        Err(e) => crate::ui::refusal(e)?,
    };
    let page = elder_view(&state, &user, &id, false, Some(error)).await?;
    Ok((status, render(&page)).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ExportParams {
    region: Option<String>,
}

/// 附件6: the register of a region as a workbook (the user's own area when none is given).
pub async fn roster_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    let region = match p.region.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(r) => RegionCode::parse(r)
            .map_err(|e| AppError::from(ValidationErrors::single("region", e.to_string())))?,
        None => user.actor.region.clone(),
    };
    let files = shouwang_app::elders::export_roster(&state.app, &user.actor, &region).await?;
    let today = state.app.today();
    let heading = shouwang_exchange::outputs::Heading::new(&region, today, today);
    let reveal = user.actor.may(Action::UnmaskIdNumber);
    let bytes = shouwang_exchange::elders::elder_roster_workbook(&heading, &files, reveal)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(download(
        bytes,
        &format!("{}农村留守老人花名册-{today}.xlsx", heading.unit),
        XLSX,
    ))
}

/// 附件7: one elder's 基本情况登记表 as a PDF.
pub async fn form_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ElderId>,
) -> Result<Response, AppError> {
    let file = shouwang_app::elders::export_form(&state.app, &user.actor, &id).await?;
    let printer = crate::exports::printer(&state)?;
    let today = state.app.today();
    let unit = shouwang_exchange::outputs::unit_name(&file.village_code);
    let reveal = user.actor.may(Action::UnmaskIdNumber);
    let data = shouwang_exchange::elders::elder_form_data(&file, &unit, today, reveal);
    let name = file.name.to_string();
    let pdf =
        crate::exports::off_the_workers(&state, &user.actor, move || printer.elder_form(&data))
            .await?;
    Ok(download(
        pdf,
        &format!("{name}-农村留守老人基本情况登记表.pdf"),
        crate::ui::PDF,
    ))
}
