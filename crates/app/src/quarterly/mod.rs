//! The 汇总表 of any area on any date, and the quarterly reports: freeze, submit with signers,
//! approve or return, aggregate upward only over approved reports. The rules are
//! `domain::quarterly` and `domain::summary_table`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{App, Error, Result};
use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::quarterly::{
    self, ItemRef, Quarter, ReportAction, ReportStatus, ReturnItem, Section, Signer,
    check_return_items, may_approve, may_prepare, reporting_level,
};
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::summary_table::{COLUMNS, Figures, parse_cells};
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::Subject;
use shouwang_store::quarterly::{Frozen, ReportEvent, RosterLine, SectionCheck, StoredReport};

mod dashboard;
mod oversight;
mod quarter_end;
mod report;
mod review;
mod signing;
mod summary;
mod work;

pub use dashboard::*;
pub use oversight::*;
pub use quarter_end::*;
pub use report::*;
pub use review::*;
pub use signing::*;
pub use summary::*;
pub(crate) use work::work;
