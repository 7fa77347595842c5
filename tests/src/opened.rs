//! A coordinator and a graph participant it knows as a subgraph, with an FBP
//! client connected: the start of every test that opens a participant's
//! graph from an editor. The coordinator and participant use a discovery
//! queue of their own, so they hear no other test's participants.

use crate::bins::binary;
use crate::fbp_client::{self, Client, Coordinator};
use crate::process::{spawn_ready, Spawned};
use crate::unique;
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(30);

/// What [`open`] started.
pub struct Opened {
    pub coordinator: Coordinator,
    pub fbp: Client,
    pub participant: Spawned,
    /// The coordinator's main graph id.
    pub main: String,
    /// The participant's component name, as the coordinator lists it with
    /// `subgraph: true`: the graph id its graph is opened under.
    pub graph: String,
    /// The participant's role.
    pub role: String,
    /// The graph file it runs (in `dir`).
    pub file: PathBuf,
    /// The discovery queue of this test.
    pub discovery: String,
    /// Removed when dropped: keep it while the participant runs.
    pub dir: tempfile::TempDir,
}

/// Starts a coordinator on `broker`, connects a client, and starts
/// `msgflo-participant --graph` of `graph` (`.fbp` text); returns once the
/// coordinator lists the participant's component as a subgraph.
pub async fn open(broker: &str, graph: &str) -> Result<Opened> {
    let discovery = unique("opened-fbp");
    let env = [("MSGFLO_DISCOVERY_QUEUE", discovery.as_str())];
    let coordinator = fbp_client::start_with(broker, &[], &env).await?;
    let mut fbp = Client::connect(coordinator.port).await?;
    fbp.send("runtime", "getruntime", json!({}), None).await?;
    let runtime = fbp.until("runtime", "runtime", WAIT).await?;
    let main = runtime["payload"]["graph"]
        .as_str()
        .context("main graph")?
        .to_owned();

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("pipeline.fbp");
    std::fs::write(&file, graph)?;
    let role = unique("pipe");
    let command = participant_command(broker, &role, &file, &discovery)?;
    let (participant, _) = spawn_ready(command, WAIT).await?;

    // Told once the coordinator has the participant's graph.
    let deadline = tokio::time::Instant::now() + WAIT;
    let graph = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let told = fbp.until("component", "component", left).await?;
        if told["payload"]["subgraph"] == true {
            break told["payload"]["name"]
                .as_str()
                .context("a name")?
                .to_owned();
        }
    };
    Ok(Opened {
        coordinator,
        fbp,
        participant,
        main,
        graph,
        role,
        file,
        discovery,
        dir,
    })
}

impl Opened {
    /// Starts another `msgflo-participant --graph` of the same role, file
    /// and discovery queue, with participant id `id`; returns once it is
    /// ready (the coordinator may not have heard of it yet).
    pub async fn join(&self, broker: &str, id: &str) -> Result<Spawned> {
        let mut command = participant_command(broker, &self.role, &self.file, &self.discovery)?;
        command.args(["--id", id]);
        let (participant, _) = spawn_ready(command, WAIT).await?;
        Ok(participant)
    }
}

/// `msgflo-participant --graph file` of `role`, announcing itself every
/// second on `discovery`.
fn participant_command(
    broker: &str,
    role: &str,
    file: &std::path::Path,
    discovery: &str,
) -> Result<Command> {
    let mut command = Command::new(binary("msgflo-participant")?);
    command
        .args(["--name", role, "--broker", broker, "--graph"])
        .arg(file)
        .env("MSGFLO_DISCOVERY_QUEUE", discovery)
        .env("MSGFLO_DISCOVERY_PERIOD", "1")
        .env_remove("RUST_LOG");
    Ok(command)
}

/// Sends `graph:command` about `graph` and waits for its acknowledgement
/// (the echo).
pub async fn edit(fbp: &mut Client, command: &str, graph: &str, mut payload: Value) -> Result<()> {
    payload["graph"] = json!(graph);
    fbp.send("graph", command, payload, None).await?;
    let reply = fbp.reply(WAIT).await?;
    ensure!(
        reply["protocol"] == "graph" && reply["command"] == command,
        "graph:{command} answered {reply}"
    );
    Ok(())
}

/// `{node, port}`.
pub fn port(node: &str, port: &str) -> Value {
    json!({"node": node, "port": port})
}

/// Puts a new node `c` (`core/Repeat`) into the edge `a -> b` of `graph`,
/// in the order noflo-ui sends it when a node is dropped onto an edge: the
/// old edge goes, the node comes, then its edges.
pub async fn insert_c(fbp: &mut Client, graph: &str) -> Result<()> {
    let (a_out, b_in) = (port("a", "OUT"), port("b", "IN"));
    let (c_in, c_out) = (port("c", "IN"), port("c", "OUT"));
    edit(fbp, "removeedge", graph, json!({"src": a_out, "tgt": b_in})).await?;
    let node = json!({"id": "c", "component": "core/Repeat", "metadata": {"x": 200, "y": 100}});
    edit(fbp, "addnode", graph, node).await?;
    edit(fbp, "addedge", graph, json!({"src": a_out, "tgt": c_in})).await?;
    edit(fbp, "addedge", graph, json!({"src": c_out, "tgt": b_in})).await
}
