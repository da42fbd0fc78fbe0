//! Shouwang storage. One codebase for SQLite (default, one file) and PostgreSQL, through sqlx's
//! `Any` driver with portable SQL: `$n` placeholders (both accept them), TEXT/BIGINT columns,
//! app-generated UUIDv7 keys, division codes as 12-digit integers so every jurisdiction is an
//! integer range, and text compared byte-wise (PostgreSQL columns use `COLLATE "C"`).
//!
//! SQL only: no permission checks and no decisions — those are the use cases' (`shouwang-app`).
//! A list or read of children takes the actor's jurisdiction as a predicate (`scope`), so an
//! out-of-scope record is indistinguishable from a missing one.

pub mod attendance;
pub mod audit;
pub mod backup;
mod bulk;
pub mod children;
mod county_settings;
mod crypto;
mod db;
mod decode;
pub mod discovery;
pub mod elders;
pub mod export;
pub mod guardianship;
pub mod import;
pub mod jobs;
pub mod kept;
pub mod notify;
pub mod pace;
pub mod protection;
pub mod quarterly;
pub mod reconcile;
pub mod regions;
mod reseal;
pub mod retention;
pub mod rooms;
pub mod roster;
pub mod routings;
mod scope;
mod sealed;
pub mod second_factor;
mod settings;
pub mod stamp;
mod summary;
pub mod tx;
pub mod users;
pub mod visits;

use std::sync::Arc;

use shouwang_domain::clock::Clock;
use shouwang_domain::validation::ValidationErrors;

pub use bulk::PreparedChildren;
pub use crypto::{IdCipher, KeyFile, SealedKeys};
pub use db::{Backend, schema_fingerprint};
pub use stamp::{By, Who};
pub use tx::{Subject, Tx};

/// A store error. `Validation`, `NotFound`, `Conflict` and `Forbidden` carry what a user should
/// read; `Database` never reaches a client in detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Validation(#[from] ValidationErrors),
    #[error("记录不存在")]
    NotFound,
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    #[error("无权执行此操作")]
    Forbidden,
    #[error("{0}")]
    Config(String),
    /// A stored value that does not open with this store's keys, or opens to something its
    /// column cannot hold: a fault of the system, never of the person asking.
    #[error("存储的数据无法读取（{column}{}）：{why}", row_part(.row))]
    Damaged {
        column: String,
        row: String,
        why: String,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The row of a damaged value as its message says it, when it is known.
fn row_part(row: &str) -> String {
    if row.is_empty() {
        String::new()
    } else {
        format!("，行 {row}")
    }
}

/// The handle every front end uses.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: sqlx::AnyPool,
    pub(crate) backend: Backend,
    pub(crate) cipher: Arc<IdCipher>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database. A plain path means
    /// SQLite; `postgres://…` means PostgreSQL.
    pub async fn open(db: &str, cipher: IdCipher, clock: Arc<dyn Clock>) -> Result<Store> {
        let (pool, backend) = db::connect(db).await?;
        // A bulk load that stopped half-way left the child tables without their indexes: they
        // come back before any migration, which may expect them.
        if bulk::settings_exist(&pool, backend).await? {
            bulk::restore_indexes(&pool).await?;
        }
        db::migrate(&pool, backend).await?;
        summary::rederive_if_rules_changed(&pool, &cipher).await?;
        summary::remask_history(&pool).await?;
        summary::seal_history(&pool, &cipher).await?;
        discovery::seal_legacy(&pool, &cipher).await?;
        reseal::reseal(&pool, &cipher).await?;
        let store = Store {
            pool,
            backend,
            cipher: Arc::new(cipher),
            clock,
        };
        store.kept().ensure_kept_counts().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }
    pub(crate) fn now_text(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// New primary key (UUIDv7: time-ordered, generated here so both databases behave the same).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A secret for a session or API token: 256 random bits, URL-safe.
pub(crate) fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored of a session or API token (the token itself is not kept).
pub(crate) fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
