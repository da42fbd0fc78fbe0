//! 保护个案's storage: cases, the mandatory reports that open them, their timelines, the police
//! inboxes and the escalation of unreceived reports. SQL only: who may see and do what is
//! `shouwang_app::protection`, the rules `shouwang_domain::protection`.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::protection::{
    Assessment, CaseStatus, HelpKind, ReferralStatus, RiskLevel, Severity, Situation,
};
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::{By, Result, StoreError};

mod assessment;
mod case;
mod evidence;
mod figures;
mod intervention;
mod placement;
mod referral;
mod unreported;

pub use assessment::*;
pub use case::*;
pub use evidence::*;
pub use figures::*;
pub use intervention::*;
pub use placement::*;
pub use referral::*;
pub use unreported::*;
