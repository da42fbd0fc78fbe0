//! What every handler can reach: the use cases ([`App`]: the store behind them, the clock, the
//! policies), the printer, the cookie policy and the web's own bookkeeping of jobs, exports and
//! uploads. There is no store here: `web` does not depend on it.

use std::sync::Arc;

use shouwang_app::App;
use shouwang_exchange::forms::FormPrinter;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Set the cookie's Secure flag (off only for plain HTTP on loopback, e.g. the demo).
    pub secure_cookies: bool,
    /// What the jobs of this server keep in memory beside the jobs table.
    pub jobs: Arc<shouwang_app::jobs::Jobs>,
    /// Prints the PDF forms; `None` when the server runs without fonts (PDF routes then fail).
    pub printer: Option<Arc<dyn FormPrinter>>,
    /// Who is having a large file built right now (one at a time each).
    pub exports: Arc<Exporting>,
    /// Who is sending an upload right now, and the uploads held in memory.
    pub uploads: Arc<Uploading>,
}

/// The users whose export is being built.
#[derive(Default)]
pub struct Exporting {
    users: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Held while a user's export is built; the user may start another once it is dropped.
pub struct ExportTurn<'a> {
    of: &'a Exporting,
    user: String,
}

impl Exporting {
    /// The user's turn, unless an export of theirs is being built.
    pub fn begin(&self, user: &str) -> Option<ExportTurn<'_>> {
        let mut users = self.users.lock().expect("export set");
        users.insert(user.to_owned()).then(|| ExportTurn {
            of: self,
            user: user.to_owned(),
        })
    }
}

impl Drop for ExportTurn<'_> {
    fn drop(&mut self) {
        self.of.users.lock().expect("export set").remove(&self.user);
    }
}

/// Uploads held in memory at once by the whole server (each at most the route's limit, 64 MB).
pub const HELD_AT_ONCE: usize = 2;

/// The users sending an upload right now, and how many each (`uploads`).
pub struct Uploading {
    users: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    held: Arc<tokio::sync::Semaphore>,
}

impl Uploading {
    pub fn new() -> Self {
        Uploading {
            users: Default::default(),
            held: Arc::new(tokio::sync::Semaphore::new(HELD_AT_ONCE)),
        }
    }

    /// Turns to hold an upload in memory.
    pub(crate) fn held(&self) -> Arc<tokio::sync::Semaphore> {
        self.held.clone()
    }

    /// A turn for `user` unless they already send `room` uploads.
    pub(crate) fn begin(self: &Arc<Self>, user: &str, room: i64) -> Option<SendingTurn> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let sending = users.entry(user.to_owned()).or_default();
        if *sending >= room {
            return None;
        }
        *sending += 1;
        Some(SendingTurn {
            of: self.clone(),
            user: user.to_owned(),
        })
    }
}

/// Held while a user's upload is received and handled.
pub struct SendingTurn {
    of: Arc<Uploading>,
    user: String,
}

impl Drop for SendingTurn {
    fn drop(&mut self) {
        let mut users = self.of.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = users.get_mut(&self.user) {
            *n -= 1;
            if *n <= 0 {
                users.remove(&self.user);
            }
        }
    }
}
