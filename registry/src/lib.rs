//! msgflo-registry: a runtime registry you can host yourself, speaking
//! Flowhub's registry HTTP API (npm `flowhub-registry` 0.2.0 is the
//! reference client): runtimes register under their user's token, ping to
//! say they are alive, and are listed with their state; a runtime not seen
//! for `offline_after` is listed offline, never dropped. Storage is a SQLite
//! file by default or PostgreSQL by URL; the schema is created and migrated
//! at start.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use msgflo_registry::{api, Store};
//! let store = Store::open("sqlite:///tmp/registry.sqlite").await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! api::serve(listener, store, api::Settings::default(), std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `api/` — [`api`]: the router, [`api::serve`], handlers, auth, bodies,
//!   errors (its `mod.rs` lists its files);
//! - `store/` — [`Store`]: opening and migrating (`open.rs`), users and
//!   tokens (`users.rs`), runtimes (`runtimes.rs`); SQL in
//!   `registry/migrations/`;
//! - `model.rs` — users, runtimes and how the API shows them;
//! - `expiry.rs` — online or offline, pure; `time.rs` — timestamps;
//! - `ids.rs` — checked runtime ids and user names; `token.rs` — tokens and
//!   their digests;
//! - `options.rs` — [`Options`], what `serve` is given, with its defaults;
//! - `bin/msgflo-registry.rs` — the program: `serve`,
//!   `user add|token|list|revoke|remove`.

pub mod api;
pub mod expiry;
pub mod ids;
pub mod model;
pub mod options;
pub mod store;
pub mod time;
pub mod token;

pub use options::Options;
pub use store::{Store, StoreError};
