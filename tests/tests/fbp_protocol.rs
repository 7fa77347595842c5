//! The public FBP protocol conformance suite (npm `fbp-protocol@0.9.8`, its
//! `fbp-test`) against the `msgflo` coordinator on real RabbitMQ, with
//! `core/Repeat` and `core/Drop` as real participants (`msgflo-participant`)
//! started from a library. The suite is installed at test time into
//! `.cache/npm/` (never committed).
//!
//! One of its 22 cases fails on purpose: after its test graph has drained,
//! the suite expects noflo's run-to-completion status (`running: false,
//! started: true`), while a started msgflo network runs until it is stopped
//! and says `running: true`, as msgflo 0.12.3 does and as noflo-ui needs to
//! show it running (see `coordinator/src/live/mod.rs`). The test holds that
//! it is exactly that case, for exactly that reason.

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::process::run_logged;
use msgflo_tests::{amqp_url, npm};
use std::time::Duration;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fbp_protocol_suite_passes_all_but_its_run_to_completion_status() -> Result<()> {
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
        .env_remove("FBP_PROTOCOL_SECRET");
    let (status, stdout, stderr) = run_logged(test, home.path(), Duration::from_secs(180))
        .await
        .context("fbp-test")?;
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
        passing == 21 && failing == 1,
        "fbp-test: {passing} passing, {failing} failing\n{stdout}\n{stderr}"
    );
    // mocha's report of the one failure: its title, then the diff of the
    // status payload ("-" is what the runtime sent, "+" what was expected).
    let report = stdout
        .split_once("1 failing")
        .map_or("", |(_, report)| report);
    let diff: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("-  ") || l.starts_with("+  "))
        .collect();
    ensure!(
        report.contains("should provide a 'started' status")
            && diff == ["-  \"running\": true", "+  \"running\": false"]
            && !status.success(),
        "fbp-test failed otherwise than on the status of a started network:\n{stdout}\n{stderr}"
    );
    Ok(())
}
