//! A delivery mode per edge (issue 20) through a real coordinator on real
//! RabbitMQ, in a vhost of its own: a graph edge whose metadata says
//! `"delivery": "transient"` makes its source's outport publish transient
//! whatever its input came in (`setdelivery`); `changeedge` from an FBP
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
use msgflo_tests::{client, prometheus, vhost::Vhost};
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
