//! 保护个案: a child in danger is reported (强制报告), reaches the police at once, gets the emergency
//! response its situation calls for, then the town's assessment and help, and the case closes with
//! the town's approval. The rules here are the seeds' (景洪 000 三(二)3 强制报告机制, 三(二)5 应急处置机制;
//! 内蒙古 001 四; 沈阳 002 一4, 一7–9; 龙里 003 五(一)(二); 武清 004 二(三)(五)–(七)) and the national ones
//! (`domain-research.md` §2.3 强制报告意见 Art. 4, 8; §2.4 未成年人保护法 Art. 11, 117).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Actor, Role};
use crate::code_enum;
use crate::person::{PersonName, Sex};
use crate::region::{Divisions, RegionCode, RegionLevel};
use crate::text;
use crate::validation::ValidationErrors;

mod assessment;
mod case;
mod emergency;
mod evidence;
mod intervention;
mod placement;
mod referral;
mod report;

pub use assessment::*;
pub use case::*;
pub use emergency::*;
pub use evidence::*;
pub use intervention::*;
pub use placement::*;
pub use referral::*;
pub use report::*;

#[cfg(test)]
mod tests;
