//! The order pipeline of `examples/pipeline/` end to end on RabbitMQ, run
//! the way a user runs it: the coordinator, the participants started by
//! `msgflo-setup --participants` from the example's library (plus two more
//! workers of role `parse`), 10,000 orders sent with `msgflo-send-message
//! --file`, every one of them received with `msgflo-dump-message`, the
//! unreadable lines dead-lettered to `rejected`, the work shared round-robin
//! between the three workers, the running totals in msgflo-setup's output,
//! and the live participants listed by `msgflo-participants`.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::graph::{Connection, Graph};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::{binary, path_with_binaries};
use msgflo_tests::fbp_client::start;
use msgflo_tests::process::{run_to_end, spawn_ready, Spawned};
use msgflo_tests::tools::start_setup;
use msgflo_tests::{amqp_url, client, workspace_root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

const ORDERS: usize = 10_000;

/// The example graph with every role renamed `ROLE_<suffix>`, so the test's
/// queues are its own; written as JSON into `dir`.
fn renamed_pipeline(dir: &Path, suffix: &str) -> Result<(PathBuf, impl Fn(&str) -> String)> {
    let text = std::fs::read_to_string(workspace_root().join("examples/pipeline/pipeline.fbp"))?;
    let graph = msgflo_participant::protocol::dsl::parse(&text).context("pipeline.fbp")?;
    let name = {
        let suffix = suffix.to_owned();
        move |role: &str| format!("{role}_{suffix}")
    };
    let mut renamed = Graph {
        processes: Default::default(),
        connections: Vec::new(),
        ..graph.clone()
    };
    for (role, process) in &graph.processes {
        renamed.processes.insert(name(role), process.clone());
    }
    for connection in &graph.connections {
        let mut connection = connection.clone();
        match &mut connection {
            Connection::Edge(edge) => {
                edge.src.process = name(&edge.src.process);
                edge.tgt.process = name(&edge.tgt.process);
            }
            Connection::Initial(iip) => iip.tgt.process = name(&iip.tgt.process),
        }
        renamed.connections.push(connection);
    }
    let path = dir.join("pipeline.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&renamed)?)?;
    Ok((path, name))
}

/// An order line for order `i`, and its total in cents.
fn order(i: usize) -> (String, u64) {
    let items = [("widget", 250), ("gadget", 999), ("sprocket", 75)];
    let (item, cents) = items[i % items.len()];
    let quantity = (i % 5 + 1) as u64;
    let price = format!("{}.{:02}", cents / 100, cents % 100);
    (format!("\"{item},{quantity},{price}\""), quantity * cents)
}

async fn start_worker(role: &str, path: &str) -> Result<Spawned> {
    let mut command = Command::new(binary("msgflo-examples")?);
    command
        .args(["--name", role, "--component", "example/ParseOrder"])
        .args(["--broker", &amqp_url()])
        .env("PATH", path);
    let (worker, ready) = spawn_ready(command, Duration::from_secs(20)).await?;
    ensure!(ready.contains("connected to"), "{ready}");
    Ok(worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_orders_through_the_example_pipeline() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let (graph, role) = renamed_pipeline(dir.path(), &suffix)?;
    let path = path_with_binaries()?;
    let broker = amqp_url();

    // Where the test reads the results: its own queues bound to the outports
    // of totals and rejected (declared before anything is sent).
    let test = client(&broker, "pipeline-test").await?;
    let sinks = [role("totals"), role("rejected")].map(|r| {
        (
            QueueName::new(format!("{r}.OUT")).expect("queue name"),
            QueueName::new(format!("{r}.sink")).expect("queue name"),
        )
    });
    for (outport, sink) in &sinks {
        test.declare_outport(outport).await?;
        test.declare_inport(sink).await?;
        test.bind(outport, sink).await?;
    }

    let coordinator = start(&broker, &["--graph", &graph.display().to_string()]).await?;

    let library = workspace_root().join("examples/pipeline/package.json");
    let mut setup = Command::new(binary("msgflo-setup")?);
    setup
        .arg(&graph)
        .args(["--broker", &broker, "--participants", "--forever"])
        .arg("--library")
        .arg(&library)
        .env("PATH", &path);
    let (mut setup, printed) = start_setup(setup, Duration::from_secs(60)).await?;
    let printed = printed.join("\n");
    for expected in [
        format!(
            "PUBSUB: \t {0}.OUT -> {1}.IN",
            role("parse"),
            role("totals")
        ),
        format!(
            "ROUNDROBIN:\t {0}.OUT -> {1}.IN",
            role("ingest"),
            role("parse")
        ),
        format!(
            "DEADLETTER:\t {0}.IN -> {1}.IN",
            role("parse"),
            role("rejected")
        ),
    ] {
        ensure!(
            printed.contains(&expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    let _workers = [
        start_worker(&role("parse"), &path).await?,
        start_worker(&role("parse"), &path).await?,
    ];

    // 10,000 orders and two lines no worker can read.
    let mut lines = Vec::new();
    let mut revenue = 0;
    for i in 0..ORDERS {
        let (line, cents) = order(i);
        lines.push(line);
        revenue += cents;
    }
    lines.insert(17, "\"gadget,many,9.99\"".into());
    lines.insert(4242, "{\"not\": \"a line\"}".into());
    let file = dir.path().join("orders.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n")?;
    let mut send = Command::new(binary("msgflo-send-message")?);
    send.args([
        "--broker",
        &broker,
        "--queue",
        &format!("{}.IN", role("ingest")),
    ])
    .arg("--file")
    .arg(&file);
    let (code, out, err) = run_to_end(send, Duration::from_secs(120)).await?;
    ensure!(code == Some(0), "msgflo-send-message failed: {err}");
    ensure!(out.contains(&(ORDERS + 2).to_string()), "report: {out}");

    let dump = |queue: &QueueName, amount: usize| -> Result<Command> {
        let mut dump = Command::new(binary("msgflo-dump-message")?);
        dump.args(["--broker", &broker, "--queue", queue.as_str()])
            .args(["--amount", &amount.to_string()]);
        Ok(dump)
    };
    let (code, out, err) = run_to_end(dump(&sinks[0].1, ORDERS)?, Duration::from_secs(180)).await?;
    ensure!(code == Some(0), "msgflo-dump-message failed: {err}");
    let totals: Vec<Value> = serde_json::from_str(out.trim()).context("dump prints an array")?;
    ensure!(totals.len() == ORDERS, "{} totals", totals.len());
    let last = totals
        .iter()
        .max_by_key(|t| t["orders"].as_u64().unwrap_or(0))
        .context("totals")?;
    ensure!(last["orders"] == ORDERS as u64, "{last}");
    ensure!(
        last["revenue_cents"] == revenue,
        "{last} (expected {revenue})"
    );
    let workers = last["workers"].as_object().context("workers")?;
    ensure!(
        workers.len() == 3 && workers.values().all(|n| n.as_u64() > Some(0)),
        "the work was not shared by the three parse participants: {last}"
    );

    // The running totals show in msgflo-setup's output (it forwards its
    // participants' by default), as the README says: `[report] {...}`.
    let report = format!("[{}] ", role("report"));
    let all_orders = format!("\"orders\":{ORDERS},");
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), setup.stdout.next_line())
            .await
            .context("no final total in msgflo-setup's output")??
            .context("msgflo-setup's output ended")?;
        if line.starts_with(&report) && line.contains(&all_orders) {
            break;
        }
    }

    let (code, out, err) = run_to_end(dump(&sinks[1].1, 2)?, Duration::from_secs(60)).await?;
    ensure!(
        code == Some(0),
        "msgflo-dump-message of the rejected failed: {err}"
    );
    ensure!(
        out.contains("gadget,many,9.99") && out.contains("a line"),
        "{out}"
    );

    let mut list = Command::new(binary("msgflo-participants")?);
    list.args(["--runtime", &format!("ws://127.0.0.1:{}", coordinator.port)])
        .arg("--json");
    let (code, out, err) = run_to_end(list, Duration::from_secs(30)).await?;
    ensure!(code == Some(0), "msgflo-participants failed: {err}");
    let listed: Value = serde_json::from_str(out.trim()).context("--json")?;
    let text = listed.to_string();
    for r in ["ingest", "parse", "totals", "audit", "report", "rejected"] {
        ensure!(text.contains(&role(r)), "{} not listed: {text}", role(r));
    }

    test.close().await?;
    setup.stop_cleanly(Duration::from_secs(20)).await?;
    Ok(())
}
