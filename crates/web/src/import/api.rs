//! TODO

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use shouwang_app::import::Outcome;

use super::jobs::*;
use super::run::*;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::Query;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(upload_api, job_api, commit_api, discard_api))]
pub struct ApiDoc;

// ---- Import API ---------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct UploadParams {
    filename: Option<String>,
}

/// `POST /api/v1/imports?filename=花名册.xlsx` with the file as the body → 202 `{"id"}`.
#[utoipa::path(post, path = "/api/v1/imports", params(("filename" = Option<String>, Query, description = "the file's name, e.g. 花名册.xlsx")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = ".xlsx, .xls or .csv (UTF-8 or GB18030)"),
    responses((status = 202, description = "{id, state}: the file is being read; poll GET /api/v1/imports/{id}"), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn upload_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<UploadParams>,
    body: Bytes,
) -> Result<Response, AppError> {
    let id = start_job(
        &state,
        &user.actor,
        p.filename.unwrap_or_else(|| "upload".into()),
        &body,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/imports/{id}"))],
        Json(serde_json::json!({"id": id, "state": "reading"})),
    )
        .into_response())
}

#[derive(Serialize)]
pub(super) struct JobRow {
    row: u32,
    /// The sheet, when several were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    sheet: Option<String>,
    /// What the reader inferred, e.g. where the village came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    name: String,
    outcome: &'static str,
    changes: Vec<shouwang_domain::history::FieldChange>,
    errors: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "{state: reading|ready|committing|committed|failed, progress, sheet: {format, sheet, mapping}, counts: {create, update, unchanged, error}, rows: [{row, name, outcome, changes, errors}]}"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (job, source) = view(&state, &user.actor, &id).await?;
    let body = match job {
        JobState::Reading(p) => {
            serde_json::json!({"id": id, "source": source, "state": "reading", "progress": p})
        }
        JobState::Committing => {
            serde_json::json!({"id": id, "source": source, "state": "committing"})
        }
        JobState::Failed(m) => {
            serde_json::json!({"id": id, "source": source, "state": "failed", "message": m})
        }
        JobState::Committed(c) => {
            serde_json::json!({"id": id, "source": source, "state": "committed", "result": c})
        }
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
            serde_json::json!({
                "id": id, "source": source, "state": "ready",
                "sheet": plan.info, "missing_columns": plan.missing_columns,
                "counts": plan.counts(), "rows": rows,
            })
        }
    };
    Ok(Json(body).into_response())
}

/// How long a commit request waits for the commit before answering 202.
const COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Deserialize)]
pub struct CommitBody {
    mode: String,
}

/// Commits a ready plan and waits for the result: 200 with the counts, 409 when `all` meets errors.
#[utoipa::path(post, path = "/api/v1/imports/{id}/commit", params(("id" = String, Path)), request_body(content = String, description = "{\"mode\": \"all\" | \"valid\"}"),
    responses((status = 200, description = "{state: committed, result: {created, updated}}"), (status = 202, description = "{id, state: committing}: a large commit goes on as a job; poll GET /api/v1/imports/{id}"), (status = 409, body = crate::error::ErrorBody)))]
pub async fn commit_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CommitBody>,
) -> Result<Response, AppError> {
    let mode = commit_mode(&body.mode)?;
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
        JobState::Committed(c) => {
            Json(serde_json::json!({"state": "committed", "result": c})).into_response()
        }
        JobState::Failed(message) => {
            return Err(AppError::Conflict {
                field: None,
                message,
            });
        }
        _ => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/v1/imports/{id}"))],
            Json(serde_json::json!({"id": id, "state": "committing"})),
        )
            .into_response(),
    })
}

/// Gives up an import waiting for its decision: nothing is written, the uploaded file is deleted.
#[utoipa::path(delete, path = "/api/v1/imports/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn discard_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::jobs::discard(
        &state.store,
        &state.jobs,
        &user.actor,
        &id,
        &super::jobs::KIND,
        super::jobs::READY,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
