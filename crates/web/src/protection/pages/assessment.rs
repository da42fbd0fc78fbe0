//! The town's assessment from the case page.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::CaseId;

pub async fn assessment_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let input = shouwang_domain::protection::AssessmentInput {
        safety: get("safety"),
        guardianship: get("guardianship"),
        physical_health: get("physical_health"),
        mental_health: get("mental_health"),
        findings: get("findings"),
        participants: get("participants"),
        child_view: get("child_view"),
        child_view_absent_reason: get("child_view_absent_reason"),
    };
    let r = cases::assess(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}
