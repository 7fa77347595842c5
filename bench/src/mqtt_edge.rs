//! A transient edge into a participant on MQTT: the participant is told,
//! over its control topic, to take `feed`'s messages on its inport
//! (`connectinport`) through a QoS 0 subscription (`setinportdelivery`), as
//! the coordinator does for a graph edge whose metadata says
//! `"delivery": "transient"`.

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::control;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions};
use serde_json::{json, Value};
use std::time::Duration;

/// How long the participant may take to answer.
const ANSWER: Duration = Duration::from_secs(10);

/// Makes `feed -> participant.in` a transient edge; returns once the
/// participant answered both requests.
pub async fn transient(url: &str, participant: &str, feed: &str) -> Result<()> {
    let options = ConnectOptions {
        client_id: format!("bench-ctl-{}", uuid::Uuid::new_v4().simple()),
        ..ConnectOptions::default()
    };
    let t = connect(url, options).await?;
    let answers = QueueName::new(control::send_queue(participant))?;
    let mut tap = t.tap(&answers).await?.consumer;
    let requests = QueueName::new(control::receive_queue(participant))?;
    let payload = json!({"src": {"queue": feed}, "tgt": {"port": "in"}});
    let mut waiting = Vec::new();
    for command in ["setinportdelivery", "connectinport"] {
        let mut payload = payload.clone();
        if command == "setinportdelivery" {
            payload["delivery"] = json!("transient");
        }
        let request = json!({"protocol": "participant", "command": command, "payload": payload});
        t.send_to_inport(&requests, Bytes::from(request.to_string()))
            .await?;
        waiting.push(command);
    }
    let deadline = tokio::time::Instant::now() + ANSWER;
    while !waiting.is_empty() {
        let answer = tokio::time::timeout_at(deadline, tap.next())
            .await
            .with_context(|| format!("{participant} did not answer {waiting:?}"))?
            .context("the answers' tap ended")?;
        let body: Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
        answer.ack().await?;
        match body["command"].as_str() {
            Some("error") => bail!("{participant} refused: {}", body["payload"]["message"]),
            Some(command) => waiting.retain(|w| *w != command),
            None => {}
        }
    }
    t.close().await?;
    Ok(())
}
