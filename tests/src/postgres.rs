//! A PostgreSQL database of a test's own: created under a unique name on
//! the server of `MSGFLO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, trust authentication,
//! which `scripts/test` makes sure of) and dropped when the handle is
//! dropped, even if the test failed (`DROP DATABASE ... WITH (FORCE)`:
//! sessions still open are ended).

use anyhow::{Context, Result};
use sqlx::{Connection, Executor, PgConnection};

/// The server the tests use, as the URL of its `postgres` database.
pub fn server_url() -> String {
    std::env::var("MSGFLO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database made for one test.
pub struct Database {
    name: String,
    url: String,
}

impl Database {
    /// Creates a database named `<prefix>_<uuid>`.
    pub async fn create(prefix: &str) -> Result<Self> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let server = server_url();
        let mut admin = PgConnection::connect(&server)
            .await
            .with_context(|| format!("cannot reach PostgreSQL at {server}"))?;
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server).context("MSGFLO_TEST_POSTGRES_URL")?;
        url.set_path(&name);
        Ok(Self {
            name,
            url: url.to_string(),
        })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: drop the database from a
        // thread with a runtime of its own, and wait for it.
        let dropped = std::thread::spawn(move || -> Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server_url()).await?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await?;
                let _ = admin.close().await;
                Ok(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("cannot drop test database {}: {e:#}", self.name);
        }
    }
}
