//! What the county does to many items at once, or to a whole run: the same decision on the
//! items ticked, and the withdrawal of a comparison made with the wrong list.

use serde::Serialize;

use super::{ItemDecision, RunSummary, decide, invalid, run_summary};
use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::ids::{ItemId, RunId};
use shouwang_domain::review::Decision;
use shouwang_store::Subject;

/// Most items one request decides at once.
pub const MAX_BULK: usize = 500;

/// What a decision on many items did: the items decided, and those refused with why.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub done: Vec<String>,
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    pub id: String,
    pub message: String,
}

/// The same decision on many items (each as [`decide`] makes it, in its own transaction with its
/// own audit record): an item the user may not decide, or one decided meanwhile, is refused and
/// said, the others are done. At most [`MAX_BULK`] at once; an id given twice counts once.
pub async fn decide_many(
    app: &App,
    actor: &Actor,
    ids: &[String],
    decision: &ItemDecision,
) -> Result<BulkOutcome> {
    if ids.is_empty() {
        return Err(invalid("ids", "请选择要处理的条目"));
    }
    if ids.len() > MAX_BULK {
        return Err(invalid(
            "ids",
            format!("一次最多处理 {MAX_BULK} 条，请分批处理"),
        ));
    }
    // What is wrong for every item is said once, before any is decided.
    let action = Decision::parse(decision.action.trim()).ok_or_else(|| {
        invalid(
            "action",
            "操作应为 accept（确认）、reject（否定）或 assign（交办）",
        )
    })?;
    if decision
        .note
        .as_deref()
        .is_some_and(|n| n.trim().chars().count() > 500)
    {
        return Err(invalid("note", "说明不能超过500字"));
    }
    if action == Decision::Assign {
        let written = decision.assignee.as_deref().unwrap_or("").trim();
        shouwang_domain::review::AssigneeRef::parse(written).map_err(super::review_error)?;
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = BulkOutcome::default();
    for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
        match decide(app, actor, &ItemId::new(id.clone()), decision).await {
            Ok(_) => out.done.push(id.clone()),
            // A fault of the system stops the run; what was done stays done and is said.
            Err(Error::Internal(e)) => {
                tracing::error!(error = %e, item = %id, "a decision on many items stopped");
                out.refused.push(Refusal {
                    id: id.clone(),
                    message: "系统出错，此条及其后的条目未处理，请稍后重试".into(),
                });
                break;
            }
            // What is wrong for one item only (its town, an assignee who does not cover it…),
            // a decision taken meanwhile, an item that is not the user's.
            Err(e) => out.refused.push(Refusal {
                id: id.clone(),
                message: match e {
                    Error::NotFound | Error::Forbidden => "记录不存在".into(),
                    e => e.to_string(),
                },
            }),
        }
    }
    Ok(out)
}

/// The county withdraws a comparison it ran (a wrong list, another county's file): the run says
/// by whom and why, its items still waiting are withdrawn and leave every queue; what was decided
/// stays done. Audited with the number of items withdrawn.
pub async fn withdraw_run(
    app: &App,
    actor: &Actor,
    id: &RunId,
    reason: &str,
) -> Result<RunSummary> {
    let (run_id, id) = (id, id.as_str());
    if !actor.may(Action::Reconcile) {
        return Err(Error::Forbidden);
    }
    let reason = shouwang_domain::text::free(reason);
    if reason.is_empty() {
        return Err(invalid("reason", "请写明撤回的原因"));
    }
    if reason.chars().count() > 500 {
        return Err(invalid("reason", "原因不能超过500字"));
    }
    // Not found outside the county, whatever the id.
    let run = run_summary(app, actor, run_id).await?;
    if run.withdrawn.is_some() {
        return Err(Error::Conflict {
            field: None,
            message: "该次比对已撤回".into(),
        });
    }
    let mut tx = app.store.begin().await?;
    let Some(items) = tx
        .reconcile()
        .withdraw_run(&actor.region, id, &actor.username, &reason)
        .await?
    else {
        return Err(Error::Conflict {
            field: None,
            message: "该次比对已撤回".into(),
        });
    };
    tx.audit(
        actor,
        AuditAction::ReconcileRunWithdraw,
        Subject {
            entity: "reconcile_run",
            id: Some(id),
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"reason": reason, "items_withdrawn": items}),
    )
    .await?;
    tx.commit().await?;
    run_summary(app, actor, run_id).await
}
