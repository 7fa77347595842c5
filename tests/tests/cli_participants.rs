//! `msgflo-participants` lists a live participant: asked of a running
//! coordinator (the `msgflo:participants` FBP extension, with its secret),
//! and heard from discovery on the broker (MQTT, and AMQP without taking
//! the `fbp` messages away from a coordinator).

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{no_coordinator, start, Client, REPLY};
use msgflo_tests::process::{spawn_ready, Spawned};
use msgflo_tests::tools::run;
use msgflo_tests::{amqp_url, mqtt_url, unique};
use serde_json::{json, Value};
use std::time::Duration;

/// A `core/Repeat` participant of a new role announcing itself every
/// `period`/2.2 seconds; returns it with its role.
async fn participant(broker: &str, period: &str) -> Result<(Spawned, String)> {
    let role = unique("lister").replace('.', "-");
    let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
    command
        .args([
            "--name",
            &role,
            "--component",
            "core/Repeat",
            "--broker",
            broker,
        ])
        .env("MSGFLO_DISCOVERY_PERIOD", period)
        .env_remove("RUST_LOG");
    let (process, _ready) = spawn_ready(command, Duration::from_secs(30)).await?;
    Ok((process, role))
}

/// The entry of `role` in a `--json` listing.
fn entry_of(listing: &str, role: &str) -> Result<Value> {
    let all: Vec<Value> = serde_json::from_str(listing).with_context(|| listing.to_owned())?;
    all.into_iter()
        .find(|p| p["role"] == role)
        .with_context(|| format!("{role} not listed: {listing}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_lists_its_participants() -> Result<()> {
    let broker = amqp_url();
    let coordinator = start(&broker, &["--secret", "s3"]).await?;
    let runtime = format!("ws://127.0.0.1:{}", coordinator.port);
    // A client that has shown the secret is told when a participant appears.
    let mut c = Client::connect(coordinator.port).await?;
    c.send("runtime", "getruntime", json!({}), Some("s3"))
        .await?;
    c.until("runtime", "runtime", REPLY).await?;
    let (process, role) = participant(&broker, "60").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let m = c.until("component", "component", left).await?;
        if m["payload"]["name"] == "core/Repeat" {
            break;
        }
    }
    let args = ["--runtime", &runtime, "--secret", "s3", "--json"];
    let (code, stdout, stderr) = run("msgflo-participants", &args).await?;
    ensure!(code == Some(0), "{stderr}");
    let entry = entry_of(&stdout, &role)?;
    ensure!(entry["component"] == "core/Repeat", "{entry}");
    ensure!(
        entry["inports"][0]["queue"] == format!("{role}.IN"),
        "{entry}"
    );
    ensure!(
        entry["outports"][0]["queue"] == format!("{role}.OUT"),
        "{entry}"
    );
    ensure!(
        entry["last_seen_ms_ago"]
            .as_u64()
            .is_some_and(|ms| ms < 60_000),
        "{entry}"
    );

    // The table names it too.
    let args = ["--runtime", &runtime, "--secret", "s3"];
    let (code, table, stderr) = run("msgflo-participants", &args).await?;
    ensure!(
        code == Some(0) && table.starts_with("ROLE "),
        "{table} {stderr}"
    );
    ensure!(
        table
            .lines()
            .any(|l| l.starts_with(&role) && l.contains(&format!("in={role}.IN"))),
        "{table}"
    );

    // Without the secret: the coordinator's error, one line, exit 1.
    let (code, _, stderr) = run("msgflo-participants", &["--runtime", &runtime]).await?;
    ensure!(
        code == Some(1) && stderr.contains("Invalid or missing secret"),
        "{stderr}"
    );
    ensure!(stderr.lines().count() == 1, "{stderr}");

    // Another msgflo command is an error, never silence.
    c.send("msgflo", "nosuch", json!({}), Some("s3")).await?;
    let reply = c.until("msgflo", "error", REPLY).await?;
    ensure!(
        reply["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nosuch")),
        "{reply}"
    );
    process.terminate(Duration::from_secs(10)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_on_mqtt_is_listened_to_for_a_while() -> Result<()> {
    let broker = mqtt_url();
    // Announcing every second or so.
    let (process, role) = participant(&broker, "2").await?;
    let args = ["--broker", &broker, "--listen", "3", "--json"];
    let (code, stdout, stderr) = run("msgflo-participants", &args).await?;
    ensure!(code == Some(0), "{stderr}");
    // Not silent while it listens: each participant is named as it is heard.
    ensure!(
        stderr
            .lines()
            .filter(|l| l.starts_with(&format!("heard {role} (")))
            .count()
            == 1,
        "{stderr}"
    );
    let entry = entry_of(&stdout, &role)?;
    ensure!(
        entry["inports"][0]["queue"] == format!("{role}.IN"),
        "{entry}"
    );
    ensure!(
        entry["first_seen_ms_ago"].as_u64() >= entry["last_seen_ms_ago"].as_u64(),
        "{entry}"
    );
    process.terminate(Duration::from_secs(10)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_on_amqp_puts_the_discovery_messages_back() -> Result<()> {
    let broker = amqp_url();
    // No coordinator of this binary takes `fbp` messages meanwhile.
    let _alone = no_coordinator().await;
    let (process, role) = participant(&broker, "60").await?;
    let args = ["--broker", &broker, "--listen", "1", "--json"];
    let (code, stdout, stderr) = run("msgflo-participants", &args).await?;
    ensure!(code == Some(0), "{stderr}");
    entry_of(&stdout, &role)?;
    // The announcement is still on `fbp` for a coordinator: heard again.
    let (code, again, stderr) = run("msgflo-participants", &args).await?;
    ensure!(code == Some(0), "{stderr}");
    entry_of(&again, &role).context("the first listen took the message away")?;
    process.terminate(Duration::from_secs(10)).await?;
    Ok(())
}
