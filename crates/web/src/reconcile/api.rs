//! TODO

use std::collections::BTreeMap;

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use shouwang_app::reconcile::ItemDecision;
use shouwang_app::reconcile::{ItemFilter, ItemView, RunSummary};
use shouwang_domain::authz::Action;
use shouwang_exchange::lists::ListPreview;

use super::jobs::JobState;
use super::run::*;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::Query;
use crate::schema::Items;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        upload_api,
        job_api,
        columns_api,
        runs_api,
        run_api,
        items_api,
        item_api,
        decide_api,
        decide_many_api,
        withdraw_api
    ),
    components(schemas(DecisionBody, BulkDecisionBody, WithdrawBody, ItemPage, ComparisonJob))
)]
pub struct ApiDoc;

#[derive(Deserialize)]
pub struct ColumnsParams {
    filename: Option<String>,
}

/// `POST /api/v1/reconcile/columns?filename=学籍.xlsx` with the list as the body: what the
/// reader makes of its header, and its first rows, before a comparison is run.
#[utoipa::path(post, path = "/api/v1/reconcile/columns",
    params(("filename" = Option<String>, Query, description = "the list's file name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = ".xlsx, .xls or .csv"),
    responses((status = 200, description = "the columns as read (field is null where the title is not known; give those as `columns` when running the comparison) and the first rows", body = ListPreview)))]
pub async fn columns_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ColumnsParams>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    let name = p.filename.unwrap_or_else(|| "upload".into());
    let upload = crate::uploads::receive_body(
        &state,
        &user.actor,
        req,
        crate::extract::MAX_UPLOAD_BYTES,
        crate::uploads::Admit::One,
        name,
    )
    .await?;
    let (_dir, path) = save_upload(&upload.name, &upload.bytes)?;
    Ok(Json(preview_saved(&path).await?).into_response())
}

#[derive(Deserialize)]
pub struct UploadParams {
    kind: String,
    filename: Option<String>,
    columns: Option<String>,
}

/// `A=name,C=birth_date,班级=-`: column letter or title = field (or "-").
pub(super) fn columns_param(s: &str) -> Result<BTreeMap<String, String>, AppError> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(c, f)| (c.trim().to_owned(), f.trim().to_owned()))
                .ok_or_else(|| AppError::BadRequest {
                    code: "columns",
                    field: Some("columns".into()),
                    message: format!("列对应“{p}”应写成 列=字段，如 A=name"),
                })
        })
        .collect()
}

/// `POST /api/v1/reconcile/runs?kind=education&filename=学籍.xlsx` with the list as the body.
#[utoipa::path(post, path = "/api/v1/reconcile/runs", operation_id = "run_comparison",
    params(("kind" = inline(shouwang_linkage::discrepancy::ListKind), Query, description = "education（学籍名单）或 household（户籍名单）"),
           ("filename" = Option<String>, Query, description = "the list's file name"),
           ("columns" = Option<String>, Query, description = "what columns the header does not name hold: column letter or title = field, comma-separated (A=name,C=birth_date,班级=-); fields: record_id, name, sex, birth_date, id_number, county, town, village, hukou, parents_away; - keeps a column beside the person")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = ".xlsx, .xls or .csv with a header row: record_id,name,sex,birth_date,id_number,county,town,village (or 姓名, 性别, 出生日期, 公民身份号码…), optional 户口性质 and 是否留守, any other columns kept"),
    responses((status = 201, description = "the comparison, when it finished within 20 seconds", body = RunSummary),
        (status = 202, description = "a large list goes on comparing as a job; poll GET /api/v1/reconcile/jobs/{id}", body = ComparisonJob)))]
pub async fn upload_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<UploadParams>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    let kind = list_kind(&p.kind)?;
    let choices = columns_param(p.columns.as_deref().unwrap_or(""))?;
    let upload = crate::uploads::receive_body(
        &state,
        &user.actor,
        req,
        crate::extract::MAX_UPLOAD_BYTES,
        crate::uploads::Admit::Job(&super::jobs::KIND),
        p.filename.unwrap_or_else(|| "upload".into()),
    )
    .await?;
    let (name, body) = (&upload.name, &upload.bytes);
    // The header is checked now, so a list the reader cannot use is refused at once.
    let (_dir, path) = save_upload(name, body)?;
    let mut columns = preview_saved(&path).await?.columns;
    if !choices.is_empty() {
        // The choices checked against the header first, so their errors name `columns`.
        columns
            .apply(&choices)
            .map_err(|message| AppError::BadRequest {
                code: "columns",
                field: Some("columns".into()),
                message,
            })?;
    }
    columns.check().map_err(list_error)?;
    // Reading and comparing run as a job: a county's whole student list may take longer than a
    // request may.
    let id = start_now(&state, &user.actor, kind, name, body, &columns).await?;
    let deadline = tokio::time::Instant::now() + API_WAIT;
    loop {
        match view(&state, &user.actor, &id).await?.state {
            JobState::Done(run_id) => {
                let run = shouwang_app::reconcile::run_summary(
                    &state.app,
                    &user.actor,
                    &shouwang_domain::ids::RunId::new(run_id.clone()),
                )
                .await?;
                return Ok((
                    StatusCode::CREATED,
                    [(header::LOCATION, format!("/api/v1/reconcile/runs/{run_id}"))],
                    Json(run),
                )
                    .into_response());
            }
            JobState::Failed(message) => return Err(list_error(message)),
            state if tokio::time::Instant::now() >= deadline => {
                return Ok((
                    StatusCode::ACCEPTED,
                    [(header::LOCATION, format!("/api/v1/reconcile/jobs/{id}"))],
                    Json(ComparisonJob::of(&id, &state)),
                )
                    .into_response());
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

/// How long an upload waits for its comparison before answering 202.
const API_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Where a comparison job stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComparisonJob {
    pub id: String,
    /// reading, comparing, done or failed
    pub state: &'static str,
    /// While reading: rows read so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<usize>,
    /// When done: the comparison (GET /api/v1/reconcile/runs/{run_id}).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// When failed: why, in Chinese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ComparisonJob {
    fn of(id: &str, state: &JobState) -> ComparisonJob {
        let mut job = ComparisonJob {
            id: id.to_owned(),
            state: "reading",
            rows_read: None,
            run_id: None,
            message: None,
        };
        match state {
            JobState::Columns => {}
            JobState::Reading(n) => job.rows_read = Some(*n),
            JobState::Comparing => job.state = "comparing",
            JobState::Done(run) => {
                job.state = "done";
                job.run_id = Some(run.clone());
            }
            JobState::Failed(m) => {
                job.state = "failed";
                job.message = Some(m.clone());
            }
        }
        job
    }
}

/// A comparison job of the user's (started by the API or a page).
#[utoipa::path(get, path = "/api/v1/reconcile/jobs/{id}", operation_id = "comparison_job", params(("id" = String, Path)),
    responses((status = 200, description = "where the comparison stands", body = ComparisonJob)))]
pub async fn job_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ComparisonJob>, AppError> {
    let job = view(&state, &user.actor, &id).await?;
    Ok(Json(ComparisonJob::of(&id, &job.state)))
}

#[utoipa::path(get, path = "/api/v1/reconcile/runs",
    responses((status = 200, description = "the comparisons of your jurisdiction, newest first", body = Items<RunSummary>)))]
pub async fn runs_api(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let runs = shouwang_app::reconcile::runs(&state.app, &user.actor).await?;
    Ok(Json(Items { items: runs }).into_response())
}

#[utoipa::path(get, path = "/api/v1/reconcile/runs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "one comparison with its counts", body = RunSummary)))]
pub async fn run_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::RunId>,
) -> Result<Response, AppError> {
    Ok(
        Json(shouwang_app::reconcile::run_summary(&state.app, &user.actor, &id).await?)
            .into_response(),
    )
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
    params(("run_id" = Option<String>, Query), ("kind" = inline(Option<shouwang_linkage::discrepancy::FindingKind>), Query),
           ("status" = inline(Option<crate::schema::ItemStatusFilter>), Query, description = "open, assigned, accepted, rejected or pending (open and assigned)"),
           ("mine" = Option<bool>, Query, description = "only items assigned to the user's unit (always so for users who do not run comparisons)"),
           ("offset" = Option<i64>, Query, minimum = 0), ("limit" = Option<i64>, Query, minimum = 1, maximum = 500)),
    responses((status = 200, description = "one page of the items you may see", body = ItemPage)))]
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
    let (items, total) = shouwang_app::reconcile::items(&state.app, &user.actor, &filter).await?;
    Ok(Json(ItemPage { total, items }).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// 1 (or true): the ID numbers whole (county civil affairs and police only; the read is audited).
    /// Otherwise masked, as the roster shows them.
    #[param(value_type = Option<crate::schema::OneOrZero>, inline)]
    reveal: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reconcile/items/{id}", params(("id" = String, Path), ItemParams),
    responses((status = 200, description = "one item", body = ItemView)))]
pub async fn item_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::ItemId>,
    Query(p): Query<ItemParams>,
) -> Result<Response, AppError> {
    let reveal = match p.reveal.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => false,
        Some(v) => shouwang_domain::input::parse_bool(v).ok_or_else(|| {
            shouwang_domain::validation::ValidationErrors::single("reveal", "reveal 应为 1 或 0")
        })?,
    };
    Ok(
        Json(shouwang_app::reconcile::item(&state.app, &user.actor, &id, reveal).await?)
            .into_response(),
    )
}

/// The same decision on many items.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct BulkDecisionBody {
    /// The items (at most 500).
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<String>,
    /// accept（确认）、reject（否定）或 assign（交办）
    #[schema(value_type = shouwang_domain::review::Decision)]
    action: String,
    /// For assign: `town:<乡镇代码>`, `police:<区划代码>` or `school:<机构ID>`.
    assignee: Option<String>,
    note: Option<String>,
}

/// Decides many items at once: each is decided as alone (its own record and audit); those the
/// user may not decide or that were decided meanwhile are listed with why.
#[utoipa::path(post, path = "/api/v1/reconcile/items/decisions", request_body = BulkDecisionBody,
    responses((status = 200, description = "the items decided and those refused", body = shouwang_app::reconcile::BulkOutcome)))]
pub async fn decide_many_api(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::ApiJson(b): crate::extract::ApiJson<BulkDecisionBody>,
) -> Result<Response, AppError> {
    let outcome = shouwang_app::reconcile::decide_many(
        &state.app,
        &user.actor,
        &b.ids,
        &ItemDecision {
            action: b.action,
            assignee: b.assignee,
            town_code: None,
            note: b.note,
        },
    )
    .await?;
    Ok(Json(outcome).into_response())
}

/// Why a run is withdrawn.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct WithdrawBody {
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// The county withdraws a comparison: its items still waiting are withdrawn (已撤回) and leave
/// every queue; decided items keep what they did.
#[utoipa::path(post, path = "/api/v1/reconcile/runs/{id}/withdraw", params(("id" = String, Path)), request_body = WithdrawBody,
    responses((status = 200, description = "the run, withdrawn", body = RunSummary),
        (status = 409, body = crate::error::ErrorBody, description = "withdrawn already")))]
pub async fn withdraw_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::RunId>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<WithdrawBody>,
) -> Result<Response, AppError> {
    Ok(
        Json(shouwang_app::reconcile::withdraw_run(&state.app, &user.actor, &id, &b.reason).await?)
            .into_response(),
    )
}

/// One page of items and how many there are in all.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    pub total: i64,
    pub items: Vec<ItemView>,
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
    responses((status = 200, description = "the item after the decision", body = ItemView),
        (status = 409, body = crate::error::ErrorBody, description = "already decided")))]
pub async fn decide_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::ItemId>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<DecisionBody>,
) -> Result<Response, AppError> {
    let item = shouwang_app::reconcile::decide(
        &state.app,
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
