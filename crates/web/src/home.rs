//! The home page: the roster's counts for the user's area and its towns.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use shouwang_store::regions::Region;
use shouwang_store::roster::Counts;

use crate::auth::CurrentUser;
use crate::state::AppState;
use crate::ui::{Frame, PageResult, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    frame: Frame,
    counts: Counts,
    open_discoveries: i64,
    cases: shouwang_app::protection::HomeCounts,
    today: String,
    towns: Vec<Region>,
}

async fn home(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let counts = state.store.counts(&user.actor).await?;
    let open_discoveries = shouwang_app::discoveries::open_count(&state.store, &user.actor).await?;
    let cases = shouwang_app::protection::home_counts(&state.store, &user.actor).await?;
    let towns = if user.actor.agency_id.is_none() {
        state.store.child_regions(&user.actor.region).await?
    } else {
        vec![]
    };
    Ok(render(&HomePage {
        frame: Frame::of(&state, &user).await,
        counts,
        open_discoveries,
        cases,
        today: state.store.today().to_string(),
        towns,
    }))
}
