//! `bench/outside/run`, the amqplib view from outside (BENCHMARKS.md),
//! kept working: a short run against the shared RabbitMQ through the debug
//! `msgflo-participant` measures both flows and prints their ratio. It
//! installs amqplib from npm into `.cache/npm` on first use.

use anyhow::{ensure, Context, Result};
use msgflo_tests::{amqp_url, bins, workspace_root};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_amqplib_view_from_outside_measures_both_flows() -> Result<()> {
    let participant = bins::binary("msgflo-participant")?;
    let mut command = tokio::process::Command::new(workspace_root().join("bench/outside/run"));
    command
        .args(["--runs", "1", "--messages", "300", "--window", "100"])
        .args(["--amqp", &amqp_url()])
        .arg("--participant")
        .arg(&participant)
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .context("bench/outside/run did not finish in 180 s")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "failed: {stdout}{stderr}");
    let run = stdout
        .lines()
        .find(|l| l.starts_with("run 1: raw "))
        .with_context(|| format!("no run line: {stdout}"))?;
    let numbers: Vec<f64> = run
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|word| word.parse().ok())
        .collect();
    // "run 1: raw R msg/s, one hop H msg/s, ratio X"
    ensure!(numbers.len() == 4, "{run}");
    ensure!(
        numbers[1] > 0.0 && numbers[2] > 0.0 && numbers[3] > 0.0,
        "{run}"
    );
    ensure!(stdout.contains("median ratio "), "{stdout}");
    Ok(())
}
