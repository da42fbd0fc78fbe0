//! Shouwang's use cases: for each capability, the operations the web and the command line call.
//! Each one checks the actor's permission, applies the domain's rule, has the store write in one
//! transaction and records the audit event — the front ends only parse and render, the store only
//! reads and writes.
//!
//! One module per capability; `docs/architecture.md` says where a new one goes. Use cases return
//! the store's error type, whose variants (validation, not found, conflict, forbidden) are what a
//! front end shows.

pub mod attendance;
pub mod audit;
pub mod children;
pub mod discoveries;
pub mod exports;
pub mod guardianship;
pub mod import;
pub mod jobs;
pub mod notify;
pub mod protection;
pub mod quarterly;
pub mod reconcile;
pub mod retention;
pub mod routings;
pub mod settings;
pub mod users;
pub mod visits;
