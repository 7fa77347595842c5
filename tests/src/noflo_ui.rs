//! noflo-ui, Flowhub's editor, in headless Chromium, as a test's user: the
//! driver `tests/browser/noflo-ui.js` (playwright-core from npm, installed
//! at test time into `.cache/npm/`) serves the prebuilt editor and answers
//! commands — open a link, what the page shows, click stop/play, read the
//! packet panel, delete or draw an edge, add a node, take a screenshot.
//!
//! Where things come from: the editor from `MSGFLO_TEST_NOFLO_UI`, else
//! `../shared/peers/noflo-ui-0.29.1` beside the workspace (tests/build.rs
//! marks the browser tests ignored, with that reason, when neither is
//! there); the browser and the driver's plumbing from [`crate::browser`].
//! Screenshots go to `target/noflo-ui/<test>/`.

use crate::browser::{Driver, COMMAND};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The prebuilt noflo-ui: `MSGFLO_TEST_NOFLO_UI`, else the shared peer.
pub fn editor_dir() -> PathBuf {
    match std::env::var_os("MSGFLO_TEST_NOFLO_UI") {
        Some(dir) => PathBuf::from(dir),
        None => crate::workspace_root().join("../shared/peers/noflo-ui-0.29.1"),
    }
}

/// One test's browser, one page at a time.
pub struct Editor {
    driver: Driver,
    /// The address the editor is served at (`http://127.0.0.1:PORT/`).
    pub ide: String,
}

/// What a page shows (the driver's `view`).
pub type View = Value;

impl Editor {
    /// Starts the driver for the test `name`.
    pub async fn start(name: &str) -> Result<Self> {
        let dir = editor_dir();
        ensure!(
            dir.join("index.html").exists(),
            "no noflo-ui build at {}: set MSGFLO_TEST_NOFLO_UI to one",
            dir.display()
        );
        let env = [("NOFLO_UI", std::fs::canonicalize(&dir)?.into_os_string())];
        let (driver, ready) = Driver::start("noflo-ui.js", "noflo-ui", name, &env).await?;
        let ide = ready["ide"]
            .as_str()
            .context("the driver's ready line has no ide")?
            .to_owned();
        Ok(Self { driver, ide })
    }

    /// Sends one command; its answer, or the driver's error as ours.
    pub async fn call(&mut self, command: Value) -> Result<Value> {
        self.driver.call(command).await
    }

    /// Opens `url` in a fresh page and waits until the graph shows every
    /// node of `nodes` (or an error banner); returns the time that took
    /// and what the page shows.
    pub async fn open(&mut self, url: &str, nodes: &[&str]) -> Result<(Duration, View)> {
        let opened = self
            .call(json!({"cmd": "open", "url": url, "nodes": nodes}))
            .await?;
        let ms = opened["ms"].as_u64().unwrap_or_default();
        Ok((Duration::from_millis(ms), opened["view"].clone()))
    }

    /// Opens node `node` of the graph shown as a subgraph (the node's
    /// "open") and waits until the page shows every node of `nodes` (or an
    /// error banner); returns the time that took and what the page shows.
    pub async fn drill(&mut self, node: &str, nodes: &[&str]) -> Result<(Duration, View)> {
        let opened = self
            .call(json!({"cmd": "drill", "node": node, "nodes": nodes}))
            .await?;
        let ms = opened["ms"].as_u64().unwrap_or_default();
        Ok((Duration::from_millis(ms), opened["view"].clone()))
    }

    /// What the page shows now.
    pub async fn view(&mut self) -> Result<View> {
        self.call(json!({"cmd": "view"})).await
    }

    /// Waits up to `wait` until `done` holds for what the page shows.
    pub async fn until(
        &mut self,
        what: &str,
        wait: Duration,
        done: impl Fn(&View) -> bool,
    ) -> Result<View> {
        self.driver.until(what, wait, done).await
    }

    /// Saves a screenshot as `NN-name.png` in this test's folder.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        self.driver.screenshot(name).await
    }

    /// Clicks the runtime's Stop or Start button; returns the page after
    /// its label changed.
    pub async fn run_control(&mut self, button: &str) -> Result<View> {
        self.call(json!({"cmd": "runControl", "button": button}))
            .await
    }

    /// The packet panel's rows: `(src node, src port, tgt node, tgt port,
    /// data)` for edges, `(.., tgt node, tgt port, data)` with empty source
    /// for IIPs.
    pub async fn packets(&mut self) -> Result<Vec<Packet>> {
        let rows = self.call(json!({"cmd": "packets"})).await?;
        let rows = rows.as_array().cloned().unwrap_or_default();
        Ok(rows.iter().map(Packet::from_row).collect())
    }

    /// Deletes the edge from its context menu.
    pub async fn remove_edge(&mut self, from: (&str, &str), to: (&str, &str)) -> Result<View> {
        self.call(json!({"cmd": "removeEdge", "from": [from.0, from.1], "to": [to.0, to.1]}))
            .await
    }

    /// Draws an edge: a tap on the outport, then on the inport.
    pub async fn connect(&mut self, from: (&str, &str), to: (&str, &str)) -> Result<View> {
        self.call(json!({"cmd": "connect", "from": [from.0, from.1], "to": [to.0, to.1]}))
            .await
    }

    /// Adds a node of the component titled `pick` from the component
    /// search for `search`; returns its id.
    pub async fn add_node(&mut self, search: &str, pick: &str) -> Result<String> {
        let added = self
            .call(json!({"cmd": "addNode", "search": search, "pick": pick}))
            .await?;
        Ok(added["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Clicks the editor's Autolayout button (after adding a node, which
    /// noflo-ui places at the top left of the view, over others).
    pub async fn autolayout(&mut self) -> Result<View> {
        self.call(json!({"cmd": "autolayout"})).await
    }

    /// The FBP frames the page sent and received so far, and its console
    /// errors.
    pub async fn exchange(&mut self) -> Result<Exchange> {
        let exchange = self.call(json!({"cmd": "exchange"})).await?;
        let list = |key: &str| exchange[key].as_array().cloned().unwrap_or_default();
        Ok(Exchange {
            sent: list("sent"),
            received: list("received"),
            console_errors: list("consoleErrors")
                .iter()
                .map(|e| e.as_str().unwrap_or_default().to_owned())
                .collect(),
        })
    }

    /// Where this test's screenshots are.
    pub fn shots(&self) -> &Path {
        self.driver.shots()
    }

    /// Closes the browser.
    pub async fn close(self) -> Result<()> {
        self.driver.close().await
    }
}

/// One row of the packet panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// `[src node, src port, tgt node, tgt port]` of an edge, or
    /// `[tgt node, tgt port]` of an IIP; ports as the editor spells them.
    pub edge: Vec<String>,
    /// The data as shown.
    pub data: String,
}

impl Packet {
    fn from_row(row: &Value) -> Self {
        let texts = |key: &str| -> Vec<String> {
            row[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (nodes, ports) = (texts("nodes"), texts("ports"));
        let edge = match (nodes.as_slice(), ports.as_slice()) {
            ([a, b], [p, q]) => vec![a.clone(), p.clone(), b.clone(), q.clone()],
            ([b], [q]) => vec![b.clone(), q.clone()],
            _ => Vec::new(),
        };
        Self {
            edge,
            data: row["data"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// Whether this row is `data` on the edge `src.port -> tgt.port`.
    pub fn is(&self, src: (&str, &str), tgt: (&str, &str), data: &str) -> bool {
        let edge = [src.0, src.1, tgt.0, tgt.1];
        self.data == data
            && self.edge.len() == 4
            && self
                .edge
                .iter()
                .zip(edge)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// The FBP protocol as the page spoke it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// What the editor sent, in order.
    pub sent: Vec<Value>,
    /// What it received, in order.
    pub received: Vec<Value>,
    /// Console errors (and failed requests) of the page.
    pub console_errors: Vec<String>,
}

impl Exchange {
    /// The editor's requests: `protocol:command` in order.
    pub fn requests(&self) -> Vec<String> {
        self.sent.iter().map(name).collect()
    }

    /// The error answers it got (`*:error`).
    pub fn errors(&self) -> Vec<&Value> {
        self.received
            .iter()
            .filter(|m| m["command"] == "error")
            .collect()
    }

    /// Console errors other than the ones every offline noflo-ui 0.29.1
    /// prints whatever its runtime: its analytics script cannot load, and
    /// the-graph's deprecation notices (`DEPRECATED: ...`).
    pub fn unexpected_console_errors(&self) -> Vec<&String> {
        self.console_errors_but(&[])
    }

    /// [`unexpected_console_errors`](Self::unexpected_console_errors) but
    /// also those starting with one of `also`.
    pub fn console_errors_but(&self, also: &[&str]) -> Vec<&String> {
        self.console_errors
            .iter()
            .filter(|e| {
                !(e.contains("google-analytics.com")
                    || e.as_str() == "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"
                    || e.starts_with("DEPRECATED: ")
                    || also.iter().any(|a| e.starts_with(a)))
            })
            .collect()
    }
}

/// `protocol:command` of a message.
pub fn name(message: &Value) -> String {
    format!(
        "{}:{}",
        message["protocol"].as_str().unwrap_or_default(),
        message["command"].as_str().unwrap_or_default()
    )
}

/// A `msgflo` coordinator for the editor: its printed link, its output
/// copied to the test's stderr (so nothing it prints can fill a pipe).
pub struct Runtime {
    child: Child,
    /// Its FBP protocol port.
    pub port: u16,
    /// The "Open in Flowhub" link it printed.
    pub link: String,
    /// The broker its participants use (the embedded one's URL, if any).
    pub broker: String,
}

impl Runtime {
    /// Starts `msgflo --host 127.0.0.1 --port <free> --broker <broker>
    /// --ide <ide> <args>` and reads its lines up to the link.
    pub async fn start(broker: &str, ide: &str, args: &[&str]) -> Result<Self> {
        let port = crate::fbp_client::free_port()?;
        let mut child = Command::new(crate::bins::binary("msgflo")?)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--broker", broker, "--ide", ide])
            .args(args)
            .env_remove("MSGFLO_SECRET")
            .env_remove("RUST_LOG")
            .current_dir(crate::workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start msgflo")?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut broker = broker.to_owned();
        let link = loop {
            let line = tokio::time::timeout(COMMAND, lines.next_line())
                .await
                .context("msgflo printed no link within 60 s")??
                .context("msgflo exited before printing its link")?;
            if let Some(url) = line.strip_prefix(crate::fbp_client::EMBEDDED) {
                broker = url.to_owned();
            }
            if let Some(link) = line.strip_prefix("Open in Flowhub: ") {
                break link.to_owned();
            }
        };
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("msgflo: {line}");
            }
        });
        Ok(Self {
            child,
            port,
            link,
            broker,
        })
    }

    /// Stops it with SIGTERM (it stops its participants) and waits.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        Ok(())
    }
}
