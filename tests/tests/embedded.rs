//! `msgflo --broker embedded:0` runs a whole system from one command: its own
//! MQTT broker, the graph's library participants (plain `msgflo-participant`,
//! found next to `msgflo`), messages across the graph's edge, the FBP
//! protocol, and a clean stop on SIGTERM.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{self, Client, REPLY};
use msgflo_tests::numbered::{number_of, send_numbered};
use msgflo_tests::repeat_pair::RepeatPair;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// How long the participants may take to start and be wired up.
const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_runs_broker_participants_and_protocol() -> Result<()> {
    whole_system(50).await
}

/// The same with 1,000 messages: more than rumqttd's in-flight window (100)
/// per client, which once stalled every participant that published and
/// consumed on one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_cross_the_embedded_broker() -> Result<()> {
    whole_system(1000).await
}

/// Starts the system, sends `messages` through it, stops it with SIGTERM.
async fn whole_system(messages: usize) -> Result<()> {
    binary("msgflo-participant")?; // built next to msgflo, found through PATH
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (a, b) = (format!("a{id}"), format!("b{id}"));
    let dir = tempfile::tempdir()?;
    let files = RepeatPair::write(dir.path(), &a, &b)?;
    let args = files.args()?;
    let coordinator =
        fbp_client::start_with("embedded:0", &args, &[("PATH", "/usr/bin:/bin")]).await?;
    let broker = coordinator
        .embedded_broker
        .clone()
        .context("no embedded broker line")?;
    ensure!(
        broker.starts_with("mqtt://127.0.0.1:"),
        "broker URL {broker}"
    );

    // The FBP protocol answers, and the library's component is listed.
    let mut fbp = Client::connect(coordinator.port).await?;
    fbp.send("runtime", "getruntime", json!({}), None).await?;
    let runtime = fbp.reply(REPLY).await?;
    ensure!(
        runtime["command"] == "runtime" && runtime["payload"]["type"] == "msgflo",
        "runtime:getruntime answered {runtime}"
    );
    fbp.send("component", "list", json!({}), None).await?;
    let mut names = BTreeSet::new();
    loop {
        let message = fbp.next(REPLY).await?;
        match (message["protocol"].as_str(), message["command"].as_str()) {
            (Some("component"), Some("component")) => {
                names.insert(message["payload"]["name"].as_str().unwrap_or("").to_owned());
            }
            (Some("component"), Some("componentsready")) => break,
            _ => {}
        }
    }
    ensure!(
        names.contains("core/Repeat"),
        "component:list gave {names:?}"
    );

    // Messages sent to a's inport come out of b's outport, all of them.
    if let Err(error) = messages_flow(&broker, &a, &b, messages).await {
        let (_, stderr) = coordinator
            .process
            .terminate(Duration::from_secs(15))
            .await?;
        return Err(error.context(format!("coordinator stderr:\n{stderr}")));
    }

    // SIGTERM: the participants are stopped, the coordinator exits 0.
    let (code, stderr) = coordinator
        .process
        .terminate(Duration::from_secs(15))
        .await?;
    ensure!(code == Some(0), "exit code {code:?}; stderr: {stderr}");
    let left = processes_naming(&id)?;
    ensure!(left.is_empty(), "participants left running: {left:?}");
    Ok(())
}

/// Sends `messages` numbered messages to a's inport and waits for all of
/// them at b's outport.
async fn messages_flow(broker: &str, a: &str, b: &str, messages: usize) -> Result<()> {
    let client = msgflo_tests::client(broker, "embedded-test").await?;
    let a_in = QueueName::new(format!("{a}.IN"))?;
    let b_out = QueueName::new(format!("{b}.OUT"))?;
    let mut tap = client.tap(&b_out).await?;
    wait_for_the_edge(&*client, &a_in, &mut tap.consumer).await?;
    let sender = send_numbered(client.clone(), a_in, messages, 200);
    let mut seen = BTreeSet::new();
    while seen.len() < messages {
        let delivery = tokio::time::timeout(SETTLE, tap.consumer.next())
            .await
            .with_context(|| format!("{} of {messages} came out", seen.len()))?
            .context("tap ended")?;
        if let Ok(n) = number_of(&delivery.payload) {
            if seen.insert(n) {
                sender.came_out();
            }
        }
        delivery.ack().await?;
    }
    sender.finish().await?;
    client.close().await?;

    Ok(())
}

/// Sends probes to `inport` until one comes out of the tap: the participants
/// have started and the edge is bound.
async fn wait_for_the_edge(
    client: &dyn msgflo_participant::transport::Transport,
    inport: &QueueName,
    tap: &mut msgflo_participant::transport::Consumer,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        client
            .send_to_inport(inport, bytes::Bytes::from_static(b"\"probe\""))
            .await?;
        if let Ok(Some(delivery)) =
            tokio::time::timeout(Duration::from_millis(200), tap.next()).await
        {
            delivery.ack().await?;
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no probe came through {inport} within {SETTLE:?}"
        );
    }
}

/// Pids of processes whose command line mentions `text`.
fn processes_naming(text: &str) -> Result<Vec<u32>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        // Processes may end while we look.
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(text) {
                found.push(pid);
            }
        }
    }
    Ok(found)
}
