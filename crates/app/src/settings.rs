//! A county's own settings (`domain::settings`): read by anyone of the county, changed by its
//! administrator, every change audited with what it was and what it became.

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::settings::{CountySettings, SettingsInput};
use shouwang_store::Subject;

/// The settings of the actor's county (or of the county the actor is under).
pub async fn get(app: &App, actor: &Actor) -> Result<(RegionCode, CountySettings)> {
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .ok_or(Error::Forbidden)?;
    Ok((
        county.clone(),
        app.store.counties().county_settings(&county).await?,
    ))
}

/// Changes the settings of the administrator's county.
pub async fn set(app: &App, actor: &Actor, input: &SettingsInput) -> Result<CountySettings> {
    if !actor.may(Action::ConfigureCounty) {
        return Err(Error::Forbidden);
    }
    let (county, before) = get(app, actor).await?;
    let after = input.apply(&before)?;
    let mut tx = app.store.begin().await?;
    tx.counties()
        .set_county_settings(&county, &after, &actor.username)
        .await?;
    tx.audit(
        actor,
        AuditAction::CountySettingsSet,
        Subject {
            entity: "county",
            id: Some(county.as_str()),
            region: Some(county.as_str()),
        },
        serde_json::json!({"before": before, "after": after}),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
