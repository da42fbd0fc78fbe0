//! TODO

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use shouwang_app::import::{Plan, Progress};
use shouwang_domain::authz::Actor;
use shouwang_store::import::ImportCounts;

use crate::error::AppError;

/// Jobs kept per server; the oldest finished ones go first.
const MAX_JOBS: usize = 200;

// ---- Jobs ---------------------------------------------------------------------------------------

#[derive(Clone)]
pub(crate) enum JobState {
    Reading(Progress),
    Ready(Arc<Plan>),
    Committing,
    Committed(ImportCounts),
    Failed(String),
}

pub(crate) struct Job {
    pub(crate) owner: String,
    pub(crate) source: String,
    pub(crate) file: tempfile::NamedTempFile,
    pub(crate) choices: BTreeMap<String, String>,
    pub(crate) state: JobState,
    pub(crate) started: u64,
}

/// The import jobs of this server.
#[derive(Default)]
pub struct Jobs {
    pub(crate) jobs: Mutex<HashMap<String, Job>>,
    pub(crate) counter: std::sync::atomic::AtomicU64,
}

impl Jobs {
    pub(crate) fn insert(&self, id: &str, job: Job) {
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

    pub(crate) fn set(&self, id: &str, state: JobState) {
        if let Some(j) = self.jobs.lock().expect("jobs lock").get_mut(id) {
            j.state = state;
        }
    }

    /// The job's state, if it is this user's.
    pub(crate) fn view(&self, id: &str, actor: &Actor) -> Result<(JobState, String), AppError> {
        let jobs = self.jobs.lock().expect("jobs lock");
        match jobs.get(id) {
            Some(j) if j.owner == actor.user_id => Ok((j.state.clone(), j.source.clone())),
            _ => Err(AppError::NotFound),
        }
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}
