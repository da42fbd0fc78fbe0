//! Guardianship intervention from the case page.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::CaseId;

pub async fn intervention_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
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
