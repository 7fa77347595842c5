//! A real NoFlo runtime as a remote FBP runtime: npm `noflo-nodejs@0.15.3`
//! with the components of `noflo-core@0.6.1` beside it, serving over
//! WebSocket a one-node pass-through graph, `in -> core/Repeat -> out`, on
//! a port of 127.0.0.1, with a secret. Installed at test time into
//! `.cache/npm/` ([`crate::npm`]); started with Flowhub registry pings, mDNS
//! and the browser all off, so it needs no network.
//!
//! noflo-nodejs 0.15 runs NoFlo 1.x, whose network cannot start noflo-core
//! 0.4's components ("callback is not a function"): 0.6.1 is the one that
//! fits (0.4.1 is the one that fits noflo-runtime-msgflo's NoFlo 0.8).
//!
//! What the runtime does, as observed (noflo-runtime-base 0.13.1):
//!
//! - `runtime:getruntime` answers `runtime:runtime` (type `noflo-nodejs`,
//!   protocol version `0.7`, `graph` [`GRAPH`]) then `runtime:ports`
//!   (`inPorts` `[in]`, `outPorts` `[out]`, type `all`).
//! - The secret is read from the payload only: a top-level `secret` is
//!   ignored. `runtime:packet` with a missing or wrong one is answered
//!   `runtime:error` `runtime:packet is not permitted`; `getruntime` is
//!   always answered, with `capabilities: []` then.
//! - Each `runtime:packet` is answered by one `runtime:packetsent` (its
//!   `port`, `event`, `graph` and `payload`), after the output it caused:
//!   data in gives `runtime:packet` (`port: out`, `event: data`) then
//!   `packetsent`. `connect` and `disconnect` do nothing but are answered;
//!   a `begingroup` comes out with the next data; an `endgroup` is dropped
//!   (each packet goes in on a socket of its own, which has no group open
//!   to close), so the group stays open in Repeat.
//! - Output packets go to every connection, signed in or not.
//! - An unknown port is answered `runtime:error` `Cannot find internal port
//!   for NAME`, an unknown graph `Cannot find network for graph NAME`.
//! - No `network:start` is needed: the network is started at start-up,
//!   says `network:stopped` 50 ms after it last had work, and still passes
//!   packets.
//!
//! The graph is marked `main`: otherwise noflo-nodejs also registers it as
//! a component, which replaces its network by one whose outport nobody
//! listens to, and no output ever comes back.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The npm package and version of the runtime.
pub const NOFLO_NODEJS: (&str, &str) = ("noflo-nodejs", "0.15.3");

/// The components installed beside it (`core/Repeat`).
pub const NOFLO_CORE: &str = "noflo-core@0.6.1";

/// The graph the runtime serves, as `runtime:packet` names it: the project
/// namespace (the base folder's `package.json` name) and the graph's name.
pub const GRAPH: &str = "remote/passthrough";

/// How long the runtime may take to open its port (installing not counted).
const STARTUP: Duration = Duration::from_secs(30);

/// The pass-through graph: exported `in` and `out` on one `core/Repeat`.
const GRAPH_JSON: &str = r#"{
  "properties": {"name": "passthrough", "main": true, "environment": {"type": "noflo-nodejs"}},
  "inports": {"in": {"process": "repeat", "port": "in"}},
  "outports": {"out": {"process": "repeat", "port": "out"}},
  "processes": {"repeat": {"component": "core/Repeat"}},
  "connections": []
}
"#;

/// A running noflo-nodejs; killed when dropped.
pub struct NofloRuntime {
    /// Where it listens (on all interfaces; use 127.0.0.1).
    pub port: u16,
    secret: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl NofloRuntime {
    /// Installs it (once, cached) and starts it on a free port with
    /// `secret`; returns once it takes connections.
    pub fn start(secret: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Self::start_on(port, secret)
    }

    /// Like [`start`](Self::start), on `port` (to start it again where a
    /// killed one was).
    pub fn start_on(port: u16, secret: &str) -> Result<Self> {
        let (name, version) = NOFLO_NODEJS;
        let installed = crate::npm::install_with(name, version, &[NOFLO_CORE])?;
        // The base folder: a package (its name is the graph's namespace)
        // whose node_modules are the installed ones; noflo-nodejs writes its
        // settings (flowhub.json) here.
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name": "remote", "version": "0.0.0", "private": true}"#,
        )?;
        std::os::unix::fs::symlink(
            installed.join("node_modules"),
            dir.path().join("node_modules"),
        )
        .context("cannot link node_modules into the runtime's folder")?;
        let graph = dir.path().join("passthrough.json");
        std::fs::write(&graph, GRAPH_JSON)?;
        let log = dir.path().join("noflo-nodejs.log");
        let file = std::fs::File::create(&log)?;
        let port_arg = port.to_string();
        let child = Command::new("node")
            .arg(installed.join("node_modules/noflo-nodejs/bin/noflo-nodejs"))
            .arg("--graph")
            .arg(&graph)
            .arg("--base-dir")
            .arg(dir.path())
            .args(["--host", "127.0.0.1", "--port", &port_arg])
            .args(["--secret", secret])
            .args(["--open", "false", "--mdns", "false", "--registry-ping", "0"])
            // Not --catch-exceptions: with it, an error such as a taken
            // port is only told to connected clients and the process lingers.
            .args(["--auto-save", "false"])
            .env_remove("NOFLO_RUNTIME_ID")
            .env_remove("PROJECT_HOME")
            .env_remove("DEBUG")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("cannot start noflo-nodejs (node)")?;
        let mut runtime = Self {
            port,
            secret: secret.to_owned(),
            child: Some(child),
            dir,
        };
        runtime.ready()?;
        Ok(runtime)
    }

    /// Waits for its ready line (printed once its server listens, so
    /// another process on the port cannot pass for it); if it exits or
    /// does not say it in time, the error quotes what it printed.
    fn ready(&mut self) -> Result<()> {
        let line = format!("NoFlo runtime is now listening at {}", self.url());
        let deadline = Instant::now() + STARTUP;
        while !self
            .log()
            .lines()
            .any(|l| l.trim_end().trim_end_matches('/') == line)
        {
            let child = self.child.as_mut().context("not started")?;
            if let Some(status) = child.try_wait()? {
                bail!(
                    "noflo-nodejs exited ({status}) before listening on port {}: {}",
                    self.port,
                    one_line(&self.log())
                );
            }
            if Instant::now() > deadline {
                let said = self.log();
                self.kill();
                bail!(
                    "noflo-nodejs did not listen on port {} within {STARTUP:?}: {}",
                    self.port,
                    one_line(&said)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Its WebSocket URL.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The secret it was started with.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// A `runtime:packet` message for exported inport `port` of [`GRAPH`],
    /// the secret in the payload (where the runtime reads it).
    pub fn packet(&self, port: &str, event: &str, payload: Value) -> Value {
        json!({
            "protocol": "runtime",
            "command": "packet",
            "payload": {
                "graph": GRAPH,
                "port": port,
                "event": event,
                "payload": payload,
                "secret": self.secret,
            }
        })
    }

    /// What it printed (stdout and stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("noflo-nodejs.log")).unwrap_or_default()
    }

    /// Kills it (SIGKILL) and waits for it to be gone; its port is free
    /// again for [`start_on`](Self::start_on).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NofloRuntime {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `text` on one line: its non-empty lines but stack frames joined by
/// ` | `, ANSI colours (noflo-nodejs prints errors in red) removed.
fn one_line(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `ESC [ ... letter`.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("at "))
        .collect::<Vec<_>>()
        .join(" | ")
}
