//! Placements from the case page.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::CaseId;

pub async fn placement_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let input = shouwang_domain::protection::PlacementInput {
        reason: get("reason"),
        placement: get("placement"),
        carer: get("carer"),
        start_date: get("start_date"),
        note: get("note"),
    };
    let r = cases::place(&state.app, &user.actor, &id, &input).await;
    after(&state, &user, &id, r).await
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    assessment: String,
}

#[derive(Deserialize)]
pub struct PlacementPath {
    id: CaseId,
    placement_id: shouwang_domain::ids::PlacementId,
}

pub async fn placement_end_submit(
    State(state): State<AppState>,
    Path(p): Path<PlacementPath>,
    CheckedForm(user, f): CheckedForm<EndForm>,
) -> PageResult {
    let end = Some(f.end_date.as_str()).filter(|d| !d.is_empty());
    let r = cases::end_placement(
        &state.app,
        &user.actor,
        &p.id,
        &p.placement_id,
        end,
        &f.assessment,
    )
    .await;
    after(&state, &user, &p.id, r).await
}
