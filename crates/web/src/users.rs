//! Accounts of an area, kept by its administrator.

use crate::auth::NoFields;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use shouwang_domain::region::RegionLevel;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render};
use shouwang_app::users::UserSummary;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users_page).post(users_submit))
        .route("/api/v1/users", get(list_users).post(add_user))
        .route(
            "/api/v1/users/{id}/disable",
            axum::routing::post(disable_user),
        )
        .route(
            "/api/v1/users/{id}/second-factor/reset",
            axum::routing::post(reset_second_factor),
        )
        .route("/users/{id}/disable", axum::routing::post(disable_page))
        .route(
            "/users/{id}/second-factor/reset",
            axum::routing::post(reset_page),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(list_users, add_user, disable_user, reset_second_factor),
    components(schemas(NewUserBody))
)]
pub struct ApiDoc;

#[derive(Template)]
#[template(path = "users/users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<shouwang_app::users::UserSummary>,
    roles: Vec<Opt>,
    orgs: Vec<Opt>,
    values: std::collections::HashMap<String, String>,
    errors: ValidationErrors,
    /// What was just done, for the banner.
    created: Option<String>,
}

impl UsersPage {
    fn v(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn err(&self, k: &str) -> String {
        self.errors.message_for(k).unwrap_or("").to_owned()
    }
    fn role_label(&self, code: &str) -> &'static str {
        shouwang_domain::authz::Role::parse(code)
            .map(|r| r.label())
            .unwrap_or("")
    }
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
}

async fn users_view(
    state: &AppState,
    user: &CurrentUser,
    values: std::collections::HashMap<String, String>,
    errors: ValidationErrors,
    created: Option<String>,
) -> PageResult {
    let users = shouwang_app::users::list(&state.app, &user.actor).await?;
    let mut orgs = vec![Opt {
        code: user.actor.region.to_string(),
        label: place_name(user.actor.region.as_str()),
    }];
    for level in [RegionLevel::Town, RegionLevel::Village] {
        orgs.extend(
            shouwang_app::places::regions_within(&state.app, &user.actor.region, level)
                .await?
                .into_iter()
                .map(|r| Opt {
                    label: place_name(&r.code),
                    code: r.code,
                }),
        );
    }
    orgs[1..].sort_by(|a, b| a.code.cmp(&b.code));
    let roles = opts(
        shouwang_domain::authz::Role::ALL,
        shouwang_domain::authz::Role::code,
        shouwang_domain::authz::Role::label,
    );
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&UsersPage {
            frame: Frame::of(state, user).await,
            users,
            roles,
            orgs,
            values,
            errors,
            created,
        }),
    )
        .into_response())
}

async fn users_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    users_view(
        &state,
        &user,
        Default::default(),
        ValidationErrors::default(),
        None,
    )
    .await
}

async fn users_submit(
    State(state): State<AppState>,
    CheckedForm(user, values): CheckedForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    user.require_admin_session(&state).await?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let body = NewUserBody {
        username: get("username"),
        display_name: Some(get("display_name")),
        password: get("password"),
        role: get("role"),
        org: get("org"),
        agency: Some(get("agency")),
        email: Some(get("email")),
    };
    let result = match new_user(body) {
        Ok((new, email)) => shouwang_app::users::add(&state.app, &user.actor, new, email)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(u) => {
            users_view(
                &state,
                &user,
                Default::default(),
                ValidationErrors::default(),
                Some(format!("已创建用户 {}", u.username)),
            )
            .await
        }
        Err(AppError::Validation(e)) => {
            let mut values = values;
            values.remove("password");
            users_view(&state, &user, values, e, None).await
        }
        Err(AppError::Conflict { field, message }) => {
            let mut values = values;
            values.remove("password");
            users_view(
                &state,
                &user,
                values,
                ValidationErrors::single(field.as_deref().unwrap_or("username"), message),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    /// village, town, county, county_admin, school, police, agency, oversight
    pub role: String,
    /// Region code of the user's office (for school/agency users: the region the agency is under)
    pub org: String,
    /// Agency name for school and agency users
    pub agency: Option<String>,
    /// Where the user's notifications are e-mailed
    pub email: Option<String>,
}

/// Parses a new-user request, naming each bad field.
pub fn new_user(
    b: NewUserBody,
) -> Result<
    (
        shouwang_app::users::NewUser,
        Option<shouwang_domain::person::EmailAddress>,
    ),
    ValidationErrors,
> {
    let mut e = ValidationErrors::default();
    let email = match b.email.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match shouwang_domain::person::EmailAddress::parse(m) {
            Ok(a) => Some(a),
            Err(msg) => {
                e.add("email", msg);
                None
            }
        },
    };
    let role = shouwang_domain::authz::Role::parse(&b.role);
    if role.is_none() {
        e.add("role", format!("未知角色“{}”", b.role));
    }
    let region = match shouwang_domain::region::Divisions::shipped().parse_existing(&b.org) {
        Ok(r) => Some(r),
        Err(err) => {
            e.add("org", err.to_string());
            None
        }
    };
    e.into_result(())?;
    Ok((
        shouwang_app::users::NewUser {
            display_name: b
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| b.username.clone()),
            username: b.username,
            password: b.password,
            role: role.expect("checked"),
            region: region.expect("checked"),
            agency: b.agency.filter(|a| !a.trim().is_empty()),
        },
        email,
    ))
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, description = "the users of your jurisdiction", body = Items<UserSummary>)))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<UserSummary>>, AppError> {
    Ok(Json(Items {
        items: shouwang_app::users::list(&state.app, &user.actor).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserBody, responses((status = 201, description = "the new user", body = UserSummary)))]
pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<NewUserBody>,
) -> Result<impl IntoResponse, AppError> {
    user.require_admin_session(&state).await?;
    let (new, email) = new_user(b)?;
    let created = shouwang_app::users::add(&state.app, &user.actor, new, email).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Disables a user of your jurisdiction: they cannot sign in, and every session and API token of
/// theirs ends at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", params(("id" = String, Path)), responses((status = 204, description = "disabled")))]
pub async fn disable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Path(id): crate::extract::Path<shouwang_domain::ids::UserId>,
) -> Result<StatusCode, AppError> {
    user.require_admin_session(&state).await?;
    shouwang_app::users::disable(&state.app, &user.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets the second factor of a user of your jurisdiction (a lost phone): their authenticator
/// and recovery codes are removed and their sessions and tokens end; they set up a new one at
/// their next sign-in if their role requires it.
#[utoipa::path(post, path = "/api/v1/users/{id}/second-factor/reset", params(("id" = String, Path)), responses((status = 204, description = "reset")))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Path(id): crate::extract::Path<shouwang_domain::ids::UserId>,
) -> Result<StatusCode, AppError> {
    user.require_admin_session(&state).await?;
    shouwang_app::users::reset_second_factor(&state.app, &user.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_page(
    State(state): State<AppState>,
    crate::extract::Path(id): crate::extract::Path<shouwang_domain::ids::UserId>,
    CheckedForm(user, NoFields {}): CheckedForm<NoFields>,
) -> PageResult {
    user.require_admin_session(&state).await?;
    match shouwang_app::users::disable(&state.app, &user.actor, &id).await {
        Ok(()) => done(&state, &user, "已停用该用户，其登录和令牌已全部失效").await,
        Err(shouwang_app::Error::Validation(v)) => {
            users_view(&state, &user, Default::default(), v, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn reset_page(
    State(state): State<AppState>,
    crate::extract::Path(id): crate::extract::Path<shouwang_domain::ids::UserId>,
    CheckedForm(user, NoFields {}): CheckedForm<NoFields>,
) -> PageResult {
    user.require_admin_session(&state).await?;
    shouwang_app::users::reset_second_factor(&state.app, &user.actor, &id).await?;
    done(
        &state,
        &user,
        "已重置该用户的两步验证，其下次登录时需重新设置",
    )
    .await
}

async fn done(state: &AppState, user: &CurrentUser, message: &str) -> PageResult {
    users_view(
        state,
        user,
        Default::default(),
        ValidationErrors::default(),
        Some(message.to_owned()),
    )
    .await
}
