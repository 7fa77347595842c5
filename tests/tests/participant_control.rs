//! A running `msgflo-participant` rewired through its control queue, on
//! RabbitMQ and on Mosquitto: `connectinport` makes it take the messages of
//! another outport (on MQTT by subscribing itself: no coordinator in the data
//! path), unknown ports get an error reply, `disconnectinport` undoes it;
//! `setoutportdelivery` / `unsetoutportdelivery` are answered, or refused in
//! one line, and so is `setinportdelivery` (refused on RabbitMQ).

use anyhow::{ensure, Result};
use bytes::Bytes;
use msgflo_participant::protocol::control;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::Consumer;
use msgflo_tests::bins::binary;
use msgflo_tests::process::spawn_ready;
use msgflo_tests::{amqp_url, mqtt_url, next_payload, unique};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(15);

async fn next(consumer: &mut Consumer) -> Result<Bytes> {
    next_payload(consumer, WAIT).await
}

/// A `core/Repeat` participant with a fixed id (so its control queue is known).
fn repeat(broker: &str, role: &str, id: &str) -> Result<Command> {
    let mut command = Command::new(binary("msgflo-participant")?);
    command.args([
        "--name",
        role,
        "--component",
        "core/Repeat",
        "--broker",
        broker,
        "--id",
        id,
    ]);
    Ok(command)
}

async fn rewire(broker: &str) -> Result<()> {
    let role = unique("ctl");
    let id = format!("{role}-1");
    let (_participant, _ready) = spawn_ready(repeat(broker, &role, &id)?, WAIT).await?;

    let t = msgflo_tests::client(broker, "ctl-client").await?;
    let q = |name: String| QueueName::new(name);
    let (requests, replies_q) = (
        q(control::receive_queue(&id))?,
        q(control::send_queue(&id))?,
    );
    t.declare_inport(&replies_q).await?;
    let mut replies = t.consume(&replies_q, 10).await?;
    let (source, out, sink) = (
        q(unique("ctl.source.OUT"))?,
        q(format!("{role}.OUT"))?,
        q(unique("ctl.sink"))?,
    );
    t.declare_outport(&source).await?;
    t.declare_inport(&sink).await?;
    let mut received = t.consume(&sink, 10).await?;
    t.bind(&out, &sink).await?;

    let request = |command: &str, port: &str| {
        json!({"protocol": "participant", "command": command, "payload": {
            "src": {"queue": source.as_str()}, "tgt": {"port": port}, "graph": "main"}})
    };
    let ask = |message: Value| {
        let t = t.clone();
        let requests = requests.clone();
        async move {
            t.send_to_inport(&requests, Bytes::from(message.to_string()))
                .await
        }
    };

    ask(request("connectinport", "in")).await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    ensure!(reply == request("connectinport", "in"), "reply: {reply}");
    t.publish(&source, Bytes::from_static(b"{\"via\":\"edge\"}"))
        .await?;
    ensure!(next(&mut received).await? == Bytes::from_static(b"{\"via\":\"edge\"}"));

    ask(request("connectinport", "nope")).await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    ensure!(
        reply["command"] == "error" && reply["payload"]["message"] == "no inport \"nope\"",
        "{reply}"
    );

    // An outport's delivery mode: set, and refused for a port or a mode
    // that is not there, in one line each.
    let delivery = |command: &str, port: &str, mode: &str| {
        json!({"protocol": "participant", "command": command, "payload": {
            "src": {"port": port}, "delivery": mode, "graph": "main"}})
    };
    for (asked, refusal) in [
        (delivery("setoutportdelivery", "out", "transient"), None),
        (delivery("unsetoutportdelivery", "out", "transient"), None),
        (
            delivery("setoutportdelivery", "out", "fast"),
            Some("unknown delivery mode \"fast\": persistent or transient"),
        ),
        (
            delivery("setoutportdelivery", "nope", "transient"),
            Some("no outport \"nope\""),
        ),
    ] {
        ask(asked.clone()).await?;
        let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
        match refusal {
            None => ensure!(reply == asked, "reply: {reply}"),
            Some(message) => ensure!(
                reply["command"] == "error" && reply["payload"]["message"] == message,
                "{reply}"
            ),
        }
    }

    // An edge's delivery mode: MQTT keeps one per subscription, RabbitMQ
    // none per binding.
    let edge_mode = json!({"protocol": "participant", "command": "setinportdelivery", "payload": {
        "src": {"queue": source.as_str()}, "tgt": {"port": "in"}, "delivery": "transient"}});
    ask(edge_mode.clone()).await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    if broker.starts_with("mqtt") {
        ensure!(reply == edge_mode, "reply: {reply}");
    } else {
        ensure!(
            reply["command"] == "error"
                && reply["payload"]["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with("this broker keeps no delivery mode per binding: a message's is set when it is published")),
            "{reply}"
        );
    }

    ask(request("disconnectinport", "in")).await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    ensure!(reply["command"] == "disconnectinport", "{reply}");
    t.publish(&source, Bytes::from_static(b"\"unbound\""))
        .await?;
    t.send_to_inport(&q(format!("{role}.IN"))?, Bytes::from_static(b"\"marker\""))
        .await?;
    let got = next(&mut received).await?;
    ensure!(
        got == Bytes::from_static(b"\"marker\""),
        "a message crossed the removed edge: {got:?}"
    );
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_connectinport_rewires_a_running_participant() -> Result<()> {
    rewire(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_connectinport_rewires_a_running_participant() -> Result<()> {
    rewire(&mqtt_url()).await
}

/// A participant restarted under the same id resumes its MQTT session, with
/// the subscription an earlier `connectinport` made. Nothing takes that topic
/// any more: its messages are acked and dropped after a grace period instead
/// of filling the broker's in-flight window, so the participant keeps
/// receiving on its inport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_subscription_left_from_an_earlier_run_does_not_stall_the_participant() -> Result<()> {
    let broker = mqtt_url();
    let role = unique("ctl-stale");
    let id = format!("{role}-1");
    let participant = || repeat(&broker, &role, &id);
    let t = msgflo_tests::client(&broker, "ctl-client").await?;
    let q = |name: String| QueueName::new(name);
    let source = q(unique("ctl.stale.OUT"))?;

    let (first, _) = spawn_ready(participant()?, WAIT).await?;
    let replies_q = q(control::send_queue(&id))?;
    t.declare_inport(&replies_q).await?;
    let mut replies = t.consume(&replies_q, 10).await?;
    let request = json!({"protocol": "participant", "command": "connectinport", "payload": {
        "src": {"queue": source.as_str()}, "tgt": {"port": "in"}}});
    t.send_to_inport(
        &q(control::receive_queue(&id))?,
        Bytes::from(request.to_string()),
    )
    .await?;
    next(&mut replies).await?;
    first.stop_cleanly(WAIT).await?;

    let (_second, _) = spawn_ready(participant()?, WAIT).await?;
    let (out, sink) = (q(format!("{role}.OUT"))?, q(unique("ctl.stale.sink"))?);
    t.declare_inport(&sink).await?;
    let mut received = t.consume(&sink, 10).await?;
    t.bind(&out, &sink).await?;
    // More than Mosquitto's default in-flight window (20) on the stale topic.
    for i in 0..25 {
        t.publish(&source, Bytes::from(format!("\"stale {i}\"")))
            .await?;
    }
    for i in 0..5 {
        t.send_to_inport(&q(format!("{role}.IN"))?, Bytes::from(format!("{i}")))
            .await?;
    }
    let mut got = Vec::new();
    while got.len() < 5 {
        let payload = next_payload(&mut received, Duration::from_secs(30)).await?;
        got.push(payload);
    }
    got.sort();
    ensure!(
        got == (0..5)
            .map(|i| Bytes::from(format!("{i}")))
            .collect::<Vec<_>>(),
        "{got:?}"
    );
    t.close().await?;
    Ok(())
}

/// The coordinator's `connectinport` with its answer awaited
/// (`links::apply_confirmed`), then the same said again (as the
/// coordinator does when a participant announces itself again, about every
/// 27 s), answered while nobody waits: the late answer holds nothing back
/// on the coordinator's MQTT connection, which goes on receiving (before,
/// it stayed unacked, held back the acks of every later message, and once
/// Mosquitto's in-flight window of 20 was full the coordinator received
/// nothing more: forwarded edges and discovery stalled).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_a_late_connectinport_answer_holds_nothing_back() -> Result<()> {
    use msgflo_coordinator::bindings::Link;
    use msgflo_coordinator::links;
    let broker = mqtt_url();
    let role = unique("ctl-late");
    let id = format!("{role}-1");
    let (_participant, _) = spawn_ready(repeat(&broker, &role, &id)?, WAIT).await?;
    let coordinator = msgflo_tests::client(&broker, "ctl-coordinator").await?;
    let q = |name: String| QueueName::new(name);
    let link = Link::ConnectInport {
        participant: msgflo_participant::protocol::ids::ParticipantId::new(id.clone())?,
        outport: q(unique("ctl.late.OUT"))?,
        port: "in".to_owned(),
    };
    let answered = links::apply_confirmed(coordinator.as_ref(), &link, "main", WAIT)
        .await
        .map_err(anyhow::Error::msg)?;
    ensure!(answered, "the participant did not answer");
    // Said again; the participant's answer reaches nobody who waits.
    links::apply(coordinator.as_ref(), &link, "main")
        .await
        .map_err(anyhow::Error::msg)?;
    // The answer travels while the coordinator's connection takes 100
    // messages (five times Mosquitto's in-flight window) on an inport.
    let inport = q(unique("ctl.late.IN"))?;
    let mut consumer = coordinator.consume(&inport, 10).await?;
    let sender = msgflo_tests::client(&broker, "ctl-sender").await?;
    for i in 0..100 {
        sender
            .send_to_inport(&inport, Bytes::from(format!("{i}")))
            .await?;
    }
    for i in 0..100 {
        let got = next(&mut consumer)
            .await
            .map_err(|e| anyhow::anyhow!("message {i} of 100: {e:#}"))?;
        ensure!(got == format!("{i}").as_bytes(), "{got:?}");
    }
    coordinator.close().await?;
    sender.close().await?;
    Ok(())
}
