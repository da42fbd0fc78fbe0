//! One child's file as pages: register, view, edit, history, exit and transfer.

use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{Map, Value};

use shouwang_app::children::HistoryEntry;
use shouwang_app::children::{ChildRecord, EditMode};
use shouwang_domain::authz::Action;
use shouwang_domain::child::*;
use shouwang_domain::history::field_label;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::ChildInput;
use shouwang_domain::lifecycle::ExitReason;
use shouwang_domain::region::{Divisions, RegionLevel};
use shouwang_domain::validation::ValidationErrors;

use super::api::parse_exit;
use super::form::*;
use crate::auth::{CheckedForm, CurrentUser};
use crate::error::{AppError, PageError};
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render};

#[derive(Template)]
#[template(path = "children/child_form.html")]
pub(super) struct ChildFormPage {
    frame: Frame,
    form: FormView,
    c: Choices,
    /// None when registering.
    child_id: Option<String>,
    version: i64,
    ids_masked: Vec<(String, String)>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RegisterParams {
    /// A discovery report of the town's queue: what it says fills the form, and saving settles it.
    discovery: Option<String>,
}

pub async fn register_page(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Query(p): crate::extract::Query<RegisterParams>,
) -> PageResult {
    if !user.actor.may(Action::RegisterChild) {
        return Err(AppError::Forbidden);
    }
    // Nothing is preselected that the person did not choose (民族 included): a blank shows the
    // file as 信息不全 instead of recording a guess as a fact.
    let mut input = ChildInput::default();
    if user.actor.region.level() == RegionLevel::Village {
        input.village_code = Some(user.actor.region.to_string());
    }
    let discovery = match p.discovery.as_deref().filter(|d| !d.is_empty()) {
        Some(id) => {
            let d = shouwang_app::discoveries::one(
                &state.app,
                &user.actor,
                &shouwang_domain::ids::DiscoveryId::new(id),
            )
            .await?;
            input.name = Some(d.child_name);
            input.sex = d.sex;
            input.birth_date = d.birth_date;
            input.village_code = d.village_code.or(input.village_code);
            Some(d.id)
        }
        None => None,
    };
    let mut form = FormView::new(&input, ValidationErrors::default());
    form.discovery = discovery;
    Ok(render(&ChildFormPage {
        frame: Frame::of(&state, &user).await,
        form,
        c: Choices::for_actor(&state, &user.actor).await?,
        child_id: None,
        version: 0,
        ids_masked: vec![],
    }))
}

pub(super) const MULTI: [&str; 3] = ["income_sources", "assistance", "manual_flags"];

/// Splits an HTML form into the child input and the control fields (csrf_token, version…).
pub(super) fn form_input(
    pairs: Vec<(String, String)>,
) -> Result<(ChildInput, Map<String, Value>), AppError> {
    let mut fields = Map::new();
    let mut control = Map::new();
    for m in MULTI {
        fields.insert(m.to_owned(), Value::Array(vec![]));
    }
    for (k, v) in pairs {
        if matches!(
            k.as_str(),
            "csrf_token" | "version" | "confirm_duplicate" | "discovery_id"
        ) {
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

pub(super) fn control_str(control: &Map<String, Value>, k: &str) -> String {
    control
        .get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

pub async fn register_submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let (input, control) = form_input(pairs)?;
    let confirm = control_str(&control, "confirm_duplicate") == "true";
    let discovery = Some(control_str(&control, "discovery_id"))
        .filter(|d| !d.is_empty())
        .map(shouwang_domain::ids::DiscoveryId::new);
    match shouwang_app::children::register_settling(
        &state.app,
        &user.actor,
        &input,
        confirm,
        discovery.as_ref(),
    )
    .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/children/{}?registered=1", r.id)).into_response()),
        Err(e) => {
            let (errors, notice, show_confirm) = form_problem(e)?;
            let mut form = FormView::new(&input, errors);
            form.notice = notice;
            form.show_confirm = show_confirm;
            form.discovery = discovery.map(shouwang_domain::ids::DiscoveryId::into_string);
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

/// Turns a use case's error into what the form shows: field errors, a notice, and whether to offer
/// "确认登记" (same name and birth date in the town). Other errors become error pages.
pub(super) fn form_problem(
    e: shouwang_app::Error,
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
        other => Err(other),
    }
}

#[derive(Deserialize)]
pub(super) struct CheckIdParams {
    #[serde(default)]
    id_number: String,
    /// The child whose file is being edited (its own number is no duplicate).
    #[serde(default)]
    editing: Option<ChildId>,
}

/// Validate-as-you-type for a child's ID number: whether it is valid (never which check
/// character would fit), the sex and birth date it holds — which the form then fills in
/// (`data-sex`, `data-birth`; static/offline.js) — and whether the child is already registered.
pub async fn check_id(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<CheckIdParams>,
) -> PageResult {
    use shouwang_app::children::{IdCheck, Registered};
    let s = p.id_number.trim();
    if s.is_empty() {
        return Ok(Html(String::new()).into_response());
    }
    let check =
        shouwang_app::children::check_id_number(&state.app, &user.actor, s, p.editing.as_ref())
            .await?;
    let html = match check {
        IdCheck::Invalid(e) => format!("<span class=\"bad\">{}</span>", askama_escape(&e)),
        IdCheck::Valid {
            sex,
            birth_date,
            registered,
        } => {
            let valid = format!(
                "<span class=\"ok\" data-sex=\"{sex}\" data-birth=\"{birth_date}\">号码有效：{sex}，出生日期 {birth_date}（已据此填写性别和出生日期）</span>",
                sex = sex.label(),
            );
            match registered {
                None => valid,
                Some(Registered::Here(id)) => format!(
                    "{valid}<span class=\"bad\">该号码的儿童已在您的辖区登记，不能重复登记。<a href=\"/children/{id}\">查看该儿童的档案</a></span>"
                ),
                Some(Registered::Elsewhere) => format!(
                    "{valid}<span class=\"bad\">该号码的儿童已在其他地区登记，不能重复登记。如儿童已迁来本地，请联系县民政部门核实，由原登记地办理转移</span>"
                ),
            }
        }
    };
    Ok(Html(html).into_response())
}

pub(super) fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn masked_list(r: &ChildRecord) -> Vec<(String, String)> {
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

pub async fn edit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> PageResult {
    let r = shouwang_app::children::get(&state.app, &user.actor, &id, false).await?;
    if !user.actor.may(Action::EditChild) {
        return Err(AppError::Forbidden);
    }
    Ok(render(&ChildFormPage {
        frame: Frame::of(&state, &user).await,
        form: FormView::new(&ChildInput::from_file(&r.file), ValidationErrors::default()),
        c: Choices::for_actor(&state, &user.actor).await?,
        ids_masked: masked_list(&r),
        child_id: Some(r.id.into_string()),
        version: r.version,
    }))
}

pub async fn edit_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let (input, control) = form_input(pairs)?;
    let version: i64 = control_str(&control, "version")
        .parse()
        .map_err(|_| AppError::Validation(ValidationErrors::single("version", "缺少版本号")))?;
    match shouwang_app::children::update(
        &state.app,
        &user.actor,
        &id,
        version,
        input.clone(),
        EditMode::Replace,
    )
    .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/children/{}?saved=1", r.id)).into_response()),
        Err(e) => {
            let current = shouwang_app::children::get(&state.app, &user.actor, &id, false).await?;
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
                    child_id: Some(id.into_string()),
                    version,
                }),
            )
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "children/child.html")]
pub(super) struct ChildPage {
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
    /// Opened from the county's archive, for this reason: read-only, no tabs.
    archived: Option<String>,
    /// The schools (and other agencies) the child is linked to, by name.
    linked: Vec<String>,
    /// Schools of the child's town it may be linked to (for those who edit the file).
    schools: Vec<Opt>,
}

impl ChildPage {
    /// A recorded time in China's time.
    fn at(&self, at: &str) -> String {
        crate::ui::china_time(at)
    }
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
            ActualGuardianship::Unknown => "父母目前情况不详（信息不全）".into(),
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
    fn yn_unknown(&self, b: &Option<bool>) -> &'static str {
        match b {
            Some(true) => "是",
            Some(false) => "否",
            None => "未填写",
        }
    }
}

pub(super) fn work_place_name(code: &shouwang_domain::region::RegionCode) -> String {
    Divisions::shipped().written_name(code, " ")
}

#[derive(Deserialize, Default)]
pub(super) struct ChildParams {
    #[serde(default)]
    reveal: Option<String>,
    #[serde(default)]
    registered: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

pub async fn child_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ChildId,
    reveal: bool,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let r = shouwang_app::children::get(&state.app, &user.actor, id, reveal).await?;
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
        (true, Some(county)) => {
            shouwang_app::places::regions_within(&state.app, &county, RegionLevel::Village)
                .await?
                .into_iter()
                .filter(|v| v.code != r.file.village_code.as_str())
                .map(|v| Opt {
                    label: place_name(&v.code),
                    code: v.code,
                })
                .collect()
        }
        _ => vec![],
    };
    let linked_agencies =
        shouwang_app::children::linked_agencies(&state.app, &user.actor, id).await?;
    let schools = match (can_edit, r.file.village_code.parent()) {
        (true, Some(town)) => shouwang_app::places::agencies_within(&state.app, &town)
            .await?
            .into_iter()
            .filter(|a| a.kind == "school" && !linked_agencies.iter().any(|l| l.id == a.id))
            .map(|a| Opt {
                code: a.id,
                label: a.name,
            })
            .collect(),
        _ => vec![],
    };
    Ok(render(&ChildPage {
        frame: Frame::of(state, user).await,
        linked: linked_agencies.into_iter().map(|a| a.name).collect(),
        schools,
        village_name,
        notice,
        can_edit,
        transfer_villages,
        can_reveal: user.actor.may(Action::UnmaskIdNumber) && !reveal,
        exit_reasons: opts(ExitReason::ALL, ExitReason::code, ExitReason::label),
        today: state.app.today().to_string(),
        error,
        r,
        archived: None,
    }))
}

/// An archived file, opened from the archive for `reason` (already audited): read-only.
pub async fn archived_view(
    state: &AppState,
    user: &CurrentUser,
    r: ChildRecord,
    reason: String,
) -> PageResult {
    Ok(render(&ChildPage {
        frame: Frame::of(state, user).await,
        village_name: r
            .place
            .iter()
            .skip(2)
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        notice: None,
        can_edit: false,
        transfer_villages: vec![],
        can_reveal: false,
        exit_reasons: vec![],
        today: state.app.today().to_string(),
        error: None,
        r,
        archived: Some(reason),
        linked: vec![],
        schools: vec![],
    }))
}

pub async fn child_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
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
#[template(path = "children/history.html")]
pub(super) struct HistoryPage {
    frame: Frame,
    id: String,
    name: String,
    entries: Vec<HistoryEntry>,
}

impl HistoryPage {
    /// A recorded time in China's time.
    fn at(&self, at: &str) -> String {
        crate::ui::china_time(at)
    }
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

pub async fn history_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> PageResult {
    let r = shouwang_app::children::get(&state.app, &user.actor, &id, false).await?;
    let entries = shouwang_app::children::history(&state.app, &user.actor, &id).await?;
    Ok(render(&HistoryPage {
        frame: Frame::of(&state, &user).await,
        id: id.into_string(),
        name: r.file.name.to_string(),
        entries,
    }))
}

#[derive(Deserialize)]
pub(super) struct ExitForm {
    version: i64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

pub async fn exit_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, f): CheckedForm<ExitForm>,
) -> PageResult {
    let result = match parse_exit(&f.reason, &f.date) {
        Ok((reason, date)) => shouwang_app::children::exit(
            &state.app,
            &user.actor,
            &id,
            f.version,
            reason,
            date,
            Some(&f.note),
        )
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
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub(super) struct TransferForm {
    version: i64,
    #[serde(default)]
    to_village: String,
}

pub async fn transfer_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, f): CheckedForm<TransferForm>,
) -> PageResult {
    match shouwang_app::children::transfer(&state.app, &user.actor, &id, f.version, &f.to_village)
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
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct SchoolForm {
    #[serde(default)]
    agency_id: String,
}

/// Links the child to a school of its town (the school then sees and keeps its pupil's file and
/// records absences), by those who edit the file.
pub async fn school_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, f): CheckedForm<SchoolForm>,
) -> PageResult {
    if f.agency_id.trim().is_empty() {
        return child_view(&state, &user, &id, false, None, Some("请选择学校".into())).await;
    }
    shouwang_app::children::link_agency(&state.app, &user.actor, &id, f.agency_id.trim()).await?;
    Ok(axum::response::Redirect::to(&format!("/children/{id}?saved=1")).into_response())
}
