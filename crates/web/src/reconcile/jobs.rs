//! What a comparison job is, as its feature sees it: kind `reconcile`; waiting in the phase
//! `columns` while the person checks what each column holds, then running (`reading`,
//! `comparing`); the detail (the list's kind and name, the column choices) and the result (the
//! run's id).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use shouwang_exchange::lists::ListPreview;
use shouwang_linkage::discrepancy::ListKind;

use crate::error::AppError;

pub(crate) const KIND: shouwang_app::jobs::Kind = shouwang_app::jobs::Kind {
    name: "reconcile",
    // A list nobody started comparing is deleted after an hour.
    waiting_for: chrono::Duration::hours(1),
    expired: "上传后一小时内没有开始比对，名单已删除，请重新上传",
};
pub(crate) const COLUMNS: &str = "columns";
pub(crate) const READING: &str = "reading";
pub(crate) const COMPARING: &str = "comparing";

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

/// What a comparison job keeps in the jobs table besides its file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Detail {
    pub(crate) list_kind: String,
    pub(crate) source: String,
    /// The columns were set from choices saved for this header.
    pub(crate) saved: bool,
    /// Column letter → field, as confirmed (or saved for the header).
    pub(crate) choices: BTreeMap<String, String>,
}

/// What a page needs of a job.
#[derive(Clone)]
pub(crate) struct JobView {
    pub(crate) kind: ListKind,
    pub(crate) source: String,
    /// The header and first rows, while the columns are being checked (empty afterwards: the
    /// list is deleted once read).
    pub(crate) preview: Option<ListPreview>,
    pub(crate) saved: bool,
    pub(crate) state: JobState,
}
