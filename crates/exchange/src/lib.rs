//! Spreadsheets in and out: the rosters counties already keep in Excel, WPS or CSV, read as they
//! really are (`sheet`, `columns`, `values`, `places`, `import`), and the official Excel outputs.
//! PDF forms are printed by `shouwang-print`, kept apart so its large typesetting engine stays out
//! of this crate's and the web crate's builds.

pub mod attendance;
pub mod columns;
pub mod elders;
pub mod fill;
pub mod forms;
pub mod lists;
pub mod outputs;
pub mod places;
pub mod read;
pub mod roster_file;
pub mod sheet;
pub mod values;
pub mod xlsx;
