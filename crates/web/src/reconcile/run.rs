//! Reading the uploaded lists and running comparisons as jobs.

use std::collections::BTreeMap;
use std::io::Write;

use shouwang_domain::authz::Actor;
use shouwang_exchange::lists::{ListColumns, ListPreview};
use shouwang_linkage::discrepancy::{ListEntry, ListKind};

use serde_json::json;
use shouwang_app::jobs::{Job, JobState as Stored};

use super::jobs::*;
use crate::error::AppError;
use crate::state::AppState;
use shouwang_app::jobs;

pub(super) fn list_kind(s: &str) -> Result<ListKind, AppError> {
    ListKind::parse(s).ok_or_else(|| AppError::BadRequest {
        code: "list_kind",
        field: Some("kind".into()),
        message: "请选择名单类别：education（学籍名单）或 household（户籍名单）".into(),
    })
}

/// Saves an upload under its own last component (messages name the file as the user knows it)
/// in a private temporary directory.
pub(super) fn save_upload(
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

pub(super) fn list_error(message: String) -> AppError {
    AppError::BadRequest {
        code: "list",
        field: Some("file".into()),
        message,
    }
}

/// A saved list's header and first rows, read on a blocking thread.
pub(super) async fn preview_saved(path: &std::path::Path) -> Result<ListPreview, AppError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || shouwang_exchange::lists::preview(&path))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| list_error(e.0))
}

/// Reads a saved list with the given column choices, on a blocking thread, telling `progress`
/// how many rows it has read.
pub(super) async fn read_saved(
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
pub(super) fn saved_key(columns: &ListColumns) -> String {
    format!("三方比对\u{1f}{}", columns.signature())
}

// ---------- jobs ----------

fn detail_of(job: &Job) -> Result<Detail, AppError> {
    serde_json::from_value(job.detail.clone()).map_err(|e| AppError::Internal(e.to_string()))
}

/// Keeps an uploaded list as a job waiting for its columns to be checked; choices saved for its
/// header before are applied when they still fit it.
pub(super) async fn upload(
    state: &AppState,
    actor: &Actor,
    kind: ListKind,
    name: &str,
    bytes: &[u8],
) -> Result<String, AppError> {
    let (_dir, path) = save_upload(name, bytes)?;
    let preview = preview_saved(&path).await?;
    let mut choices = BTreeMap::new();
    let mut saved = false;
    if let Some(stored) =
        shouwang_app::reconcile::saved_mapping(&state.app, actor, &saved_key(&preview.columns))
            .await?
    {
        let mut columns = preview.columns.clone();
        if columns.apply(&stored).is_ok() {
            choices = columns.saved_form();
            saved = true;
        }
    }
    let detail = Detail {
        list_kind: kind.code().to_owned(),
        source: name.to_owned(),
        saved,
        choices,
    };
    keep(state, actor, detail, bytes).await
}

/// A job waiting for its columns, holding the list.
async fn keep(
    state: &AppState,
    actor: &Actor,
    detail: Detail,
    bytes: &[u8],
) -> Result<String, AppError> {
    let name = detail.source.clone();
    Ok(jobs::start(
        &state.app,
        &state.jobs,
        actor,
        jobs::Starting {
            kind: &KIND,
            state: Stored::Waiting,
            phase: COLUMNS,
            detail: json!(detail),
            file: (&name, bytes),
        },
    )
    .await?)
}

/// Starts comparing an uploaded list with these columns at once, as a job (the API has no page
/// to check the columns on: they were given, or the header names them).
pub(super) async fn start_now(
    state: &AppState,
    actor: &Actor,
    kind: ListKind,
    name: &str,
    bytes: &[u8],
    columns: &ListColumns,
) -> Result<String, AppError> {
    let detail = Detail {
        list_kind: kind.code().to_owned(),
        source: name.to_owned(),
        saved: false,
        choices: columns.saved_form(),
    };
    let id = keep(state, actor, detail, bytes).await?;
    begin(state, actor, &id, columns).await?;
    Ok(id)
}

/// The actor's comparison job as its pages show it.
pub(super) async fn view(state: &AppState, actor: &Actor, id: &str) -> Result<JobView, AppError> {
    let job = jobs::load(&state.app, &state.jobs, actor, id, &KIND).await?;
    let detail = detail_of(&job)?;
    let kind = ListKind::parse(&detail.list_kind)
        .ok_or_else(|| AppError::Internal(format!("list kind {}", detail.list_kind)))?;
    let shown = match job.state {
        Stored::Waiting => JobState::Columns,
        Stored::Running if job.phase == COMPARING => JobState::Comparing,
        Stored::Running => JobState::Reading(job.progress["rows"].as_u64().unwrap_or(0) as usize),
        Stored::Done => JobState::Done(job.result["run_id"].as_str().unwrap_or("").to_owned()),
        Stored::Failed => JobState::Failed(job.message.clone().unwrap_or_default()),
    };
    let preview = match shown {
        JobState::Columns => match jobs::file_on_disk(&state.app, id).await? {
            Some((_dir, path)) => {
                let mut preview = preview_saved(&path).await?;
                let mut columns = preview.columns.clone();
                if columns.apply(&detail.choices).is_ok() {
                    preview.columns = columns;
                }
                Some(preview)
            }
            None => None,
        },
        _ => None,
    };
    Ok(JobView {
        kind,
        source: detail.source,
        preview,
        saved: detail.saved,
        state: shown,
    })
}

/// Moves a job waiting for its columns to reading with these columns, once (409 for the second
/// of two racing starts), and compares in the background.
pub(super) async fn begin(
    state: &AppState,
    actor: &Actor,
    id: &str,
    columns: &ListColumns,
) -> Result<(), AppError> {
    let job = jobs::load(&state.app, &state.jobs, actor, id, &KIND).await?;
    let mut detail = detail_of(&job)?;
    let kind = ListKind::parse(&detail.list_kind)
        .ok_or_else(|| AppError::Internal(format!("list kind {}", detail.list_kind)))?;
    let moved = jobs::take_up(&state.app, id, COLUMNS, READING, json!({"rows": 0})).await?;
    if !moved {
        return Err(already_started());
    }
    detail.choices = columns.saved_form();
    shouwang_app::jobs::set_detail(&state.app, id, &json!(detail)).await?;
    compare_in_background(state, actor, id, kind, detail);
    Ok(())
}

/// Reads the list and compares it, in the background; the list is deleted once read.
fn compare_in_background(
    state: &AppState,
    actor: &Actor,
    id: &str,
    kind: ListKind,
    detail: Detail,
) {
    let app = state.app.clone();
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    jobs::spawn(
        &app,
        &id.clone(),
        COMPARING,
        "比对失败，没有保存任何结果；请稍后重试",
        async move {
            let result = async {
                let Some((_dir, path)) = jobs::file_on_disk(&state.app, &id).await? else {
                    return Err(list_error("上传的名单已不在，请重新上传".into()));
                };
                let (app, job_id) = (state.app.clone(), id.clone());
                let entries = read_saved(path, detail.choices.clone(), move |n| {
                    jobs::report(&app, &job_id, READING, json!({"rows": n}))
                })
                .await;
                shouwang_app::jobs::drop_file(&state.app, &id).await?;
                let entries = entries?;
                jobs::run(&state.app, &id, COMPARING).await;
                Ok::<_, AppError>(
                    shouwang_app::reconcile::run(&state.app, &actor, kind, &detail.source, entries)
                        .await?,
                )
            }
            .await;
            match result {
                Ok(run) => jobs::done(&state.app, &id, COMPARING, json!({"run_id": run.id})).await,
                Err(e) => {
                    let message = crate::error::job_failure_message(
                        e,
                        "没有比对权限",
                        "比对失败，没有保存任何结果；请稍后重试",
                    );
                    jobs::fail(&state.app, &id, COMPARING, &message).await
                }
            }
        },
    );
}
