//! Referrals: sent from the case page, answered by the provider on its page.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::CaseId;

use crate::ui::filters;

#[derive(Deserialize)]
pub struct ReferForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    note: String,
}

pub async fn referral_submit(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
    CheckedForm(user, f): CheckedForm<ReferForm>,
) -> PageResult {
    let Some(kind) = shouwang_domain::protection::HelpKind::parse(&f.kind) else {
        let e = ValidationErrors::single("kind", "请选择需要的帮助");
        return after(&state, &user, &id, Err(e.into())).await;
    };
    let r = cases::refer(&state.app, &user.actor, &id, kind, &f.agency_id, &f.note).await;
    after(&state, &user, &id, r).await
}

#[derive(Template)]
#[template(path = "protection/referrals.html")]
struct ReferralsPage {
    frame: Frame,
    items: Vec<cases::ReferralView>,
    error: Option<String>,
}

impl ReferralsPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn entry(&self, kind: &str) -> &'static str {
        entry_label(kind)
    }
}

/// What a provider's log entry records.
pub(super) fn entry_label(kind: &str) -> &'static str {
    match kind {
        "accepted" => "接收",
        "declined" => "拒绝",
        "delivered" => "提供服务",
        "completed" => "服务完成",
        _ => "",
    }
}

async fn referrals_view(
    state: &AppState,
    user: &CurrentUser,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let items = cases::provider_referrals(&state.app, &user.actor).await?;
    Ok((
        error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK),
        render(&ReferralsPage {
            frame: Frame::of(state, user).await,
            items,
            error: error.map(|e| e.1),
        }),
    )
        .into_response())
}

pub async fn referrals_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    referrals_view(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct AnswerForm {
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn answer_submit(
    State(state): State<AppState>,
    Path(id): Path<shouwang_domain::ids::ReferralId>,
    CheckedForm(user, f): CheckedForm<AnswerForm>,
) -> PageResult {
    let action = super::super::api::referral_action(&f.action)?;
    match cases::answer_referral(&state.app, &user.actor, &id, action, &f.note).await {
        Ok(_) => Ok(Redirect::to("/referrals").into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            referrals_view(
                &state,
                &user,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(shouwang_app::Error::Conflict { message, .. }) => {
            referrals_view(&state, &user, Some((StatusCode::CONFLICT, message))).await
        }
        Err(e) => Err(e.into()),
    }
}
