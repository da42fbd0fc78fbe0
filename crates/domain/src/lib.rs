//! Shouwang's domain: the child file, divisions, ID numbers, eligibility, flags, roles — rules only,
//! no I/O. Storage, web, import/export depend on this crate, never the other way.

pub mod attendance;
pub mod audit;
pub mod authz;
pub mod child;
pub mod clock;
mod code_enum;
pub mod discovery;
pub mod elder;
pub mod eligibility;
pub mod fields;
pub mod guardianship;
pub mod history;
pub mod id_number;
pub mod ids;
pub mod input;
pub mod lifecycle;
pub mod person;
pub mod population;
pub mod protection;
pub mod quarterly;
pub mod region;
pub mod retention;
pub mod review;
pub mod routing;
pub mod safety_net;
pub mod sample;
pub mod settings;
pub mod signin;
pub mod summary_table;
pub mod text;
pub mod validation;
pub mod visits;
pub mod work;

pub use chrono::NaiveDate;
