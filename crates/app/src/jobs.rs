//! The one job runner. A job is a row in the store's jobs table (owner, kind,
//! state, progress, result), so it is owned — anyone else gets 404 —, limited per owner, visible
//! with its progress and still there after a restart; what is too costly to store (an import's
//! checked plan) is kept beside it in memory and computed again from the stored file when a
//! restart lost it. Features own their kinds: they say what a phase means and what the detail
//! and result hold.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use shouwang_domain::authz::Actor;
use shouwang_store::jobs::{JobUpdate, NewJob};

/// The views this capability hands a front end.
pub use shouwang_store::jobs::{Job, JobState};

use crate::{App, Error, Result};

/// Unfinished jobs (waiting or running) one user may have at once. A user's jobs never push out
/// another's.
pub const OPEN_JOBS_PER_USER: i64 = 5;
/// Finished jobs kept per user (older ones are deleted).
const FINISHED_KEPT: i64 = 20;

/// What a restart tells a job that was running.
pub const INTERRUPTED: &str =
    "服务器在任务进行中停止，任务已中断（未完成的工作没有写入任何数据），请重新开始";

/// Results kept in memory beside the jobs table.
#[derive(Default)]
pub struct Jobs {
    cache: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl Jobs {
    pub fn put<T: Any + Send + Sync>(&self, id: &str, value: Arc<T>) {
        self.cache
            .lock()
            .expect("job cache")
            .insert(id.to_owned(), value);
    }
    pub fn get<T: Any + Send + Sync>(&self, id: &str) -> Option<Arc<T>> {
        let value = self.cache.lock().expect("job cache").get(id).cloned()?;
        value.downcast::<T>().ok()
    }
    pub fn forget(&self, id: &str) {
        self.cache.lock().expect("job cache").remove(id);
    }
}

/// A kind of job, as the feature that owns it defines it.
pub struct Kind {
    pub name: &'static str,
    /// How long a job may wait for its owner before it is failed with `expired` (and its file
    /// and memory go).
    pub waiting_for: chrono::Duration,
    pub expired: &'static str,
}

/// A job to start: its kind, where it starts, what its feature keeps in its detail, and the
/// uploaded file (name and bytes) it works on.
pub struct Starting<'a> {
    pub kind: &'a Kind,
    pub state: JobState,
    pub phase: &'a str,
    pub detail: Value,
    pub file: (&'a str, &'a [u8]),
}

/// Starts a job for the actor with its uploaded file; refuses a sixth unfinished job. Jobs of the
/// kind left waiting too long are failed first, so they free their slots.
/// How many more jobs the user may start now (the limit less their unfinished jobs): asked before
/// an upload is received, so a burst is refused before its bodies are read. `start` counts again
/// in its transaction, which decides.
pub async fn room_for(app: &App, cache: &Jobs, actor: &Actor, kind: &Kind) -> Result<i64> {
    // As `start` does: jobs of the kind left waiting too long free their slots first.
    for id in app
        .store
        .jobs()
        .expire_waiting_jobs(kind.name, kind.waiting_for, kind.expired)
        .await?
    {
        cache.forget(&id);
    }
    Ok((OPEN_JOBS_PER_USER - app.store.jobs().open_jobs(&actor.user_id).await?).max(0))
}

/// The refusal when a user has no room for another job.
pub fn too_many_jobs() -> Error {
    Error::Conflict {
        field: Some("file".into()),
        message: format!(
            "您已有{OPEN_JOBS_PER_USER}个未完成的任务（导入或比对），请先完成或等待其结束后再上传"
        ),
    }
}

pub async fn start(app: &App, cache: &Jobs, actor: &Actor, job: Starting<'_>) -> Result<String> {
    let Starting {
        kind,
        state,
        phase,
        detail,
        file,
    } = job;
    for id in app
        .store
        .jobs()
        .expire_waiting_jobs(kind.name, kind.waiting_for, kind.expired)
        .await?
    {
        cache.forget(&id);
    }
    let id = uuid::Uuid::now_v7().simple().to_string();
    app.store
        .jobs()
        .prune_jobs(&actor.user_id, FINISHED_KEPT)
        .await?;
    let created = app
        .store
        .jobs()
        .create_job(
            NewJob {
                id: &id,
                owner_id: &actor.user_id,
                kind: kind.name,
                state,
                phase,
                detail,
                file: Some(file),
            },
            OPEN_JOBS_PER_USER,
        )
        .await?;
    if !created {
        return Err(too_many_jobs());
    }
    Ok(id)
}

/// Starts the work of a job waiting for its owner in phase `from`: running in `phase` from now.
/// Only one of two racing requests gets `true`.
pub async fn take_up(
    app: &App,
    id: &str,
    from: &str,
    phase: &str,
    progress: Value,
) -> Result<bool> {
    let update = JobUpdate {
        state: JobState::Running,
        phase,
        progress,
        result: Value::Null,
        message: None,
    };
    Ok(app
        .store
        .jobs()
        .set_job(id, update, Some((JobState::Waiting, from)))
        .await?)
}

/// Gives up a job waiting for its owner (in `phase`); 409 when it is not waiting.
pub async fn discard(
    app: &App,
    cache: &Jobs,
    actor: &Actor,
    id: &str,
    kind: &Kind,
    phase: &str,
) -> Result<()> {
    load(app, cache, actor, id, kind).await?;
    let given_up = app
        .store
        .jobs()
        .set_job(
            id,
            JobUpdate {
                state: JobState::Failed,
                phase,
                progress: Value::Null,
                result: Value::Null,
                message: Some("已放弃，没有写入任何数据"),
            },
            Some((JobState::Waiting, phase)),
        )
        .await?;
    if !given_up {
        return Err(Error::Conflict {
            field: None,
            message: "任务正在进行或已经结束，不能放弃".into(),
        });
    }
    cache.forget(id);
    app.store.jobs().drop_job_file(id).await?;
    Ok(())
}

/// The actor's job of this kind; 404 for anyone else's, as for a job that does not exist. A job
/// that waited for its owner longer than its kind allows is failed now.
pub async fn load(app: &App, cache: &Jobs, actor: &Actor, id: &str, kind: &Kind) -> Result<Job> {
    let job = match app.store.jobs().job(id).await? {
        Some(j) if j.owner_id == actor.user_id && j.kind == kind.name => j,
        _ => return Err(Error::NotFound),
    };
    let limit = (app.store.clock().now() - kind.waiting_for)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    if job.state == JobState::Waiting
        && job.updated_at < limit
        && app.store.jobs().expire_job(id, kind.expired).await?
    {
        cache.forget(id);
        return app.store.jobs().job(id).await?.ok_or(Error::NotFound);
    }
    Ok(job)
}

/// Sets a job's state; a background task has nobody to tell of a failure to record it, so it is
/// logged.
async fn set(
    app: &App,
    id: &str,
    state: JobState,
    phase: &str,
    result: Value,
    message: Option<&str>,
) {
    let update = JobUpdate {
        state,
        phase,
        progress: Value::Null,
        result,
        message,
    };
    if let Err(e) = app.store.jobs().set_job(id, update, None).await {
        tracing::error!(error = %e, job = id, "job state not recorded");
    }
}

/// The job waits for its owner (a plan to commit, columns to check).
pub async fn wait(app: &App, id: &str, phase: &str) {
    set(app, id, JobState::Waiting, phase, Value::Null, None).await
}

/// The job moves on to another phase of its work.
pub async fn run(app: &App, id: &str, phase: &str) {
    set(app, id, JobState::Running, phase, Value::Null, None).await
}

pub async fn done(app: &App, id: &str, phase: &str, result: Value) {
    set(app, id, JobState::Done, phase, result, None).await
}

/// The job failed: its file goes at once (the owner uploads again).
pub async fn fail(app: &App, id: &str, phase: &str, message: &str) {
    set(app, id, JobState::Failed, phase, Value::Null, Some(message)).await;
    if let Err(e) = app.store.jobs().drop_job_file(id).await {
        tracing::warn!(error = %e, job = id, "failed job's file not deleted");
    }
}

/// Runs a job's work in the background. If the work panics, the job is failed with `message`
/// instead of staying "running" until the next restart. The handle ends when the job's state is
/// recorded.
pub fn spawn(
    app: &App,
    id: &str,
    phase: &'static str,
    message: &'static str,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let (app, id) = (app.clone(), id.to_owned());
    let inner = tokio::spawn(work);
    tokio::spawn(async move {
        if let Err(e) = inner.await
            && e.is_panic()
        {
            tracing::error!(job = %id, "job task panicked");
            fail(&app, &id, phase, message).await;
        }
    })
}

/// Reports progress without waiting for it to be written; a report that arrives after the job
/// moved on changes nothing.
pub fn report(app: &App, id: &str, phase: &'static str, progress: Value) {
    let (app, id) = (app.clone(), id.to_owned());
    tokio::spawn(async move {
        if let Err(e) = app.store.jobs().job_progress(&id, phase, &progress).await {
            tracing::warn!(error = %e, "job progress not recorded");
        }
    });
}

/// The job's file in a private temporary directory under its own name, for the readers that
/// take a path; `None` once the file was deleted.
pub async fn file_on_disk(
    app: &App,
    id: &str,
) -> Result<Option<(tempfile::TempDir, std::path::PathBuf)>> {
    let Some((name, bytes)) = app.store.jobs().job_file(id).await? else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(
            std::path::Path::new(&name)
                .file_name()
                .unwrap_or("upload".as_ref()),
        );
        std::fs::write(&path, &bytes)?;
        Ok::<_, std::io::Error>((dir, path))
    })
    .await
    .map_err(|e| Error::Internal(format!("writing a job's file: {e}")))?
    .map(Some)
    .map_err(|e| Error::Internal(format!("writing a job's file: {e}")))
}

/// Records what a job's feature keeps in its detail (the reading's findings, a plan's summary).
pub async fn set_detail(app: &App, id: &str, detail: &Value) -> Result<()> {
    Ok(app.store.jobs().set_job_detail(id, detail).await?)
}

/// Deletes a job's stored file once it is no longer needed.
pub async fn drop_file(app: &App, id: &str) -> Result<()> {
    Ok(app.store.jobs().drop_job_file(id).await?)
}

/// Marks the jobs that were running when the server last stopped as failed, saying so
/// ([`INTERRUPTED`]); returns how many.
pub async fn interrupt_running(app: &App) -> Result<u64> {
    Ok(app.store.jobs().interrupt_running_jobs(INTERRUPTED).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouwang_domain::authz::Role;
    use shouwang_domain::clock::FixedClock;
    use shouwang_domain::region::RegionCode;
    use shouwang_store::IdCipher;

    #[tokio::test]
    async fn a_job_whose_work_panics_is_failed_not_left_running() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(
            dir.path().join("j.db").to_str().unwrap(),
            IdCipher::new([1; 32], [2; 32]),
            std::sync::Arc::new(FixedClock::on(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            )),
        )
        .await
        .unwrap();
        app.store
            .regions()
            .init_region(&RegionCode::parse("522730").unwrap())
            .await
            .unwrap();
        let actor =
            shouwang_testkit::actor(&app.store, "county", "county", Role::County, "522730").await;
        let kind = Kind {
            name: "import",
            waiting_for: chrono::Duration::hours(1),
            expired: "过期",
        };
        let id = start(
            &app,
            &Jobs::default(),
            &actor,
            Starting {
                kind: &kind,
                state: JobState::Running,
                phase: "reading",
                detail: Value::Null,
                file: ("a.csv", b"x"),
            },
        )
        .await
        .unwrap();
        spawn(&app, &id, "reading", "读取失败", async {
            panic!("a bug")
        })
        .await
        .unwrap();
        let job = app.store.jobs().job(&id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.message.as_deref(), Some("读取失败"));
        assert!(app.store.jobs().job_file(&id).await.unwrap().is_none());
    }
}
