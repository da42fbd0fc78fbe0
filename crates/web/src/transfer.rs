//! Spreadsheets and printed forms on the web: upload a roster, watch it being read, fix the column
//! mapping, look at the plan and commit it; download the 花名册, 汇总表, 登记表 and 确认书. The
//! same operations are under `/api/v1` for programs.
//!
//! An upload becomes a job held in memory: the file in a private temporary file, the plan once
//! it is read. Jobs belong to the user who started them; anyone else gets 404.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::{GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::input::parse_date;
use shouwang_domain::region::RegionCode;
use shouwang_exchange::columns::{TARGETS, column_letter};
use shouwang_exchange::forms::FormHeading;
use shouwang_exchange::import::{
    CommitMode, ImportError, Importer, Outcome, Plan, Progress, describe_changes,
};
use shouwang_exchange::outputs::{self, Heading, RosterFilter};
use shouwang_store::export::{ExportChild, ExportKind};
use shouwang_store::import::ImportCounts;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::pages::{Frame, render};

/// Largest spreadsheet accepted (a 100,000-row roster in xlsx is about 15 MB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Jobs kept per server; the oldest finished ones go first.
const MAX_JOBS: usize = 200;
/// Rows listed per kind on the preview page.
const PREVIEW_ROWS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/import", get(import_page).post(upload_page))
        .route("/import/{id}", get(job_page))
        .route("/import/{id}/status", get(job_status_fragment))
        .route("/import/{id}/mapping", post(mapping_page))
        .route("/import/{id}/commit", post(commit_page))
        .route("/import/{id}/errors.xlsx", get(errors_download))
        .route("/api/v1/imports", post(upload_api))
        .route("/api/v1/imports/{id}", get(job_api))
        .route("/api/v1/imports/{id}/commit", post(commit_api))
        .route("/api/v1/imports/{id}/errors.xlsx", get(errors_download))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route("/exports", get(exports_page))
        .route("/exports/roster.xlsx", get(roster_download))
        .route("/exports/summary.xlsx", get(summary_download))
        .route("/exports/forms.pdf", get(village_forms_download))
        .route("/exports/forms.xlsx", get(village_forms_xlsx_download))
        .route("/children/{id}/form.pdf", get(form_download))
        .route("/children/{id}/form.xlsx", get(form_xlsx_download))
        .route("/children/{id}/agreement.pdf", get(agreement_download))
        .route("/api/v1/exports/roster", get(roster_download))
        .route("/api/v1/exports/summary", get(summary_download))
        .route("/api/v1/children/{id}/form.pdf", get(form_download))
        .route("/api/v1/children/{id}/form.xlsx", get(form_xlsx_download))
        .route(
            "/api/v1/children/{id}/agreement.pdf",
            get(agreement_download),
        )
}

// ---- Jobs ---------------------------------------------------------------------------------------

#[derive(Clone)]
enum JobState {
    Reading(Progress),
    Ready(Arc<Plan>),
    Committing,
    Committed(ImportCounts),
    Failed(String),
}

struct Job {
    owner: String,
    source: String,
    file: tempfile::NamedTempFile,
    choices: BTreeMap<String, String>,
    state: JobState,
    started: u64,
}

/// The import jobs of this server.
#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    counter: std::sync::atomic::AtomicU64,
}

impl Jobs {
    fn insert(&self, id: &str, job: Job) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        if jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .filter(|(_, j)| !matches!(j.state, JobState::Reading(_) | JobState::Committing))
                .min_by_key(|(_, j)| j.started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                jobs.remove(&k);
            }
        }
        jobs.insert(id.to_owned(), job);
    }

    fn set(&self, id: &str, state: JobState) {
        if let Some(j) = self.jobs.lock().expect("jobs lock").get_mut(id) {
            j.state = state;
        }
    }

    /// The job's state, if it is this user's.
    fn view(&self, id: &str, actor: &Actor) -> Result<(JobState, String), AppError> {
        let jobs = self.jobs.lock().expect("jobs lock");
        match jobs.get(id) {
            Some(j) if j.owner == actor.user_id => Ok((j.state.clone(), j.source.clone())),
            _ => Err(AppError::NotFound),
        }
    }

    fn next_seq(&self) -> u64 {
        self.counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

fn import_error(e: ImportError) -> AppError {
    match e {
        ImportError::Forbidden => AppError::Forbidden,
        ImportError::Store(s) => s.into(),
        other => AppError::BadRequest {
            code: "import",
            field: Some("file".into()),
            message: other.to_string(),
        },
    }
}

/// Saves an upload and starts reading it in the background.
fn start_job(
    state: &AppState,
    actor: &Actor,
    source: String,
    bytes: &[u8],
) -> Result<String, AppError> {
    if !(actor.may(Action::RegisterChild) && actor.may(Action::EditChild)) {
        return Err(AppError::Forbidden);
    }
    if bytes.is_empty() {
        return Err(AppError::BadRequest {
            code: "import",
            field: Some("file".into()),
            message: "请选择要导入的文件（文件是空的）".into(),
        });
    }
    let mut file = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.to_string()))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    let id = uuid::Uuid::now_v7().simple().to_string();
    state.jobs.insert(
        &id,
        Job {
            owner: actor.user_id.clone(),
            source,
            file,
            choices: BTreeMap::new(),
            state: JobState::Reading(Progress::default()),
            started: state.jobs.next_seq(),
        },
    );
    plan_in_background(state, actor, &id);
    Ok(id)
}

fn plan_in_background(state: &AppState, actor: &Actor, id: &str) {
    let (path, source, choices) = {
        let jobs = state.jobs.jobs.lock().expect("jobs lock");
        let Some(j) = jobs.get(id) else { return };
        (
            j.file.path().to_path_buf(),
            j.source.clone(),
            j.choices.clone(),
        )
    };
    // Reading starts now, not when the task first runs: a page or client asking right after a
    // mapping fix must not see the old plan as the new one.
    state.jobs.set(id, JobState::Reading(Progress::default()));
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    tokio::spawn(async move {
        let result = match Importer::new(&state.store, &actor) {
            Ok(importer) => {
                let jobs = state.jobs.clone();
                let job_id = id.clone();
                let mut progress = move |p: Progress| jobs.set(&job_id, JobState::Reading(p));
                importer.plan(&path, &source, &choices, &mut progress).await
            }
            Err(e) => Err(e),
        };
        state.jobs.set(
            &id,
            match result {
                Ok(plan) => JobState::Ready(Arc::new(plan)),
                Err(e) => JobState::Failed(e.to_string()),
            },
        );
    });
}

fn commit_in_background(
    state: &AppState,
    actor: &Actor,
    id: &str,
    plan: Arc<Plan>,
    mode: CommitMode,
) {
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    state.jobs.set(&id, JobState::Committing);
    tokio::spawn(async move {
        let result = match Importer::new(&state.store, &actor) {
            Ok(i) => i.commit(&plan, mode).await,
            Err(e) => Err(e),
        };
        state.jobs.set(
            &id,
            match result {
                Ok(c) => JobState::Committed(c),
                // The plan stays for another try (e.g. valid rows only).
                Err(ImportError::HasErrors(_)) => JobState::Ready(plan),
                Err(e) => JobState::Failed(format!("导入失败，没有写入任何数据：{e}")),
            },
        );
    });
}

// ---- Import pages -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    frame: Frame,
    error: String,
}

async fn import_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    if !user.actor.may(Action::RegisterChild) {
        return Err(AppError::Forbidden.into());
    }
    Ok(render(&ImportPage {
        frame: Frame::of(&state, &user).await,
        error: String::new(),
    }))
}

/// A multipart upload form: its text fields by name, and the file (its name and bytes).
pub(crate) async fn upload_form(
    mut multipart: Multipart,
) -> Result<(HashMap<String, String>, Option<(String, Bytes)>), AppError> {
    let mut fields = HashMap::new();
    let mut upload: Option<(String, Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest {
            code: "upload",
            field: Some("file".into()),
            message: format!("上传失败：{e}"),
        })?
    {
        match field.name().map(str::to_owned) {
            Some(name) if name == "file" => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field.bytes().await.map_err(|_| AppError::BadRequest {
                    code: "upload",
                    field: Some("file".into()),
                    message: format!("文件过大或上传中断（上限 {} MB）", MAX_UPLOAD_BYTES >> 20),
                })?;
                upload = Some((file_name, bytes));
            }
            Some(name) => {
                fields.insert(name, field.text().await.unwrap_or_default());
            }
            None => {}
        }
    }
    Ok((fields, upload))
}

async fn upload_page(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let (fields, upload) = upload_form(multipart).await?;
    let csrf = fields.get("csrf_token").cloned().unwrap_or_default();
    user.check_csrf(&csrf)?;
    let (name, bytes) = upload.unwrap_or_default();
    match start_job(&state, &user.actor, name, &bytes) {
        Ok(id) => Ok(Redirect::to(&format!("/import/{id}")).into_response()),
        Err(AppError::BadRequest { message, .. }) => Ok(render(&ImportPage {
            frame: Frame::of(&state, &user).await,
            error: message,
        })),
        Err(e) => Err(e.into()),
    }
}

/// A row of the preview lists.
struct PreviewRow {
    row: u32,
    name: String,
    detail: String,
}

struct MappingRow {
    index: usize,
    letter: String,
    title: String,
    key: String,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    frame: Frame,
    id: String,
    source: String,
    state: &'static str,
    rows_read: u64,
    rows_expected: u64,
    message: String,
    info: String,
    saved_mapping: bool,
    mapping: Vec<MappingRow>,
    targets: Vec<(&'static str, &'static str)>,
    missing: String,
    counts: shouwang_exchange::import::PlanCounts,
    creates: Vec<PreviewRow>,
    updates: Vec<PreviewRow>,
    errors: Vec<PreviewRow>,
    done: ImportCounts,
}

fn job_view(frame: Frame, id: &str, source: String, state: JobState) -> JobPage {
    let mut page = JobPage {
        frame,
        id: id.to_owned(),
        source,
        state: "reading",
        rows_read: 0,
        rows_expected: 0,
        message: String::new(),
        info: String::new(),
        saved_mapping: false,
        mapping: Vec::new(),
        targets: TARGETS.iter().map(|t| (t.key, t.label)).collect(),
        missing: String::new(),
        counts: Default::default(),
        creates: Vec::new(),
        updates: Vec::new(),
        errors: Vec::new(),
        done: ImportCounts::default(),
    };
    match state {
        JobState::Reading(p) => {
            page.rows_read = p.rows_read;
            page.rows_expected = p.rows_expected.unwrap_or(0);
        }
        JobState::Committing => page.state = "committing",
        JobState::Failed(m) => {
            page.state = "failed";
            page.message = m;
        }
        JobState::Committed(c) => {
            page.state = "committed";
            page.done = c;
        }
        JobState::Ready(plan) => {
            page.state = "ready";
            let m = &plan.info.mapping;
            page.info = format!(
                "{}，工作表“{}”{}，表头在第 {}–{} 行",
                plan.info.format,
                plan.info.sheet,
                plan.info
                    .encoding
                    .map(|e| format!("（{e} 编码）"))
                    .unwrap_or_default(),
                m.header_first + 1,
                m.header_last + 1
            );
            page.mapping = m
                .columns
                .iter()
                .filter(|c| !(c.title.is_empty() && c.key.is_none()))
                .map(|c| MappingRow {
                    index: c.index,
                    letter: column_letter(c.index),
                    title: c.title.clone(),
                    key: c.key.clone().unwrap_or_default(),
                })
                .collect();
            page.saved_mapping = plan.info.saved_mapping;
            page.missing = plan.missing_columns.join("、");
            page.counts = plan.counts();
            for r in &plan.rows {
                match &r.outcome {
                    Outcome::Create(f) if page.creates.len() < PREVIEW_ROWS => {
                        page.creates.push(PreviewRow {
                            row: r.row,
                            name: r.name.clone(),
                            detail: format!("{} {}", f.sex.label(), f.birth_date),
                        })
                    }
                    Outcome::Update(u) if page.updates.len() < PREVIEW_ROWS => {
                        page.updates.push(PreviewRow {
                            row: r.row,
                            name: r.name.clone(),
                            detail: describe_changes(&u.changes),
                        })
                    }
                    Outcome::Error { problems } if page.errors.len() < PREVIEW_ROWS => {
                        page.errors.push(PreviewRow {
                            row: r.row,
                            name: r.name.clone(),
                            detail: problems
                                .iter()
                                .map(|p| shouwang_exchange::read::describe(p, r.row, m))
                                .collect::<Vec<_>>()
                                .join("；"),
                        })
                    }
                    _ => {}
                }
            }
        }
    }
    page
}

async fn job_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (job, source) = state.jobs.view(&id, &user.actor)?;
    Ok(render(&job_view(
        Frame::of(&state, &user).await,
        &id,
        source,
        job,
    )))
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressFragment {
    id: String,
    state: &'static str,
    rows_read: u64,
    rows_expected: u64,
}

/// Polled by the progress bar; when the job leaves the running states the page reloads.
async fn job_status_fragment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (job, _) = state.jobs.view(&id, &user.actor)?;
    Ok(match job {
        JobState::Reading(p) => render(&ProgressFragment {
            id,
            state: "reading",
            rows_read: p.rows_read,
            rows_expected: p.rows_expected.unwrap_or(0),
        }),
        JobState::Committing => render(&ProgressFragment {
            id,
            state: "committing",
            rows_read: 0,
            rows_expected: 0,
        }),
        _ => ([("HX-Redirect", format!("/import/{id}"))], "").into_response(),
    })
}

async fn mapping_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    user.check_csrf(csrf)?;
    let (job, _) = state.jobs.view(&id, &user.actor)?;
    let JobState::Ready(plan) = job else {
        return Ok(Redirect::to(&format!("/import/{id}")).into_response());
    };
    let mut choices = BTreeMap::new();
    for (k, v) in &form {
        if let Some(index) = k.strip_prefix("col_").and_then(|i| i.parse::<usize>().ok())
            && plan.info.mapping.columns.iter().any(|c| c.index == index)
        {
            choices.insert(
                column_letter(index),
                if v.is_empty() { "-".into() } else { v.clone() },
            );
        }
    }
    if form.iter().any(|(k, v)| k == "save" && !v.is_empty()) {
        let mut mapping = plan.info.mapping.clone();
        mapping
            .apply(&choices)
            .map_err(|message| AppError::BadRequest {
                code: "validation",
                field: Some("mapping".into()),
                message,
            })?;
        state
            .store
            .save_import_mapping(&user.actor, &mapping.signature(), &mapping.saved_form())
            .await?;
    }
    if let Some(j) = state.jobs.jobs.lock().expect("jobs lock").get_mut(&id) {
        j.choices = choices;
    }
    plan_in_background(&state, &user.actor, &id);
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

#[derive(Deserialize)]
struct CommitForm {
    csrf_token: Option<String>,
    mode: String,
}

fn commit_mode(s: &str) -> Result<CommitMode, AppError> {
    match s {
        "all" => Ok(CommitMode::All),
        "valid" => Ok(CommitMode::Valid),
        _ => Err(AppError::BadRequest {
            code: "validation",
            field: Some("mode".into()),
            message: "mode 应为 all（有错误时不导入）或 valid（只导入无误的行）".into(),
        }),
    }
}

async fn commit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::extract::Form(form): axum::extract::Form<CommitForm>,
) -> Result<Response, PageError> {
    user.check_csrf(form.csrf_token.as_deref().unwrap_or(""))?;
    let mode = commit_mode(&form.mode)?;
    let (job, _) = state.jobs.view(&id, &user.actor)?;
    if let JobState::Ready(plan) = job {
        if mode == CommitMode::All && plan.counts().error > 0 {
            return Err(AppError::Conflict {
                field: Some("mode".into()),
                message: ImportError::HasErrors(plan.counts().error).to_string(),
            }
            .into());
        }
        commit_in_background(&state, &user.actor, &id, plan, mode);
    }
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

async fn errors_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (job, source) = state.jobs.view(&id, &user.actor)?;
    let JobState::Ready(plan) = job else {
        return Err(AppError::NotFound);
    };
    let file = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.to_string()))?;
    shouwang_exchange::xlsx::write_error_workbook(&plan, file.path())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = std::fs::read(file.path()).map_err(|e| AppError::Internal(e.to_string()))?;
    let stem = source.rsplit_once('.').map_or(source.as_str(), |(s, _)| s);
    Ok(download(bytes, &format!("{stem}-错误行.xlsx"), XLSX))
}

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
    )?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/imports/{id}"))],
        Json(serde_json::json!({"id": id, "state": "reading"})),
    )
        .into_response())
}

#[derive(Serialize)]
struct JobRow {
    row: u32,
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
    let (job, source) = state.jobs.view(&id, &user.actor)?;
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
                .map(|r| match &r.outcome {
                    Outcome::Create(_) => JobRow {
                        row: r.row,
                        name: r.name.clone(),
                        outcome: "create",
                        changes: vec![],
                        errors: vec![],
                    },
                    Outcome::Update(u) => JobRow {
                        row: r.row,
                        name: r.name.clone(),
                        outcome: "update",
                        changes: u.changes.clone(),
                        errors: vec![],
                    },
                    Outcome::Unchanged { .. } => JobRow {
                        row: r.row,
                        name: r.name.clone(),
                        outcome: "unchanged",
                        changes: vec![],
                        errors: vec![],
                    },
                    Outcome::Error { problems } => JobRow {
                        row: r.row,
                        name: r.name.clone(),
                        outcome: "error",
                        changes: vec![],
                        errors: problems
                            .iter()
                            .map(|p| shouwang_exchange::read::describe(p, r.row, m))
                            .collect(),
                    },
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

#[derive(Deserialize)]
pub struct CommitBody {
    mode: String,
}

/// Commits a ready plan and waits for the result: 200 with the counts, 409 when `all` meets errors.
#[utoipa::path(post, path = "/api/v1/imports/{id}/commit", params(("id" = String, Path)), request_body(content = String, description = "{\"mode\": \"all\" | \"valid\"}"),
    responses((status = 200, description = "{state: committed, result: {created, updated}}"), (status = 409, body = crate::error::ErrorBody)))]
pub async fn commit_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CommitBody>,
) -> Result<Response, AppError> {
    let mode = commit_mode(&body.mode)?;
    let (job, _) = state.jobs.view(&id, &user.actor)?;
    let JobState::Ready(plan) = job else {
        return Err(AppError::Conflict {
            field: None,
            message: "该导入尚未读取完成或已经导入".into(),
        });
    };
    let importer = Importer::new(&state.store, &user.actor).map_err(import_error)?;
    state.jobs.set(&id, JobState::Committing);
    match importer.commit(&plan, mode).await {
        Ok(c) => {
            state.jobs.set(&id, JobState::Committed(c));
            Ok(Json(serde_json::json!({"state": "committed", "result": c})).into_response())
        }
        Err(e) => {
            state.jobs.set(&id, JobState::Ready(plan));
            Err(match e {
                ImportError::HasErrors(n) => AppError::Conflict {
                    field: Some("mode".into()),
                    message: ImportError::HasErrors(n).to_string(),
                },
                other => import_error(other),
            })
        }
    }
}

// ---- Exports ------------------------------------------------------------------------------------

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PDF: &str = "application/pdf";

fn download(bytes: Vec<u8>, filename: &str, content_type: &str) -> Response {
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"export\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct ExportParams {
    region: Option<String>,
    date: Option<String>,
    guardianship_type: Option<String>,
    schooling: Option<String>,
    age_band: Option<String>,
    flag: Option<String>,
}

fn bad(field: &str, message: String) -> AppError {
    AppError::BadRequest {
        code: "validation",
        field: Some(field.into()),
        message,
    }
}

impl ExportParams {
    fn region(&self, actor: &Actor) -> Result<RegionCode, AppError> {
        match self.region.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => shouwang_domain::region::Divisions::shipped()
                .parse_existing(r)
                .map_err(|e| bad("region", e.to_string())),
            None => Ok(actor.region.clone()),
        }
    }
    fn date(&self, today: NaiveDate) -> Result<NaiveDate, AppError> {
        match self.date.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => parse_date(d).ok_or_else(|| {
                bad(
                    "date",
                    format!("统计时点“{d}”不是有效日期（例：2026-07-31）"),
                )
            }),
            None => Ok(today),
        }
    }
    fn filter(&self) -> Result<RosterFilter, AppError> {
        fn one<T>(
            v: &Option<String>,
            field: &str,
            parse: fn(&str) -> Option<T>,
        ) -> Result<Option<T>, AppError> {
            match v.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => parse(s)
                    .map(Some)
                    .ok_or_else(|| bad(field, format!("“{s}”不是可选值"))),
                None => Ok(None),
            }
        }
        Ok(RosterFilter {
            guardianship_type: one(
                &self.guardianship_type,
                "guardianship_type",
                GuardianshipType::parse,
            )?,
            schooling: one(&self.schooling, "schooling", Schooling::parse)?,
            age_band: one(&self.age_band, "age_band", AgeBand::parse)?,
            flag: one(&self.flag, "flag", KeyTargetFlag::parse)?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/exports/roster", params(("region" = Option<String>, Query), ("date" = Option<String>, Query), ("guardianship_type" = Option<String>, Query), ("schooling" = Option<String>, Query), ("age_band" = Option<String>, Query), ("flag" = Option<String>, Query)),
    responses((status = 200, description = "花名册 .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn roster_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.store.today())?;
    let filter = p.filter()?;
    let children: Vec<ExportChild> = state
        .store
        .roster_on(&user.actor, &region, on, ExportKind::Roster)
        .await?
        .into_iter()
        .filter(|c| filter.admits(&c.file, on))
        .collect();
    let heading = Heading::new(&region, on, state.store.today());
    let bytes =
        outputs::roster_workbook(&heading, &children, user.actor.may(Action::UnmaskIdNumber))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(download(
        bytes,
        &format!("{}农村留守儿童花名册-{on}.xlsx", heading.unit),
        XLSX,
    ))
}

#[utoipa::path(get, path = "/api/v1/exports/summary", params(("region" = Option<String>, Query), ("date" = Option<String>, Query)),
    responses((status = 200, description = "汇总表 .xlsx (32 columns, cross-checked)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn summary_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.store.today())?;
    let children = state
        .store
        .roster_on(&user.actor, &region, on, ExportKind::Summary)
        .await?;
    let (rows, total) =
        outputs::summary_rows(&region, &children, on).map_err(AppError::Internal)?;
    let heading = Heading::new(&region, on, state.store.today());
    let bytes = outputs::summary_workbook(&heading, &rows, &total)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(download(
        bytes,
        &format!("{}农村留守儿童基本情况汇总表-{on}.xlsx", heading.unit),
        XLSX,
    ))
}

fn printer(state: &AppState) -> Result<&dyn shouwang_exchange::forms::FormPrinter, AppError> {
    state
        .printer
        .as_deref()
        .ok_or_else(|| AppError::Internal("no PDF printer configured".into()))
}

/// The documents printed from children's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    /// 登记表 as PDF, one page per child.
    FormPdf,
    /// 登记表 as `.xlsx`, one printed page per child.
    FormXlsx,
    /// 委托监护责任确认书 as PDF (one child).
    Agreement,
}

impl Document {
    fn title(self) -> &'static str {
        match self {
            Document::FormPdf | Document::FormXlsx => "基本情况登记表",
            Document::Agreement => "委托监护责任确认书",
        }
    }

    fn kind(self) -> ExportKind {
        match self {
            Document::FormPdf | Document::FormXlsx => ExportKind::Form,
            Document::Agreement => ExportKind::Agreement,
        }
    }

    /// File extension and content type.
    fn file_type(self) -> (&'static str, &'static str) {
        match self {
            Document::FormXlsx => ("xlsx", XLSX),
            _ => ("pdf", PDF),
        }
    }
}

fn print_forms(
    state: &AppState,
    actor: &Actor,
    children: &[ExportChild],
    document: Document,
) -> Result<Vec<u8>, AppError> {
    let forms: Vec<FormHeading<'_>> = children
        .iter()
        .map(|c| {
            FormHeading::of(
                &c.file,
                state.store.today(),
                actor.may(Action::UnmaskIdNumber),
            )
        })
        .collect();
    match document {
        Document::FormXlsx => shouwang_exchange::forms::registration_workbook(&forms)
            .map_err(|e| AppError::Internal(e.to_string())),
        Document::FormPdf => printer(state)?
            .registration_forms(&forms)
            .map_err(AppError::Internal),
        Document::Agreement => printer(state)?
            .agreement(&forms[0])
            .map_err(AppError::Internal),
    }
}

/// One child's printed document, as a download named after the child.
async fn child_document(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    document: Document,
) -> Result<Response, AppError> {
    let child = state
        .store
        .child_for_form(&user.actor, id, document.kind())
        .await?;
    let name = child.file.name.to_string();
    let bytes = print_forms(state, &user.actor, &[child], document)?;
    let (ext, content_type) = document.file_type();
    Ok(download(
        bytes,
        &format!("{name}-{}.{ext}", document.title()),
        content_type,
    ))
}

#[utoipa::path(get, path = "/api/v1/children/{id}/form.pdf", params(("id" = String, Path)),
    responses((status = 200, description = "登记表 PDF", content_type = "application/pdf"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn form_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::FormPdf).await
}

#[utoipa::path(get, path = "/api/v1/children/{id}/form.xlsx", params(("id" = String, Path)),
    responses((status = 200, description = "登记表 .xlsx (laid out as the printed form)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn form_xlsx_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::FormXlsx).await
}

#[utoipa::path(get, path = "/api/v1/children/{id}/agreement.pdf", params(("id" = String, Path)),
    responses((status = 200, description = "委托监护责任确认书 PDF", content_type = "application/pdf"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn agreement_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::Agreement).await
}

/// Every child of a village (or any region) on the date, one 登记表 per page.
async fn village_forms(
    state: &AppState,
    user: &CurrentUser,
    p: &ExportParams,
    document: Document,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.store.today())?;
    let children = state
        .store
        .roster_on(&user.actor, &region, on, ExportKind::Form)
        .await?;
    if children.is_empty() {
        return Err(AppError::NotFound);
    }
    let bytes = print_forms(state, &user.actor, &children, document)?;
    let unit = outputs::unit_name(&region);
    let (ext, content_type) = document.file_type();
    Ok(download(
        bytes,
        &format!("{unit}农村留守儿童基本情况登记表-{on}.{ext}"),
        content_type,
    ))
}

async fn village_forms_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    village_forms(&state, &user, &p, Document::FormPdf).await
}

async fn village_forms_xlsx_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    village_forms(&state, &user, &p, Document::FormXlsx).await
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    frame: Frame,
    today: String,
    regions: Vec<(String, String)>,
    can_print: bool,
}

async fn exports_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    if !user.actor.may(Action::Export) {
        return Err(AppError::Forbidden.into());
    }
    let own = user.actor.region.clone();
    let mut regions = vec![(own.to_string(), outputs::unit_name(&own))];
    for r in state.store.child_regions(&own).await? {
        regions.push((r.code.clone(), format!("　{}", r.name)));
    }
    Ok(render(&ExportsPage {
        frame: Frame::of(&state, &user).await,
        today: state.store.today().to_string(),
        regions,
        can_print: state.printer.is_some(),
    }))
}
