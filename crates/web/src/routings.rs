//! 部门转办 (issue 15): children sent to the police station (no hukou) and to the county
//! departments (hardship, illness, disability) until the unit closes them — the receiving unit's
//! inbox and the sender's list (`/routings`, `/routings/{id}`), the send form on the child's page
//! (`/children/{id}/routings`), and `/api/v1/children/{id}/routings`, `/api/v1/routings…`. The
//! rules are `domain::routing`, the use cases `app::routings`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use shouwang_app::routings::Routing;
use shouwang_app::routings::{self, RoutingView};
use shouwang_domain::ids::{ChildId, RoutingId};
use shouwang_domain::routing::{EventInput, Need, RoutingInput, Unit};
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Path, Query};
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, china_time, opts, render};

#[derive(OpenApi)]
#[openapi(
    paths(send, list, get_one, act, of_child),
    components(schemas(RoutingInput, EventInput))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/routings", get(list_page))
        .route("/routings/{id}", get(one_page))
        .route("/routings/{id}/action", post(action_submit))
        .route("/children/{id}/routings", get(child_page).post(send_submit))
        .route("/api/v1/children/{id}/routings", get(of_child).post(send))
        .route("/api/v1/routings", get(list))
        .route("/api/v1/routings/{id}", get(get_one))
        .route("/api/v1/routings/{id}/events", post(act))
}

/// Sends a child to the units its need goes to: `need` (no_hukou → police; hardship, illness,
/// disability → the departments), `units` (empty = the usual one), `note`. One routing per unit;
/// one still open for the same need and unit is answered as it is.
#[utoipa::path(post, path = "/api/v1/children/{id}/routings", params(("id" = String, Path)),
    request_body = RoutingInput,
    responses((status = 201, body = Items<RoutingView>)))]
pub async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<RoutingInput>,
) -> Result<impl IntoResponse, AppError> {
    let items = routings::send(&state.app, &user.actor, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(Items { items })))
}

/// A child's routings, newest first (for those who see the child's file).
#[utoipa::path(get, path = "/api/v1/children/{id}/routings", params(("id" = String, Path)),
    responses((status = 200, body = Items<Routing>)))]
pub async fn of_child(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Json<Items<Routing>>, AppError> {
    Ok(Json(Items {
        items: routings::of_child(&state.app, &user.actor, &id).await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListQuery {
    /// Closed ones too (default: open only).
    pub all: Option<bool>,
}

/// The receiving unit's inbox (the police, a department) or the routings of the sender's area,
/// open first and the oldest waiting first.
#[utoipa::path(get, path = "/api/v1/routings", params(ListQuery),
    responses((status = 200, body = Items<RoutingView>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Items<RoutingView>>, AppError> {
    let open_only = !q.all.unwrap_or(false);
    Ok(Json(Items {
        items: routings::list(&state.app, &user.actor, open_only).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/routings/{id}", params(("id" = String, Path)),
    responses((status = 200, body = RoutingView)))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RoutingId>,
) -> Result<Json<RoutingView>, AppError> {
    Ok(Json(routings::get(&state.app, &user.actor, &id).await?))
}

/// Records an event: the receiving unit `accept`s, notes `progress`, `finish`es (the police with
/// `registered_on`, `hukou_number`, and `dna_collected` when `not_biological`) or `decline`s; the
/// sender `withdraw`s. Closed routings take nothing more (422).
#[utoipa::path(post, path = "/api/v1/routings/{id}/events", params(("id" = String, Path)),
    request_body = EventInput,
    responses((status = 200, body = RoutingView), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RoutingId>,
    ApiJson(body): ApiJson<EventInput>,
) -> Result<Json<RoutingView>, AppError> {
    Ok(Json(
        routings::act(&state.app, &user.actor, &id, &body).await?,
    ))
}

#[derive(Template)]
#[template(path = "routings/list.html")]
struct ListPage {
    frame: Frame,
    rows: Vec<RoutingView>,
    all: bool,
    receiver: bool,
}

impl ListPage {
    fn day(&self, at: &str) -> String {
        crate::ui::china_day(at)
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let all = q.all.unwrap_or(false);
    let rows = routings::list(&state.app, &user.actor, !all).await?;
    Ok(render(&ListPage {
        frame: Frame::of(&state, &user).await,
        rows,
        all,
        receiver: user
            .actor
            .may(shouwang_domain::authz::Action::HandleRouting),
    }))
}

#[derive(Template)]
#[template(path = "routings/one.html")]
struct OnePage {
    frame: Frame,
    r: RoutingView,
    error: Option<String>,
    today: String,
    sent_at: String,
}

impl OnePage {
    fn can(&self, event: &str) -> bool {
        self.r.actions.iter().any(|e| e.code() == event)
    }
    fn at(&self, at: &str) -> String {
        china_time(at)
    }
}

async fn one_view(
    state: &AppState,
    user: &CurrentUser,
    id: &RoutingId,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let r = routings::get(&state.app, &user.actor, id).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.0);
    let page = render(&OnePage {
        frame: Frame::of(state, user).await,
        sent_at: china_time(&r.routing.sent_at),
        r,
        error: error.map(|e| e.1),
        today: state.app.today().to_string(),
    });
    Ok((status, page).into_response())
}

pub async fn one_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RoutingId>,
) -> PageResult {
    one_view(&state, &user, &id, None).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    event: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    registered_on: String,
    #[serde(default)]
    hukou_number: String,
    #[serde(default)]
    not_biological: Option<String>,
    #[serde(default)]
    dna_collected: Option<String>,
}

pub async fn action_submit(
    State(state): State<AppState>,
    Path(id): Path<RoutingId>,
    CheckedForm(user, f): CheckedForm<ActionForm>,
) -> PageResult {
    let input = EventInput {
        event: Some(f.event),
        note: Some(f.note),
        registered_on: Some(f.registered_on),
        hukou_number: Some(f.hukou_number),
        not_biological: Some(f.not_biological.is_some()),
        dna_collected: Some(f.dna_collected.is_some()),
    };
    match routings::act(&state.app, &user.actor, &id, &input).await {
        // A department that closed its routing no longer reaches it: back to its inbox.
        Ok(v)
            if v.actions.is_empty()
                && user.actor.role == shouwang_domain::authz::Role::Department =>
        {
            Ok(Redirect::to("/routings").into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/routings/{id}")).into_response()),
        Err(e) => one_view(&state, &user, &id, Some(crate::ui::refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "routings/child.html")]
struct ChildPage {
    frame: Frame,
    child_id: String,
    child_name: String,
    rows: Vec<Routing>,
    needs: Vec<Opt>,
    units: Vec<Opt>,
    can_send: bool,
    errors: ValidationErrors,
    values: SendForm,
}

impl ChildPage {
    fn day(&self, at: &str) -> String {
        crate::ui::china_day(at)
    }
    fn chosen(&self, unit: &str) -> bool {
        self.values.units.iter().any(|u| u == unit)
    }
}

async fn child_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ChildId,
    errors: ValidationErrors,
    values: SendForm,
) -> PageResult {
    let child = shouwang_app::children::get(&state.app, &user.actor, id, false).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&ChildPage {
        frame: Frame::of(state, user).await,
        child_id: id.to_string(),
        child_name: child.file.name.as_str().to_owned(),
        rows: routings::of_child(&state.app, &user.actor, id).await?,
        needs: opts(Need::ALL, Need::code, Need::label),
        units: opts(Unit::ALL, Unit::code, Unit::label),
        can_send: user.actor.may(shouwang_domain::authz::Action::Route),
        errors,
        values,
    });
    Ok((status, page).into_response())
}

/// A child's routings and the form that sends one.
pub async fn child_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> PageResult {
    child_view(
        &state,
        &user,
        &id,
        ValidationErrors::default(),
        SendForm::default(),
    )
    .await
}

/// The send form's values (kept to show again with the errors).
#[derive(Default)]
pub struct SendForm {
    need: String,
    units: Vec<String>,
    note: String,
}

pub async fn send_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let f = SendForm {
        need: crate::ui::form_field(&pairs, "need").unwrap_or_default(),
        units: pairs
            .iter()
            .filter(|(k, _)| k == "units")
            .map(|(_, v)| v.clone())
            .take(Unit::ALL.len() + 1)
            .collect(),
        note: crate::ui::form_field(&pairs, "note").unwrap_or_default(),
    };
    let input = RoutingInput {
        need: Some(f.need.clone()),
        units: Some(f.units.clone()),
        note: Some(f.note.clone()),
    };
    match routings::send(&state.app, &user.actor, &id, &input).await {
        Ok(sent) => Ok(Redirect::to(&match sent.as_slice() {
            [one] => format!("/routings/{}", one.routing.id),
            _ => format!("/children/{id}/routings"),
        })
        .into_response()),
        Err(shouwang_app::Error::Validation(e)) => child_view(&state, &user, &id, e, f).await,
        Err(e) => Err(e.into()),
    }
}
