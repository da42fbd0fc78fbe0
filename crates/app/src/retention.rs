//! Retention's use cases (个人信息保护法 Art. 19, 47; `domain::retention`): the pass that archives
//! and erases, and the county's archive — every list and every file read from it states a reason,
//! which the audit log keeps.

/// The views this capability hands a front end.
pub use shouwang_store::retention::ArchivedSummary;

use crate::{App, Error, Result};
use chrono::NaiveDate;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::ids::ChildId;
use shouwang_domain::retention::Retention;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::Subject;
use shouwang_store::retention::{ArchivedFile, RetentionRun};

use crate::children::{ChildRecord, record};

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 200;

/// Runs one retention pass (as the system).
pub async fn run(app: &App, policy: &Retention) -> Result<RetentionRun> {
    Ok(app.store.retention().run_retention(policy).await?)
}

/// A stated reason: at least a few words, at most [`MAX_REASON_CHARS`].
fn reason(text: &str) -> Result<String> {
    let t = shouwang_domain::text::clean(text);
    let n = t.chars().count();
    if n < 4 {
        return Err(ValidationErrors::single(
            "reason",
            "请填写查阅理由（至少4个字，如“核实某某申请救助时的监护情况”），理由将记入审计日志",
        )
        .into());
    }
    if n > MAX_REASON_CHARS {
        return Err(ValidationErrors::single(
            "reason",
            format!("查阅理由请不超过{MAX_REASON_CHARS}个字"),
        )
        .into());
    }
    Ok(t)
}

fn may(actor: &Actor) -> Result<()> {
    if actor.may(Action::ReadArchive) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Archived files of the actor's county found by `q` (a name's beginning or an ID number).
pub async fn list(
    app: &App,
    actor: &Actor,
    why: &str,
    q: Option<&str>,
) -> Result<Vec<ArchivedSummary>> {
    may(actor)?;
    let why = reason(why)?;
    let items = app
        .store
        .retention()
        .archived_children(&actor.region, q, 100)
        .await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ArchiveList,
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({
            "reason": why,
            "search": q.map(shouwang_domain::id_number::mask_id_in_text),
            "shown": items.len(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(items)
}

/// What the archive shows of one file.
pub enum ArchivedView {
    Kept(Box<ChildRecord>),
    Erased(Box<ArchivedSummary>),
}

/// Opens one archived file of the actor's county, for a reason that is audited.
pub async fn open(
    app: &App,
    actor: &Actor,
    id: &ChildId,
    why: &str,
    today: NaiveDate,
) -> Result<ArchivedView> {
    may(actor)?;
    let why = reason(why)?;
    let file = app
        .store
        .retention()
        .archived_child(&actor.region, id)
        .await?;
    let (view, region) = match file {
        ArchivedFile::Kept(row) => {
            let region = row.file.village_code.to_string();
            (
                ArchivedView::Kept(Box::new(record(*row, false, today))),
                region,
            )
        }
        ArchivedFile::Erased(s) => {
            let region = s.village_code.clone();
            (ArchivedView::Erased(s), region)
        }
    };
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ArchiveRead,
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(&region),
        },
        serde_json::json!({"reason": why}),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}
