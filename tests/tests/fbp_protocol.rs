//! The public FBP protocol conformance suite (npm `fbp-protocol@0.9.8`, its
//! `fbp-test`) against the `msgflo` coordinator on real RabbitMQ, with
//! `core/Repeat` and `core/Drop` as real participants (`msgflo-participant`)
//! started from a library. The suite is installed at test time into
//! `.cache/npm/` (never committed).

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::{amqp_url, npm};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// A port nobody listens on now.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fbp_protocol_suite_passes_22_of_22() -> Result<()> {
    let suite = npm::install("fbp-protocol", "0.9.8")?;
    let home = tempfile::tempdir()?;
    let participant = binary("msgflo-participant")?;
    let library = home.path().join("library.json");
    let component =
        |name: &str| format!("{} --name #ROLE --component {name}", participant.display());
    std::fs::write(
        &library,
        serde_json::to_vec_pretty(&serde_json::json!({
            "components": {
                "core/Repeat": component("core/Repeat"),
                "core/Drop": component("core/Drop"),
            }
        }))?,
    )?;
    let port = free_port()?;
    let command = format!(
        "exec {} --host localhost --port {port} --broker '{}' --library {}",
        binary("msgflo")?.display(),
        amqp_url(),
        library.display()
    );
    std::fs::write(
        home.path().join("fbp-config.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "name": "msgflo",
            "command": command,
            "host": "localhost",
            "port": port,
            "collection": "core",
            "version": "0.7",
        }))?,
    )?;
    let mut test = Command::new("node");
    test.arg(suite.join("node_modules/fbp-protocol/bin/fbp-test"))
        .current_dir(&suite)
        .env("PROJECT_HOME", home.path())
        .env_remove("FBP_PROTOCOL_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), test.output())
        .await
        .context("fbp-test did not finish within 180 s")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // mocha's summary: "  22 passing (3s)", "  1 failing".
    let count = |word: &str| -> usize {
        stdout
            .lines()
            .find_map(|line| {
                let mut tokens = line.split_whitespace();
                let n = tokens.next()?.parse().ok()?;
                (tokens.next()? == word).then_some(n)
            })
            .unwrap_or(0)
    };
    let (passing, failing) = (count("passing"), count("failing"));
    ensure!(
        passing == 22 && failing == 0 && output.status.success(),
        "fbp-test: {passing} passing, {failing} failing\n{stdout}\n{stderr}"
    );
    Ok(())
}
