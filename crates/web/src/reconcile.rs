//! 三方比对 on the web: a county user uploads the education or household list, the comparison
//! runs against the roster of their jurisdiction, and the findings are worked through as a queue —
//! accepted, rejected or assigned to a town, school or police unit, who then see them under
//! 比对待办. The same operations are under `/api/v1/reconcile` for programs.

use std::io::Write;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::region::RegionLevel;
use shouwang_linkage::discrepancy::{FindingKind, ListEntry, ListKind};
use shouwang_store::reconcile::{ItemDecision, ItemFilter, ItemView, RunSummary};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::pages::{Frame, render};
use crate::transfer::{MAX_UPLOAD_BYTES, upload_form};

type PageResult = Result<Response, PageError>;

/// A stored UTC timestamp as people in China read it: Beijing time to the minute.
fn beijing(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("in range"))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_owned())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reconcile", get(reconcile_page).post(upload_page))
        .route("/reconcile/runs/{id}", get(run_page))
        .route("/reconcile/tasks", get(tasks_page))
        .route("/reconcile/items/{id}", post(decide_page))
        .route("/api/v1/reconcile/runs", get(runs_api).post(upload_api))
        .route("/api/v1/reconcile/runs/{id}", get(run_api))
        .route("/api/v1/reconcile/items", get(items_api))
        .route("/api/v1/reconcile/items/{id}", get(item_api))
        .route("/api/v1/reconcile/items/{id}/decision", post(decide_api))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

fn list_kind(s: &str) -> Result<ListKind, AppError> {
    ListKind::parse(s).ok_or_else(|| AppError::BadRequest {
        code: "list_kind",
        field: Some("kind".into()),
        message: "请选择名单类别：education（学籍名单）或 household（户籍名单）".into(),
    })
}

/// Reads an uploaded list on a blocking thread (from a private temporary file).
async fn read_upload(name: &str, bytes: Bytes) -> Result<Vec<ListEntry>, AppError> {
    let bad = |message: String| AppError::BadRequest {
        code: "list",
        field: Some("file".into()),
        message,
    };
    if bytes.is_empty() {
        return Err(bad("请选择要比对的名单文件（.xlsx、.xls 或 .csv）".into()));
    }
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
        // Under its own last component only (messages name the file as the user knows it).
        let path = dir.path().join(
            std::path::Path::new(&name)
                .file_name()
                .unwrap_or("upload".as_ref()),
        );
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        shouwang_exchange::lists::read_list(&path).map_err(|e| bad(e.0))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

// ---------- pages ----------

#[derive(Template)]
#[template(path = "reconcile.html")]
struct ReconcilePage {
    frame: Frame,
    runs: Vec<RunSummary>,
    kinds: Vec<(&'static str, &'static str)>,
    error: String,
}

async fn reconcile_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::Reconcile) {
        return Ok(Redirect::to("/reconcile/tasks").into_response());
    }
    show_runs(&state, &user, String::new()).await
}

async fn show_runs(state: &AppState, user: &CurrentUser, error: String) -> PageResult {
    Ok(render(&ReconcilePage {
        frame: Frame::of(state, user).await,
        runs: state.store.reconcile_runs(&user.actor).await?,
        kinds: ListKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        error,
    }))
}

async fn upload_page(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> PageResult {
    let (fields, upload) = upload_form(multipart).await?;
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let (csrf, kind) = (field("csrf_token"), field("kind"));
    user.check_csrf(&csrf)?;
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden.into());
    }
    let (name, bytes) = upload.unwrap_or_default();
    let result = async {
        let kind = list_kind(&kind)?;
        let entries = read_upload(&name, bytes).await?;
        Ok::<_, AppError>(
            state
                .store
                .reconcile(&user.actor, kind, &name, entries)
                .await?,
        )
    }
    .await;
    match result {
        Ok(run) => Ok(Redirect::to(&format!("/reconcile/runs/{}", run.id)).into_response()),
        Err(AppError::BadRequest { message, .. }) => show_runs(&state, &user, message).await,
        Err(AppError::Validation(v)) => show_runs(&state, &user, v.to_string()).await,
        Err(e) => Err(e.into()),
    }
}

/// An option of a select: value and label.
struct Opt {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "reconcile_items.html")]
struct ItemsPage {
    frame: Frame,
    title: String,
    run: Option<RunSummary>,
    items: Vec<ItemView>,
    total: i64,
    filter_kind: String,
    filter_status: String,
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assignees: Vec<Opt>,
    towns: Vec<Opt>,
    back: String,
    prev: Option<String>,
    next: Option<String>,
}

impl ReconcilePage {
    fn when(&self, at: &str) -> String {
        beijing(at)
    }
}

impl ItemsPage {
    fn when(&self, at: &str) -> String {
        beijing(at)
    }
    fn percent(&self, p: &Option<f64>) -> String {
        p.map(|p| format!("{:.1}%", p * 100.0)).unwrap_or_default()
    }
    fn weight(&self, w: &f64) -> String {
        format!("{w:+.1}")
    }
    fn yes_no(&self, v: &Option<bool>) -> &'static str {
        match v {
            Some(true) => "是",
            Some(false) => "否",
            None => "",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ItemsQuery {
    kind: String,
    status: String,
    offset: i64,
}

const PAGE: i64 = 50;

/// Towns, police and schools of the actor's jurisdiction, as assignees.
async fn assignees(state: &AppState, actor: &Actor) -> Result<(Vec<Opt>, Vec<Opt>), AppError> {
    if !actor.may(Action::Reconcile) {
        return Ok((Vec::new(), Vec::new()));
    }
    let towns = state
        .store
        .regions_within(&actor.region, RegionLevel::Town)
        .await?;
    let mut out = Vec::new();
    for t in &towns {
        out.push(Opt {
            value: format!("town:{}", t.code),
            label: format!("{}（乡镇）", t.name),
        });
    }
    let county = state
        .store
        .region(&actor.region)
        .await?
        .map(|r| r.name)
        .unwrap_or_default();
    out.push(Opt {
        value: format!("police:{}", actor.region),
        label: format!("{county}公安（户籍）"),
    });
    for t in &towns {
        out.push(Opt {
            value: format!("police:{}", t.code),
            label: format!("{}派出所", t.name),
        });
    }
    for a in state.store.agencies_within(&actor.region).await? {
        if a.kind == "school" {
            out.push(Opt {
                value: format!("school:{}", a.id),
                label: format!("{}（学校）", a.name),
            });
        }
    }
    let towns = towns
        .into_iter()
        .map(|t| Opt {
            value: t.code,
            label: t.name,
        })
        .collect();
    Ok((out, towns))
}

async fn items_page(
    state: &AppState,
    user: &CurrentUser,
    run: Option<RunSummary>,
    q: ItemsQuery,
    back: String,
) -> PageResult {
    let filter = ItemFilter {
        run_id: run.as_ref().map(|r| r.id.clone()),
        kind: Some(q.kind.clone()),
        status: Some(if q.status.is_empty() {
            "pending".into()
        } else {
            q.status.clone()
        }),
        mine: run.is_none(),
        offset: q.offset.max(0),
        limit: PAGE,
    };
    let (items, total) = state.store.reconcile_items(&user.actor, &filter).await?;
    let (assignees, towns) = assignees(state, &user.actor).await?;
    let link = |offset: i64| format!("{back}?kind={}&status={}&offset={offset}", q.kind, q.status);
    let offset = filter.offset;
    Ok(render(&ItemsPage {
        frame: Frame::of(state, user).await,
        title: match &run {
            Some(r) => format!("比对结果：{}", r.list_label),
            None => "比对待办".into(),
        },
        run,
        total,
        prev: (offset > 0).then(|| link((offset - PAGE).max(0))),
        next: (offset + PAGE < total).then(|| link(offset + PAGE)),
        items,
        filter_kind: q.kind,
        filter_status: if q.status.is_empty() {
            "pending".into()
        } else {
            q.status
        },
        kinds: FindingKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        statuses: vec![
            ("pending", "待处理（含已交办）"),
            ("open", "待处理"),
            ("assigned", "已交办"),
            ("accepted", "已确认"),
            ("rejected", "已否定"),
        ],
        assignees,
        towns,
        back,
    }))
}

async fn run_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> PageResult {
    let run = state.store.reconcile_run(&user.actor, &id).await?;
    items_page(&state, &user, Some(run), q, format!("/reconcile/runs/{id}")).await
}

async fn tasks_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ItemsQuery>,
) -> PageResult {
    items_page(&state, &user, None, q, "/reconcile/tasks".into()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecideForm {
    csrf_token: String,
    action: String,
    assignee: String,
    town_code: String,
    note: String,
    back: String,
}

async fn decide_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> PageResult {
    user.check_csrf(&f.csrf_token)?;
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    state
        .store
        .decide_reconcile_item(
            &user.actor,
            &id,
            &ItemDecision {
                action: f.action,
                assignee: some(f.assignee),
                town_code: some(f.town_code),
                note: some(f.note),
            },
        )
        .await?;
    // Back to the list the form was on (only ever a page of this feature).
    let back = if f.back.starts_with("/reconcile/") && !f.back.contains("//") {
        f.back
    } else {
        "/reconcile".into()
    };
    Ok(Redirect::to(&format!("{back}#item-{id}")).into_response())
}

// ---------- API ----------

#[derive(Deserialize)]
pub struct UploadParams {
    kind: String,
    filename: Option<String>,
}

/// `POST /api/v1/reconcile/runs?kind=education&filename=学籍.xlsx` with the list as the body.
#[utoipa::path(post, path = "/api/v1/reconcile/runs",
    params(("kind" = String, Query, description = "education（学籍名单）或 household（户籍名单）"),
           ("filename" = Option<String>, Query, description = "the list's file name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = ".xlsx, .xls or .csv with a header row: record_id,name,sex,birth_date,id_number,county,town,village (or 姓名, 性别, 出生日期, 公民身份号码…), optional 户口性质 and 是否留守, any other columns kept"),
    responses((status = 201, description = "the comparison: {id, list_kind, tally: {roster, list, matched, review, findings}, counts: [{kind, label, total, pending}]}"),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn upload_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<UploadParams>,
    body: Bytes,
) -> Result<Response, AppError> {
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    let kind = list_kind(&p.kind)?;
    let name = p.filename.unwrap_or_else(|| "upload".into());
    let entries = read_upload(&name, body).await?;
    let run = state
        .store
        .reconcile(&user.actor, kind, &name, entries)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/reconcile/runs/{}", run.id),
        )],
        Json(run),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/reconcile/runs",
    responses((status = 200, description = "{items: [comparison]} of the user's jurisdiction, newest first"), (status = 403, body = crate::error::ErrorBody)))]
pub async fn runs_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let runs = state.store.reconcile_runs(&user.actor).await?;
    Ok(Json(serde_json::json!({ "items": runs })).into_response())
}

#[utoipa::path(get, path = "/api/v1/reconcile/runs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "one comparison with its counts"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn run_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(state.store.reconcile_run(&user.actor, &id).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ItemsParams {
    run_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    mine: Option<bool>,
    offset: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/reconcile/items",
    params(("run_id" = Option<String>, Query), ("kind" = Option<String>, Query, description = "not_in_school_list, not_in_household_list, urban_hukou, id_number, not_on_roster, review"),
           ("status" = Option<String>, Query, description = "open, assigned, accepted, rejected or pending (open and assigned)"),
           ("mine" = Option<bool>, Query, description = "only items assigned to the user's unit (always so for users who do not run comparisons)"),
           ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "{total, items: [{id, kind, status, child, entry, probability, reasons: [{label, level, weight}], fix, assignee, decided_by, decided_at, note, may_decide, may_assign}]}"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn items_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ItemsParams>,
) -> Result<Response, AppError> {
    let filter = ItemFilter {
        run_id: p.run_id,
        kind: p.kind,
        status: p.status,
        mine: p.mine.unwrap_or(false),
        offset: p.offset.unwrap_or(0),
        limit: p.limit.unwrap_or(50),
    };
    let (items, total) = state.store.reconcile_items(&user.actor, &filter).await?;
    Ok(Json(serde_json::json!({ "total": total, "items": items })).into_response())
}

#[utoipa::path(get, path = "/api/v1/reconcile/items/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "one item"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn item_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(state.store.reconcile_item(&user.actor, &id).await?).into_response())
}

/// A decision on an item.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// accept（确认）、reject（否定）或 assign（交办）
    action: String,
    /// For assign: `town:<乡镇代码>`, `police:<区划代码>` or `school:<机构ID>`.
    assignee: Option<String>,
    /// For accepting a not-on-roster child whose town the list did not say.
    town_code: Option<String>,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/reconcile/items/{id}/decision", params(("id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, description = "the item after the decision"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "already decided"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn decide_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<DecisionBody>,
) -> Result<Response, AppError> {
    let item = state
        .store
        .decide_reconcile_item(
            &user.actor,
            &id,
            &ItemDecision {
                action: b.action,
                assignee: b.assignee,
                town_code: b.town_code,
                note: b.note,
            },
        )
        .await?;
    Ok(Json(item).into_response())
}
