//! A running graph participant edited live from an FBP client through the
//! coordinator, on RabbitMQ (a vhost of its own) and on Mosquitto, while
//! 10,000 numbered messages flow through it: the client removes the inner
//! edge `a -> b`, adds a node `c` and the edges `a -> c`, `c -> b`, and
//! watches `c -> b`. Every message comes out exactly once (none lost while
//! the graph was rewired), `network:data` of the new inner edge reaches the
//! client marked with the subgraph, `component:getsource` shows the edited
//! graph, and the file on disk changes only when the `save` call asks.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::Transport;
use msgflo_protocol::graph::Graph;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::Client;
use msgflo_tests::numbered::{number_of, send_numbered};
use msgflo_tests::opened::{insert_c, open, port, Opened};
use msgflo_tests::process::run_to_end;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{mqtt_url, next_payload, unique};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(30);
const N: usize = 10_000;
const GRAPH: &str = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n";

/// Inserts `c` into `a -> b` and watches `c -> b`.
async fn rewire(fbp: &mut Client, graph: &str) -> Result<()> {
    insert_c(fbp, graph).await?;
    let edges =
        json!({"graph": graph, "edges": [{"src": port("c", "out"), "tgt": port("b", "in")}]});
    fbp.send("network", "edges", edges, None).await?;
    let reply = fbp.reply(WAIT).await?;
    ensure!(
        reply["command"] == "edges",
        "network:edges answered {reply}"
    );
    Ok(())
}

async fn edited_live(broker: &str, window: usize) -> Result<()> {
    let Opened {
        coordinator,
        fbp,
        participant,
        main,
        graph,
        role,
        file,
        discovery,
        dir: _dir,
    } = open(broker, GRAPH).await?;
    let t: Arc<dyn Transport> = msgflo_tests::client(broker, "live-client").await?;
    let outq = QueueName::new(format!("{role}.OUT"))?;
    let sinkq = QueueName::new(unique("live.sink"))?;
    t.declare_outport(&outq).await?;
    t.declare_inport(&sinkq).await?;
    let mut received = t.consume(&sinkq, 500).await?;
    t.bind(&outq, &sinkq).await?;
    let sender = send_numbered(t.clone(), QueueName::new(format!("{role}.IN"))?, N, window);

    let mut seen = BTreeSet::new();
    let mut duplicates = 0;
    let mut editing: Option<tokio::task::JoinHandle<Result<Client>>> = None;
    let mut fbp = Some(fbp);
    while seen.len() < N {
        let payload = match next_payload(&mut received, WAIT).await {
            Ok(payload) => payload,
            Err(e) => {
                // Stuck: the edits may say why.
                let edits = match editing.take() {
                    Some(task) if task.is_finished() => match task.await? {
                        Ok(_) => "the edits were applied".to_owned(),
                        Err(e) => format!("the edits failed: {e:#}"),
                    },
                    Some(_) => "the edits are still going on".to_owned(),
                    None => "no edits yet".to_owned(),
                };
                return Err(e.context(format!("after {} of {N} messages; {edits}", seen.len())));
            }
        };
        if seen.insert(number_of(&payload)?) {
            sender.came_out();
        } else {
            duplicates += 1;
        }
        if seen.len() == 2_000 {
            if let Some(mut client) = fbp.take() {
                let graph = graph.clone();
                editing = Some(tokio::spawn(async move {
                    rewire(&mut client, &graph).await.map(|()| client)
                }));
            }
        }
    }
    sender.finish().await?;
    ensure!(duplicates == 0, "{duplicates} duplicates");
    let mut fbp = editing
        .context("the edits started")?
        .await
        .context("edit task")??;

    // The new inner edge was watched: its data reached the client, marked
    // with the subgraph it is in.
    let data = fbp.until("network", "data", WAIT).await?;
    let payload = &data["payload"];
    ensure!(payload["id"] == "c() OUT -> IN b()", "{data}");
    ensure!(payload["graph"] == main.as_str(), "{data}");
    ensure!(payload["subgraph"].is_array(), "{data}");
    ensure!(payload["data"]["n"].is_u64(), "{data}");

    // The source is the graph as edited; the file is as it was until saved.
    fbp.send("component", "getsource", json!({"name": graph}), None)
        .await?;
    let source = fbp.until("component", "source", WAIT).await?;
    let code = source["payload"]["code"].as_str().context("code")?;
    let edited = Graph::from_json(code)?;
    ensure!(edited.processes.contains_key("c"), "{code}");
    ensure!(edited.edges().count() == 2, "{code}");
    ensure!(
        std::fs::read_to_string(&file)? == GRAPH,
        "saved before asked"
    );
    let mut save = Command::new(binary("msgflo-participants")?);
    let runtime = format!("ws://127.0.0.1:{}", coordinator.port);
    save.args([
        "--runtime",
        &runtime,
        "--call",
        "save",
        "--role",
        &role,
        "--json",
    ])
    .env("MSGFLO_BROKER", broker)
    .env("MSGFLO_DISCOVERY_QUEUE", &discovery)
    .env_remove("RUST_LOG");
    let (code, stdout, stderr) = run_to_end(save, WAIT).await?;
    ensure!(code == Some(0), "save: exit {code:?}: {stdout} {stderr}");
    let saved = msgflo_protocol::dsl::parse(&std::fs::read_to_string(&file)?)?;
    ensure!(saved.processes.contains_key("c"), "saved: {saved:?}");
    ensure!(saved.edges().count() == 2, "saved: {saved:?}");
    drop(participant);
    drop(coordinator);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_is_rewired_live_on_rabbitmq_losing_nothing() -> Result<()> {
    let vhost = Vhost::new("subgraph-live")?;
    edited_live(vhost.url(), 2_000).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_is_rewired_live_on_mosquitto_losing_nothing() -> Result<()> {
    // At most 100 in flight: Mosquitto drops what it cannot queue.
    edited_live(&mqtt_url(), 100).await
}
