//! TODO

use std::collections::HashMap;
use std::sync::Mutex;

use shouwang_domain::authz::Actor;
use shouwang_exchange::lists::{ListColumns, ListPreview};
use shouwang_linkage::discrepancy::ListKind;

use crate::error::AppError;

/// Jobs kept per server; the oldest finished ones go first.
pub(crate) const MAX_JOBS: usize = 100;
/// A list nobody started comparing is deleted after this long.
pub(crate) const UNSTARTED_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

pub(crate) fn already_started() -> AppError {
    AppError::Conflict {
        field: None,
        message: "这份名单已经开始比对".into(),
    }
}

#[derive(Clone)]
pub(crate) enum JobState {
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
    pub(crate) fn progress(&self) -> String {
        match self {
            JobState::Columns => String::new(),
            JobState::Reading(n) => format!("正在读取名单，已读 {n} 行……"),
            JobState::Comparing => "正在与花名册比对……".into(),
            JobState::Done(_) => "比对完成。".into(),
            JobState::Failed(m) => m.clone(),
        }
    }
}

pub(crate) struct Job {
    pub(crate) owner: String,
    pub(crate) kind: ListKind,
    pub(crate) source: String,
    /// The list until it has been read; deleted then.
    pub(crate) file: Option<(tempfile::TempDir, std::path::PathBuf)>,
    pub(crate) preview: ListPreview,
    /// The columns were set from choices saved for this header.
    pub(crate) saved: bool,
    pub(crate) state: JobState,
    pub(crate) uploaded: std::time::Instant,
}

/// The comparisons of this server waiting for their columns or running.
#[derive(Default)]
pub struct Jobs {
    pub(crate) jobs: Mutex<HashMap<String, Job>>,
}

/// What a page needs of a job.
#[derive(Clone)]
pub(crate) struct JobView {
    pub(crate) kind: ListKind,
    pub(crate) source: String,
    pub(crate) preview: ListPreview,
    pub(crate) saved: bool,
    pub(crate) state: JobState,
}

impl Jobs {
    pub(crate) fn insert(&self, id: &str, job: Job) {
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

    pub(crate) fn set(&self, id: &str, state: JobState) {
        if let Some(j) = self.jobs.lock().expect("jobs lock").get_mut(id) {
            // Once read, the list is not needed again.
            if !matches!(state, JobState::Columns | JobState::Reading(_)) {
                j.file = None;
            }
            j.state = state;
        }
    }

    /// Forgets lists left waiting for their columns (their files go with them).
    pub(crate) fn sweep(jobs: &mut HashMap<String, Job>) {
        jobs.retain(|_, j| {
            !(matches!(j.state, JobState::Columns) && j.uploaded.elapsed() > UNSTARTED_FOR)
        });
    }

    /// The job, if it is this user's.
    pub(crate) fn view(&self, id: &str, actor: &Actor) -> Result<JobView, AppError> {
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
    pub(crate) fn begin(
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
