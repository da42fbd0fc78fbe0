//! A county's own settings (`/settings`, `/api/v1/settings`): the visiting cadence by risk, the
//! report deadlines, the parents' contact lapse and the agreement term. Everyone of the county
//! reads them; the county's administrator changes them. Rules: `domain::settings`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use shouwang_domain::settings::{CountySettings, SettingsInput};
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::visits::Cadence;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, form_field, opts, place_name, render};

#[derive(OpenApi)]
#[openapi(paths(read, change), components(schemas(SettingsInput, CountyView)))]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings", get(page).post(submit))
        .route("/api/v1/settings", get(read).put(change))
}

/// A county's settings with its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountyView {
    pub county: String,
    #[schema(value_type = Object)]
    pub settings: CountySettings,
}

/// The settings of your county.
#[utoipa::path(get, path = "/api/v1/settings",
    responses((status = 200, body = CountyView)))]
pub async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<CountyView>, AppError> {
    let (county, settings) = shouwang_app::settings::get(&state.app, &user.actor).await?;
    Ok(Json(CountyView {
        county: county.as_str().to_owned(),
        settings,
    }))
}

/// Changes your county's settings (its administrator): any of the fields; each wrong one named.
#[utoipa::path(put, path = "/api/v1/settings", request_body = SettingsInput,
    responses((status = 200, body = CountyView)))]
pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<SettingsInput>,
) -> Result<Json<CountyView>, AppError> {
    user.require_admin_session(&state).await?;
    let settings = shouwang_app::settings::set(&state.app, &user.actor, &body).await?;
    let (county, _) = shouwang_app::settings::get(&state.app, &user.actor).await?;
    Ok(Json(CountyView {
        county: county.as_str().to_owned(),
        settings,
    }))
}

#[derive(Template)]
#[template(path = "settings/page.html")]
struct Page {
    frame: Frame,
    county: String,
    s: CountySettings,
    /// (field, label, current cadence) of the visiting cadences.
    visit_rows: Vec<(&'static str, &'static str, &'static str)>,
    cadences: Vec<Opt>,
    can_change: bool,
    errors: ValidationErrors,
    saved: bool,
    /// What was typed, shown again with the errors.
    typed: Vec<(String, String)>,
}

impl Page {
    /// The value a field shows: what was typed when the form came back with errors, else the
    /// setting.
    fn val(&self, name: &str, setting: &str) -> String {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| setting.to_owned())
    }
}

async fn view(
    state: &AppState,
    user: &CurrentUser,
    errors: ValidationErrors,
    saved: bool,
    typed: Vec<(String, String)>,
) -> PageResult {
    let (county, s) = shouwang_app::settings::get(&state.app, &user.actor).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&Page {
        frame: Frame::of(state, user).await,
        county: place_name(county.as_str()),
        visit_rows: vec![
            ("visit_critical", "最高风险个案", s.visits.critical.code()),
            ("visit_high", "高风险个案", s.visits.high.code()),
            (
                "visit_watched",
                "无人监护、单独居住、监护能力不足、遭受侵害",
                s.visits.watched.code(),
            ),
            ("visit_other", "其他儿童", s.visits.other.code()),
        ],
        s,
        cadences: opts(Cadence::ALL, Cadence::code, Cadence::label),
        can_change: user
            .actor
            .may(shouwang_domain::authz::Action::ConfigureCounty),
        errors,
        saved,
        typed,
    });
    Ok((status, page).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Query(q): crate::extract::Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    view(
        &state,
        &user,
        ValidationErrors::default(),
        q.contains_key("saved"),
        vec![],
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    user.require_admin_session(&state).await?;
    let mut errors = ValidationErrors::default();
    let mut number = |k: &str| -> Option<i64> {
        let v = form_field(&pairs, k)?;
        match v.trim().parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(k, "请填写整数");
                None
            }
        }
    };
    let input = SettingsInput {
        visit_critical: form_field(&pairs, "visit_critical"),
        visit_high: form_field(&pairs, "visit_high"),
        visit_watched: form_field(&pairs, "visit_watched"),
        visit_other: form_field(&pairs, "visit_other"),
        town_report_days: number("town_report_days"),
        county_report_days: number("county_report_days"),
        contact_lapse_days: number("contact_lapse_days"),
        agreement_term_months: number("agreement_term_months"),
    };
    if !errors.is_empty() {
        return view(&state, &user, errors, false, pairs).await;
    }
    match shouwang_app::settings::set(&state.app, &user.actor, &input).await {
        Ok(_) => Ok(Redirect::to("/settings?saved=1").into_response()),
        Err(shouwang_app::Error::Validation(e)) => view(&state, &user, e, false, pairs).await,
        Err(e) => Err(e.into()),
    }
}
