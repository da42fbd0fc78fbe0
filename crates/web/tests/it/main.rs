//! Integration tests through the public HTTP interface against a real database: SQLite by
//! default, PostgreSQL when `SHOUWANG_TEST_PG` holds a server URL (the test command runs both).

mod api_children;
mod api_errors;
mod attendance;
mod audit;
mod client;
mod contract;
mod discovery;
mod elders;
mod guardianship;
mod helpers;
mod jurisdiction;
mod lifecycle;
mod pages;
mod populations;
mod protection;
mod quarterly;
mod reconcile;
mod retention;
mod routings;
mod second_factor;
mod settings;
mod sweep;
mod transfer;
mod users;
mod visits;
mod work;
