//! The town's assessment from the case page.

use super::*;

pub async fn assessment_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    user.check_csrf(&get("csrf_token").unwrap_or_default())?;
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
