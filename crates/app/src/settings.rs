//! A county's own settings (`domain::settings`): read by anyone of the county, changed by its
//! administrator, every change audited with what it was and what it became.

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::settings::{CountySettings, SettingsInput};
use shouwang_store::{Result, Store, StoreError, Subject};

/// The settings of the actor's county (or of the county the actor is under).
pub async fn get(store: &Store, actor: &Actor) -> Result<(RegionCode, CountySettings)> {
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .ok_or(StoreError::Forbidden)?;
    Ok((county.clone(), store.county_settings(&county).await?))
}

/// Changes the settings of the administrator's county.
pub async fn set(store: &Store, actor: &Actor, input: &SettingsInput) -> Result<CountySettings> {
    if !actor.may(Action::ConfigureCounty) {
        return Err(StoreError::Forbidden);
    }
    let (county, before) = get(store, actor).await?;
    let after = input.apply(&before)?;
    let mut tx = store.begin().await?;
    tx.set_county_settings(&county, &after, &actor.username)
        .await?;
    tx.audit(
        actor,
        "county_settings_set",
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
