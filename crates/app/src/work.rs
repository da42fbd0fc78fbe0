//! 今日待办: the open work of the signed-in person, most urgent first, each line a link to the place
//! where it is done (`GET /api/v1/work`, the home page). Each capability says what waits on the
//! person in its own room (`<room>::work`); this one gathers them, orders them
//! (`domain::work::order`) and audits the read once — the lines name children.

use serde::Serialize;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Actor;
use shouwang_domain::work::{WorkItem, WorkKind, order};
use shouwang_store::Subject;

use crate::{App, Result};

/// The most lines one read returns.
pub const MAX_SHOWN: usize = 500;

/// The person's work: the first lines and how many there are in all.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Work {
    pub items: Vec<WorkItem>,
    /// Lines in all (of the kind asked for), also those not shown.
    pub total: usize,
}

impl Work {
    /// How many lines of all are late.
    pub fn overdue(&self) -> usize {
        self.items.iter().filter(|i| i.overdue).count()
    }
}

/// What a read of the work asks for.
#[derive(Debug, Clone, Default)]
pub struct WorkQuery {
    /// Only lines of this kind.
    pub kind: Option<WorkKind>,
    /// The most lines shown (1 to [`MAX_SHOWN`]; 100 when 0).
    pub limit: usize,
}

/// Every line of work waiting on the actor, most urgent first.
pub async fn of(app: &App, actor: &Actor, q: &WorkQuery) -> Result<Work> {
    let mut items = Vec::new();
    items.extend(crate::protection::work(app, actor).await?);
    items.extend(crate::routings::work(app, actor).await?);
    items.extend(crate::attendance::work(app, actor).await?);
    items.extend(crate::visits::work(app, actor).await?);
    items.extend(crate::guardianship::work(app, actor).await?);
    items.extend(crate::discoveries::work(app, actor).await?);
    items.extend(crate::children::work(app, actor).await?);
    items.extend(crate::elders::work(app, actor).await?);
    items.extend(crate::quarterly::work(app, actor).await?);
    if let Some(kind) = q.kind {
        items.retain(|i| i.kind == kind);
    }
    order(&mut items);
    let total = items.len();
    let limit = match q.limit {
        0 => 100,
        n => n.min(MAX_SHOWN),
    };
    items.truncate(limit);
    let about_children = items.iter().filter(|i| i.child_id.is_some()).count();
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::WorkRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": items.len(), "total": total, "children": about_children}),
    )
    .await?;
    tx.commit().await?;
    Ok(Work { items, total })
}
