//! The case's life: received, the emergency steps, the police's record, the town told, closed, reopened.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// Applies `action` to a case the actor works on, in one transaction with its timeline entry and
/// audit event; a case moved meanwhile is a conflict.
async fn act(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    action: CaseAction,
    write: impl AsyncFnOnce(&mut Tx, &CaseRow, &ReportRow) -> Result<()>,
    close_requested_by: Option<&str>,
) -> Result<CaseId> {
    let (case, report, works) = load(app, actor, case_id).await?;
    if !works {
        return Err(Error::Forbidden);
    }
    let next = protection::transition(case.status, action, actor.role).map_err(case_error)?;
    let mut tx = app.store.begin().await?;
    if !tx
        .protection()
        .set_case_status(&case.id, case.version, next, close_requested_by)
        .await?
    {
        return Err(Error::Conflict {
            field: None,
            message: "该个案已被他人更新，请刷新后再操作".into(),
        });
    }
    write(&mut tx, &case, &report).await?;
    tx.audit(
        actor,
        AuditAction::case(action),
        subject(&case),
        serde_json::json!({"from": case.status.code(), "to": next.code()}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}

pub(super) fn note_of(note: &str, field: &str, required: Option<&str>) -> Result<String> {
    let n = shouwang_domain::text::free(note);
    if n.chars().count() > 1000 {
        return Err(ValidationErrors::single(field, "说明请不超过1000字").into());
    }
    if let Some(msg) = required
        && n.is_empty()
    {
        return Err(ValidationErrors::single(field, msg).into());
    }
    Ok(n)
}

/// The police receive a report (受理); a report escalated to the county may be received by the
/// county's civil affairs too.
pub async fn receive(app: &App, actor: &Actor, report_id: &ReportId) -> Result<CaseId> {
    let (case, report) = app
        .store
        .protection()
        .report_with_case(report_id.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    if !works_on(actor, &case, &report) {
        return Err(Error::NotFound);
    }
    if matches!(actor.role, Role::County | Role::CountyAdmin) && report.escalated_at.is_none() {
        return Err(Error::Conflict {
            field: None,
            message: "该报告尚未超时上报，请由派出所受理".into(),
        });
    }
    let who = actor.user_id.clone();
    act(
        app,
        actor,
        &case.id,
        CaseAction::Receive,
        async |tx: &mut Tx, case: &CaseRow, report: &ReportRow| {
            if !tx.protection().receive_report(&report.id, &who).await? {
                return Err(Error::Conflict {
                    field: None,
                    message: "该报告已被受理".into(),
                });
            }
            Ok(tx
                .protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::Received,
                    None,
                    None,
                    "",
                )
                .await?)
        },
        None,
    )
    .await
}

/// Records a step of the emergency response; a skipped or failed step says why.
pub async fn record_step(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    step: Step,
    outcome: StepOutcome,
    note: &str,
) -> Result<CaseId> {
    let note = note_of(
        note,
        "note",
        matches!(outcome, StepOutcome::Skipped | StepOutcome::Failed)
            .then_some("跳过或未成功的步骤请说明原因"),
    )?;
    if step == Step::NotifyTown {
        return Err(ValidationErrors::single("step", "通报乡镇请使用“通报乡镇”操作").into());
    }
    // A playbook is what is expected; a responder may record any other lawful step of the
    // emergency response too (内蒙古 001 四(二): 对于上述情形，要按照有关规定调查取证，协助其就医、
    // 鉴定伤情), shown beyond the playbook without a time limit.
    act(
        app,
        actor,
        case_id,
        CaseAction::Respond,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            // The emergency response ends with 通报乡镇: a page left open since then records no
            // step (those not recorded stay "not recorded when the response ended"). Checked on
            // the case as this transaction holds it.
            if matches!(
                case.status,
                CaseStatus::Assessing | CaseStatus::Closing | CaseStatus::Closed
            ) {
                return Err(Error::Conflict {
                    field: Some("step".into()),
                    message: format!(
                        "应急处置已结束（个案当前为“{}”），不能再记录处置步骤",
                        case.status.label()
                    ),
                });
            }
            tx.protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::Step,
                    Some(step.code()),
                    Some(outcome.code()),
                    &note,
                )
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}

/// Records 受案、立案、反馈 or a transfer.
pub async fn police_record(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    record: PoliceRecord,
    note: &str,
) -> Result<CaseId> {
    let note = note_of(
        note,
        "note",
        (record == PoliceRecord::Feedback).then_some("请填写向报告人反馈的内容"),
    )?;
    act(
        app,
        actor,
        case_id,
        CaseAction::Respond,
        async |tx: &mut Tx, case: &CaseRow, report: &ReportRow| {
            match record {
                PoliceRecord::CaseAccepted | PoliceRecord::CaseFiled => {
                    tx.protection().mark_report(&report.id, false).await?
                }
                PoliceRecord::Feedback => {
                    tx.protection().mark_report(&report.id, true).await?;
                    tx.notifications()
                        .notify_user(
                            &report.reporter_user_id,
                            "feedback",
                            Some(case.id.as_str()),
                            "守望：您的强制报告有新的反馈",
                            "公安机关对您提交的强制报告作出了反馈，请登录守望查看。",
                        )
                        .await?;
                }
                PoliceRecord::Transferred => {}
            }
            tx.protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::PoliceRecord,
                    Some(record.code()),
                    None,
                    &note,
                )
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}

/// The police notify the town (通报乡镇): the town's assessment and help begin.
pub async fn notify_town(app: &App, actor: &Actor, case_id: &CaseId, note: &str) -> Result<CaseId> {
    let note = note_of(note, "note", None)?;
    act(
        app,
        actor,
        case_id,
        CaseAction::NotifyTown,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::NotifiedTown,
                    None,
                    None,
                    &note,
                )
                .await?;
            tx.notifications()
                .notify_org(
                    &case.town,
                    &[Role::Town],
                    "town_notified",
                    Some(case.id.as_str()),
                    "守望：公安机关通报个案",
                    "公安机关已就一起个案通报本乡镇（街道），请登录守望开展评估帮扶。",
                )
                .await?;
            Ok(())
        },
        None,
    )
    .await
}

/// The town asks to close the case, saying why.
pub async fn request_close(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    reason: &str,
) -> Result<CaseId> {
    let reason = note_of(reason, "reason", Some("请说明结案理由"))?;
    act(
        app,
        actor,
        case_id,
        CaseAction::RequestClose,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::CloseRequested,
                    None,
                    None,
                    &reason,
                )
                .await
                .map_err(Error::from)
        },
        Some(&actor.user_id),
    )
    .await
}

/// Another town or county user approves closing, or returns it with a note.
pub async fn decide_close(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    approve: bool,
    note: &str,
) -> Result<CaseId> {
    let note = note_of(note, "note", (!approve).then_some("退回结案申请请说明原因"))?;
    let (case, _, _) = load(app, actor, case_id).await?;
    if case.status == CaseStatus::Closing
        && case.close_requested_by.as_deref() == Some(actor.user_id.as_str())
    {
        return Err(case_error(CaseError::SelfApproval));
    }
    let (action, kind) = if approve {
        (CaseAction::ApproveClose, CaseEventKind::Closed)
    } else {
        (CaseAction::RejectClose, CaseEventKind::CloseRejected)
    };
    act(
        app,
        actor,
        case_id,
        action,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.protection()
                .add_case_event(&case.id, &By::of(actor), kind, None, None, &note)
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}

/// Reopens a closed case, saying why.
pub async fn reopen(app: &App, actor: &Actor, case_id: &CaseId, reason: &str) -> Result<CaseId> {
    let reason = note_of(reason, "reason", Some("请说明重新开启的理由"))?;
    act(
        app,
        actor,
        case_id,
        CaseAction::Reopen,
        async |tx: &mut Tx, case: &CaseRow, _: &ReportRow| {
            tx.protection()
                .add_case_event(
                    &case.id,
                    &By::of(actor),
                    CaseEventKind::Reopened,
                    None,
                    None,
                    &reason,
                )
                .await
                .map_err(Error::from)
        },
        None,
    )
    .await
}
