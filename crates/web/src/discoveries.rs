//! 发现报告: anyone who comes across a child who may be left behind reports it; the town
//! checks and registers the child (or closes the report with a reason).

use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use shouwang_app::discoveries::DiscoveryReport;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::discovery::DiscoveryInput;
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionLevel;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::{AppError, PageError};
use crate::extract::ApiJson;
use crate::schema::{Created, Items};
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, place_name, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/discoveries", get(discoveries_page).post(discovery_submit))
        .route("/discoveries/new", get(discovery_new))
        .route("/discoveries/{id}/close", post(discovery_close))
        .route(
            "/api/v1/discoveries",
            get(discovery_queue).post(file_discovery),
        )
        .route("/api/v1/discoveries/{id}/close", post(close_discovery))
}

#[derive(OpenApi)]
#[openapi(
    paths(file_discovery, discovery_queue, close_discovery),
    components(schemas(CloseDiscoveryBody))
)]
pub struct ApiDoc;

#[derive(Template)]
#[template(path = "discoveries/discovery_new.html")]
struct DiscoveryNewPage {
    frame: Frame,
    towns: Vec<Opt>,
    values: DiscoveryInput,
    errors: ValidationErrors,
    done: bool,
}

impl DiscoveryNewPage {
    fn err(&self, f: &str) -> String {
        self.errors.message_for(f).unwrap_or("").to_owned()
    }
    fn v(&self, f: &str) -> String {
        let v = match f {
            "town_code" => &self.values.town_code,
            "village_code" => &self.values.village_code,
            "child_name" => &self.values.child_name,
            "sex" => &self.values.sex,
            "birth_date" => &self.values.birth_date,
            "situation" => &self.values.situation,
            "reporter_phone" => &self.values.reporter_phone,
            _ => &None,
        };
        v.clone().unwrap_or_default()
    }
}

async fn discovery_towns(state: &AppState, actor: &Actor) -> Result<Vec<Opt>, PageError> {
    // Towns of the reporter's county (a school or village reports to its own town).
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| actor.region.clone());
    Ok(
        shouwang_app::places::regions_within(&state.app, &county, RegionLevel::Town)
            .await?
            .into_iter()
            .map(|r| Opt {
                label: r.name,
                code: r.code,
            })
            .collect(),
    )
}

async fn discovery_new(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    let mut values = DiscoveryInput::default();
    if let Some(t) = user.actor.region.at_level(RegionLevel::Town) {
        values.town_code = Some(t.to_string());
    }
    Ok(render(&DiscoveryNewPage {
        frame: Frame::of(&state, &user).await,
        towns: discovery_towns(&state, &user.actor).await?,
        values,
        errors: ValidationErrors::default(),
        done: false,
    }))
}

async fn discovery_submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let mut values = DiscoveryInput::default();
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "csrf_token" => continue,
            "town_code" => &mut values.town_code,
            "village_code" => &mut values.village_code,
            "child_name" => &mut values.child_name,
            "sex" => &mut values.sex,
            "birth_date" => &mut values.birth_date,
            "situation" => &mut values.situation,
            "reporter_phone" => &mut values.reporter_phone,
            _ => continue,
        };
        *slot = Some(v);
    }
    let (errors, done) =
        match shouwang_app::discoveries::file(&state.app, &user.actor, &values).await {
            Ok(_) => (ValidationErrors::default(), true),
            Err(shouwang_app::Error::Validation(v)) => (v, false),
            Err(e) => return Err(e.into()),
        };
    Ok(render(&DiscoveryNewPage {
        frame: Frame::of(&state, &user).await,
        towns: discovery_towns(&state, &user.actor).await?,
        values: if done {
            DiscoveryInput::default()
        } else {
            values
        },
        errors,
        done,
    }))
}

#[derive(Template)]
#[template(path = "discoveries/discoveries.html")]
struct DiscoveriesPage {
    frame: Frame,
    items: Vec<DiscoveryReport>,
}

impl DiscoveriesPage {
    /// A recorded time in China's time.
    fn at(&self, at: &str) -> String {
        crate::ui::china_time(at)
    }
    fn town(&self, code: &str) -> String {
        place_name(code)
    }
}

async fn discoveries_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::HandleDiscovery) {
        return Err(AppError::Forbidden);
    }
    let items = shouwang_app::discoveries::queue(&state.app, &user.actor).await?;
    Ok(render(&DiscoveriesPage {
        frame: Frame::of(&state, &user).await,
        items,
    }))
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    child_id: String,
    #[serde(default)]
    note: String,
}

async fn discovery_close(
    State(state): State<AppState>,
    Path(id): Path<shouwang_domain::ids::DiscoveryId>,
    CheckedForm(user, f): CheckedForm<CloseForm>,
) -> PageResult {
    let child = Some(f.child_id.trim())
        .filter(|s| !s.is_empty())
        .map(ChildId::from);
    shouwang_app::discoveries::close(&state.app, &user.actor, &id, child.as_ref(), &f.note).await?;
    Ok(Redirect::to("/discoveries").into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDiscoveryBody {
    /// The child registered from this report; omit to dismiss it with a note.
    pub child_id: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/discoveries/{id}/close", params(("id" = String, Path)), request_body = CloseDiscoveryBody,
    responses((status = 204)))]
pub async fn close_discovery(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::DiscoveryId>,
    ApiJson(b): ApiJson<CloseDiscoveryBody>,
) -> Result<StatusCode, AppError> {
    shouwang_app::discoveries::close(
        &state.app,
        &user.actor,
        &id,
        b.child_id.map(ChildId::new).as_ref(),
        &b.note,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/discoveries", request_body = DiscoveryInput, responses((status = 201, description = "filed in the town's queue", body = Created)))]
pub async fn file_discovery(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<DiscoveryInput>,
) -> Result<impl IntoResponse, AppError> {
    let id = shouwang_app::discoveries::file(&state.app, &user.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/discoveries", responses((status = 200, description = "open reports of the towns in your jurisdiction, oldest first", body = Items<DiscoveryReport>)))]
pub async fn discovery_queue(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<DiscoveryReport>>, AppError> {
    Ok(Json(Items {
        items: shouwang_app::discoveries::queue(&state.app, &user.actor).await?,
    }))
}
