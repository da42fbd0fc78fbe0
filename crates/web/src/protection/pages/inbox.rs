//! The police's and the towns' inboxes.

use super::*;
use crate::auth::CheckedForm;
use crate::auth::NoFields;

#[derive(Template)]
#[template(path = "protection/inbox.html")]
struct InboxPage {
    frame: Frame,
    items: Vec<ReportSummary>,
    status: String,
    is_police: bool,
    /// The county's civil affairs receive a report that went up to them (景洪 000 三(二)3).
    receives_escalated: bool,
}

impl InboxPage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn labels(&self, s: &[Situation]) -> String {
        s.iter().map(|x| x.label()).collect::<Vec<_>>().join("、")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InboxParams {
    status: Option<String>,
}

pub async fn inbox_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<InboxParams>,
) -> PageResult {
    let (status, key) = match p.status.as_deref() {
        Some("unreceived") => (InboxStatus::Unreceived, "unreceived"),
        Some("received") => (InboxStatus::Received, "received"),
        _ => (InboxStatus::All, "all"),
    };
    let items = cases::inbox(&state.app, &user.actor, status).await?;
    Ok(render(&InboxPage {
        frame: Frame::of(&state, &user).await,
        items,
        status: key.to_owned(),
        is_police: user.actor.role == Role::Police,
        receives_escalated: matches!(user.actor.role, Role::County | Role::CountyAdmin),
    }))
}

pub async fn receive_submit(
    State(state): State<AppState>,
    Path(id): Path<shouwang_domain::ids::ReportId>,
    CheckedForm(user, NoFields {}): CheckedForm<NoFields>,
) -> PageResult {
    let case_id = cases::receive(&state.app, &user.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{case_id}?received=1")).into_response())
}
