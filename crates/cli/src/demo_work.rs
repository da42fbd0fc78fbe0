//! The demo county's open work, so that every demo user's home lists something to do (issue 26):
//! a school's mandatory report on a child living alone, waiting for the police to receive it (and
//! its 发现报告 for the town to register); a village's report the police received, with its
//! emergency steps due; and a case the police passed to the town, which referred the child to
//! the 县妇联 (the agency user answers it). Made through the use cases, as the users would.

use anyhow::Result;

use shouwang_app::App;
use shouwang_app::protection;
use shouwang_domain::authz::Actor;
use shouwang_domain::ids::ReportId;
use shouwang_domain::protection::{HelpKind, NewChildInput, ReportInput};
use shouwang_store::Store;

async fn actor(store: &Store, username: &str) -> Result<Option<Actor>> {
    Ok(store.users().actor_by_username(username).await?)
}

fn report(name: &str, sex: &str, village: &str, situation: &str, what: &str) -> ReportInput {
    ReportInput {
        child: Some(NewChildInput {
            name: Some(name.into()),
            sex: Some(sex.into()),
            village_code: Some(village.into()),
            ..Default::default()
        }),
        situations: vec![situation.into()],
        description: Some(what.into()),
        severity: Some("serious".into()),
        ..Default::default()
    }
}

/// Opens the demo's work once (a database that has reports already is left as it is).
pub async fn open(store: &Store) -> Result<()> {
    let (Some(school), Some(village), Some(police), Some(town), Some(agency)) = (
        actor(store, "school").await?,
        actor(store, "village").await?,
        actor(store, "police").await?,
        actor(store, "town").await?,
        actor(store, "agency").await?,
    ) else {
        return Ok(());
    };
    let app = App::new(store.clone());
    if !protection::inbox(&app, &police, protection::InboxStatus::All)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let here = village.region.as_str();
    protection::file(
        &app,
        &school,
        &report(
            "杨小雨",
            "女",
            here,
            "living_alone",
            "连续三天放学后独自回家，家中无成年人，父母在外务工",
        ),
    )
    .await?;
    let received = protection::file(
        &app,
        &village,
        &report(
            "吴小军",
            "男",
            here,
            "guardian_neglect",
            "祖父住院，孩子无人照料，邻居临时照看",
        ),
    )
    .await?;
    protection::receive(&app, &police, &ReportId::from(received.id.as_str())).await?;
    let passed = protection::file(
        &app,
        &village,
        &report(
            "周小燕",
            "女",
            here,
            "guardian_neglect",
            "父母外出后由年迈祖母照料，祖母无力照看，孩子常不上学",
        ),
    )
    .await?;
    protection::receive(&app, &police, &ReportId::from(passed.id.as_str())).await?;
    protection::notify_town(
        &app,
        &police,
        &passed.case_id,
        "已联系父母，暂由姑姑照料，请乡镇评估帮扶",
    )
    .await?;
    if let Some(agency_id) = &agency.agency_id {
        protection::refer(
            &app,
            &town,
            &passed.case_id,
            HelpKind::GuardianshipGuidance,
            agency_id,
            "请对祖母和姑姑开展监护指导，每月上门一次",
        )
        .await?;
    }
    Ok(())
}
