//! 应报未报.

use super::*;
use crate::ui::filters;

#[derive(Template)]
#[template(path = "protection/unreported.html")]
struct UnreportedPage {
    frame: Frame,
    list: cases::UnreportedList,
    /// The area shown, when narrowed, and the areas one level below it to narrow to.
    area: Option<shouwang_app::places::Region>,
    below: Vec<shouwang_app::places::Region>,
}

/// A page lists this many; a wider area is narrowed by its units (a page stays small on a phone).
const UNREPORTED_SHOWN: i64 = 100;

impl UnreportedPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

pub async fn unreported_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<super::super::api::UnreportedParams>,
) -> PageResult {
    let list = cases::unreported(
        &state.app,
        &user.actor,
        p.region.as_deref(),
        UNREPORTED_SHOWN,
    )
    .await?;
    let code = match p.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => shouwang_domain::region::RegionCode::parse(r).ok(),
        None => None,
    };
    let area = match &code {
        Some(c) => shouwang_app::places::region(&state.app, c).await?,
        None => None,
    };
    let below = if list.total > list.items.len() as i64 {
        shouwang_app::places::child_regions(&state.app, code.as_ref().unwrap_or(&user.actor.region))
            .await?
    } else {
        vec![]
    };
    Ok(render(&UnreportedPage {
        frame: Frame::of(&state, &user).await,
        list,
        area,
        below,
    }))
}
