//! A graph node that nothing will serve (its component is in no library) is
//! not silent: the coordinator warns at the default log level, tells FBP
//! clients (`network:output`), and `msgflo-participants` lists it as
//! pending with the reason. On a broker of the coordinator's own
//! (`--broker embedded:0`), so no other test's participants are seen.

use anyhow::{ensure, Result};
use msgflo_tests::fbp_client::{start, Client, REPLY};
use msgflo_tests::tools::run;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_nothing_serves_is_a_warning_and_listed_as_pending_with_why() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("lonely.fbp");
    std::fs::write(
        &graph,
        "lonely(nowhere/Found) OUT -> IN other(nowhere/Else)\n",
    )?;
    let coordinator = start("embedded:0", &["--graph", &graph.display().to_string()]).await?;
    let runtime = format!("ws://127.0.0.1:{}", coordinator.port);

    let (code, table, stderr) = run("msgflo-participants", &["--runtime", &runtime]).await?;
    ensure!(code == Some(0), "{stderr}");
    let why = "waiting for a participant started elsewhere: \
               no library to start nowhere/Found from (msgflo --library FILE)";
    ensure!(
        table.contains("PENDING NODE  COMPONENT      WHY")
            && table.contains(&format!("lonely        nowhere/Found  {why}")),
        "{table}"
    );

    let args = ["--runtime", &runtime, "--json"];
    let (code, listing, stderr) = run("msgflo-participants", &args).await?;
    ensure!(
        code == Some(0) && listing.trim() == "[]",
        "{listing} {stderr}"
    );
    ensure!(
        stderr.contains(&format!(
            "pending: graph node lonely (nowhere/Found): {why}"
        )),
        "{stderr}"
    );

    // A node added from an FBP client: the client is told.
    let mut client = Client::connect(coordinator.port).await?;
    let node = json!({"id": "late", "component": "nowhere/Late", "graph": "lonely"});
    client.send("graph", "addnode", node, None).await?;
    let told = client.until("network", "output", REPLY).await?;
    ensure!(
        told["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("graph node late (nowhere/Late) waits for")),
        "{told}"
    );

    // The warnings, at the default log level.
    let (code, stderr) = coordinator
        .process
        .terminate(Duration::from_secs(20))
        .await?;
    ensure!(code == Some(0), "{stderr}");
    for node in [
        "lonely (nowhere/Found)",
        "other (nowhere/Else)",
        "late (nowhere/Late)",
    ] {
        ensure!(
            stderr
                .lines()
                .any(|l| l.contains(" WARN ") && l.contains(&format!("graph node {node} waits"))),
            "no warning for {node}: {stderr}"
        );
    }
    Ok(())
}
