//! What every handler can reach: the store, the printer, the cookie policy and the features'
//! jobs.

use std::sync::Arc;

use shouwang_exchange::forms::FormPrinter;
use shouwang_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set the cookie's Secure flag (off only for plain HTTP on loopback, e.g. the demo).
    pub secure_cookies: bool,
    /// What the jobs of this server keep in memory beside the jobs table.
    pub jobs: Arc<shouwang_app::jobs::Jobs>,
    /// Prints the PDF forms; `None` when the server runs without fonts (PDF routes then fail).
    pub printer: Option<Arc<dyn FormPrinter>>,
}
