//! 保护个案's use cases: filing a mandatory report, the police inbox and receipt, the emergency
//! response, the town's notification, closing with approval, and the escalation of reports nobody
//! received. Who sees a case: the police of its town and county, the civil-affairs and village
//! users of its area, oversight of its area; the reporter sees what they filed and the feedback.
//! Who sees the reporter: `domain::protection::sees_reporter`, and every such view is audited.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::protection::Attachment;

use crate::{App, Error, Result};
use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::clock::{At, china_date};
use shouwang_domain::discovery::Discovery;
use shouwang_domain::ids::{AttachmentId, PlacementId, ReferralId, ReportId};
use shouwang_domain::protection::{
    self, CaseAction, CaseError, CaseStatus, PoliceRecord, ReportInput, ReportedChild, Severity,
    Situation, Step, StepOutcome,
};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::By;
use shouwang_store::protection::{CaseRow, NewCase, ReportBody, ReportFilter, ReportRow};
use shouwang_store::{Subject, Tx};

mod access;
mod assessment;
mod case;
mod evidence;
mod figures;
mod inbox;
mod intervention;
mod placement;
mod referral;
mod report;
mod steps;
mod unreported;
mod work;

use access::*;
pub use assessment::*;
pub use case::*;
pub use evidence::*;
pub use figures::*;
pub use inbox::*;
pub use intervention::*;
pub use placement::*;
pub use referral::*;
pub use report::*;
pub use steps::*;
pub use unreported::*;
pub(crate) use work::work;
