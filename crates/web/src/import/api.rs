//! The import API: upload a roster, read its preview, commit it or give it up. The reading and
//! the commit run as jobs (`import/jobs.rs`); these handlers start them and report where they are.

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use shouwang_app::import::Outcome;

use super::jobs::*;
use super::run::*;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::Query;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(upload_api, job_api, commit_api, discard_api),
    components(schemas(ImportJob, ImportState, JobRow, CommitBody, CommitMode))
)]
pub struct ApiDoc;

/// Where an import stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// The file is being read and checked; nothing is written.
    Reading,
    /// Checked: `counts` and `rows` say what a commit would do; waiting for the decision.
    Ready,
    Committing,
    Committed,
    Failed,
}

/// An import job as the API reports it. Which of the optional parts are present depends on
/// `state`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportJob {
    pub id: String,
    /// The uploaded file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub state: ImportState,
    /// While reading: rows read so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<shouwang_exchange::roster_file::Progress>,
    /// When failed: why, in Chinese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When committed: what was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<shouwang_app::import::ImportCounts>,
    /// When ready: what was found in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<shouwang_exchange::roster_file::SheetInfo>,
    /// When ready: fields a new child needs that no column was read as (its new rows are refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_columns: Option<Vec<&'static str>>,
    /// When ready: fields of the form no column was read as; new children are saved 待补充.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns_to_complete: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<shouwang_app::import::PlanCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<JobRow>>,
}

impl ImportJob {
    fn new(id: &str, source: Option<String>, state: ImportState) -> ImportJob {
        ImportJob {
            id: id.to_owned(),
            source,
            state,
            progress: None,
            message: None,
            result: None,
            sheet: None,
            missing_columns: None,
            columns_to_complete: None,
            counts: None,
            rows: None,
        }
    }
}

// ---- Import API ---------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct UploadParams {
    filename: Option<String>,
}

/// `POST /api/v1/imports?filename=花名册.xlsx` with the file as the body → 202 `{"id"}`.
#[utoipa::path(post, path = "/api/v1/imports", operation_id = "upload_import", params(("filename" = Option<String>, Query, description = "the file's name, e.g. 花名册.xlsx")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = ".xlsx, .xls or .csv (UTF-8 or GB18030)"),
    responses((status = 202, description = "the file is being read; poll GET /api/v1/imports/{id}", body = ImportJob)))]
pub async fn upload_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<UploadParams>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    if !(user
        .actor
        .may(shouwang_domain::authz::Action::RegisterChild)
        && user.actor.may(shouwang_domain::authz::Action::EditChild))
    {
        return Err(AppError::Forbidden);
    }
    let upload = crate::uploads::receive_body(
        &state,
        &user.actor,
        req,
        crate::extract::MAX_UPLOAD_BYTES,
        crate::uploads::Admit::Job(&super::jobs::KIND),
        p.filename.unwrap_or_else(|| "upload".into()),
    )
    .await?;
    let id = start_job(
        &state,
        &user.actor,
        upload.name.clone(),
        &upload.bytes,
        Vec::new(),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/imports/{id}"))],
        Json(ImportJob::new(&id, None, ImportState::Reading)),
    )
        .into_response())
}

/// One row of a checked file and what a commit would do with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRow {
    row: u32,
    /// The sheet, when several were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    sheet: Option<String>,
    /// What the reader inferred, e.g. where the village came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    name: String,
    /// create, update, unchanged or error
    outcome: &'static str,
    changes: Vec<shouwang_domain::history::FieldChange>,
    errors: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "where the import stands", body = ImportJob)))]
pub async fn job_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (job, detail) = view(&state, &user.actor, &id).await?;
    let source = Some(detail.source);
    let body = match job {
        JobState::Reading(p) => ImportJob {
            progress: Some(p),
            ..ImportJob::new(&id, source, ImportState::Reading)
        },
        JobState::Committing => ImportJob::new(&id, source, ImportState::Committing),
        JobState::Failed(m) => ImportJob {
            message: Some(m),
            ..ImportJob::new(&id, source, ImportState::Failed)
        },
        JobState::Committed(c) => ImportJob {
            result: Some(c),
            ..ImportJob::new(&id, source, ImportState::Committed)
        },
        JobState::Ready(plan) => {
            let m = &plan.info.mapping;
            let rows: Vec<JobRow> = plan
                .rows
                .iter()
                .map(|r| {
                    let (outcome, changes, errors) = match &r.outcome {
                        Outcome::Create(_) => ("create", vec![], vec![]),
                        Outcome::Update(u) => ("update", u.changes.clone(), vec![]),
                        Outcome::Unchanged { .. } => ("unchanged", vec![], vec![]),
                        Outcome::Error { problems } => (
                            "error",
                            vec![],
                            problems
                                .iter()
                                .map(|p| shouwang_exchange::read::describe(p, r.row, m))
                                .collect(),
                        ),
                    };
                    JobRow {
                        row: r.row,
                        sheet: r.sheet.as_deref().map(str::to_owned),
                        notes: r.notes.clone(),
                        name: r.name.clone(),
                        outcome,
                        changes,
                        errors,
                    }
                })
                .collect();
            ImportJob {
                sheet: Some(plan.info.clone()),
                missing_columns: Some(plan.missing_columns.clone()),
                columns_to_complete: Some(plan.columns_to_complete.clone()),
                counts: Some(plan.counts()),
                rows: Some(rows),
                ..ImportJob::new(&id, source, ImportState::Ready)
            }
        }
    };
    Ok(Json(body).into_response())
}

/// How long a commit request waits for the commit before answering 202.
const COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// How to commit a checked file.
#[derive(Deserialize, ToSchema)]
pub struct CommitBody {
    mode: CommitMode,
}

/// `all`: only if no row has an error; `valid`: write the good rows and leave the rows in error.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    All,
    Valid,
}

/// Commits a ready plan and waits for the result: 200 with the counts, 409 when `all` meets errors.
#[utoipa::path(post, path = "/api/v1/imports/{id}/commit", params(("id" = String, Path)), request_body(content = CommitBody),
    responses((status = 200, description = "committed", body = ImportJob), (status = 202, description = "a large commit goes on as a job; poll GET /api/v1/imports/{id}", body = ImportJob), (status = 409, body = crate::error::ErrorBody)))]
pub async fn commit_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CommitBody>,
) -> Result<Response, AppError> {
    let mode = match body.mode {
        CommitMode::All => shouwang_app::import::CommitMode::All,
        CommitMode::Valid => shouwang_app::import::CommitMode::Valid,
    };
    let (job, _) = view(&state, &user.actor, &id).await?;
    let JobState::Ready(plan) = job else {
        return Err(AppError::Conflict {
            field: None,
            message: "该导入尚未读取完成或已经导入".into(),
        });
    };
    let task = commit(&state, &user.actor, &id, plan, mode).await?;
    // A small commit answers at once; a large one goes on as a job (poll GET /api/v1/imports/{id})
    // rather than outlast the request's time limit.
    let _ = tokio::time::timeout(COMMIT_WAIT, task).await;
    let (job, _) = view(&state, &user.actor, &id).await?;
    Ok(match job {
        JobState::Committed(c) => Json(ImportJob {
            result: Some(c),
            ..ImportJob::new(&id, None, ImportState::Committed)
        })
        .into_response(),
        JobState::Failed(message) => {
            return Err(AppError::Conflict {
                field: None,
                message,
            });
        }
        _ => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/v1/imports/{id}"))],
            Json(ImportJob::new(&id, None, ImportState::Committing)),
        )
            .into_response(),
    })
}

/// Gives up an import waiting for its decision: nothing is written, the uploaded file is deleted.
#[utoipa::path(delete, path = "/api/v1/imports/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn discard_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    shouwang_app::jobs::discard(
        &state.app,
        &state.jobs,
        &user.actor,
        &id,
        &super::jobs::KIND,
        super::jobs::READY,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
