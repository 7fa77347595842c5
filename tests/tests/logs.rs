//! Logs are for where they go: no terminal colour codes in a pipe or file —
//! neither the coordinator's own lines nor its participants' forwarded ones,
//! even from a participant that colours its output — and with
//! `--log-format json` every stderr line is one JSON object, forwarded
//! participant lines included (with their role). On a broker of the
//! coordinator's own (`--broker embedded:0`).

use anyhow::{ensure, Context, Result};
use msgflo_tests::fbp_client::start_with;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A graph of one node whose participant writes a red line on stderr before
/// it starts, and a library that starts it; in `dir`.
fn colourful(dir: &Path) -> Result<[String; 2]> {
    let graph = dir.join("colourful.fbp");
    std::fs::write(&graph, "loud(Loud)\n")?;
    let library = dir.join("library.json");
    let command = r"printf '\033[31mred\033[0m\n' >&2; msgflo-participant --name #ROLE --component core/Repeat";
    let text = serde_json::json!({"components": {"Loud": command}}).to_string();
    std::fs::write(&library, text)?;
    Ok([graph, library].map(|p| p.display().to_string()))
}

/// Runs the coordinator with `extra` arguments and RUST_LOG=info until its
/// participant is connected; returns everything it wrote on stderr.
async fn coordinator_stderr(extra: &[&str]) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let [graph, library] = colourful(dir.path())?;
    let mut args = vec!["--graph", &graph, "--library", &library];
    args.extend_from_slice(extra);
    let mut coordinator = start_with("embedded:0", &args, &[("RUST_LOG", "info")]).await?;
    let broker = coordinator.embedded_broker.clone().context("embedded")?;
    let ready = format!("[loud] loud connected to {broker}");
    coordinator.process.lines_until(&ready, WAIT).await?;
    let (code, stderr) = coordinator.process.terminate(WAIT).await?;
    ensure!(code == Some(0), "msgflo exit {code:?}: {stderr}");
    Ok(stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_in_a_pipe_carry_no_colour_codes() -> Result<()> {
    let stderr = coordinator_stderr(&[]).await?;
    ensure!(
        !stderr.contains('\x1b') && !stderr.contains("\\x1b"),
        "colour codes: {stderr:?}"
    );
    ensure!(stderr.lines().any(|l| l == "[loud] red"), "{stderr}");
    ensure!(
        stderr
            .lines()
            .any(|l| l.starts_with("[loud] ") && l.contains(" INFO ")),
        "the participant's own log is forwarded: {stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_forwarded_ones_with_their_role() -> Result<()> {
    let stderr = coordinator_stderr(&["--log-format", "json"]).await?;
    let events = stderr
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).with_context(|| format!("not JSON: {l:?}")))
        .collect::<Result<Vec<_>>>()?;
    ensure!(events.iter().all(|e| e["level"].is_string()), "{stderr}");
    ensure!(
        events
            .iter()
            .any(|e| e["role"] == "loud" && e["message"] == "red"),
        "{stderr}"
    );
    ensure!(
        events
            .iter()
            .any(|e| e["role"] == "loud" && e["level"] == "INFO" && e["target"].is_string()),
        "the participant logs JSON too, and it is forwarded with its role: {stderr}"
    );
    Ok(())
}
