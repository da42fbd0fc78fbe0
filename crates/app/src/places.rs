//! Places: the divisions the system serves and the agencies (schools, organisations, departments)
//! set up in them — reference data every page needs for its choices and headings, no child in it.

use shouwang_domain::region::{RegionCode, RegionLevel};

pub use shouwang_store::regions::{Agency, Region, RegionWithChildren};

use crate::{App, Result};

/// A division by its code, if the system serves it.
pub async fn region(app: &App, code: &RegionCode) -> Result<Option<Region>> {
    Ok(app.store.regions().region(code).await?)
}

/// A division's name, or its code when the system does not serve it (a heading never fails).
pub async fn name(app: &App, code: &RegionCode) -> Result<String> {
    Ok(region(app, code)
        .await?
        .map_or_else(|| code.as_str().to_owned(), |r| r.name))
}

/// A division with the divisions directly below it.
pub async fn region_with_children(
    app: &App,
    code: &RegionCode,
) -> Result<Option<RegionWithChildren>> {
    Ok(app.store.regions().region_with_children(code).await?)
}

/// The divisions directly below `code`, in code order.
pub async fn child_regions(app: &App, code: &RegionCode) -> Result<Vec<Region>> {
    Ok(app.store.regions().child_regions(code).await?)
}

/// The divisions of one level inside `within` (e.g. all villages of a county), in code order.
pub async fn regions_within(
    app: &App,
    within: &RegionCode,
    level: RegionLevel,
) -> Result<Vec<Region>> {
    Ok(app.store.regions().regions_within(within, level).await?)
}

/// The agencies set up inside `region`.
pub async fn agencies_within(app: &App, region: &RegionCode) -> Result<Vec<Agency>> {
    Ok(app.store.regions().agencies_within(region).await?)
}

/// An agency's name.
pub async fn agency_name(app: &App, id: &str) -> Result<Option<String>> {
    Ok(app.store.regions().agency_name(id).await?)
}

/// Whether the actor's unit receives the lists of 留守老人 and 事实无人监护 children without reading
/// the roster (龙里 003 五(一)1: the county's 卫计 and 妇联; `authz::receives_lists`).
pub async fn receives_lists(app: &App, actor: &shouwang_domain::authz::Actor) -> Result<bool> {
    let name = match &actor.agency_id {
        Some(id) => agency_name(app, id).await?,
        None => None,
    };
    Ok(shouwang_domain::authz::receives_lists(
        actor.role,
        name.as_deref(),
    ))
}
