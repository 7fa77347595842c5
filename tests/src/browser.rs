//! A browser driver: a Node script under `tests/browser/` on playwright-core
//! (from npm, installed at test time into `.cache/npm/`) driving headless
//! Chromium, one JSON command per line on its stdin and one JSON answer
//! per line on its stdout (`{"ok": ...}` or `{"error": "..."}`), after a
//! first ready line. Used by [`crate::noflo_ui`] (Flowhub's editor) and
//! the live web view's test (`tests/live_view.rs`).
//!
//! The browser: `MSGFLO_TEST_CHROMIUM`, else `/usr/bin/chromium`
//! (`scripts/test` installs Debian's). Screenshots go to
//! `target/<folder>/<test>/`. Browser tests of one test binary take turns:
//! two Chromiums on a small machine make both slow.

use crate::npm;
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The playwright-core the drivers run on.
const PLAYWRIGHT: (&str, &str) = ("playwright-core", "1.65.2");

/// How long one driver command may take (opening a page waits up to 20 s).
pub const COMMAND: Duration = Duration::from_secs(60);

/// The browser: `MSGFLO_TEST_CHROMIUM`, else Debian's chromium.
pub fn chromium() -> PathBuf {
    std::env::var_os("MSGFLO_TEST_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// One running driver script.
pub struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    shots: PathBuf,
    taken: usize,
    what: String,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Driver {
    /// Starts `tests/browser/<script>` for the test `name`, with `env`
    /// beside `CHROMIUM`, `SHOTS` and `NODE_PATH`; returns it and its ready
    /// line. Screenshots go to `target/<folder>/<name>/`.
    pub async fn start(
        script: &str,
        folder: &str,
        name: &str,
        env: &[(&str, OsString)],
    ) -> Result<(Self, Value)> {
        static TURN: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
            std::sync::OnceLock::new();
        let turn = TURN
            .get_or_init(Default::default)
            .clone()
            .lock_owned()
            .await;
        let browser = chromium();
        ensure!(
            browser.exists(),
            "no Chromium at {} (scripts/test installs Debian's chromium; or set MSGFLO_TEST_CHROMIUM)",
            browser.display()
        );
        let playwright = npm::install(PLAYWRIGHT.0, PLAYWRIGHT.1)?;
        let shots = crate::workspace_root()
            .join("target")
            .join(folder)
            .join(name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots)
            .with_context(|| format!("cannot create {}", shots.display()))?;
        let path = crate::workspace_root().join("tests/browser").join(script);
        let mut command = Command::new("node");
        command
            .arg(&path)
            .env("CHROMIUM", &browser)
            .env("SHOTS", &shots)
            .env("NODE_PATH", playwright.join("node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start node ({})", path.display()))?;
        let stdin = child.stdin.take().context("stdin is piped")?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout is piped")?).lines();
        let ready = tokio::time::timeout(COMMAND, stdout.next_line())
            .await
            .with_context(|| format!("the driver {script} did not start within {COMMAND:?}"))??
            .with_context(|| format!("the driver {script} exited before its ready line"))?;
        let ready: Value = serde_json::from_str(&ready)
            .with_context(|| format!("the driver's ready line: {ready}"))?;
        let driver = Self {
            child,
            stdin,
            stdout,
            shots,
            taken: 0,
            what: script.trim_end_matches(".js").to_owned(),
            _turn: turn,
        };
        Ok((driver, ready))
    }

    /// Sends one command; its answer, or the driver's error as ours.
    pub async fn call(&mut self, command: Value) -> Result<Value> {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        let answer = tokio::time::timeout(COMMAND, self.stdout.next_line())
            .await
            .with_context(|| format!("no answer to {command} within {COMMAND:?}"))??
            .with_context(|| format!("the {} driver exited", self.what))?;
        let mut answer: Value = serde_json::from_str(&answer)?;
        if let Some(error) = answer.get("error") {
            bail!("{}: {}", self.what, error.as_str().unwrap_or_default());
        }
        Ok(answer["ok"].take())
    }

    /// Asks `view` until `done` holds for its answer, at most `wait`.
    pub async fn until(
        &mut self,
        what: &str,
        wait: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let view = self.call(json!({"cmd": "view"})).await?;
            if done(&view) {
                return Ok(view);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{what} within {wait:?}; the page shows {view}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot as `NN-name.png` in this test's folder.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        self.taken += 1;
        let name = format!("{:02}-{name}", self.taken);
        let path = self
            .call(json!({"cmd": "screenshot", "name": name}))
            .await?;
        Ok(PathBuf::from(path.as_str().unwrap_or_default()))
    }

    /// Where this test's screenshots are.
    pub fn shots(&self) -> &Path {
        &self.shots
    }

    /// Closes the browser.
    pub async fn close(mut self) -> Result<()> {
        let _ = self.call(json!({"cmd": "close"})).await;
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        Ok(())
    }
}
