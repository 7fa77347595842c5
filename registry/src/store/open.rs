//! Opening a store from a URL: `sqlite://PATH` (the file is created) or
//! `postgres://` / `postgresql://` (the database must exist). One connection
//! is made first, so an unreachable server fails at once with its reason
//! (the pool would retry until its timeout and say only that), and the
//! migrations run on it.

use super::{Store, StoreError};
use msgflo_cli::settings::mask_passwords;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database
    /// at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = mask_passwords(url);
        let (backend, url) = backend(url).map_err(|reason| StoreError::BadUrl {
            url: shown.clone(),
            reason,
        })?;
        let options = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut first = options
            .connect()
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        if backend == Backend::Sqlite {
            // Readers never wait for the writer; kept in the file.
            first
                .execute("PRAGMA journal_mode = WAL")
                .await
                .map_err(|source| StoreError::Connect {
                    url: shown.clone(),
                    source,
                })?;
        }
        MIGRATOR
            .run_direct(&mut first)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown.clone(),
                source,
            })?;
        let _ = first.close().await;
        let pool = pool_options(backend).connect_lazy_with(options);
        tracing::debug!(url = %shown, "database open and migrated");
        Ok(Store { pool, shown })
    }
}

fn pool_options(backend: Backend) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    match backend {
        // One writer at a time anyway; WAL lets the readers through.
        Backend::Sqlite => options.max_connections(4).after_connect(|conn, _| {
            Box::pin(async move {
                // Safe with WAL: a crash loses at most the last commits, never the file.
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                // Per connection, off by default in SQLite (sqlx turns it on,
                // but removing a user relies on it: said here, not assumed).
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(8),
    }
}

/// The backend of `url`, and the URL to connect to (a SQLite URL gets
/// `mode=rwc`, create if missing, unless it names a mode).
fn backend(url: &str) -> Result<(Backend, String), String> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            if path.is_empty() || path.starts_with('?') {
                return Err("names no file (sqlite:///path/to/registry.sqlite)".into());
            }
            let url = if url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            Ok((Backend::Sqlite, url))
        }
        "postgres" | "postgresql" => Ok((Backend::Postgres, url.to_owned())),
        _ => Err("not a sqlite:// or postgres:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file_unless_a_mode_is_given() {
        assert_eq!(
            backend("sqlite:///var/lib/r.sqlite"),
            Ok((
                Backend::Sqlite,
                "sqlite:///var/lib/r.sqlite?mode=rwc".into()
            ))
        );
        assert_eq!(
            backend("sqlite:r.sqlite?cache=shared"),
            Ok((
                Backend::Sqlite,
                "sqlite:r.sqlite?cache=shared&mode=rwc".into()
            ))
        );
        assert_eq!(
            backend("sqlite:///r.sqlite?mode=ro"),
            Ok((Backend::Sqlite, "sqlite:///r.sqlite?mode=ro".into()))
        );
        assert!(backend("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls_pass_and_others_are_refused() {
        for url in ["postgres://u@h/db", "postgresql://h/db"] {
            assert_eq!(backend(url), Ok((Backend::Postgres, url.into())));
        }
        for url in ["mysql://h/db", "/tmp/r.sqlite", ""] {
            assert!(backend(url).is_err(), "{url}");
        }
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_passwords("postgres://reg:hunter2@db:5432/registry"),
            "postgres://reg:***@db:5432/registry"
        );
        assert_eq!(mask_passwords("sqlite:///r.sqlite"), "sqlite:///r.sqlite");
    }
}
