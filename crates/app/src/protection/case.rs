//! A case as its workers read it: the view, the timeline, one read and one audit.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::{CaseId, ChildId};
use shouwang_domain::protection::CaseEventKind;

/// One entry of a case's timeline as its reader may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: At,
    /// filed, received, escalated, step, police_record, notified_town, close_requested, closed,
    /// close_rejected, reopened
    pub kind: String,
    /// What happened, in Chinese.
    pub label: String,
    /// Who did it (报告人信息已保密 for a reporter the reader may not know).
    pub by: String,
    pub code: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

/// A step of the emergency response and how far it got.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepState {
    pub step: Step,
    pub label: String,
    pub outcome: Option<StepOutcome>,
    pub at: Option<At>,
    /// When it should be recorded by (after receipt; `Step::time_limit`; none for a step left
    /// unrecorded when the case moved on), and whether it is late.
    pub due_at: Option<At>,
    pub overdue: bool,
    /// In the playbook of the case's situations (what is expected); false for another lawful
    /// step the responder recorded beyond it (no time limit).
    pub expected: bool,
}

/// A case as its reader may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    pub id: CaseId,
    pub report_id: String,
    pub child_id: Option<ChildId>,
    pub child_name: String,
    pub status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub town_code: String,
    pub village_code: String,
    pub description: String,
    pub place: Option<String>,
    pub discovered_at: At,
    pub opened_at: At,
    pub closed_at: Option<At>,
    pub version: i64,
    pub timeline: Vec<TimelineEntry>,
    /// The emergency response's steps for the situations found.
    pub steps: Vec<StepState>,
    pub reporter: Option<Reporter>,
    pub reporter_confidential: bool,
    /// Only what the reporter may read (status and feedback): they do not work on the case.
    pub reporter_view: bool,
    /// The latest assessment's risk level, and the days between visits it calls for.
    pub risk_level: Option<shouwang_domain::protection::RiskLevel>,
    pub visit_interval_days: Option<u32>,
    /// The town's assessments, newest first (for those who work on the case).
    pub assessments: Vec<shouwang_store::protection::RecordedAssessment>,
    /// The help plan: referrals to providers, with those overdue marked.
    pub referrals: Vec<ReferralView>,
    /// Temporary guardianships (临时监护) of the child on this case.
    pub placements: Vec<shouwang_store::protection::PlacementView>,
    /// Guardianship intervention: each measure's steps as recorded.
    pub interventions: Vec<shouwang_store::protection::InterventionStep>,
    /// The grounds of 民法典 Art. 36 the recorded facts meet while nobody has applied: civil affairs
    /// must apply when nobody else does.
    pub revocation_reminders: Vec<String>,
    /// The evidence the actor may see (see [`attachments`]): the page lists it from here.
    pub attachments: Vec<Attachment>,
}

pub(super) async fn child_name(app: &App, case: &CaseRow, report: &ReportRow) -> Result<String> {
    Ok(match &case.child_id {
        Some(id) => app
            .store
            .children()
            .child_name(id)
            .await?
            .unwrap_or_default(),
        None => report.body.child_name.clone().unwrap_or_default(),
    })
}

pub(super) fn reporter_of(report: &ReportRow) -> Reporter {
    Reporter {
        name: report.body.reporter_name.clone(),
        unit: report.body.reporter_unit.clone(),
        phone: report.body.reporter_phone.clone(),
    }
}

/// A case the actor works on or filed; anything else is not found.
pub(super) async fn load(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
) -> Result<(CaseRow, ReportRow, bool)> {
    let (case, report) = app
        .store
        .protection()
        .case_with_report(case_id)
        .await?
        .ok_or(Error::NotFound)?;
    let works = works_on(actor, &case, &report)
        || (matches!(actor.role, Role::Court | Role::Procuratorate)
            && sent_to(app, actor, &case).await?);
    if !works && report.reporter_user_id != actor.user_id {
        return Err(Error::NotFound);
    }
    Ok((case, report, works))
}

/// The case a visit follows up (随访): one the actor works on, not closed, about `child_id`.
pub(crate) async fn follow_up_case(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    child_id: &ChildId,
) -> Result<CaseRow> {
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works {
        return Err(Error::NotFound);
    }
    if case.child_id.as_ref() != Some(child_id) {
        return Err(ValidationErrors::single("case_id", "该个案不是这名儿童的个案").into());
    }
    if case.status == CaseStatus::Closed {
        return Err(Error::Conflict {
            field: Some("case_id".into()),
            message: "该个案已结案，随访请记为普通走访".into(),
        });
    }
    Ok(case)
}

/// A case as the actor may see it; reading it is audited, and reading its reporter separately.
pub async fn case(app: &App, actor: &Actor, case_id: &CaseId) -> Result<CaseView> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let sees = protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
    let events = app.store.protection().case_events(&case.id).await?;
    let reporter_id = report.reporter_user_id.clone();
    let timeline: Vec<TimelineEntry> = events
        .into_iter()
        // The reporter who does not work on the case reads its status and the feedback only.
        .filter(|e| {
            works
                || matches!(
                    CaseEventKind::parse(&e.kind),
                    Some(CaseEventKind::Filed | CaseEventKind::Received | CaseEventKind::Closed)
                )
                || e.code.as_deref() == Some(PoliceRecord::Feedback.code())
        })
        .map(|e| {
            // Everything the reporter does on the case is the reporter's (issue 24: their
            // evidence's file name and their username were read by the town and the village):
            // who did it and what they wrote are kept from those who may not see the reporter,
            // and so is the police's feedback to them.
            let reporters = e.user_id.as_deref() == Some(reporter_id.as_str())
                || e.code.as_deref() == Some(PoliceRecord::Feedback.code());
            let (by, note) = if reporters && !sees {
                (
                    if e.user_id.as_deref() == Some(reporter_id.as_str()) {
                        CONFIDENTIAL.to_owned()
                    } else {
                        e.username.clone()
                    },
                    None,
                )
            } else {
                (e.username.clone(), e.note)
            };
            TimelineEntry {
                label: event_label(&e.kind, e.code.as_deref(), e.outcome.as_deref()),
                at: e.at,
                kind: e.kind,
                by,
                code: e.code,
                outcome: e.outcome,
                note,
            }
        })
        .collect();
    let received_at = timeline
        .iter()
        .find(|e| e.kind == CaseEventKind::Received.code())
        .map(|e| e.at.instant());
    let now = app.store.clock().now();
    let playbook = protection::playbook(&case.situations);
    // The playbook's steps, then any other step the responder recorded (a playbook is what is
    // expected, not all a responder may lawfully do).
    let mut steps: Vec<Step> = playbook.clone();
    for e in &timeline {
        if e.kind == CaseEventKind::Step.code()
            && let Some(step) = e.code.as_deref().and_then(Step::parse)
            && !steps.contains(&step)
        {
            steps.push(step);
        }
    }
    let steps = steps
        .into_iter()
        .map(|step| {
            let expected = playbook.contains(&step);
            let last = timeline.iter().rev().find(|e| {
                (e.kind == CaseEventKind::Step.code() && e.code.as_deref() == Some(step.code()))
                    || (step == Step::NotifyTown && e.kind == CaseEventKind::NotifiedTown.code())
            });
            StepState {
                step,
                label: step.label().to_owned(),
                outcome: last.and_then(|e| {
                    if e.kind == CaseEventKind::NotifiedTown.code() {
                        Some(StepOutcome::Done)
                    } else {
                        e.outcome.as_deref().and_then(StepOutcome::parse)
                    }
                }),
                at: last.map(|e| e.at.clone()),
                // A step left unrecorded when the case moved on (通报乡镇) has no deadline left.
                due_at: received_at
                    .filter(|_| expected)
                    .filter(|_| last.is_some() || case.status == CaseStatus::Responding)
                    .map(|r| At::of(r + step.time_limit())),
                overdue: expected
                    && last.is_none()
                    && case.status == CaseStatus::Responding
                    && received_at.is_some_and(|r| protection::step_overdue(step, r, now)),
                expected,
            }
        })
        .collect();
    let view = CaseView {
        id: case.id.clone(),
        report_id: report.id.clone(),
        child_id: if works { case.child_id.clone() } else { None },
        child_name: child_name(app, &case, &report).await?,
        status: case.status,
        situations: case.situations.clone(),
        severity: case.severity,
        town_code: case.town.as_str().to_owned(),
        village_code: case.village.as_str().to_owned(),
        description: report.body.description.clone(),
        place: report.body.place.clone(),
        discovered_at: report.discovered_at.clone(),
        opened_at: case.opened_at.clone(),
        closed_at: case.closed_at.clone(),
        version: case.version,
        timeline,
        steps: if works { steps } else { vec![] },
        reporter: sees.then(|| reporter_of(&report)),
        reporter_confidential: !sees,
        reporter_view: !works,
        risk_level: case.risk.filter(|_| works),
        visit_interval_days: case.risk.filter(|_| works).map(|r| r.visit_interval_days()),
        assessments: if works {
            app.store.protection().assessments(&case.id).await?
        } else {
            vec![]
        },
        referrals: if works {
            referral_views(
                app,
                app.store.protection().referrals_of_case(&case.id).await?,
            )
            .await?
        } else {
            vec![]
        },
        placements: if works {
            app.store.protection().placements(&case.id).await?
        } else {
            vec![]
        },
        interventions: if works {
            app.store.protection().interventions(&case.id).await?
        } else {
            vec![]
        },
        revocation_reminders: vec![],
        attachments: {
            let may = evidence_reader(actor, &report, works);
            app.store
                .protection()
                .attachments(&case.id)
                .await?
                .into_iter()
                .filter(|a| may(a))
                .collect()
        },
    };
    let mut view = view;
    if works {
        let silent_since = match &case.child_id {
            Some(child) => shouwang_domain::guardianship::silent_since(
                &app.store.guardianship().contact_facts(child).await?,
            ),
            None => None,
        };
        view.revocation_reminders = revocation_reminders(&view, silent_since, app.store.today());
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::CaseRead,
        subject(&case),
        serde_json::json!({}),
    )
    .await?;
    if sees && actor.user_id != report.reporter_user_id {
        tx.audit(
            actor,
            AuditAction::CaseReporterRead,
            subject(&case),
            serde_json::json!({"report": report.id}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(view)
}

fn event_label(kind: &str, code: Option<&str>, outcome: Option<&str>) -> String {
    let Some(kind) = CaseEventKind::parse(kind) else {
        // A kind this version does not know (written by a later one) is shown as it is.
        return kind.to_owned();
    };
    let outcome = outcome.and_then(StepOutcome::parse).map(|o| o.label());
    let what = |label: Option<&str>| format!("{}：{}", kind.label(), label.unwrap_or(""));
    match kind {
        CaseEventKind::Step => format!(
            "{}：{}{}",
            kind.label(),
            code.and_then(Step::parse).map(|s| s.label()).unwrap_or(""),
            outcome.map(|o| format!("（{o}）")).unwrap_or_default()
        ),
        CaseEventKind::PoliceRecord => what(code.and_then(PoliceRecord::parse).map(|r| r.label())),
        CaseEventKind::Referred => what(
            code.and_then(shouwang_domain::protection::HelpKind::parse)
                .map(|k| k.label()),
        ),
        CaseEventKind::ReferralAnswered => what(
            code.and_then(shouwang_domain::protection::ReferralStatus::parse)
                .map(|s| s.label()),
        ),
        CaseEventKind::Placed => what(
            code.and_then(shouwang_domain::protection::Placement::parse)
                .map(|p| p.label()),
        ),
        CaseEventKind::FollowUp => format!(
            "{}：儿童状况{}",
            kind.label(),
            code.and_then(shouwang_domain::visits::Condition::parse)
                .map(|c| c.label())
                .unwrap_or("")
        ),
        CaseEventKind::Intervention => format!(
            "{}：{}{}",
            kind.label(),
            code.and_then(shouwang_domain::protection::Measure::parse)
                .map(|m| m.label())
                .unwrap_or(""),
            outcome
                .and_then(shouwang_domain::protection::Stage::parse)
                .map(|s| format!("（{}）", s.label()))
                .unwrap_or_default()
        ),
        CaseEventKind::Assessed => format!(
            "{}：风险等级{}",
            kind.label(),
            code.and_then(shouwang_domain::protection::RiskLevel::parse)
                .map(|r| r.label())
                .unwrap_or("")
        ),
        _ => kind.label().to_owned(),
    }
}
