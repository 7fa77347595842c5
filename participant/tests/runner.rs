//! Running components as participants, on the in-memory broker: processing
//! and acking, nack on error or panic, IIPs, discovery, control messages and
//! clean shutdown.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::component::Component;
use msgflo_participant::protocol::control;
use msgflo_participant::protocol::discovery::Participant;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::runner::{self, Options, RunError};
use msgflo_participant::transport::{
    connect, dead_letter_queue, discovery_queue, ConnectOptions, Consumer, Transport,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

mod support;
use support::{next, WAIT};

/// `in` -> `out`, unchanged, with the async component API.
fn repeat() -> Component {
    Component::new("test/Repeat")
        .label("Repeats in data without changes")
        .inport("in", "any", "Packet to forward")
        .outport("out", "any", "Forwarded packet")
        .process(|input, out| async move { out.send("out", input.payload).await })
}

/// Takes everything and does nothing.
fn drop_all() -> Component {
    Component::new("test/Drop")
        .inport("in", "any", "Packet to drop")
        .process(|_, _| async { Ok(()) })
}

struct Setup {
    broker: String,
    t: Arc<dyn Transport>,
}

async fn setup() -> Result<Setup> {
    let broker = format!("memory://runner-{}", uuid::Uuid::new_v4().simple());
    let t = connect(&broker, ConnectOptions::default()).await?;
    t.declare_inport(&discovery_queue()).await?;
    Ok(Setup { broker, t })
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("valid queue name")
}

impl Setup {
    fn options(&self, role: &str) -> Options {
        Options::new(role.try_into().expect("valid role"), self.broker.clone())
    }

    /// A consumer of a fresh queue bound to `outport`.
    async fn watch(&self, outport: &str) -> Result<Consumer> {
        let sink = q(&format!("sink-{}", uuid::Uuid::new_v4().simple()));
        self.t.declare_outport(&q(outport)).await?;
        self.t.declare_inport(&sink).await?;
        let consumer = self.t.consume(&sink, 100).await?;
        self.t.bind(&q(outport), &sink).await?;
        Ok(consumer)
    }

    async fn send(&self, queue: &str, payload: &'static [u8]) -> Result<()> {
        Ok(self
            .t
            .send_to_inport(&q(queue), Bytes::from_static(payload))
            .await?)
    }
}

fn failing() -> Component {
    Component::new("test/Failing")
        .inport("in", "any", "")
        .outport("out", "any", "")
        .process(|input, out| async move {
            match &input.payload[..] {
                b"\"fail\"" => Err("this input is refused".into()),
                b"\"panic\"" => panic!("component bug"),
                _ => out.send("out", input.payload).await,
            }
        })
}

#[tokio::test]
async fn repeat_forwards_byte_for_byte_and_announces_itself() -> Result<()> {
    let s = setup().await?;
    let mut discovery = s.t.consume(&discovery_queue(), 10).await?;
    let mut out = s.watch("rep.OUT").await?;
    let running = runner::start(repeat(), s.options("rep")).await?;

    let announced = Participant::decode(&next(&mut discovery).await?)?;
    assert_eq!(announced.role.as_str(), "rep");
    assert_eq!(&announced.id, running.id());
    assert_eq!(announced.component, "test/Repeat");
    assert_eq!(
        announced.inport("in").and_then(|p| p.queue.clone()),
        Some(q("rep.IN"))
    );
    assert_eq!(
        announced.outport("out").and_then(|p| p.queue.clone()),
        Some(q("rep.OUT"))
    );

    s.send("rep.IN", br#"{ "bar" : "foo" }"#).await?;
    assert_eq!(
        next(&mut out).await?,
        Bytes::from_static(br#"{ "bar" : "foo" }"#)
    );
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn an_error_or_a_panic_dead_letters_only_that_message() -> Result<()> {
    let s = setup().await?;
    let mut out = s.watch("f.OUT").await?;
    s.t.declare_inport(&q("f.IN")).await?;
    let mut dead = s.t.consume(&dead_letter_queue(&q("f.IN")), 10).await?;
    let running = runner::start(failing(), s.options("f")).await?;

    s.send("f.IN", b"\"fail\"").await?;
    s.send("f.IN", b"\"panic\"").await?;
    s.send("f.IN", b"\"fine\"").await?;
    assert_eq!(next(&mut out).await?, Bytes::from_static(b"\"fine\""));
    let mut dead_letters = vec![next(&mut dead).await?, next(&mut dead).await?];
    dead_letters.sort();
    assert_eq!(
        dead_letters,
        [
            Bytes::from_static(b"\"fail\""),
            Bytes::from_static(b"\"panic\"")
        ]
    );
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn iips_are_processed_at_start_and_unknown_iip_ports_refused() -> Result<()> {
    let s = setup().await?;
    let mut out = s.watch("iip.OUT").await?;
    let mut options = s.options("iip");
    options.iips.insert("in".into(), json!({"hello": [1, 2]}));
    let running = runner::start(repeat(), options).await?;
    let payload = next(&mut out).await?;
    assert_eq!(
        serde_json::from_slice::<Value>(&payload)?,
        json!({"hello": [1, 2]})
    );
    running.stop().await?;

    let mut options = s.options("iip2");
    options.iips.insert("nope".into(), json!(1));
    let err = runner::start(repeat(), options)
        .await
        .err()
        .context("must fail")?;
    assert!(matches!(err, RunError::Config(_)));
    assert_eq!(
        err.to_string(),
        "IIP for unknown inport \"nope\" of test/Repeat"
    );
    Ok(())
}

#[tokio::test]
async fn control_messages_rewire_ports_and_are_answered() -> Result<()> {
    let s = setup().await?;
    let running = runner::start(repeat(), s.options("ctl")).await?;
    let id = running.id().to_string();
    let replies_q = q(&control::send_queue(&id));
    s.t.declare_inport(&replies_q).await?;
    let mut replies = s.t.consume(&replies_q, 10).await?;
    let requests = control::receive_queue(&id);
    let mut out = s.watch("ctl.OUT").await?;

    // connectinport: messages published on another outport now reach `in`.
    s.t.declare_outport(&q("producer.OUT")).await?;
    let connect_in = json!({"protocol": "participant", "command": "connectinport", "payload": {
        "src": {"queue": "producer.OUT"}, "tgt": {"port": "in"}, "graph": "main"}});
    s.t.send_to_inport(&q(&requests), Bytes::from(connect_in.to_string()))
        .await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    assert_eq!(reply, connect_in, "the request is echoed");
    s.t.publish(&q("producer.OUT"), Bytes::from_static(b"\"via edge\""))
        .await?;
    assert_eq!(next(&mut out).await?, Bytes::from_static(b"\"via edge\""));

    // connectoutport: `out` now also publishes to another participant's inport.
    s.t.declare_inport(&q("other.IN")).await?;
    let mut other = s.t.consume(&q("other.IN"), 10).await?;
    let connect_out = json!({"protocol": "participant", "command": "connectoutport", "payload": {
        "src": {"port": "out"}, "tgt": {"queue": "other.IN"}}});
    s.t.send_to_inport(&q(&requests), Bytes::from(connect_out.to_string()))
        .await?;
    assert_eq!(
        serde_json::from_slice::<Value>(&next(&mut replies).await?)?,
        connect_out
    );
    s.send("ctl.IN", b"\"both\"").await?;
    assert_eq!(next(&mut out).await?, Bytes::from_static(b"\"both\""));
    assert_eq!(next(&mut other).await?, Bytes::from_static(b"\"both\""));

    // Unknown ports and garbage get an error reply naming the problem.
    let bad_port = json!({"protocol": "participant", "command": "connectinport", "payload": {
        "src": {"queue": "producer.OUT"}, "tgt": {"port": "nope"}}});
    s.t.send_to_inport(&q(&requests), Bytes::from(bad_port.to_string()))
        .await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    assert_eq!(reply["command"], "error");
    assert_eq!(reply["payload"]["message"], "no inport \"nope\"");
    s.send(&requests, b"{garbage").await?;
    let reply: Value = serde_json::from_slice(&next(&mut replies).await?)?;
    assert_eq!(reply["command"], "error");
    ensure!(reply["payload"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("control message is not JSON"));

    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn stop_finishes_and_acks_the_message_in_progress() -> Result<()> {
    let s = setup().await?;
    let (started_tx, mut started) = tokio::sync::mpsc::channel::<()>(1);
    let slow = Component::new("test/Slow")
        .inport("in", "any", "")
        .outport("out", "any", "")
        .process(move |input, out| {
            let started_tx = started_tx.clone();
            async move {
                let _ = started_tx.send(()).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                out.send("out", input.payload).await
            }
        });
    let mut out = s.watch("slow.OUT").await?;
    let running = runner::start(slow, s.options("slow")).await?;
    s.send("slow.IN", b"\"in progress\"").await?;
    tokio::time::timeout(WAIT, started.recv())
        .await?
        .context("processing started")?;
    running.stop().await?;
    assert_eq!(
        next(&mut out).await?,
        Bytes::from_static(b"\"in progress\"")
    );
    // It was acked, too: had it not been, it would be back at the head of
    // the queue, before this marker.
    s.send("slow.IN", b"\"marker\"").await?;
    let mut again = s.t.consume(&q("slow.IN"), 10).await?;
    assert_eq!(next(&mut again).await?, Bytes::from_static(b"\"marker\""));
    Ok(())
}

#[tokio::test]
async fn discovery_is_sent_again_every_period_over_2_2() -> Result<()> {
    let s = setup().await?;
    let mut discovery = s.t.consume(&discovery_queue(), 10).await?;
    let mut options = s.options("beat");
    options.discovery_period = Duration::from_millis(440);
    let started = std::time::Instant::now();
    let running = runner::start(drop_all(), options).await?;
    for _ in 0..3 {
        let announced = Participant::decode(&next(&mut discovery).await?)?;
        assert_eq!(announced.role.as_str(), "beat");
    }
    // At start, then after 200 ms and 400 ms: not the 60 s default.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(390),
        "too early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "too late: {elapsed:?}");
    running.stop().await?;
    Ok(())
}
