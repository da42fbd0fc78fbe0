//! Shouwang's use cases: for each capability, the operations the web and the command line call.
//! Each one checks the actor's permission, applies the domain's rule, has the store write in one
//! transaction and records the audit event — the front ends only parse and render, the store only
//! reads and writes.
//!
//! One module per capability; `docs/architecture.md` says where a new one goes. Every use case
//! takes the [`App`] — the store (with the injected clock) and the deployment's policies — and
//! returns this crate's
//! [`Error`], whose variants (validation, not found, conflict, forbidden) are what a front end
//! shows. A front end reaches data only through here: `web` does not depend on the store.

pub mod attendance;
pub mod audit;
pub mod children;
pub mod discoveries;
pub mod elders;
mod error;
pub mod exports;
pub mod guardianship;
pub mod import;
pub mod jobs;
pub mod notify;
pub mod places;
pub mod protection;
pub mod quarterly;
pub mod reconcile;
pub mod retention;
pub mod routings;
pub mod session;
pub mod settings;
pub mod users;
pub mod visits;
pub mod work;

use std::sync::Arc;

use shouwang_domain::authz::SecondFactorPolicy;
use shouwang_domain::clock::Clock;
use shouwang_store::Store;

pub use error::{Error, Result};
pub use shouwang_store::{Backend, IdCipher, KeyFile};

/// The server's policies: the decisions a deployment makes, which the use cases apply.
#[derive(Clone, Debug)]
pub struct Policies {
    /// The roles that must sign in with a second factor.
    pub second_factor: SecondFactorPolicy,
    /// How long a mandatory report may stay unreceived before it goes up to the county.
    pub escalation: chrono::Duration,
    /// When each level's quarterly report is due.
    pub report_deadlines: shouwang_domain::quarterly::Deadlines,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            second_factor: SecondFactorPolicy::none(),
            escalation: shouwang_domain::protection::DEFAULT_ESCALATION,
            report_deadlines: shouwang_domain::quarterly::Deadlines::default(),
        }
    }
}

/// What every use case works with: the store (private to this crate; it holds the injected clock)
/// and the deployment's policies.
/// Cheap to clone; a front end keeps one and passes it to every call.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Store,
    pub(crate) policies: Arc<Policies>,
}

impl App {
    /// The use cases over an opened store, with the default policies.
    pub fn new(store: Store) -> App {
        App {
            store,
            policies: Arc::new(Policies::default()),
        }
    }

    /// Opens (creating a SQLite file if needed) and migrates the database: a plain path means
    /// SQLite, `postgres://…` PostgreSQL.
    pub async fn open(db: &str, cipher: IdCipher, clock: Arc<dyn Clock>) -> Result<App> {
        Ok(App::new(Store::open(db, cipher, clock).await?))
    }

    pub fn with_policies(mut self, policies: Policies) -> App {
        self.policies = Arc::new(policies);
        self
    }

    /// Requires a second factor of these roles at sign-in (none unless set).
    pub fn with_second_factor(self, policy: SecondFactorPolicy) -> App {
        let mut p = (*self.policies).clone();
        p.second_factor = policy;
        self.with_policies(p)
    }

    pub fn policies(&self) -> &Policies {
        &self.policies
    }
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
    pub fn clock(&self) -> &dyn Clock {
        self.store.clock()
    }
    /// Today in China (the injected clock).
    pub fn today(&self) -> chrono::NaiveDate {
        self.store.today()
    }
    pub async fn close(&self) {
        self.store.close().await;
    }
}
