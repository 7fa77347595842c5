//! The runtime registry server (`msgflo-registry`) as the tests run it:
//! its storage ([`Storage`]: a SQLite file in a temporary folder, or a
//! PostgreSQL database of the test's own), the server process
//! ([`Registry`]), its users ([`add_user`]), plain HTTP requests
//! ([`Http`]) and npm `flowhub-registry` 0.2.0 driven from node
//! ([`Flowhub`], `tests/registry/flowhub-client.js`).

use crate::bins::binary;
use crate::postgres::Database;
use crate::process::{run_to_end, spawn_ready, Spawned};
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(20);

/// Where a registry keeps its data; removed when dropped.
pub struct Storage {
    url: String,
    _sqlite: Option<tempfile::TempDir>,
    _postgres: Option<Database>,
}

impl Storage {
    /// A SQLite file in a folder of its own (the file not made yet).
    pub fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("registry.sqlite").display());
        Ok(Self {
            url,
            _sqlite: Some(dir),
            _postgres: None,
        })
    }

    /// An empty PostgreSQL database of its own.
    pub async fn postgres() -> Result<Self> {
        let db = Database::create("msgflo_registry_test").await?;
        Ok(Self {
            url: db.url().to_owned(),
            _sqlite: None,
            _postgres: Some(db),
        })
    }

    /// The database URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// `msgflo-registry ARGS --database URL` run to its end: (exit code, stdout, stderr).
pub async fn command(database: &str, args: &[&str]) -> Result<(Option<i32>, String, String)> {
    let mut command = Command::new(binary("msgflo-registry")?);
    command.args(args).args(["--database", database]);
    run_to_end(command, WAIT).await
}

/// A user and the token `user add` printed.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user id.
    pub id: String,
    /// A token of theirs.
    pub token: String,
}

/// `msgflo-registry user add NAME`: its `user ID` and `token TOKEN` lines.
pub async fn add_user(database: &str, name: &str) -> Result<Account> {
    let (code, stdout, stderr) = command(database, &["user", "add", name]).await?;
    ensure!(code == Some(0), "user add {name}: exit {code:?}: {stderr}");
    let line = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::to_owned)
            .with_context(|| format!("user add printed no {key:?} line: {stdout}"))
    };
    Ok(Account {
        id: line("user ")?,
        token: line("token ")?,
    })
}

/// A running `msgflo-registry serve` on a free port.
pub struct Registry {
    process: Spawned,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Registry {
    /// Serves `database` with `args` added (`--offline-after 1`).
    pub async fn start(database: &str, args: &[&str]) -> Result<Self> {
        let mut command = Command::new(binary("msgflo-registry")?);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .args(args);
        let (process, ready) = spawn_ready(command, WAIT).await?;
        let url = ready
            .strip_prefix("msgflo-registry listening on ")
            .with_context(|| format!("not the ready line: {ready:?}"))?
            .to_owned();
        Ok(Self { process, url })
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.process.id()
    }

    /// SIGTERM: it must exit with 0 and nothing on stderr.
    pub async fn stop(self) -> Result<()> {
        let (code, stderr) = self.process.terminate(WAIT).await?;
        ensure!(
            code == Some(0) && stderr.trim().is_empty(),
            "after SIGTERM: exit {code:?}, stderr {stderr:?}"
        );
        Ok(())
    }
}

/// An answer: its status, body text and the body as JSON (`Null` if not).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as sent.
    pub text: String,
    /// The body as JSON.
    pub json: Value,
}

/// Plain HTTP requests to a registry.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// A client of the registry at `base`.
    pub fn new(base: &str) -> Result<Self> {
        // reqwest uses the process's rustls provider; the tests' is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(WAIT)
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// `method path` with `token` (as a bearer token) and `body` (sent as is,
    /// without a content type).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, text, json })
    }

    /// `PUT /runtimes/{id}` of `body` with `token`.
    pub async fn put(&self, id: &str, token: Option<&str>, body: &Value) -> Result<Answer> {
        let body = serde_json::to_vec(body)?;
        self.send("PUT", &format!("/runtimes/{id}"), token, Some(body))
            .await
    }

    /// `GET /runtimes/` with `token`: the list (an error unless 200).
    pub async fn list(&self, token: &str) -> Result<Vec<Value>> {
        let answer = self.send("GET", "/runtimes/", Some(token), None).await?;
        match (answer.status, answer.json) {
            (200, Value::Array(list)) => Ok(list),
            (status, _) => bail!("GET /runtimes/: {status} {}", answer.text),
        }
    }
}

/// npm `flowhub-registry` 0.2.0, installed at test time.
pub struct Flowhub {
    modules: PathBuf,
}

impl Flowhub {
    /// Installs it (once per machine, into `.cache/npm`).
    pub fn install() -> Result<Self> {
        let dir = crate::npm::install("flowhub-registry", "0.2.0")?;
        Ok(Self {
            modules: dir.join("node_modules"),
        })
    }

    /// Runs `op` (register, ping, get, list, del) of `runtime` against the
    /// registry at `host` with `token`; `{"ok": ...}` or `{"error": ..., "status": ...}`.
    pub async fn run(
        &self,
        host: &str,
        op: &str,
        token: Option<&str>,
        runtime: &Value,
    ) -> Result<Value> {
        let script = crate::workspace_root().join("tests/registry/flowhub-client.js");
        let mut node = Command::new("node");
        node.arg(script)
            .args([host, op, token.unwrap_or("-"), &runtime.to_string()])
            .env("NODE_PATH", &self.modules);
        let (code, stdout, stderr) = run_to_end(node, WAIT).await?;
        ensure!(code == Some(0), "node {op}: exit {code:?}: {stderr}");
        serde_json::from_str(stdout.trim())
            .with_context(|| format!("node {op} printed {stdout:?}; stderr {stderr:?}"))
    }
}
