//! The town's assessment.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// The town (or the county) records an assessment of a case it assesses: the four areas, what was
/// found, who took part and the child's own view; the risk level follows and is kept on the case.
pub async fn assess(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    input: &shouwang_domain::protection::AssessmentInput,
) -> Result<CaseId> {
    let assessment = input.parse()?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if case.status != CaseStatus::Assessing {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，公安机关通报乡镇后才能评估",
                case.status.label()
            ),
        });
    }
    let mut tx = app.store.begin().await?;
    hold(&mut tx, &case, &[CaseStatus::Assessing]).await?;
    tx.protection()
        .add_assessment(&case.id, &By::of(actor), &assessment)
        .await?;
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::Assessed,
            Some(assessment.risk.code()),
            None,
            "",
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::CaseAssess,
        subject(&case),
        serde_json::json!({"risk": assessment.risk.code()}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}
