//! Shouwang's use cases: for each capability, the operations the web and the command line call.
//! Each one checks the actor's permission, applies the domain's rule, has the store write in one
//! transaction and records the audit event — the front ends only parse and render, the store only
//! reads and writes.
//!
//! Capabilities move here one by one from the `Store` methods that did all four at once; see
//! `docs/architecture.md` for which are here and where a new one goes.

pub mod children;
pub mod discoveries;
pub mod import;
pub mod reconcile;
