//! Guardianship intervention from the case page.

use super::*;

pub async fn intervention_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
    let input = cases::InterventionInput {
        measure: get("measure").unwrap_or_default(),
        stage: get("stage").unwrap_or_default(),
        note: get("note").unwrap_or_default(),
        ground: get("ground"),
        applicant: get("applicant"),
    };
    let r = cases::intervene(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}
