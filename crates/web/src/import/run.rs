//! Running an import as a job: reading and checking the file in the background (the plan kept in
//! memory, read again from the stored file after a restart), and the commit.

use std::sync::Arc;

use serde_json::{Value, json};

use shouwang_app::import::{CommitMode, ImportError, Importer, Plan, Progress};
use shouwang_app::jobs::{Job, JobState as Stored};
use shouwang_domain::authz::{Action, Actor};

use super::jobs::{COMMITTING, Detail, JobState, KIND, READING, READY};
use crate::error::AppError;
use crate::state::AppState;
use shouwang_app::jobs;

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

fn detail_of(job: &Job) -> Detail {
    serde_json::from_value(job.detail.clone()).unwrap_or_default()
}

/// Saves an upload as a job and starts reading it in the background.
pub(super) async fn start_job(
    state: &AppState,
    actor: &Actor,
    source: String,
    bytes: &[u8],
    fills: Vec<String>,
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
    // What the file states once is checked before anything is stored: a wrong field or value
    // is named on the form.
    shouwang_exchange::fill::parse_all(&fills)
        .map_err(|m| shouwang_domain::validation::ValidationErrors::single("fill", m))?;
    let detail = Detail {
        source: source.clone(),
        choices: Default::default(),
        fills,
    };
    let id = jobs::start(
        &state.app,
        &state.jobs,
        actor,
        jobs::Starting {
            kind: &KIND,
            state: Stored::Running,
            phase: READING,
            detail: json!(detail),
            file: (&source, bytes),
        },
    )
    .await?;
    plan_in_background(state, actor, &id);
    Ok(id)
}

/// Reads the job's file and checks it against the registry, in the background. The job must be
/// running in the reading phase already (set before, so that a page asking right after a mapping
/// fix does not see the old plan as the new one).
pub(super) fn plan_in_background(state: &AppState, actor: &Actor, id: &str) {
    state.jobs.forget(id);
    let app = state.app.clone();
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    jobs::spawn(
        &app,
        &id.clone(),
        READING,
        "读取失败，请稍后重试",
        async move {
            let result = async {
                let job = jobs::load(&state.app, &state.jobs, &actor, &id, &KIND).await?;
                let detail = detail_of(&job);
                let Some((_dir, path)) = jobs::file_on_disk(&state.app, &id).await? else {
                    return Err(AppError::BadRequest {
                        code: "import",
                        field: Some("file".into()),
                        message: "上传的文件已不在，请重新上传".into(),
                    });
                };
                let fills = shouwang_exchange::fill::parse_all(&detail.fills).unwrap_or_default();
                let importer = Importer::new(&state.app, &actor)
                    .map_err(import_error)?
                    .with_fills(fills);
                let (app, job_id) = (state.app.clone(), id.clone());
                let mut progress =
                    move |p: Progress| jobs::report(&app, &job_id, READING, json!(p));
                importer
                    .plan(&path, &detail.source, &detail.choices, &mut progress)
                    .await
                    .map_err(import_error)
            }
            .await;
            match result {
                Ok(plan) => {
                    state.jobs.put(&id, Arc::new(plan));
                    jobs::wait(&state.app, &id, READY).await
                }
                Err(e) => {
                    let message = crate::error::job_failure_message(
                        e,
                        "您的账号没有导入儿童信息的权限",
                        "读取失败，请稍后重试",
                    );
                    jobs::fail(&state.app, &id, READING, &message).await
                }
            }
        },
    );
}

/// Moves a job to reading again (after its columns changed, or a restart lost its plan) and
/// starts the reading, once: of two requests racing for it, one starts it.
pub(super) async fn read_again(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let moved = jobs::take_up(&state.app, id, READY, READING, json!(Progress::default())).await?;
    if moved {
        plan_in_background(state, actor, id);
    }
    Ok(())
}

/// The job as its pages and API show it, and the file's name.
pub(super) async fn view(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(JobState, Detail), AppError> {
    let job = jobs::load(&state.app, &state.jobs, actor, id, &KIND).await?;
    let detail = detail_of(&job);
    let shown = match job.state {
        Stored::Running if job.phase == COMMITTING => JobState::Committing,
        Stored::Running => {
            JobState::Reading(serde_json::from_value(job.progress).unwrap_or_default())
        }
        Stored::Waiting => match state.jobs.get::<Plan>(id) {
            Some(plan) => JobState::Ready(plan),
            None => {
                // The server restarted since the file was read: read it again.
                read_again(state, actor, id).await?;
                JobState::Reading(Progress::default())
            }
        },
        Stored::Done => JobState::Committed(serde_json::from_value(job.result).unwrap_or_default()),
        Stored::Failed => JobState::Failed(job.message.unwrap_or_default()),
    };
    Ok((shown, detail))
}

/// Saves new column choices and reads the file again with them.
pub(super) async fn remap(
    state: &AppState,
    actor: &Actor,
    id: &str,
    choices: std::collections::BTreeMap<String, String>,
) -> Result<(), AppError> {
    let job = jobs::load(&state.app, &state.jobs, actor, id, &KIND).await?;
    let mut detail = detail_of(&job);
    detail.choices = choices;
    shouwang_app::jobs::set_detail(&state.app, id, &json!(detail)).await?;
    read_again(state, actor, id).await
}

/// Starts committing a ready plan; 409 when the job is not waiting with one.
pub(super) async fn commit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    plan: Arc<Plan>,
    mode: CommitMode,
) -> Result<tokio::task::JoinHandle<()>, AppError> {
    // The permission first: a user who may not import learns nothing of the job's state.
    Importer::new(&state.app, actor).map_err(import_error)?;
    if mode == CommitMode::All && plan.counts().error > 0 {
        return Err(AppError::Conflict {
            field: Some("mode".into()),
            message: ImportError::HasErrors(plan.counts().error).to_string(),
        });
    }
    let moved = jobs::take_up(&state.app, id, READY, COMMITTING, Value::Null).await?;
    if !moved {
        return Err(AppError::Conflict {
            field: None,
            message: "该导入尚未读取完成或已经导入".into(),
        });
    }
    let app = state.app.clone();
    let (state, actor, id) = (state.clone(), actor.clone(), id.to_owned());
    Ok(jobs::spawn(
        &app,
        &id.clone(),
        COMMITTING,
        "导入失败，没有写入任何数据；请稍后重试",
        async move {
            let result = match Importer::new(&state.app, &actor) {
                Ok(i) => i.for_import(&id).commit(&plan, mode).await,
                Err(e) => Err(e),
            };
            let app = &state.app;
            match result {
                Ok(counts) => {
                    state.jobs.forget(&id);
                    let _ = jobs::drop_file(app, &id).await;
                    jobs::done(app, &id, COMMITTING, json!(counts)).await
                }
                // The plan stays for another try (e.g. valid rows only).
                Err(ImportError::HasErrors(_)) => jobs::wait(app, &id, READY).await,
                Err(e) => {
                    state.jobs.forget(&id);
                    jobs::fail(
                        app,
                        &id,
                        COMMITTING,
                        &format!("导入失败，没有写入任何数据：{e}"),
                    )
                    .await
                }
            }
        },
    ))
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
