//! Watching edges leaves nothing behind: a client starts and stops the
//! network 100 times, watching all its edges each time, and afterwards the
//! broker has exactly the consumers, channels and queues it had before the
//! first start — read from RabbitMQ (`rabbitmqctl`, in a vhost of the
//! test's own). While the network runs, its taps are there: this could
//! fail. The counts are printed
//! (`cargo test -p msgflo-tests --test tap_cycles -- --nocapture`;
//! BENCHMARKS.md).

use anyhow::{ensure, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::client;
use msgflo_tests::fbp_client::{start, Client};
use msgflo_tests::vhost::Vhost;
use serde_json::json;
use std::time::{Duration, Instant};

const CYCLES: usize = 100;
const WAIT: Duration = Duration::from_secs(5);

/// What the broker has in the vhost.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    consumers: usize,
    channels: usize,
    queues: Vec<String>,
}

fn counts(vhost: &Vhost) -> Result<Counts> {
    let mut queues = vhost.queues()?;
    queues.sort();
    Ok(Counts {
        consumers: vhost.consumers()?,
        channels: vhost.channels()?,
        queues,
    })
}

fn taps(counts: &Counts) -> usize {
    counts
        .queues
        .iter()
        .filter(|q| q.starts_with(".tap."))
        .count()
}

/// A participant `role` announced by hand: one inport `in`, one outport
/// `out`, with msgflo's default queue names.
fn participant(role: &str) -> Bytes {
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": format!("{role}-1"), "role": role, "component": "test/Pass", "label": "", "icon": "",
        "inports": [{"id": "in", "queue": format!("{role}.IN")}],
        "outports": [{"id": "out", "queue": format!("{role}.OUT")}]}});
    Bytes::from(message.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_cycles_leave_no_consumer_channel_or_queue() -> Result<()> {
    let vhost = Vhost::new("tap-cycles")?;
    let coordinator = start(vhost.url(), &[]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    let t = client(vhost.url(), "tap-cycles").await?;
    for role in ["a", "b", "c"] {
        // Its queues, as the participant itself would declare them.
        t.declare_inport(&QueueName::new(format!("{role}.IN"))?)
            .await?;
        t.declare_outport(&QueueName::new(format!("{role}.OUT"))?)
            .await?;
        t.announce(participant(role)).await?;
    }
    c.send("graph", "clear", json!({"id": "g", "main": true}), None)
        .await?;
    c.until("graph", "clear", WAIT).await?;
    for node in ["a", "b", "c"] {
        let payload = json!({"id": node, "component": "test/Pass", "graph": "g"});
        c.send("graph", "addnode", payload, None).await?;
        c.until("graph", "addnode", WAIT).await?;
    }
    for (src, tgt) in [("a", "b"), ("b", "c")] {
        let edge = json!({"src": {"node": src, "port": "out"}, "tgt": {"node": tgt, "port": "in"}, "graph": "g"});
        c.send("graph", "addedge", edge, None).await?;
        c.until("graph", "addedge", WAIT).await?;
    }
    // The edges' queues exist from here on; what the cycles add must go.
    c.send("network", "getstatus", json!({"graph": "g"}), None)
        .await?;
    c.until("network", "status", WAIT).await?;
    let before = settled(&vhost, |_| true).await?;
    ensure!(taps(&before) == 0, "taps before any start: {before:?}");

    let mut most_taps = 0;
    let mut while_running = None;
    for cycle in 0..CYCLES {
        c.send("network", "start", json!({"graph": "g"}), None)
            .await?;
        c.until("network", "started", WAIT).await?;
        if cycle == 0 || cycle == CYCLES - 1 {
            // The edges a -> b and b -> c are watched: a.OUT and b.OUT.
            let running = settled(&vhost, |counts| taps(counts) >= 2).await?;
            most_taps = most_taps.max(taps(&running));
            while_running = Some(running);
        }
        c.send("network", "stop", json!({"graph": "g"}), None)
            .await?;
        c.until("network", "stopped", WAIT).await?;
    }
    let after = settled(&vhost, |counts| counts == &before).await?;
    eprintln!(
        "{CYCLES} start/stop cycles watched: before {} consumers, {} channels, {} queues; \
         while running (last cycle) {} consumers, {} channels, {} queues ({most_taps} taps); \
         after {} consumers, {} channels, {} queues",
        before.consumers,
        before.channels,
        before.queues.len(),
        while_running.as_ref().map_or(0, |c| c.consumers),
        while_running.as_ref().map_or(0, |c| c.channels),
        while_running.as_ref().map_or(0, |c| c.queues.len()),
        after.consumers,
        after.channels,
        after.queues.len()
    );
    ensure!(most_taps >= 2, "the network's edges were never tapped");
    ensure!(
        after == before,
        "left over after {CYCLES} cycles: before {before:?}, after {after:?}"
    );
    drop(coordinator);
    drop(vhost);
    Ok(())
}

/// The broker's counts once `done` holds for them (ending a tap and
/// closing its channel take a moment after the reply), or after 15 s.
async fn settled(vhost: &Vhost, done: impl Fn(&Counts) -> bool) -> Result<Counts> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = counts(vhost)?;
        if done(&now) || Instant::now() > deadline {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
