//! The real NoFlo runtime of `src/noflo_runtime.rs` (noflo-nodejs serving
//! `in -> core/Repeat -> out`) as a remote FBP runtime, spoken to over
//! WebSocket as a bridge would: `runtime:getruntime` names its graph and
//! lists ports `in` and `out`; a data packet sent to `in` comes back on
//! `out`, before the `runtime:packetsent` that answers it. Killed, it
//! starts again on the same port.

use anyhow::{ensure, Context, Result};
use futures_util::{SinkExt, StreamExt};
use msgflo_tests::noflo_runtime::{NofloRuntime, GRAPH};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one answer may take.
const ANSWER: Duration = Duration::from_secs(10);

async fn send(ws: &mut Socket, message: &Value) -> Result<()> {
    ws.send(Message::text(message.to_string())).await?;
    Ok(())
}

/// The next JSON message, within [`ANSWER`].
async fn next(ws: &mut Socket) -> Result<Value> {
    loop {
        let frame = tokio::time::timeout(ANSWER, ws.next())
            .await
            .with_context(|| format!("no message within {ANSWER:?}"))?
            .context("connection closed")??;
        if let Message::Text(text) = frame {
            return Ok(serde_json::from_str(text.as_str())?);
        }
    }
}

/// The next `runtime:*` message (`network:stopped` and the like skipped).
async fn next_runtime(ws: &mut Socket) -> Result<Value> {
    loop {
        let message = next(ws).await?;
        if message["protocol"] == "runtime" {
            return Ok(message);
        }
    }
}

/// Connects, asks `runtime:getruntime` and checks the answer: the graph,
/// and ports `in` and `out`.
async fn connect_and_check(runtime: &NofloRuntime) -> Result<Socket> {
    let (mut ws, _) = tokio_tungstenite::connect_async(runtime.url())
        .await
        .with_context(|| format!("WebSocket connect to {}", runtime.url()))?;
    send(
        &mut ws,
        &json!({"protocol": "runtime", "command": "getruntime",
                "payload": {"secret": runtime.secret()}}),
    )
    .await?;
    let answer = next_runtime(&mut ws).await?;
    ensure!(
        answer["command"] == "runtime",
        "not runtime:runtime: {answer}"
    );
    ensure!(answer["payload"]["type"] == "noflo-nodejs", "{answer}");
    ensure!(answer["payload"]["graph"] == GRAPH, "{answer}");
    let capabilities = answer["payload"]["capabilities"].to_string();
    ensure!(capabilities.contains("protocol:runtime"), "{answer}");
    let ports = next_runtime(&mut ws).await?;
    ensure!(ports["command"] == "ports", "not runtime:ports: {ports}");
    ensure!(ports["payload"]["graph"] == GRAPH, "{ports}");
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect()
    };
    ensure!(ids(&ports["payload"]["inPorts"]) == ["in"], "{ports}");
    ensure!(ids(&ports["payload"]["outPorts"]) == ["out"], "{ports}");
    Ok(ws)
}

/// Sends `payload` as data to `in`; it must come back on `out`, then the
/// `runtime:packetsent` of what was sent.
async fn round_trip(runtime: &NofloRuntime, ws: &mut Socket, payload: Value) -> Result<()> {
    send(ws, &runtime.packet("in", "data", payload.clone())).await?;
    let out = next_runtime(ws).await?;
    let expected = json!({"protocol": "runtime", "command": "packet",
        "payload": {"graph": GRAPH, "port": "out", "event": "data", "payload": payload}});
    ensure!(out == expected, "expected {expected}, got {out}");
    let sent = next_runtime(ws).await?;
    let expected = json!({"protocol": "runtime", "command": "packetsent",
        "payload": {"graph": GRAPH, "port": "in", "event": "data", "payload": payload}});
    ensure!(sent == expected, "expected {expected}, got {sent}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_packet_passes_through_the_noflo_runtime() -> Result<()> {
    let runtime = NofloRuntime::start("s3cret")?;
    let mut ws = connect_and_check(&runtime).await?;
    round_trip(&runtime, &mut ws, json!({"n": 1})).await?;
    round_trip(&runtime, &mut ws, json!("text")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_noflo_runtime_starts_again_on_its_port() -> Result<()> {
    let mut runtime = NofloRuntime::start("s3cret")?;
    let port = runtime.port;
    let mut ws = connect_and_check(&runtime).await?;
    runtime.kill();
    // The connection ends with the process.
    let end = tokio::time::timeout(ANSWER, ws.next()).await?;
    ensure!(
        !matches!(end, Some(Ok(Message::Text(_)))),
        "a message after the kill: {end:?}"
    );
    let again = NofloRuntime::start_on(port, "s3cret")?;
    let mut ws = connect_and_check(&again).await?;
    round_trip(&again, &mut ws, json!(42)).await
}
