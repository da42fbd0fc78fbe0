//! What an import job is, as its feature sees it: kind `import`, the phases `reading` and
//! `committing`, the detail (the file's name and the column choices) and the result (the counts).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use shouwang_app::import::ImportCounts;
use shouwang_app::import::{Plan, Progress};

pub(crate) const KIND: shouwang_app::jobs::Kind = shouwang_app::jobs::Kind {
    name: "import",
    // A plan nobody committed is dropped after a day (its file and memory go with it).
    waiting_for: chrono::Duration::hours(24),
    expired: "上传后24小时内没有确认导入，预览已删除；如需导入请重新上传",
};
pub(crate) const READING: &str = "reading";
pub(crate) const COMMITTING: &str = "committing";
/// The phase of a job whose plan waits for the person.
pub(crate) const READY: &str = "ready";

/// An import job as its pages and API show it.
#[derive(Clone)]
pub(crate) enum JobState {
    Reading(Progress),
    Ready(Arc<Plan>),
    Committing,
    Committed(ImportCounts),
    Failed(String),
}

/// What an import job keeps in the jobs table besides its file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Detail {
    pub(crate) source: String,
    #[serde(default)]
    pub(crate) choices: BTreeMap<String, String>,
    /// What the whole file states once (`字段=值`, as `shouwang import --fill`): a field every row
    /// that leaves it blank takes (`exchange::fill`).
    #[serde(default)]
    pub(crate) fills: Vec<String>,
}
