//! A graph participant that joins its role after the role's graph was
//! edited live, on RabbitMQ (a vhost of its own) and on Mosquitto: the
//! client rewires `a -> b` into `a -> c -> b`, then a second
//! `msgflo-participant --graph` of the same role and file starts. The
//! coordinator replays the edits to it; a client edit sent once the
//! coordinator lists it waits for the replay and is then applied by both
//! (it names node `c`, so the new one could not apply it without the
//! replay), and the new participant's own graph, asked with the `fbp`
//! call, has `c` and the two new edges.

use anyhow::{ensure, Context, Result};
use msgflo_protocol::graph::Graph;
use msgflo_tests::fbp_client::Client;
use msgflo_tests::mqtt_url;
use msgflo_tests::opened::{edit, insert_c, open};
use msgflo_tests::vhost::Vhost;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const GRAPH: &str = "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n";

/// Waits until the coordinator lists participant `id`: asks, and when it
/// is not listed yet, waits for the next participant the coordinator tells
/// of (a `component:component`, which follows its discovery) and asks again.
async fn until_listed(fbp: &mut Client, id: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        fbp.send("msgflo", "participants", json!({}), None).await?;
        let listed = fbp.reply(left).await?;
        let participants = listed["payload"]["participants"]
            .as_array()
            .with_context(|| format!("participants: {listed}"))?;
        if participants.iter().any(|p| p["id"] == id) {
            return Ok(());
        }
        fbp.until("component", "component", left).await?;
    }
}

/// Participant `id`'s own graph of `component`: `component:getsource`
/// through the `fbp` call (`msgflo:call`).
async fn own_graph(fbp: &mut Client, id: &str, component: &str) -> Result<Graph> {
    let ask = json!({"protocol": "component", "command": "getsource",
                     "payload": {"name": component}});
    let call = json!({"call": "fbp", "args": ask, "participants": [id], "timeout": 5000});
    fbp.send("msgflo", "call", call, None).await?;
    let answer = fbp.reply(WAIT).await?;
    ensure!(
        answer["command"] == "callresult",
        "fbp call answered {answer}"
    );
    let code = answer["payload"]["result"][0]["payload"]["code"]
        .as_str()
        .with_context(|| format!("no graph in {answer}"))?;
    fbp.until("msgflo", "calldone", WAIT).await?;
    Ok(Graph::from_json(code)?)
}

async fn late_joiner_replayed(broker: &str) -> Result<()> {
    let mut opened = open(broker, GRAPH).await?;
    let (graph, role) = (&opened.graph.clone(), opened.role.clone());
    let fbp = &mut opened.fbp;
    insert_c(fbp, graph).await?;

    let late = format!("{role}-late");
    let joiner = opened.join(broker, &late).await?;
    let fbp = &mut opened.fbp;
    until_listed(fbp, &late).await?;
    // Held until the replay ended, then applied by both: `c` exists there.
    let moved = json!({"id": "c", "metadata": {"x": 300, "y": 100}});
    edit(fbp, "changenode", graph, moved).await?;

    let own = own_graph(fbp, &late, graph).await?;
    ensure!(own.processes.contains_key("c"), "{own:?}");
    let edges: Vec<(String, String)> = own
        .edges()
        .map(|e| (e.src.process.clone(), e.tgt.process.clone()))
        .collect();
    ensure!(edges.len() == 2, "{edges:?}");
    for edge in [("a", "c"), ("c", "b")] {
        ensure!(
            edges.contains(&(edge.0.to_owned(), edge.1.to_owned())),
            "{edges:?}"
        );
    }
    drop(joiner);
    drop(opened);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_joining_an_edited_role_gets_the_edits_on_rabbitmq() -> Result<()> {
    let vhost = Vhost::new("subgraph-replay")?;
    late_joiner_replayed(vhost.url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_joining_an_edited_role_gets_the_edits_on_mosquitto() -> Result<()> {
    late_joiner_replayed(&mqtt_url()).await
}
