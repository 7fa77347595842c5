//! `msgflo-bench --quick` runs every part against the real brokers and prints
//! the full table (numbers from a debug build and tiny runs mean nothing; the
//! benchmark itself is run by hand, see BENCHMARKS.md). The coordinator part
//! uses an embedded broker, so it takes no discovery messages from the
//! coordinators of other tests on the shared `fbp` queue.

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;

#[test]
fn quick_benchmark_prints_every_row() -> Result<()> {
    binary("msgflo-participant")?;
    binary("msgflo")?;
    let amqp = std::env::var("MSGFLO_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let mqtt =
        std::env::var("MSGFLO_TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into());
    let output = std::process::Command::new(binary("msgflo-bench")?)
        .args(["--quick", "--coordinator-broker", "embedded:0"])
        .args(["--amqp", &amqp, "--mqtt", &mqtt])
        .output()
        .context("cannot run msgflo-bench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "msgflo-bench failed: {stderr}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ")).collect();
    for name in [
        "AMQP raw",
        "AMQP one hop",
        "AMQP three hops",
        "three hops latency p99 at",
        "participant peak RSS (AMQP",
        "MQTT raw",
        "MQTT one hop",
        "MQTT one hop, transient edge in",
        "coordinator: discovery (101 msgs, 51 participants)",
        "coordinator: component:list",
        "coordinator RSS",
    ] {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| {name}")))
            .with_context(|| format!("no row {name:?} in:\n{stdout}"))?;
        let median = row.split('|').nth(2).unwrap_or("").trim();
        let value: f64 = median
            .replace(',', "")
            .parse()
            .with_context(|| format!("row {row}"))?;
        ensure!(value > 0.0, "row {row}");
    }
    Ok(())
}

/// `msgflo-bench --quick --only calls`: five participant processes (in a
/// vhost of their own, with a discovery queue of their own) answer `health`
/// at once, and one SIGSTOPped is named at the deadline.
#[test]
fn quick_calls_benchmark_prints_its_rows() -> Result<()> {
    binary("msgflo-participant")?;
    let vhost = msgflo_tests::vhost::Vhost::new("bench-calls")?;
    let output = std::process::Command::new(binary("msgflo-bench")?)
        .args(["--quick", "--only", "calls", "--calls-broker", vhost.url()])
        .env(
            "MSGFLO_DISCOVERY_QUEUE",
            msgflo_tests::unique("bench-calls-fbp"),
        )
        .output()
        .context("cannot run msgflo-bench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "msgflo-bench failed: {stderr}");
    for name in [
        "calls: health of 1 participant, p50",
        "calls: health of all 5, p99",
        "calls: all 5, one SIGSTOPped: ended (deadline 2000 ms)",
    ] {
        ensure!(
            stdout.lines().any(|l| l.starts_with(&format!("| {name}"))),
            "no row {name:?} in:\n{stdout}\n{stderr}"
        );
    }
    Ok(())
}
