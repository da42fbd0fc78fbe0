//! 三方比对 on the web: a county user uploads the education or household list, the comparison
//! runs against the roster of their jurisdiction, and the findings are worked through as a queue —
//! accepted, rejected or assigned to a town, school or police unit, who then see them under
//! 比对待办. The same operations are under `/api/v1/reconcile` for programs.
//!
//! An upload becomes a job held in memory, as imports are: the list in a private temporary
//! file while the person checks what each column holds (kept for the next list with the same
//! header), then the comparison in the background — a county's list can take longer than a
//! request may — and the file deleted once it has been read (or after an hour, if the comparison
//! is never started).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Mutex;

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
use shouwang_exchange::lists::{FIELDS, ListColumns, ListPreview, field_key};
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
        .route("/reconcile/jobs/{id}", get(job_page))
        .route("/reconcile/jobs/{id}/status", get(job_status))
        .route("/reconcile/jobs/{id}/start", post(start_page))
        .route("/reconcile/runs/{id}", get(run_page))
        .route("/reconcile/tasks", get(tasks_page))
        .route("/reconcile/items/{id}", post(decide_page))
        .route("/api/v1/reconcile/runs", get(runs_api).post(upload_api))
        .route("/api/v1/reconcile/columns", post(columns_api))
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

/// Saves an upload under its own last component (messages name the file as the user knows it)
/// in a private temporary directory.
fn save_upload(
    name: &str,
    bytes: &[u8],
) -> Result<(tempfile::TempDir, std::path::PathBuf), AppError> {
    if bytes.is_empty() {
        return Err(AppError::BadRequest {
            code: "list",
            field: Some("file".into()),
            message: "请选择要比对的名单文件（.xlsx、.xls 或 .csv）".into(),
        });
    }
    let dir = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
    let path = dir.path().join(
        std::path::Path::new(name)
            .file_name()
            .unwrap_or("upload".as_ref()),
    );
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((dir, path))
}

fn list_error(message: String) -> AppError {
    AppError::BadRequest {
        code: "list",
        field: Some("file".into()),
        message,
    }
}

/// A saved list's header and first rows, read on a blocking thread.
async fn preview_saved(path: &std::path::Path) -> Result<ListPreview, AppError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || shouwang_exchange::lists::preview(&path))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| list_error(e.0))
}

/// Reads a saved list with the given column choices, on a blocking thread, telling `progress`
/// how many rows it has read.
async fn read_saved(
    path: std::path::PathBuf,
    choices: BTreeMap<String, String>,
    progress: impl Fn(usize) + Send + 'static,
) -> Result<Vec<ListEntry>, AppError> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        shouwang_exchange::lists::read_list_with(&path, &choices, |e| {
            out.push(e);
            if out.len() % 2000 == 0 {
                progress(out.len());
            }
        })
        .map_err(|e| list_error(e.0))?;
        Ok(out)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// The key under which a header's column choices are kept (beside the import's).
fn saved_key(columns: &ListColumns) -> String {
    format!("三方比对\u{1f}{}", columns.signature())
}

// ---------- jobs ----------

/// Jobs kept per server; the oldest finished ones go first.
const MAX_JOBS: usize = 100;
/// A list nobody started comparing is deleted after this long.
const UNSTARTED_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Clone)]
enum JobState {
    /// Waiting for the person to confirm the columns.
    Columns,
    /// Rows read so far.
    Reading(usize),
    Comparing,
    /// The run's id.
    Done(String),
    Failed(String),
}

impl JobState {
    /// What the page says of the job (the failure's message for a failed one).
    fn progress(&self) -> String {
        match self {
            JobState::Columns => String::new(),
            JobState::Reading(n) => format!("正在读取名单，已读 {n} 行……"),
            JobState::Comparing => "正在与花名册比对……".into(),
            JobState::Done(_) => "比对完成。".into(),
            JobState::Failed(m) => m.clone(),
        }
    }
}

struct Job {
    owner: String,
    kind: ListKind,
    source: String,
    /// The list until it has been read; deleted then.
    file: Option<(tempfile::TempDir, std::path::PathBuf)>,
    preview: ListPreview,
    /// The columns were set from choices saved for this header.
    saved: bool,
    state: JobState,
    uploaded: std::time::Instant,
}

/// The comparisons of this server waiting for their columns or running.
#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
}

/// What a page needs of a job.
#[derive(Clone)]
struct JobView {
    kind: ListKind,
    source: String,
    preview: ListPreview,
    saved: bool,
    state: JobState,
}

impl Jobs {
    fn insert(&self, id: &str, job: Job) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        Self::sweep(&mut jobs);
        if jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .filter(|(_, j)| !matches!(j.state, JobState::Reading(_) | JobState::Comparing))
                .min_by_key(|(_, j)| j.uploaded)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                jobs.remove(&k);
            }
        }
        jobs.insert(id.to_owned(), job);
    }

    fn set(&self, id: &str, state: JobState) {
        if let Some(j) = self.jobs.lock().expect("jobs lock").get_mut(id) {
            // Once read, the list is not needed again.
            if !matches!(state, JobState::Columns | JobState::Reading(_)) {
                j.file = None;
            }
            j.state = state;
        }
    }

    /// Forgets lists left waiting for their columns (their files go with them).
    fn sweep(jobs: &mut HashMap<String, Job>) {
        jobs.retain(|_, j| {
            !(matches!(j.state, JobState::Columns) && j.uploaded.elapsed() > UNSTARTED_FOR)
        });
    }

    /// The job, if it is this user's.
    fn view(&self, id: &str, actor: &Actor) -> Result<JobView, AppError> {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        Self::sweep(&mut jobs);
        match jobs.get(id) {
            Some(j) if j.owner == actor.user_id => Ok(JobView {
                kind: j.kind,
                source: j.source.clone(),
                preview: j.preview.clone(),
                saved: j.saved,
                state: j.state.clone(),
            }),
            _ => Err(AppError::NotFound),
        }
    }

    /// Moves a job waiting for its columns to reading, with these columns; its file's path.
    fn begin(
        &self,
        id: &str,
        actor: &Actor,
        columns: ListColumns,
    ) -> Result<std::path::PathBuf, AppError> {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        match jobs.get_mut(id) {
            Some(j) if j.owner == actor.user_id => match (&j.state, &j.file) {
                (JobState::Columns, Some((_, path))) => {
                    j.preview.columns = columns;
                    j.state = JobState::Reading(0);
                    Ok(path.clone())
                }
                _ => Err(already_started()),
            },
            _ => Err(AppError::NotFound),
        }
    }
}

fn already_started() -> AppError {
    AppError::Conflict {
        field: None,
        message: "这份名单已经开始比对".into(),
    }
}

/// A person's message for a failed comparison.
fn failure(e: AppError) -> String {
    match e {
        AppError::BadRequest { message, .. } => message,
        AppError::Validation(v) => v.to_string(),
        AppError::Forbidden => "没有比对权限".into(),
        other => {
            tracing::error!(error = ?other, "comparison failed");
            "比对失败，没有保存任何结果；请稍后重试".into()
        }
    }
}

/// Reads the list and compares it, in the background.
fn compare_in_background(
    state: &AppState,
    actor: &Actor,
    id: &str,
    kind: ListKind,
    source: String,
    path: std::path::PathBuf,
    choices: BTreeMap<String, String>,
) {
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    tokio::spawn(async move {
        let jobs = state.reconcile_jobs.clone();
        let job_id = id.clone();
        let result = async {
            let entries = read_saved(path, choices, move |n| {
                jobs.set(&job_id, JobState::Reading(n))
            })
            .await?;
            state.reconcile_jobs.set(&id, JobState::Comparing);
            Ok::<_, AppError>(
                state
                    .store
                    .reconcile(&actor, kind, &source, entries)
                    .await?,
            )
        }
        .await;
        state.reconcile_jobs.set(
            &id,
            match result {
                Ok(run) => JobState::Done(run.id),
                Err(e) => JobState::Failed(failure(e)),
            },
        );
    });
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
        let (dir, path) = save_upload(&name, &bytes)?;
        let mut preview = preview_saved(&path).await?;
        // Choices saved for this header before, if they still fit it.
        let mut saved = false;
        if let Some(choices) = state
            .store
            .import_mapping(&user.actor, &saved_key(&preview.columns))
            .await?
        {
            let mut columns = preview.columns.clone();
            if columns.apply(&choices).is_ok() {
                preview.columns = columns;
                saved = true;
            }
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        state.reconcile_jobs.insert(
            &id,
            Job {
                owner: user.actor.user_id.clone(),
                kind,
                source: name.clone(),
                file: Some((dir, path)),
                preview,
                saved,
                state: JobState::Columns,
                uploaded: std::time::Instant::now(),
            },
        );
        Ok::<_, AppError>(id)
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/reconcile/jobs/{id}")).into_response()),
        Err(AppError::BadRequest { message, .. }) => show_runs(&state, &user, message).await,
        Err(e) => Err(e.into()),
    }
}

/// A column on the columns page.
struct ColumnRow {
    letter: String,
    title: String,
    field: &'static str,
    /// The first rows' values in this column.
    sample: String,
}

#[derive(Template)]
#[template(path = "reconcile_job.html")]
struct JobPage {
    frame: Frame,
    id: String,
    list_label: &'static str,
    source: String,
    header_row: u32,
    columns: Vec<ColumnRow>,
    fields: Vec<(&'static str, &'static str)>,
    saved: bool,
    error: String,
    /// "columns", "running" or "failed".
    state: &'static str,
    progress: String,
}

fn job_page_of(frame: Frame, id: &str, job: &JobView, error: String) -> JobPage {
    let state = match &job.state {
        JobState::Columns => "columns",
        JobState::Failed(_) => "failed",
        _ => "running",
    };
    let progress = job.state.progress();
    let columns = &job.preview.columns;
    JobPage {
        frame,
        id: id.to_owned(),
        list_label: job.kind.label(),
        source: job.source.clone(),
        header_row: columns.header_row,
        columns: columns
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnRow {
                letter: c.letter.clone(),
                title: c.title.clone(),
                field: c.field.unwrap_or(""),
                sample: job
                    .preview
                    .sample
                    .iter()
                    .filter_map(|r| r.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()))
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect(),
        fields: FIELDS.to_vec(),
        saved: job.saved,
        error,
        state,
        progress,
    }
}

async fn job_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    let job = state.reconcile_jobs.view(&id, &user.actor)?;
    if let JobState::Done(run) = &job.state {
        return Ok(Redirect::to(&format!("/reconcile/runs/{run}")).into_response());
    }
    Ok(render(&job_page_of(
        Frame::of(&state, &user).await,
        &id,
        &job,
        String::new(),
    )))
}

#[derive(Template)]
#[template(path = "reconcile_job_status.html")]
struct JobStatus {
    id: String,
    progress: String,
}

/// The progress fragment a running job's page polls; when the job ends, a redirect.
async fn job_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = state.reconcile_jobs.view(&id, &user.actor)?;
    Ok(match &job.state {
        JobState::Reading(_) | JobState::Comparing => render(&JobStatus {
            id,
            progress: job.state.progress(),
        }),
        JobState::Done(run) => {
            ([("HX-Redirect", format!("/reconcile/runs/{run}"))], "").into_response()
        }
        _ => ([("HX-Redirect", format!("/reconcile/jobs/{id}"))], "").into_response(),
    })
}

/// `col_<letter>` fields of the columns form → choices.
fn choices_of(form: &[(String, String)]) -> BTreeMap<String, String> {
    form.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("col_")
                .map(|letter| (letter.to_owned(), v.clone()))
        })
        .collect()
}

async fn start_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let value = |k: &str| {
        form.iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    user.check_csrf(&value("csrf_token"))?;
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden.into());
    }
    let job = state.reconcile_jobs.view(&id, &user.actor)?;
    if !matches!(job.state, JobState::Columns) {
        return Err(already_started().into());
    }
    let choices = choices_of(&form);
    let mut columns = job.preview.columns.clone();
    if let Err(message) = columns.apply(&choices) {
        // The page again, with the person's choices and what is wrong with them.
        let mut shown = job.clone();
        for c in &mut shown.preview.columns.columns {
            c.field = choices.get(&c.letter).and_then(|k| field_key(k));
        }
        return Ok(render(&job_page_of(
            Frame::of(&state, &user).await,
            &id,
            &shown,
            message,
        )));
    }
    // Started and handed to its task with nothing awaited between: a job is never left
    // reading with nobody to read it.
    let path = state
        .reconcile_jobs
        .begin(&id, &user.actor, columns.clone())?;
    compare_in_background(
        &state,
        &user.actor,
        &id,
        job.kind,
        job.source,
        path,
        columns.saved_form(),
    );
    if value("save") == "1"
        && let Err(e) = state
            .store
            .save_import_mapping(&user.actor, &saved_key(&columns), &columns.saved_form())
            .await
    {
        // The comparison runs all the same; only the next list's columns are not filled in.
        tracing::warn!(error = %e, "the column choices were not saved");
    }
    Ok(Redirect::to(&format!("/reconcile/jobs/{id}")).into_response())
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
pub struct ColumnsParams {
    filename: Option<String>,
}

/// `POST /api/v1/reconcile/columns?filename=学籍.xlsx` with the list as the body: what the
/// reader makes of its header, and its first rows, before a comparison is run.
#[utoipa::path(post, path = "/api/v1/reconcile/columns",
    params(("filename" = Option<String>, Query, description = "the list's file name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = ".xlsx, .xls or .csv"),
    responses((status = 200, description = "{columns: {header_row, columns: [{letter, title, field}]}, sample: [[cell]]}: field is null where the title is not known; give those as `columns` when running the comparison"),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn columns_api(
    user: CurrentUser,
    Query(p): Query<ColumnsParams>,
    body: Bytes,
) -> Result<Response, AppError> {
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    let name = p.filename.unwrap_or_else(|| "upload".into());
    let (_dir, path) = save_upload(&name, &body)?;
    Ok(Json(preview_saved(&path).await?).into_response())
}

#[derive(Deserialize)]
pub struct UploadParams {
    kind: String,
    filename: Option<String>,
    columns: Option<String>,
}

/// `A=name,C=birth_date,班级=-`: column letter or title = field (or "-").
fn columns_param(s: &str) -> Result<BTreeMap<String, String>, AppError> {
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
#[utoipa::path(post, path = "/api/v1/reconcile/runs",
    params(("kind" = String, Query, description = "education（学籍名单）或 household（户籍名单）"),
           ("filename" = Option<String>, Query, description = "the list's file name"),
           ("columns" = Option<String>, Query, description = "what columns the header does not name hold: column letter or title = field, comma-separated (A=name,C=birth_date,班级=-); fields: record_id, name, sex, birth_date, id_number, county, town, village, hukou, parents_away; - keeps a column beside the person")),
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
    let choices = columns_param(p.columns.as_deref().unwrap_or(""))?;
    let name = p.filename.unwrap_or_else(|| "upload".into());
    let (_dir, path) = save_upload(&name, &body)?;
    if !choices.is_empty() {
        // The choices checked against the header first, so their errors name `columns`.
        let mut columns = preview_saved(&path).await?.columns;
        columns
            .apply(&choices)
            .map_err(|message| AppError::BadRequest {
                code: "columns",
                field: Some("columns".into()),
                message,
            })?;
    }
    let entries = read_saved(path, choices, |_| {}).await?;
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
