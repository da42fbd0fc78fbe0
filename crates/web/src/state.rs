//! What every handler can reach: the store, the printer, the cookie policy and the features'
//! in-memory jobs.

use std::sync::Arc;

use shouwang_exchange::forms::FormPrinter;
use shouwang_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set the cookie's Secure flag (off only for plain HTTP on loopback, e.g. the demo).
    pub secure_cookies: bool,
    /// Spreadsheet imports in progress or waiting for a decision.
    pub import_jobs: Arc<crate::import::jobs::Jobs>,
    /// 三方比对 lists waiting for their columns or being compared.
    pub reconcile_jobs: Arc<crate::reconcile::jobs::Jobs>,
    /// Prints the PDF forms; `None` when the server runs without fonts (PDF routes then fail).
    pub printer: Option<Arc<dyn FormPrinter>>,
}
