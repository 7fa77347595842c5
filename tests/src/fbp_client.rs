//! A FBP protocol client for the coordinator tests: starts `msgflo` on a free
//! port, connects over WebSocket (offering the `noflo` subprotocol), sends
//! commands and reads the replies.

use crate::bins::binary;
use crate::process::{spawn_ready, Spawned};
use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use msgflo_coordinator::client;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// How long a reply may take (noflo-ui's timeout).
pub const REPLY: Duration = Duration::from_secs(1);

/// A port nobody listens on now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running coordinator and the port it serves.
pub struct Coordinator {
    /// The process (killed when dropped).
    pub process: Spawned,
    /// Its FBP protocol port.
    pub port: u16,
    /// The URL of its embedded MQTT broker (`--broker embedded...`).
    pub embedded_broker: Option<String>,
    _one_at_a_time: tokio::sync::OwnedMutexGuard<()>,
}

/// Coordinators of one test binary run one at a time: on AMQP the `fbp`
/// queue is shared, so two coordinators would each see only part of the
/// discovery messages (msgflo's rule too: one coordinator per broker).
fn turn() -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static TURN: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
        std::sync::OnceLock::new();
    TURN.get_or_init(Default::default).clone()
}

/// Waits for the turn of this test binary's one coordinator and holds it:
/// for a test that reads the AMQP `fbp` queue itself, which a coordinator
/// of another test would otherwise take messages from.
pub async fn no_coordinator() -> tokio::sync::OwnedMutexGuard<()> {
    turn().lock_owned().await
}

/// What `msgflo --broker embedded` prints before its ready line.
pub const EMBEDDED: &str = "embedded MQTT broker on ";

/// Starts `msgflo --host 127.0.0.1 --port <free> --broker <broker> <args>`
/// and waits for its ready line (after the embedded broker's line, if any).
pub async fn start(broker: &str, args: &[&str]) -> Result<Coordinator> {
    start_with(broker, args, &[]).await
}

/// [`start`] with these environment variables set for the coordinator.
pub async fn start_with(broker: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Coordinator> {
    let one_at_a_time = turn().lock_owned().await;
    let port = free_port()?;
    let mut command = tokio::process::Command::new(binary("msgflo")?);
    command
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--broker",
            broker,
        ])
        .args(args)
        .env_remove("MSGFLO_SECRET")
        .env_remove("MSGFLO_TOKENS")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied());
    let (mut process, mut line) = spawn_ready(command, Duration::from_secs(30)).await?;
    let embedded_broker = line.strip_prefix(EMBEDDED).map(str::to_owned);
    if embedded_broker.is_some() {
        line = tokio::time::timeout(Duration::from_secs(30), process.stdout.next_line())
            .await
            .context("no ready line after the embedded broker's")??
            .context("exited after the embedded broker's line")?;
    }
    let ready = |scheme: &str| format!("msgflo started on {scheme}://127.0.0.1:{port}");
    if line != ready("ws") && line != ready("wss") {
        bail!("ready line: {line:?}");
    }
    Ok(Coordinator {
        process,
        port,
        embedded_broker,
        _one_at_a_time: one_at_a_time,
    })
}

/// One client connection.
pub struct Client {
    ws: client::Socket,
    /// The subprotocol the server accepted.
    pub subprotocol: Option<String>,
}

impl Client {
    /// Connects to `port`, offering the `noflo` subprotocol.
    pub async fn connect(port: u16) -> Result<Self> {
        let url = format!("ws://127.0.0.1:{port}/");
        let (ws, subprotocol) = client::connect(&url).await.context("WebSocket connect")?;
        Ok(Self { ws, subprotocol })
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        self.ws.send(Message::text(text.into())).await?;
        Ok(())
    }

    /// Sends `{protocol, command, payload}` (plus `secret` when given).
    pub async fn send(
        &mut self,
        protocol: &str,
        command: &str,
        payload: Value,
        secret: Option<&str>,
    ) -> Result<()> {
        let mut message = json!({"protocol": protocol, "command": command, "payload": payload});
        if let Some(secret) = secret {
            message["secret"] = json!(secret);
        }
        self.send_text(message.to_string()).await
    }

    /// The next message, within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Result<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next())
                .await
                .with_context(|| format!("no message within {wait:?}"))?
                .context("connection closed")??;
            if let Message::Text(text) = frame {
                return Ok(serde_json::from_str(text.as_str())?);
            }
        }
    }

    /// The next reply, within `wait`: messages the coordinator sends to every
    /// client on its own (a participant appeared, edge data and groups, an
    /// exported outport's packet, an expiry) are skipped.
    pub async fn reply(&mut self, wait: Duration) -> Result<Value> {
        const BROADCASTS: [(&str, &str); 6] = [
            ("component", "component"),
            ("network", "output"),
            ("network", "data"),
            ("network", "begingroup"),
            ("network", "endgroup"),
            ("runtime", "packet"),
        ];
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await?;
            let kind = (
                message["protocol"].as_str().unwrap_or_default(),
                message["command"].as_str().unwrap_or_default(),
            );
            if !BROADCASTS.contains(&kind) {
                return Ok(message);
            }
        }
    }

    /// Reads messages until one is `protocol:command`, within `wait` in all.
    pub async fn until(&mut self, protocol: &str, command: &str, wait: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self
                .next(left)
                .await
                .with_context(|| format!("waiting for {protocol}:{command}"))?;
            if message["protocol"] == protocol && message["command"] == command {
                return Ok(message);
            }
        }
    }
}
