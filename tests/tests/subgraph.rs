//! A graph participant opened from an FBP client as a subgraph, on RabbitMQ
//! (a vhost of its own) and on Mosquitto: `msgflo-participant --graph`
//! announces itself as an FBP runtime; the coordinator asks it for its
//! graph over the broker and then lists its component with `subgraph:
//! true`, and `component:getsource` of it is the participant's graph as
//! JSON — what noflo-ui opens when the user drills into the node.

use anyhow::{ensure, Context, Result};
use msgflo_protocol::graph::Graph;
use msgflo_tests::mqtt_url;
use msgflo_tests::opened::open;
use msgflo_tests::vhost::Vhost;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const GRAPH: &str = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n";

async fn opened_as_a_subgraph(broker: &str) -> Result<()> {
    let opened = open(broker, GRAPH).await?;
    let (mut fbp, component) = (opened.fbp, opened.graph);
    fbp.send("component", "getsource", json!({"name": component}), None)
        .await?;
    let source = fbp.until("component", "source", WAIT).await?;
    ensure!(source["payload"]["language"] == "json", "{source}");
    let code = source["payload"]["code"].as_str().context("code")?;
    // The graph the participant runs: its nodes, edge and exported ports
    // (exported names as the participant's ports, lower case).
    let graph = Graph::from_json(code)?;
    let expected = msgflo_protocol::dsl::parse(GRAPH)?;
    ensure!(graph.processes == expected.processes, "{code}");
    ensure!(graph.connections == expected.connections, "{code}");
    let inports: Vec<String> = graph.inports.keys().map(|k| k.to_lowercase()).collect();
    let outports: Vec<String> = graph.outports.keys().map(|k| k.to_lowercase()).collect();
    ensure!(inports == ["in"] && outports == ["out"], "{code}");
    drop(opened.participant);
    drop(opened.coordinator);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_opens_as_a_subgraph_on_rabbitmq() -> Result<()> {
    let vhost = Vhost::new("subgraph")?;
    opened_as_a_subgraph(vhost.url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_opens_as_a_subgraph_on_mosquitto() -> Result<()> {
    opened_as_a_subgraph(&mqtt_url()).await
}
