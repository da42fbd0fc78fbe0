//! The use cases' error: what a front end shows (a refusal a person can read) or logs (an
//! internal fault). The store's errors become these at the wall; a front end never sees the
//! store's type.

use shouwang_domain::validation::ValidationErrors;
use shouwang_store::StoreError;

/// A use case's refusal or fault. `Validation`, `NotFound`, `Conflict` and `Forbidden` carry what
/// a user should read; `Internal` never reaches a client in detail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(#[from] ValidationErrors),
    /// Missing, or outside the actor's jurisdiction (the two look the same).
    #[error("记录不存在")]
    NotFound,
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    #[error("无权执行此操作")]
    Forbidden,
    /// A fault of the system (database, key, corrupt record): logged, not shown.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A conflict about one field (or none), with the message a person reads.
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Error {
        Error::Conflict {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Validation(v) => Error::Validation(v),
            StoreError::NotFound => Error::NotFound,
            StoreError::Forbidden => Error::Forbidden,
            StoreError::Conflict { field, message } => Error::Conflict { field, message },
            StoreError::Config(m) => Error::Internal(m),
            e @ StoreError::Damaged { .. } => Error::Internal(e.to_string()),
            StoreError::Database(e) => Error::Internal(format!("database error: {e}")),
        }
    }
}
