//! TODO

use std::collections::BTreeMap;
use std::sync::Arc;

use shouwang_app::import::{CommitMode, ImportError, Importer, Plan, Progress};
use shouwang_domain::authz::{Action, Actor};

use super::jobs::*;
use crate::error::AppError;
use crate::state::AppState;

pub(super) fn import_error(e: ImportError) -> AppError {
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
pub(super) fn start_job(
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
    state.import_jobs.insert(
        &id,
        Job {
            owner: actor.user_id.clone(),
            source,
            file,
            choices: BTreeMap::new(),
            state: JobState::Reading(Progress::default()),
            started: state.import_jobs.next_seq(),
        },
    );
    plan_in_background(state, actor, &id);
    Ok(id)
}

pub(super) fn plan_in_background(state: &AppState, actor: &Actor, id: &str) {
    let (path, source, choices) = {
        let jobs = state.import_jobs.jobs.lock().expect("jobs lock");
        let Some(j) = jobs.get(id) else { return };
        (
            j.file.path().to_path_buf(),
            j.source.clone(),
            j.choices.clone(),
        )
    };
    // Reading starts now, not when the task first runs: a page or client asking right after a
    // mapping fix must not see the old plan as the new one.
    state
        .import_jobs
        .set(id, JobState::Reading(Progress::default()));
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    tokio::spawn(async move {
        let result = match Importer::new(&state.store, &actor) {
            Ok(importer) => {
                let jobs = state.import_jobs.clone();
                let job_id = id.clone();
                let mut progress = move |p: Progress| jobs.set(&job_id, JobState::Reading(p));
                importer.plan(&path, &source, &choices, &mut progress).await
            }
            Err(e) => Err(e),
        };
        state.import_jobs.set(
            &id,
            match result {
                Ok(plan) => JobState::Ready(Arc::new(plan)),
                Err(e) => JobState::Failed(e.to_string()),
            },
        );
    });
}

pub(super) fn commit_in_background(
    state: &AppState,
    actor: &Actor,
    id: &str,
    plan: Arc<Plan>,
    mode: CommitMode,
) {
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    state.import_jobs.set(&id, JobState::Committing);
    tokio::spawn(async move {
        let result = match Importer::new(&state.store, &actor) {
            Ok(i) => i.commit(&plan, mode).await,
            Err(e) => Err(e),
        };
        state.import_jobs.set(
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

pub(super) fn commit_mode(s: &str) -> Result<CommitMode, AppError> {
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
