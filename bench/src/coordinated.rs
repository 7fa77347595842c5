//! One hop with and without the coordinator: a `core/Repeat` participant
//! measured alone, then with `msgflo` running a graph of it (its network
//! started, no FBP client, so nothing is watched), alternating in one run.
//! The coordinator should cost the hop nothing: target >= 0.95.
//!
//! The participant, the coordinator and the flow share one broker
//! (`--coordinator-broker`, default `--amqp`), so the coordinator discovers
//! the participant and holds it in its graph.

use crate::amqp::Raw;
use crate::processes::{self, Process};
use crate::report::{Row, Target};
use crate::settings::Settings;
use anyhow::{Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions};

/// How long the coordinator runs before the hop is measured beside it.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

pub async fn run(s: &Settings) -> Result<Vec<Row>> {
    let broker = s.coordinator_broker.as_deref().unwrap_or(&s.amqp);
    let transport = connect(broker, ConnectOptions::default())
        .await
        .with_context(|| format!("cannot connect to {broker}"))?;
    let raw = Raw::connect(broker).await?;
    let id = crate::run_id();
    let role = format!("bench{id}hop");
    let participant = processes::repeat(&role, broker).await?;
    let out = QueueName::new(format!("bench.{id}.hop"))?;
    transport.declare_inport(&out).await?;
    transport
        .bind(&QueueName::new(format!("{role}.OUT"))?, &out)
        .await?;
    let graph = tempfile_path(&id)?;
    std::fs::write(&graph, format!("{role}(core/Repeat)\n"))?;
    let result = measure(s, broker, &raw, &role, &out, &graph).await;
    participant.stop().await?;
    let _ = std::fs::remove_file(&graph);
    let inports = [format!("{role}.IN"), out.to_string()];
    let queues: Vec<String> = inports
        .iter()
        .flat_map(|q| [q.clone(), format!("dead-{q}")])
        .collect();
    let mut exchanges = queues.clone();
    exchanges.push(format!("{role}.OUT"));
    raw.delete(&queues, &exchanges).await?;
    raw.close().await;
    transport.close().await?;
    result
}

fn tempfile_path(id: &str) -> Result<std::path::PathBuf> {
    Ok(std::env::temp_dir().join(format!("msgflo-bench-{id}.fbp")))
}

async fn measure(
    s: &Settings,
    broker: &str,
    raw: &Raw,
    role: &str,
    out: &QueueName,
    graph: &std::path::Path,
) -> Result<Vec<Row>> {
    let mut flow = raw
        .flow(&format!("{role}.IN"), out.as_str(), s.prefetch)
        .await?;
    let (mut alone, mut with) = (vec![], vec![]);
    for run in 1..=s.runs {
        // Alternate which goes first, so drift favours neither.
        let coordinated_first = run % 2 == 0;
        for coordinated in [coordinated_first, !coordinated_first] {
            let coordinator = match coordinated {
                true => Some(coordinator(broker, graph, role).await?),
                false => None,
            };
            let rate = flow
                .throughput(s.messages, s.size, s.window)
                .await
                .context("one hop")?;
            match coordinator {
                Some(coordinator) => {
                    with.push(rate);
                    coordinator.stop().await?;
                }
                None => alone.push(rate),
            }
        }
        eprintln!(
            "coordinated run {run}: one hop alone {:.0} msg/s, with the coordinator running its graph {:.0}",
            alone[run - 1],
            with[run - 1]
        );
    }
    Ok(vec![
        Row::new("AMQP one hop, no coordinator", "msg/s", alone.clone()),
        Row::new(
            "AMQP one hop, coordinator running the graph (no client)",
            "msg/s",
            with,
        )
        .against(&alone)
        .target(Target::RatioAtLeast(0.95)),
    ])
}

/// `msgflo --graph GRAPH --ignore ROLE` on `broker` (the participant of
/// `role` is the benchmark's), once it is ready.
async fn coordinator(broker: &str, graph: &std::path::Path, role: &str) -> Result<Process> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let graph = graph.display().to_string();
    let port_text = port.to_string();
    let args = [
        "--host",
        "127.0.0.1",
        "--port",
        &port_text,
        "--broker",
        broker,
        "--graph",
        &graph,
        "--ignore",
        role,
    ];
    let started = format!("msgflo started on ws://127.0.0.1:{port}");
    let (mut process, _) = Process::start("msgflo", &args, |line| line == started).await?;
    process.drain_output();
    // Its start-up (connecting, hearing the participant, starting the
    // network) is not what is measured: the hop runs beside it after.
    tokio::time::sleep(SETTLE).await;
    Ok(process)
}
