//! The registry's storage: one code path (sqlx's `Any` driver) for a SQLite
//! file and for PostgreSQL, chosen by the URL. The schema is created and
//! migrated when the store is opened (migrations embedded in the binary,
//! `registry/migrations/`).
//!
//! - `open.rs` — [`Store::open`]: checking the URL, connecting, migrating;
//! - `users.rs` — users and their token digests;
//! - `runtimes.rs` — register, ping, get, list, delete, each deciding
//!   ownership in the database (no read-then-write races between users).

mod open;
mod runtimes;
mod users;

pub use runtimes::{Access, Registered};
pub use users::UserSummary;

use sqlx::AnyPool;

/// The registry's database: a cheap `Clone` handle on a connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// The URL with any password masked, for messages.
    shown: String,
}

impl Store {
    /// The database URL, password masked.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not a URL this registry can use.
    #[error("database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL, password masked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the database {url}: {source}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database {url} to this version's schema: {source}")]
    Migrate {
        /// The URL, password masked.
        url: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("database error while {doing}: {source}")]
    Query {
        /// What the store was doing ("registering a runtime").
        doing: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// `user add` of a name that is taken.
    #[error("a user named {0:?} exists already")]
    UserExists(String),
    /// A user name nobody has.
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    /// A runtime id changed hands while being registered, again and again.
    #[error("runtime {0:?} changed while it was being registered; try again")]
    Contended(String),
    /// A row that this version cannot read (edited by hand?).
    #[error("the database holds a runtime this version cannot read: {0}")]
    BadRow(String),
}

/// `?` with what the store was doing.
trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
    }
}
