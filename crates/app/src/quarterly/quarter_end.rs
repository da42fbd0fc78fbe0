//! The quarter's end: children who turned 16 leave the roster with the reason.

use super::*;
use shouwang_domain::audit::AuditAction;

/// What time decides at a quarter's end, applied and recorded (每季度核查): a child who turned 16 by
/// the end of the last completed quarter leaves the roster with the reason 年满16周岁 on the
/// birthday, in the file's history like any exit (国发〔2016〕13号: 不满十六周岁). The roster and
/// every count leave them out from the birthday already; this writes it down. Safe to run any
/// number of times; the server runs it at start and every six hours. Returns the files exited.
pub async fn apply_quarter_end(app: &App) -> Result<usize> {
    use shouwang_domain::authz::Role;
    use shouwang_domain::eligibility::sixteenth_birthday;
    use shouwang_domain::lifecycle::{self, ExitReason};
    let cutoff = Quarter::of(app.store.today()).previous().end();
    let mut exited = 0;
    // A first start after a load of millions meets a backlog: each transaction takes what fits
    // in a moment (`Pace`), so requests do not queue behind the pass.
    let mut pace = shouwang_store::pace::Pace::new(20, 5, 500);
    loop {
        let batch = app
            .store
            .quarterly()
            .aged_out_on(cutoff, pace.begin() as i64)
            .await?;
        if batch.is_empty() {
            return Ok(exited);
        }
        let mut moved = 0;
        let mut tx = app.store.begin().await?;
        for (id, version, birth, village) in &batch {
            let system = Actor {
                user_id: "system".into(),
                username: "system".into(),
                role: Role::CountyAdmin,
                region: village
                    .at_level(RegionLevel::County)
                    .unwrap_or(village.clone()),
                agency_id: None,
            };
            let date = sixteenth_birthday(*birth);
            if !tx
                .children()
                .set_exited(id, ExitReason::AgedSixteen, date, *version)
                .await?
            {
                continue;
            }
            moved += 1;
            tx.children().end_agency_links(id, None).await?;
            let changes =
                lifecycle::exit_changes(ExitReason::AgedSixteen, date, Some("季度末自动办理"));
            tx.children()
                .add_history(id, version + 1, &system, "exit", &changes)
                .await?;
            tx.audit(
                &system,
                AuditAction::ChildExit,
                Subject {
                    entity: "child",
                    id: Some(id.as_str()),
                    region: Some(village.as_str()),
                },
                serde_json::json!({"reason": ExitReason::AgedSixteen.code(), "date": date, "quarter_end": cutoff}),
            )
            .await?;
        }
        tx.commit().await?;
        pace.done().await;
        exited += moved;
        if moved == 0 {
            // Every file of the batch changed meanwhile: the next pass takes them.
            return Ok(exited);
        }
    }
}
