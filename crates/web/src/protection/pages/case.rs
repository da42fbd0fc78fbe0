//! The case page and the actions of its life.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::CaseId;

use crate::ui::filters;

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
    /// The case's village committee (its part in a 告诫书 and a 保护令).
    is_village: bool,
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
    /// Whether a measure reached a stage (the village's forms follow a served letter or order).
    fn reached(&self, measure: &str, stage: &str) -> bool {
        self.c
            .interventions
            .iter()
            .any(|i| i.measure.code() == measure && i.stage.code() == stage)
    }
    /// Lawful steps beyond the case's playbook the police may also record (not yet shown).
    fn other_steps(&self) -> Vec<(&'static str, &'static str)> {
        shouwang_domain::protection::Step::ALL
            .iter()
            .filter(|s| **s != shouwang_domain::protection::Step::NotifyTown)
            .filter(|s| !self.c.steps.iter().any(|x| x.step == **s))
            .map(|s| (s.code(), s.label()))
            .collect()
    }
    fn short(&self, at: &(impl crate::ui::ChinaTime + ?Sized)) -> String {
        crate::ui::china_time(at)
    }
}

pub(super) async fn case_view(
    state: &AppState,
    user: &CurrentUser,
    id: &CaseId,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let c = cases::case(&state.app, &user.actor, id).await?;
    let attachments = c.attachments.clone();
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
            is_village: user.actor.role == Role::Village && !c.reporter_view,
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
    /// After 受理 (the police).
    received: Option<String>,
    /// After any other action on the case.
    saved: Option<String>,
}

pub async fn case_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    Query(p): Query<CaseParams>,
) -> PageResult {
    // What was just done, said at the top of the page it comes back to.
    let notice = if p.filed.is_some() {
        Some("已报告。公安机关和乡镇已收到，处理进展和反馈将在此显示。".to_owned())
    } else if p.received.is_some() {
        Some("已受理。请按下列处置步骤逐项记录，各步骤均有时限。".to_owned())
    } else if p.saved.is_some() {
        Some("已保存，已记入下方的办理经过。".to_owned())
    } else {
        None
    };
    case_view(&state, &user, &id, notice, None).await
}

/// After an action on the case page: back to the case, or the case with what went wrong.
pub(super) async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: &CaseId,
    result: Result<CaseId, shouwang_app::Error>,
) -> PageResult {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?saved=1")).into_response()),
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
    step: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

pub async fn step_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<StepForm>,
) -> PageResult {
    let (Some(step), Some(outcome)) = (Step::parse(&f.step), StepOutcome::parse(&f.outcome)) else {
        let e = ValidationErrors::single("outcome", "请选择步骤和结果");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::record_step(&state.app, &user.actor, &id, step, outcome, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct RecordForm {
    record: String,
    #[serde(default)]
    note: String,
}

pub async fn police_record_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<RecordForm>,
) -> PageResult {
    let Some(record) = PoliceRecord::parse(&f.record) else {
        let e = ValidationErrors::single("record", "请选择记录类型");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::police_record(&state.app, &user.actor, &id, record, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    approve: String,
}

pub async fn notify_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<NoteForm>,
) -> PageResult {
    let r = cases::notify_town(&state.app, &user.actor, &id, &f.note).await;
    after(&state, &user, &id, r).await
}

pub async fn close_request_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<NoteForm>,
) -> PageResult {
    let r = cases::request_close(&state.app, &user.actor, &id, &f.reason).await;
    after(&state, &user, &id, r).await
}

pub async fn close_decision_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<NoteForm>,
) -> PageResult {
    let r = cases::decide_close(&state.app, &user.actor, &id, f.approve == "1", &f.note).await;
    after(&state, &user, &id, r).await
}

pub async fn reopen_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<NoteForm>,
) -> PageResult {
    let r = cases::reopen(&state.app, &user.actor, &id, &f.reason).await;
    after(&state, &user, &id, r).await
}
