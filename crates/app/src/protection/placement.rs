//! Temporary guardianship and other placements.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// Civil affairs takes the child of a case into temporary guardianship (未成年人保护法 Art. 92's
/// grounds, Art. 93's placements); while the response or the assessment runs.
pub async fn place(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    input: &shouwang_domain::protection::PlacementInput,
) -> Result<CaseId> {
    let record = input.parse(app.store.today())?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if !matches!(case.status, CaseStatus::Responding | CaseStatus::Assessing) {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，不能安排临时监护",
                case.status.label()
            ),
        });
    }
    let mut tx = app.store.begin().await?;
    hold(
        &mut tx,
        &case,
        &[CaseStatus::Responding, CaseStatus::Assessing],
    )
    .await?;
    if tx.protection().has_open_placement(&case.id).await? {
        return Err(Error::Conflict {
            field: None,
            message: "该儿童已在临时监护中，请先结束当前临时监护".into(),
        });
    }
    let id = tx
        .protection()
        .add_placement(&case.id, &By::of(actor), &record)
        .await?;
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::Placed,
            Some(record.placement.code()),
            None,
            &format!("{}：{}", record.reason.label(), record.carer),
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::CasePlace,
        subject(&case),
        serde_json::json!({"placement": id, "reason": record.reason.code(), "type": record.placement.code()}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}

/// Ends a temporary guardianship on the assessment that lets the child return (or says where the
/// child goes).
pub async fn end_placement(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    placement_id: &PlacementId,
    end_date: Option<&str>,
    assessment: &str,
) -> Result<CaseId> {
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    let p = app
        .store
        .protection()
        .placements(&case.id)
        .await?
        .into_iter()
        .find(|p| p.id == placement_id.as_str())
        .ok_or(Error::NotFound)?;
    let ended = p.record.ended(end_date, assessment, app.store.today())?;
    let mut tx = app.store.begin().await?;
    if !tx.protection().end_placement(&p, &ended).await? {
        return Err(Error::Conflict {
            field: None,
            message: "该临时监护已被他人更新，请刷新后再操作".into(),
        });
    }
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::PlacementEnded,
            None,
            None,
            ended.end_assessment.as_deref().unwrap_or(""),
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::CasePlacementEnd,
        subject(&case),
        serde_json::json!({"placement": p.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}
