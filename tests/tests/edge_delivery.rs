//! A delivery mode per edge (issue 20) through a real coordinator on real
//! RabbitMQ, in a vhost of its own: a graph edge whose metadata says
//! `"delivery": "transient"` makes its source's outport publish transient
//! whatever its input came in (`setoutportdelivery`); `changeedge` from an FBP
//! client changes it live, and taking the key away gives the outport back
//! to the participant (its output keeps its input's mode again). `/metrics`
//! counts the link.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Delivery, DeliveryMode, Headers, Transport};
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::flow::sink;
use msgflo_tests::process::{participant, spawn_ready, Spawned};
use msgflo_tests::{client, next_payload, prometheus, vhost::Vhost};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn q(name: &str) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// Publishes into `feed` in `input` mode until an output in `expected`
/// mode comes out at `out` (the coordinator's control message may still be
/// on its way); returns how many went through, and the last payload.
async fn until_output_in(
    t: &Arc<dyn Transport>,
    feed: &QueueName,
    out: &mut Consumer,
    input: DeliveryMode,
    expected: DeliveryMode,
) -> Result<(usize, Bytes)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    for sent in 1.. {
        let payload = Bytes::from(format!("\"{}\"", uuid::Uuid::new_v4()));
        t.publish_as(feed, payload.clone(), &Headers::new(), input)
            .await?;
        let delivery = next(out, deadline).await?;
        ensure!(delivery.payload == payload, "{:?}", delivery.payload);
        let mode = delivery.mode;
        delivery.ack().await?;
        if mode == expected {
            return Ok((sent, payload));
        }
    }
    unreachable!("the loop returns or fails")
}

/// [`until_output_in`] where the first output must be in `expected` mode.
async fn at_once(
    t: &Arc<dyn Transport>,
    feed: &QueueName,
    out: &mut Consumer,
    input: DeliveryMode,
    expected: DeliveryMode,
) -> Result<Bytes> {
    let (sent, payload) = until_output_in(t, feed, out, input, expected).await?;
    ensure!(
        sent == 1,
        "{input} in: {} outputs before one in {expected}",
        sent - 1
    );
    Ok(payload)
}

async fn next(consumer: &mut Consumer, deadline: tokio::time::Instant) -> Result<Delivery> {
    tokio::time::timeout_at(deadline, consumer.next())
        .await
        .with_context(|| format!("nothing on {}", consumer.queue()))?
        .context("consumer ended")
}

async fn repeat(url: &str, role: &str) -> Result<Spawned> {
    let command = participant(url, role, "core/Repeat", &[])?;
    let (child, line) = spawn_ready(command, WAIT).await?;
    ensure!(line.starts_with(&format!("{role} connected")), "{line:?}");
    Ok(child)
}

fn edge(delivery: Value) -> Value {
    json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"},
           "metadata": {"delivery": delivery}, "graph": "edges"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_says_the_delivery_mode_of_its_outport_and_a_client_changes_it_live() -> Result<()>
{
    let vhost = Vhost::new("edge-delivery")?;
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("edges.json");
    std::fs::write(
        &graph,
        json!({"processes": {"a": {"component": "core/Repeat"}, "b": {"component": "core/Repeat"}},
               "connections": [{"src": {"process": "a", "port": "out"},
                                "tgt": {"process": "b", "port": "in"},
                                "metadata": {"delivery": "transient"}}]})
        .to_string(),
    )?;
    let coordinator = start(vhost.url(), &["--graph", &graph.display().to_string()]).await?;
    let (a, b) = (
        repeat(vhost.url(), "a").await?,
        repeat(vhost.url(), "b").await?,
    );

    let t = client(vhost.url(), "edge-delivery").await?;
    let feed = q("feed.OUT")?;
    t.declare_outport(&feed).await?;
    t.bind(&feed, &q("a.IN")?).await?;
    let mut out = sink(&t, &q("a.OUT")?, "edge-delivery.sink").await?;
    use DeliveryMode::{Persistent, Transient};

    // The edge says transient: persistent inputs come out transient.
    until_output_in(&t, &feed, &mut out, Persistent, Transient).await?;
    // The coordinator counts it among its links.
    let metrics = format!("http://127.0.0.1:{}/metrics", coordinator.port);
    let delivery_links = |found: &std::collections::BTreeMap<String, f64>| {
        found.get("msgflo_links_in_place{kind=\"delivery\"}") == Some(&1.0)
            && found.get("msgflo_links_wanted{kind=\"delivery\"}") == Some(&1.0)
    };
    prometheus::scrape_until(&metrics, "one delivery link in place", WAIT, delivery_links).await?;
    // b answers in its input's mode: the edge's mode went on.
    let mut after_b = sink(&t, &q("b.OUT")?, "edge-delivery.after-b").await?;
    let payload = at_once(&t, &feed, &mut out, Persistent, Transient).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    let from_b = loop {
        let delivery = next(&mut after_b, deadline).await?;
        let (mode, ours) = (delivery.mode, delivery.payload == payload);
        delivery.ack().await?;
        if ours {
            break mode;
        }
    };
    ensure!(from_b == Transient, "b sent {from_b:?}");

    // Changed live to persistent: transient inputs come out persistent.
    let mut flowhub = Client::connect(coordinator.port).await?;
    flowhub
        .send("graph", "changeedge", edge(json!("persistent")), None)
        .await?;
    until_output_in(&t, &feed, &mut out, Transient, Persistent).await?;
    for _ in 0..3 {
        at_once(&t, &feed, &mut out, Transient, Persistent).await?;
    }

    // A mode that is none is refused, in one line, and changes nothing.
    flowhub
        .send("graph", "changeedge", edge(json!("fast")), None)
        .await?;
    let refused = flowhub
        .until("graph", "error", Duration::from_secs(10))
        .await?;
    ensure!(
        refused["payload"]["message"]
            == "edge metadata \"delivery\": unknown delivery mode \"fast\": persistent or transient",
        "{refused}"
    );
    at_once(&t, &feed, &mut out, Transient, Persistent).await?;

    // Without the key the participant decides again: its input's mode.
    flowhub
        .send("graph", "changeedge", edge(Value::Null), None)
        .await?;
    until_output_in(&t, &feed, &mut out, Transient, Transient).await?;
    at_once(&t, &feed, &mut out, Persistent, Persistent).await?;

    t.close().await?;
    a.stop_cleanly(WAIT).await?;
    b.stop_cleanly(WAIT).await?;
    let (code, stderr) = coordinator.process.terminate(WAIT).await?;
    ensure!(code == Some(0), "{stderr}");
    Ok(())
}

/// Reads `consumer` until `last` comes; returns how many before it began
/// with `prefix`.
async fn count_until(consumer: &mut Consumer, last: &[u8], prefix: &[u8]) -> Result<usize> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut counted = 0;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let payload = next_payload(consumer, left).await?;
        if payload == last {
            return Ok(counted);
        }
        counted += usize::from(payload.starts_with(prefix));
    }
}

/// On MQTT an edge saying transient is subscribed QoS 0 by its target
/// participant: what its source sends while the participant is away is not
/// kept for it, while an edge saying nothing (QoS 1) keeps it all. On the
/// shared Mosquitto, with names of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mqtt_a_transient_edge_keeps_nothing_for_a_participant_that_is_away() -> Result<()> {
    const AWAY: usize = 20;
    let url = msgflo_tests::mqtt_url();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let [a, b, c] = ["src", "fast", "safe"].map(|r| format!("{r}_{suffix}"));
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("edges.json");
    let edge = |tgt: &str, metadata: Value| {
        json!({"src": {"process": a, "port": "out"}, "tgt": {"process": tgt, "port": "in"},
               "metadata": metadata})
    };
    let processes: serde_json::Map<String, Value> = [&a, &b, &c]
        .map(|r| (r.clone(), json!({"component": "core/Repeat"})))
        .into_iter()
        .collect();
    std::fs::write(
        &graph,
        json!({"processes": processes, "connections": [
            edge(&b, json!({"delivery": "transient"})), edge(&c, json!({}))]})
        .to_string(),
    )?;
    let coordinator = start(&url, &["--graph", &graph.display().to_string()]).await?;

    let t = client(&url, "edge-delivery-mqtt").await?;
    let (b_id, c_id) = (format!("{b}-1"), format!("{c}-1"));
    // The fast participant's answers, from a connection of their own: an
    // answer left unacked would hold back the acks of the sinks after it.
    let listener = client(&url, "edge-delivery-mqtt-answers").await?;
    let answers = q(&msgflo_participant::protocol::control::send_queue(&b_id))?;
    let tap = listener.tap(&answers).await?;
    let mut b_answers = tap.consumer;
    let out = |role: &str| q(&format!("{role}.OUT"));
    let mut from_a = sink(&t, &out(&a)?, "edge-mqtt.a").await?;
    let mut from_b = sink(&t, &out(&b)?, "edge-mqtt.b").await?;
    let mut from_c = sink(&t, &out(&c)?, "edge-mqtt.c").await?;
    let with_id = |role: &str, id: &str| -> Result<tokio::process::Command> {
        participant(&url, role, "core/Repeat", &["--id", id])
    };
    let start_of = |command: tokio::process::Command, role: String| async move {
        let (child, line) = spawn_ready(command, WAIT).await?;
        ensure!(line.starts_with(&format!("{role} connected")), "{line:?}");
        anyhow::Ok(child)
    };
    let _a = start_of(participant(&url, &a, "core/Repeat", &[])?, a.clone()).await?;
    let fast = start_of(with_id(&b, &b_id)?, b.clone()).await?;
    let safe = start_of(with_id(&c, &c_id)?, c.clone()).await?;

    // The fast participant took its edge transient, and both edges carry.
    let metrics = format!("http://127.0.0.1:{}/metrics", coordinator.port);
    let connected = |found: &std::collections::BTreeMap<String, f64>| {
        found.get("msgflo_links_in_place{kind=\"connectinport\"}") == Some(&2.0)
            && found.get("msgflo_links_in_place{kind=\"delivery\"}") == Some(&1.0)
    };
    prometheus::scrape_until(&metrics, "both edges in place", WAIT, connected).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let answer: Value = serde_json::from_slice(&next_payload(&mut b_answers, left).await?)?;
        if answer["command"] == "setinportdelivery" {
            ensure!(answer["payload"]["delivery"] == "transient", "{answer}");
            break;
        }
    }
    listener.untap(&answers, &tap.queue).await?;
    listener.close().await?;
    let in_a = q(&format!("{a}.IN"))?;
    let through = |marker: &'static str| {
        let (t, in_a) = (t.clone(), in_a.clone());
        async move {
            t.send_to_inport(&in_a, Bytes::from_static(marker.as_bytes()))
                .await
        }
    };
    through("\"first\"").await?;
    for consumer in [&mut from_a, &mut from_b, &mut from_c] {
        count_until(consumer, b"\"first\"", b"").await?;
    }

    // Both away: only the QoS 1 edge keeps what comes meanwhile (Mosquitto
    // keeps no QoS 0 message for a client away unless its
    // `queue_qos0_messages` says so: off by default, and
    // docker/mosquitto.conf leaves it off).
    fast.stop_cleanly(WAIT).await?;
    safe.stop_cleanly(WAIT).await?;
    for n in 0..AWAY {
        t.send_to_inport(&in_a, Bytes::from(format!("\"away {n}\"")))
            .await?;
    }
    through("\"sent\"").await?;
    ensure!(count_until(&mut from_a, b"\"sent\"", b"\"away").await? == AWAY);
    let fast = start_of(with_id(&b, &b_id)?, b.clone()).await?;
    let safe = start_of(with_id(&c, &c_id)?, c.clone()).await?;
    through("\"back\"").await?;
    let kept = count_until(&mut from_c, b"\"back\"", b"\"away").await?;
    ensure!(kept == AWAY, "the QoS 1 edge kept {kept} of {AWAY}");
    let kept = count_until(&mut from_b, b"\"back\"", b"\"away").await?;
    ensure!(kept == 0, "the transient edge kept {kept} of {AWAY}");

    fast.stop_cleanly(WAIT).await?;
    safe.stop_cleanly(WAIT).await?;
    t.close().await?;
    let (code, stderr) = coordinator.process.terminate(WAIT).await?;
    ensure!(code == Some(0), "{stderr}");
    Ok(())
}
