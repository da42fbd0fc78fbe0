//! The cases' pages: filing a report from a phone, the inbox, the case with its actions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use shouwang_app::protection::{self as cases, CaseView, InboxStatus, ReportSummary};
use shouwang_domain::authz::Role;
use shouwang_domain::protection::{
    CaseStatus, NewChildInput, PoliceRecord, ReportInput, Severity, Situation, Step, StepOutcome,
};
use shouwang_domain::region::RegionLevel;
use shouwang_domain::validation::ValidationErrors;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::ui::form_field as field;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render};

mod assessment;
mod case;
mod evidence;
mod figures;
mod inbox;
mod intervention;
mod placement;
mod referral;
mod report;
mod unreported;

pub use assessment::*;
pub use case::*;
pub use evidence::*;
pub use figures::*;
pub use inbox::*;
pub use intervention::*;
pub use placement::*;
pub use referral::*;
pub use report::*;
pub use unreported::*;
