//! The jobs table: long work as rows (owner, kind, state, phase, progress, detail, result), and the
//! uploaded file each works on, encrypted. SQL only: which job may start, and what a state means,
//! is decided by the job runner (`web::jobs`) and the features that own the kinds.

use serde_json::Value;
use sqlx::Row;

use crate::Result;
use crate::rooms::JobsRoom;
use crate::sealed::{self, Attachment, Sealed};

pub(crate) const JOB_FILE: Sealed<Attachment> = sealed::listed("job_files", "content");

/// How many unfinished jobs (waiting or running) an owner has.
const OPEN_JOBS: &str =
    "SELECT COUNT(*) FROM jobs WHERE owner_id = $1 AND state IN ('waiting', 'running')";

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for the person (a plan to commit, columns to confirm).
    Waiting,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn code(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> JobState {
        match s {
            "waiting" => JobState::Waiting,
            "running" => JobState::Running,
            "done" => JobState::Done,
            _ => JobState::Failed,
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub owner_id: String,
    pub kind: String,
    pub state: JobState,
    pub phase: String,
    pub progress: Value,
    pub detail: Value,
    pub result: Value,
    pub message: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A job to create, with its file.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub kind: &'a str,
    pub state: JobState,
    pub phase: &'a str,
    pub detail: Value,
    pub file: Option<(&'a str, &'a [u8])>,
}

/// A change of a job's state.
pub struct JobUpdate<'a> {
    pub state: JobState,
    pub phase: &'a str,
    pub progress: Value,
    pub result: Value,
    pub message: Option<&'a str>,
}

const COLUMNS: &str =
    "id, owner_id, kind, state, phase, progress, detail, result, message, created_at, updated_at";

fn job_of(r: &sqlx::any::AnyRow) -> Result<Job> {
    let json = |name: &str| -> Result<Value> {
        let text: String = r.try_get(name)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    Ok(Job {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        kind: r.try_get("kind")?,
        state: JobState::parse(&r.try_get::<String, _>("state")?),
        phase: r.try_get("phase")?,
        progress: json("progress")?,
        detail: json("detail")?,
        result: json("result")?,
        message: r.try_get("message")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl JobsRoom<'_> {
    /// Creates a job unless its owner already has `limit` unfinished jobs of any kind; false
    /// then. Atomic against a burst of uploads: the owner's user row is locked first, so the
    /// count and the insert of one upload happen before the next upload counts.
    /// The owner's unfinished jobs (waiting or running).
    pub async fn open_jobs(&self, owner_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(OPEN_JOBS)
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn create_job(&self, new: NewJob<'_>, limit: i64) -> Result<bool> {
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET id = id WHERE id = $1")
            .bind(new.owner_id)
            .execute(&mut *tx)
            .await?;
        let open: i64 = sqlx::query_scalar(OPEN_JOBS)
            .bind(new.owner_id)
            .fetch_one(&mut *tx)
            .await?;
        if open >= limit {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO jobs (id, owner_id, kind, state, phase, progress, detail, result, message, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'null', $6, 'null', NULL, $7, $7)",
        )
        .bind(new.id)
        .bind(new.owner_id)
        .bind(new.kind)
        .bind(new.state.code())
        .bind(new.phase)
        .bind(new.detail.to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let Some((name, bytes)) = new.file {
            sqlx::query("INSERT INTO job_files (job_id, name, content) VALUES ($1, $2, $3)")
                .bind(new.id)
                .bind(name)
                .bind(JOB_FILE.seal(&self.cipher, new.id, bytes))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_of).transpose()
    }

    /// Sets a job's state. With `from`, only if the job is in that state and phase now (a start
    /// that two requests race for happens once); returns whether it changed.
    pub async fn set_job(
        &self,
        id: &str,
        update: JobUpdate<'_>,
        from: Option<(JobState, &str)>,
    ) -> Result<bool> {
        let now = self.now_text();
        let finished = update.state.finished().then_some(now.clone());
        let mut sql = String::from(
            "UPDATE jobs SET state = $1, phase = $2, progress = $3, result = $4, message = $5, \
             updated_at = $6, finished_at = $7 WHERE id = $8",
        );
        if from.is_some() {
            sql.push_str(" AND state = $9 AND phase = $10");
        }
        let mut q = sqlx::query(&sql)
            .bind(update.state.code())
            .bind(update.phase)
            .bind(update.progress.to_string())
            .bind(update.result.to_string())
            .bind(update.message)
            .bind(&now)
            .bind(finished)
            .bind(id);
        if let Some((state, phase)) = from {
            q = q.bind(state.code()).bind(phase);
        }
        Ok(q.execute(&self.pool).await?.rows_affected() == 1)
    }

    /// Replaces a job's detail (e.g. the columns a person chose).
    pub async fn set_job_detail(&self, id: &str, detail: &Value) -> Result<()> {
        sqlx::query("UPDATE jobs SET detail = $1, updated_at = $2 WHERE id = $3")
            .bind(detail.to_string())
            .bind(self.now_text())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records progress of a job still running in `phase` (a late report never overwrites the
    /// job's end).
    pub async fn job_progress(&self, id: &str, phase: &str, progress: &Value) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET progress = $1, updated_at = $2 WHERE id = $3 AND state = 'running' \
             AND phase = $4",
        )
        .bind(progress.to_string())
        .bind(self.now_text())
        .bind(id)
        .bind(phase)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The job's file, decrypted: its name and bytes.
    pub async fn job_file(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT name, content FROM job_files WHERE job_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let content: String = row.try_get("content")?;
        Ok(Some((
            row.try_get("name")?,
            JOB_FILE.open(&self.cipher, id, &content)?,
        )))
    }

    pub async fn drop_job_file(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_files WHERE job_id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// At start-up: jobs that were running when the server stopped are failed with `message`
    /// (their work was in one transaction, so nothing of it was written). Returns how many.
    pub async fn interrupt_running_jobs(&self, message: &str) -> Result<u64> {
        let now = self.now_text();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'failed', message = $1, updated_at = $2, finished_at = $2 \
             WHERE state = 'running'",
        )
        .bind(message)
        .bind(&now)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM job_files WHERE job_id IN (SELECT id FROM jobs WHERE state = 'failed')",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Fails jobs of `kind` left waiting longer than `after` (an upload nobody went on with),
    /// deleting their files; returns their ids.
    pub async fn expire_waiting_jobs(
        &self,
        kind: &str,
        after: chrono::Duration,
        message: &str,
    ) -> Result<Vec<String>> {
        let now = self.now_text();
        let before =
            (self.clock.now() - after).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE kind = $1 AND state = 'waiting' AND updated_at < $2",
        )
        .bind(kind)
        .bind(&before)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            fail_waiting(&mut tx, id, message, &now).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Fails one job still waiting (left too long); false if it no longer waits.
    pub async fn expire_job(&self, id: &str, message: &str) -> Result<bool> {
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        let failed = fail_waiting(&mut tx, id, message, &now).await?;
        tx.commit().await?;
        Ok(failed)
    }

    /// Deletes an owner's finished jobs beyond the newest `keep`.
    pub async fn prune_jobs(&self, owner_id: &str, keep: i64) -> Result<()> {
        sqlx::query(
            "DELETE FROM jobs WHERE owner_id = $1 AND state IN ('done', 'failed') AND id NOT IN \
             (SELECT id FROM jobs WHERE owner_id = $1 AND state IN ('done', 'failed') \
              ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(owner_id)
        .bind(keep)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Fails a waiting job and deletes its file; false if it was not waiting.
async fn fail_waiting(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    message: &str,
    now: &str,
) -> Result<bool> {
    let failed = sqlx::query(
        "UPDATE jobs SET state = 'failed', message = $1, updated_at = $2, finished_at = $2 \
         WHERE id = $3 AND state = 'waiting'",
    )
    .bind(message)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if failed {
        sqlx::query("DELETE FROM job_files WHERE job_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(failed)
}
