//! `MSGFLO_DISCOVERY_QUEUE` keeps deployments that share a broker apart: a
//! coordinator and a participant on the discovery topic `fbp-<uuid>` see
//! each other and nothing of what announces itself on `fbp` — on the shared
//! Mosquitto, where other tests' participants come and go all the time.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::discovery::Participant;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start_with, Client};
use msgflo_tests::process::spawn_ready;
use msgflo_tests::{client, mqtt_url, unique};
use serde_json::json;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sees_only_its_own_discovery_queue() -> Result<()> {
    let broker = mqtt_url();
    let queue = unique("fbp").replace('.', "-");
    let env = [("MSGFLO_DISCOVERY_QUEUE", queue.as_str())];
    let coordinator = start_with(&broker, &[], &env).await?;
    let mut c = Client::connect(coordinator.port).await?;
    let watcher = client(&broker, "discovery-queue").await?;
    let mut on_fbp = watcher.watch_discovery().await?;

    let (ours, theirs) = (
        unique("ours").replace('.', "-"),
        unique("theirs").replace('.', "-"),
    );
    let participant = |role: &str, component: &str, own_queue: bool| {
        let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
        command
            .args([
                "--name",
                role,
                "--component",
                component,
                "--broker",
                &broker,
            ])
            .env_remove("MSGFLO_DISCOVERY_QUEUE")
            .env_remove("RUST_LOG");
        if own_queue {
            command.env("MSGFLO_DISCOVERY_QUEUE", &queue);
        }
        anyhow::Ok(command)
    };
    let (_ours, _) = spawn_ready(participant(&ours, "core/Repeat", true)?, WAIT).await?;
    let (_theirs, _) = spawn_ready(participant(&theirs, "core/Output", false)?, WAIT).await?;

    // Theirs announced itself on `fbp`...
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let delivery = tokio::time::timeout(left, on_fbp.next())
            .await
            .context("no announcement of theirs on fbp")?
            .context("the watcher ended")?;
        let role = Participant::decode(&delivery.payload).map(|p| p.role.to_string());
        delivery.ack().await?;
        if role.ok().as_deref() == Some(theirs.as_str()) {
            break;
        }
    }
    // ... ours on the coordinator's queue: the coordinator lists ours and,
    // of everything on the shared broker, nothing else.
    let deadline = Instant::now() + WAIT;
    let listed = loop {
        c.send("component", "list", json!({}), None).await?;
        let mut names = Vec::new();
        loop {
            let frame = c.next(WAIT).await?;
            match frame["command"].as_str() {
                Some("component") => {
                    names.push(frame["payload"]["name"].as_str().unwrap_or("").to_owned())
                }
                Some("componentsready") => break,
                _ => {}
            }
        }
        if names.iter().any(|n| n == "core/Repeat") || Instant::now() > deadline {
            break names;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut listed = listed;
    listed.sort();
    listed.dedup();
    ensure!(
        listed == ["core/Repeat", "msgflo/PubSub", "msgflo/RoundRobin"],
        "the coordinator on {queue} lists {listed:?}"
    );
    Ok(())
}
