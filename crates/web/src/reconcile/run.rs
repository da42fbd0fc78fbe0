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

use std::collections::BTreeMap;
use std::io::Write;

use shouwang_domain::authz::Actor;
use shouwang_exchange::lists::{ListColumns, ListPreview};
use shouwang_linkage::discrepancy::{ListEntry, ListKind};

use super::jobs::*;
use crate::error::AppError;
use crate::state::AppState;

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

/// A person's message for a failed comparison.
pub(super) fn failure(e: AppError) -> String {
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
pub(super) fn compare_in_background(
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
