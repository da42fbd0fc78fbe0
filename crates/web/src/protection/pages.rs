//! The cases' pages: filing a report from a phone, the inbox, the case with its actions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use shouwang_app::protection::{self as cases, CaseView, InboxStatus, ReportSummary};
use shouwang_domain::authz::Role;
use shouwang_domain::protection::{
    CaseStatus, NewChildInput, PoliceRecord, ReportInput, Severity, Situation, Step, StepOutcome,
};
use shouwang_domain::region::RegionLevel;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render};

#[derive(Template)]
#[template(path = "protection/new.html")]
struct NewReportPage {
    frame: Frame,
    /// A registered child chosen from their file: (id, name).
    child: Option<(String, String)>,
    villages: Vec<Opt>,
    situations: Vec<Opt>,
    severities: Vec<Opt>,
    values: ReportInput,
    errors: ValidationErrors,
}

impl NewReportPage {
    fn err(&self, f: &str) -> String {
        self.errors.message_for(f).unwrap_or("").to_owned()
    }
    fn child_v(&self, f: &str) -> String {
        let c = self.values.child.clone().unwrap_or_default();
        match f {
            "name" => c.name,
            "sex" => c.sex,
            "birth_date" => c.birth_date,
            "village_code" => c.village_code,
            _ => None,
        }
        .unwrap_or_default()
    }
    fn v(&self, f: &str) -> String {
        match f {
            "description" => self.values.description.clone(),
            "severity" => self.values.severity.clone(),
            "place" => self.values.place.clone(),
            "reporter_phone" => self.values.reporter_phone.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }
    fn checked(&self, code: &str) -> bool {
        self.values.situations.iter().any(|s| s == code)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewParams {
    child_id: Option<String>,
    /// A visit that found a situation to report: its note and place fill the form.
    visit_id: Option<String>,
}

async fn new_view(
    state: &AppState,
    user: &CurrentUser,
    child_id: Option<&str>,
    values: ReportInput,
    errors: ValidationErrors,
) -> PageResult {
    if !shouwang_domain::protection::may_report(user.actor.role) {
        return Err(AppError::Forbidden);
    }
    let child = match child_id.filter(|c| !c.is_empty()) {
        Some(id) => {
            let row = shouwang_app::children::visible(&state.app, &user.actor, id).await?;
            Some((row.id, row.file.name.as_str().to_owned()))
        }
        None => None,
    };
    let county = user
        .actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| user.actor.region.clone());
    let mut villages: Vec<Opt> =
        shouwang_app::places::regions_within(&state.app, &county, RegionLevel::Village)
            .await?
            .into_iter()
            .map(|r| Opt {
                label: place_name(&r.code),
                code: r.code,
            })
            .collect();
    // The reporter's own villages first.
    villages.sort_by_key(|v| !v.code.starts_with(user.actor.region.as_str()));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&NewReportPage {
            frame: Frame::of(state, user).await,
            child,
            villages,
            situations: opts(Situation::ALL, Situation::code, Situation::label),
            severities: opts(Severity::ALL, Severity::code, Severity::label),
            values,
            errors,
        }),
    )
        .into_response())
}

pub async fn new_report_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<NewParams>,
) -> PageResult {
    let mut values = ReportInput::default();
    if user.actor.region.level() == RegionLevel::Village {
        values.child = Some(NewChildInput {
            village_code: Some(user.actor.region.to_string()),
            ..Default::default()
        });
    }
    if let (Some(child), Some(visit)) = (p.child_id.as_deref(), p.visit_id.as_deref()) {
        // A visit that is not this child's (or not the user's to see) fills nothing.
        match shouwang_app::visits::one(&state.app, &user.actor, child, visit).await {
            Ok(v) => {
                values.description = Some(format!(
                    "{}走访发现：{}",
                    v.record.visited_on,
                    v.record.note.unwrap_or_default()
                ));
                values.place = v.record.place;
            }
            Err(shouwang_app::Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    new_view(
        &state,
        &user,
        p.child_id.as_deref(),
        values,
        ValidationErrors::default(),
    )
    .await
}

pub async fn new_report_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
    let child_id = get("child_id");
    let input = ReportInput {
        child: child_id.is_none().then(|| NewChildInput {
            name: get("child.name"),
            sex: get("child.sex"),
            birth_date: get("child.birth_date"),
            village_code: get("child.village_code"),
        }),
        child_id: child_id.clone(),
        situations: pairs
            .iter()
            .filter(|(k, _)| k == "situations")
            .map(|(_, v)| v.clone())
            .collect(),
        description: get("description"),
        severity: get("severity"),
        place: get("place"),
        // The phone's local time (China) as the form sends it: 2026-11-24T09:30.
        discovered_at: get("discovered_at").map(|t| {
            if t.len() == 16 {
                format!("{t}:00+08:00")
            } else {
                t
            }
        }),
        reporter_phone: get("reporter_phone"),
    };
    match cases::file(&state.app, &user.actor, &input).await {
        Ok(filed) => Ok(Redirect::to(&format!("/cases/{}?filed=1", filed.case_id)).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            new_view(&state, &user, child_id.as_deref(), input, v).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "protection/inbox.html")]
struct InboxPage {
    frame: Frame,
    items: Vec<ReportSummary>,
    status: String,
    is_police: bool,
}

impl InboxPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn labels(&self, s: &[Situation]) -> String {
        s.iter().map(|x| x.label()).collect::<Vec<_>>().join("、")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InboxParams {
    status: Option<String>,
}

pub async fn inbox_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<InboxParams>,
) -> PageResult {
    let (status, key) = match p.status.as_deref() {
        Some("unreceived") => (InboxStatus::Unreceived, "unreceived"),
        Some("received") => (InboxStatus::Received, "received"),
        _ => (InboxStatus::All, "all"),
    };
    let items = cases::inbox(&state.app, &user.actor, status).await?;
    Ok(render(&InboxPage {
        frame: Frame::of(&state, &user).await,
        items,
        status: key.to_owned(),
        is_police: user.actor.role == Role::Police,
    }))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn receive_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let view = cases::receive(&state.app, &user.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{}", view.id)).into_response())
}

#[derive(Template)]
#[template(path = "protection/case.html")]
struct CasePage {
    frame: Frame,
    c: CaseView,
    attachments: Vec<shouwang_app::protection::Attachment>,
    notice: Option<String>,
    error: Option<String>,
    is_police: bool,
    is_civil: bool,
    /// Records a step of a guardianship intervention (police, civil affairs, court, procuratorate).
    can_intervene: bool,
    outcomes: Vec<Opt>,
    records: Vec<Opt>,
    concerns: Vec<Opt>,
    areas: Vec<Opt>,
    help_kinds: Vec<Opt>,
    providers: Vec<Opt>,
    placement_reasons: Vec<Opt>,
    placement_types: Vec<Opt>,
    measures: Vec<Opt>,
    stages: Vec<Opt>,
    grounds: Vec<Opt>,
    /// Records a follow-up visit (随访) of the child from the case.
    can_follow_up: bool,
    follow_up: FollowUpForm,
}

/// What the follow-up visit's form offers and fills in.
struct FollowUpForm {
    methods: Vec<Opt>,
    roles: Vec<Opt>,
    seen: Vec<Opt>,
    conditions: Vec<Opt>,
    usual_role: &'static str,
    visitor_name: String,
    today: String,
}

impl CasePage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn labels(&self) -> String {
        self.c
            .situations
            .iter()
            .map(|x| x.label())
            .collect::<Vec<_>>()
            .join("、")
    }
    fn entry(&self, kind: &str) -> &'static str {
        entry_label(kind)
    }
    fn open_steps(&self) -> bool {
        self.c.status == CaseStatus::Responding
    }
    fn short(&self, at: &str) -> String {
        crate::ui::china_time(at)
    }
}

async fn case_view(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let c = cases::case(&state.app, &user.actor, id).await?;
    let attachments = cases::attachments(&state.app, &user.actor, id).await?;
    // The county's providers, for the help plan.
    let providers = if c.reporter_view {
        vec![]
    } else {
        cases::providers(&state.app, &user.actor)
            .await?
            .into_iter()
            .map(|a| Opt {
                code: a.id,
                label: a.name,
            })
            .collect()
    };
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    let can_follow_up = !c.reporter_view
        && c.child_id.is_some()
        && c.status != CaseStatus::Closed
        && user.actor.may(shouwang_domain::authz::Action::RecordVisit);
    let follow_up = {
        use shouwang_domain::visits::{Condition, Seen, VisitMethod, VisitorRole};
        FollowUpForm {
            methods: opts(VisitMethod::ALL, VisitMethod::code, VisitMethod::label),
            roles: opts(VisitorRole::ALL, VisitorRole::code, VisitorRole::label),
            seen: opts(Seen::ALL, Seen::code, Seen::label),
            conditions: opts(Condition::ALL, Condition::code, Condition::label),
            usual_role: match user.actor.role {
                Role::Village => VisitorRole::ChildDirector.code(),
                Role::Town => VisitorRole::Supervisor.code(),
                Role::Agency => VisitorRole::SocialWorker.code(),
                _ => VisitorRole::Other.code(),
            },
            visitor_name: if can_follow_up {
                shouwang_app::users::display_name(&state.app, &user.actor.user_id)
                    .await?
                    .unwrap_or_default()
            } else {
                String::new()
            },
            today: state.app.today().to_string(),
        }
    };
    Ok((
        status,
        render(&CasePage {
            can_follow_up,
            follow_up,
            frame: Frame::of(state, user).await,
            is_police: user.actor.role == Role::Police && !c.reporter_view,
            is_civil: matches!(
                user.actor.role,
                Role::Town | Role::County | Role::CountyAdmin
            ) && !c.reporter_view,
            can_intervene: matches!(
                user.actor.role,
                Role::Police
                    | Role::Town
                    | Role::County
                    | Role::CountyAdmin
                    | Role::Court
                    | Role::Procuratorate
            ) && !c.reporter_view,
            c,
            attachments,
            notice,
            error: error.map(|e| e.1),
            outcomes: opts(StepOutcome::ALL, StepOutcome::code, StepOutcome::label),
            records: opts(PoliceRecord::ALL, PoliceRecord::code, PoliceRecord::label),
            concerns: opts(
                shouwang_domain::protection::Concern::ALL,
                shouwang_domain::protection::Concern::code,
                shouwang_domain::protection::Concern::label,
            ),
            areas: opts(
                shouwang_domain::protection::AssessmentArea::ALL,
                shouwang_domain::protection::AssessmentArea::code,
                shouwang_domain::protection::AssessmentArea::label,
            ),
            help_kinds: opts(
                shouwang_domain::protection::HelpKind::ALL,
                shouwang_domain::protection::HelpKind::code,
                shouwang_domain::protection::HelpKind::label,
            ),
            providers,
            placement_reasons: opts(
                shouwang_domain::protection::TemporaryGuardianshipReason::ALL,
                shouwang_domain::protection::TemporaryGuardianshipReason::code,
                shouwang_domain::protection::TemporaryGuardianshipReason::label,
            ),
            placement_types: opts(
                shouwang_domain::protection::Placement::ALL,
                shouwang_domain::protection::Placement::code,
                shouwang_domain::protection::Placement::label,
            ),
            measures: opts(
                shouwang_domain::protection::Measure::ALL,
                shouwang_domain::protection::Measure::code,
                shouwang_domain::protection::Measure::label,
            ),
            stages: opts(
                shouwang_domain::protection::Stage::ALL,
                shouwang_domain::protection::Stage::code,
                shouwang_domain::protection::Stage::label,
            ),
            grounds: opts(
                shouwang_domain::protection::RevocationGround::ALL,
                shouwang_domain::protection::RevocationGround::code,
                shouwang_domain::protection::RevocationGround::label,
            ),
        }),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CaseParams {
    filed: Option<String>,
}

pub async fn case_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<CaseParams>,
) -> PageResult {
    let notice = p
        .filed
        .is_some()
        .then(|| "已报告。公安机关和乡镇已收到，处理进展和反馈将在此显示。".to_owned());
    case_view(&state, &user, &id, notice, None).await
}

/// After an action on the case page: back to the case, or the case with what went wrong.
async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    result: Result<CaseView, shouwang_app::Error>,
) -> PageResult {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            case_view(
                state,
                user,
                id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(shouwang_app::Error::Conflict { message, .. }) => {
            case_view(state, user, id, None, Some((StatusCode::CONFLICT, message))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf_token: String,
    step: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

pub async fn step_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let (Some(step), Some(outcome)) = (Step::parse(&f.step), StepOutcome::parse(&f.outcome)) else {
        let e = ValidationErrors::single("outcome", "请选择步骤和结果");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::record_step(&state.app, &user.actor, &id, step, outcome, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct RecordForm {
    csrf_token: String,
    record: String,
    #[serde(default)]
    note: String,
}

pub async fn police_record_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<RecordForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let Some(record) = PoliceRecord::parse(&f.record) else {
        let e = ValidationErrors::single("record", "请选择记录类型");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::police_record(&state.app, &user.actor, &id, record, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    csrf_token: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    approve: String,
}

pub async fn notify_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let r = cases::notify_town(&state.app, &user.actor, &id, &f.note).await;
    after(&state, &user, &id, r).await
}

pub async fn close_request_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let r = cases::request_close(&state.app, &user.actor, &id, &f.reason).await;
    after(&state, &user, &id, r).await
}

pub async fn close_decision_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let r = cases::decide_close(&state.app, &user.actor, &id, f.approve == "1", &f.note).await;
    after(&state, &user, &id, r).await
}

pub async fn reopen_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let r = cases::reopen(&state.app, &user.actor, &id, &f.reason).await;
    after(&state, &user, &id, r).await
}

#[derive(Template)]
#[template(path = "protection/unreported.html")]
struct UnreportedPage {
    frame: Frame,
    list: cases::UnreportedList,
    /// The area shown, when narrowed, and the areas one level below it to narrow to.
    area: Option<shouwang_app::places::Region>,
    below: Vec<shouwang_app::places::Region>,
}

/// A page lists this many; a wider area is narrowed by its units (a page stays small on a phone).
const UNREPORTED_SHOWN: i64 = 100;

impl UnreportedPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

pub async fn unreported_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<super::api::UnreportedParams>,
) -> PageResult {
    let list = cases::unreported(
        &state.app,
        &user.actor,
        p.region.as_deref(),
        UNREPORTED_SHOWN,
    )
    .await?;
    let code = match p.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => shouwang_domain::region::RegionCode::parse(r).ok(),
        None => None,
    };
    let area = match &code {
        Some(c) => shouwang_app::places::region(&state.app, c).await?,
        None => None,
    };
    let below = if list.total > list.items.len() as i64 {
        shouwang_app::places::child_regions(&state.app, code.as_ref().unwrap_or(&user.actor.region))
            .await?
    } else {
        vec![]
    };
    Ok(render(&UnreportedPage {
        frame: Frame::of(&state, &user).await,
        list,
        area,
        below,
    }))
}

pub async fn attachment_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let r = match upload.filter(|(_, b)| !b.is_empty()) {
        None => Err(ValidationErrors::single("file", "请选择要上传的照片或 PDF 文件").into()),
        Some((name, bytes)) => cases::attach(&state.app, &user.actor, &id, &name, &bytes)
            .await
            .map(|_| ()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            case_view(
                &state,
                &user,
                &id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn assessment_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
    let input = shouwang_domain::protection::AssessmentInput {
        safety: get("safety"),
        guardianship: get("guardianship"),
        physical_health: get("physical_health"),
        mental_health: get("mental_health"),
        findings: get("findings"),
        participants: get("participants"),
        child_view: get("child_view"),
        child_view_absent_reason: get("child_view_absent_reason"),
    };
    let r = cases::assess(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct ReferForm {
    csrf_token: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    note: String,
}

pub async fn referral_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<ReferForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let Some(kind) = shouwang_domain::protection::HelpKind::parse(&f.kind) else {
        let e = ValidationErrors::single("kind", "请选择需要的帮助");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::refer(&state.app, &user.actor, &id, kind, &f.agency_id, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Template)]
#[template(path = "protection/referrals.html")]
struct ReferralsPage {
    frame: Frame,
    items: Vec<cases::ReferralView>,
    error: Option<String>,
}

impl ReferralsPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn entry(&self, kind: &str) -> &'static str {
        entry_label(kind)
    }
}

/// What a provider's log entry records.
fn entry_label(kind: &str) -> &'static str {
    match kind {
        "accepted" => "接收",
        "declined" => "拒绝",
        "delivered" => "提供服务",
        "completed" => "服务完成",
        _ => "",
    }
}

async fn referrals_view(
    state: &AppState,
    user: &CurrentUser,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let items = cases::provider_referrals(&state.app, &user.actor).await?;
    Ok((
        error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK),
        render(&ReferralsPage {
            frame: Frame::of(state, user).await,
            items,
            error: error.map(|e| e.1),
        }),
    )
        .into_response())
}

pub async fn referrals_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    referrals_view(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf_token: String,
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn answer_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let action = super::api::referral_action(&f.action)?;
    match cases::answer_referral(&state.app, &user.actor, &id, action, &f.note).await {
        Ok(_) => Ok(Redirect::to("/referrals").into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            referrals_view(
                &state,
                &user,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(shouwang_app::Error::Conflict { message, .. }) => {
            referrals_view(&state, &user, Some((StatusCode::CONFLICT, message))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn placement_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
    let input = shouwang_domain::protection::PlacementInput {
        reason: get("reason"),
        placement: get("placement"),
        carer: get("carer"),
        start_date: get("start_date"),
        note: get("note"),
    };
    let r = cases::place(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct EndForm {
    csrf_token: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    assessment: String,
}

#[derive(Deserialize)]
pub struct PlacementPath {
    id: String,
    placement_id: String,
}

pub async fn placement_end_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<PlacementPath>,
    Form(f): Form<EndForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let end = Some(f.end_date.as_str()).filter(|d| !d.is_empty());
    let r = cases::end_placement(
        &state.app,
        &user.actor,
        &p.id,
        &p.placement_id,
        end,
        &f.assessment,
    )
    .await;
    after(&state, &user, &p.id, r).await
}

#[derive(Template)]
#[template(path = "protection/figures.html")]
struct FiguresPage {
    frame: Frame,
    f: cases::Figures,
    place: String,
}

impl FiguresPage {
    fn minutes(&self, m: &Option<i64>) -> String {
        match m {
            None => "—".into(),
            Some(m) if *m < 120 => format!("{m} 分钟"),
            Some(m) => format!("{:.1} 小时", *m as f64 / 60.0),
        }
    }
}

pub async fn figures_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<super::api::FiguresParams>,
) -> PageResult {
    let (from, to) = super::api::period(&p, state.app.today())?;
    let f = cases::figures(&state.app, &user.actor, from, to).await?;
    Ok(render(&FiguresPage {
        frame: Frame::of(&state, &user).await,
        place: place_name(&f.region_code),
        f,
    }))
}

use crate::ui::form_field as field;

pub async fn intervention_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
    let input = cases::InterventionInput {
        measure: get("measure").unwrap_or_default(),
        stage: get("stage").unwrap_or_default(),
        note: get("note").unwrap_or_default(),
        ground: get("ground"),
        applicant: get("applicant"),
    };
    let r = cases::intervene(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}
