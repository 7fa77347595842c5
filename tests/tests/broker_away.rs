//! The coordinator answers every FBP command at once while its broker is
//! away (a TCP proxy in front of RabbitMQ stops forwarding, connections
//! open), and the binding behind the last change is made once the broker is
//! back. Reply times with the broker there and away, from the same run, are
//! printed (`cargo test -p msgflo-tests --test broker_away -- --nocapture`;
//! BENCHMARKS.md).

use anyhow::{ensure, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::proxy::CutProxy;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, next_payload};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// noflo-ui's patience.
const REPLY: Duration = Duration::from_secs(1);
/// Commands per measurement.
const ROUNDS: usize = 50;

/// Sends `command` and waits for its reply (`reply`); how long that took.
async fn timed(
    c: &mut Client,
    protocol: &str,
    command: &str,
    payload: Value,
    reply: &str,
) -> Result<Duration> {
    let sent = Instant::now();
    c.send(protocol, command, payload, None).await?;
    let answer = c.until(protocol, reply, REPLY).await?;
    ensure!(answer["command"] == reply, "{answer}");
    Ok(sent.elapsed())
}

/// `ROUNDS` times: remove the edge, put it back, ask the status.
async fn measure(c: &mut Client) -> Result<Vec<Duration>> {
    let edge = json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"}, "graph": "g"});
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        times.push(timed(c, "graph", "removeedge", edge.clone(), "removeedge").await?);
        times.push(timed(c, "graph", "addedge", edge.clone(), "addedge").await?);
        times.push(timed(c, "network", "getstatus", json!({"graph": "g"}), "status").await?);
    }
    times.sort();
    Ok(times)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_answered_at_once_while_the_broker_is_away() -> Result<()> {
    let vhost = Vhost::new("broker-away")?;
    let real = url::Url::parse(vhost.url())?;
    let upstream = format!(
        "{}:{}",
        real.host_str().unwrap_or("127.0.0.1"),
        real.port().unwrap_or(5672)
    );
    let proxy = CutProxy::start(upstream).await?;
    let mut via_proxy = real.clone();
    let _ = via_proxy.set_port(Some(proxy.port));
    let coordinator = start(via_proxy.as_str(), &[]).await?;
    // Participants of a and b, announced by hand (an edge is bound once
    // discovery names its queues).
    let t = client(vhost.url(), "broker-away").await?;
    for role in ["a", "b"] {
        let announcement = json!({"protocol": "discovery", "command": "participant", "payload": {
            "id": format!("{role}-1"), "role": role, "component": "C", "label": "", "icon": "",
            "inports": [{"id": "in", "type": "any", "queue": format!("{role}.IN")}],
            "outports": [{"id": "out", "type": "any", "queue": format!("{role}.OUT")}]}});
        t.announce(announcement.to_string().into()).await?;
    }
    let mut c = Client::connect(coordinator.port).await?;
    c.send("graph", "clear", json!({"id": "g", "main": true}), None)
        .await?;
    c.until("graph", "clear", REPLY).await?;
    for node in ["a", "b"] {
        let payload = json!({"id": node, "component": "C", "graph": "g"});
        c.send("graph", "addnode", payload, None).await?;
        c.until("graph", "addnode", REPLY).await?;
    }
    let edge = json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"}, "graph": "g"});
    c.send("graph", "addedge", edge, None).await?;
    c.until("graph", "addedge", REPLY).await?;
    c.send("network", "start", json!({"graph": "g"}), None)
        .await?;
    c.until("network", "started", Duration::from_secs(5))
        .await?;

    let there = measure(&mut c).await?;
    proxy.set_cut(true)?;
    let away = measure(&mut c).await?;
    let worst = away.last().copied().unwrap_or_default();
    eprintln!(
        "reply times over {} commands: broker there p50 {:?} p99 {:?} max {:?}; broker away p50 {:?} p99 {:?} max {:?}",
        away.len(),
        percentile(&there, 0.5),
        percentile(&there, 0.99),
        there.last().copied().unwrap_or_default(),
        percentile(&away, 0.5),
        percentile(&away, 0.99),
        worst
    );
    ensure!(
        worst < REPLY,
        "a reply took {worst:?} while the broker was away"
    );

    // Back: the edge's binding is made (again), and data crosses it.
    proxy.set_cut(false)?;
    let (a_out, b_in) = (QueueName::new("a.OUT")?, QueueName::new("b.IN")?);
    t.declare_inport(&b_in).await?;
    let mut consumer = t.consume(&b_in, 10).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        t.declare_outport(&a_out).await?;
        t.publish(&a_out, "\"back\"".into()).await?;
        if let Ok(payload) = next_payload(&mut consumer, Duration::from_secs(2)).await {
            ensure!(payload.as_ref() == b"\"back\"", "{payload:?}");
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the binding a.OUT -> b.IN was not made within 60 s of the broker's return"
        );
    }
    drop(coordinator);
    drop(vhost);
    Ok(())
}
