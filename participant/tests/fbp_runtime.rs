//! A graph participant is an FBP runtime, on the in-memory broker: its
//! discovery message carries msgflo's keys for FBP-capable participants
//! (`type`, `version`, `inqueue`, `outqueue`) while a `--component` one keeps
//! exactly msgflo's seven; FBP messages on `.fbp.<id>.receive` are answered
//! on `.fbp.<id>.send` (its graph as `component:source`), and a plain
//! participant answers them with an error.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::discovery::Participant;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::runner::{self, Options};
use msgflo_participant::runtime::builtins;
use msgflo_participant::transport::{connect, discovery_queue, ConnectOptions, Transport};
use serde_json::{json, Value};
use std::sync::Arc;

mod support;
use support::next;

const GRAPH: &str = "# @name demo/Pipeline\nINPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\n\
                     a(core/Repeat) OUT -> IN b(core/Repeat)\n";

async fn broker() -> Result<(String, Arc<dyn Transport>)> {
    let broker = format!("memory://fbp-{}", uuid::Uuid::new_v4().simple());
    let options = ConnectOptions {
        client_id: "test".into(),
        ..ConnectOptions::default()
    };
    let t = connect(&broker, options).await?;
    t.declare_inport(&discovery_queue()).await?;
    Ok((broker, t))
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("queue name")
}

#[tokio::test]
async fn a_graph_participant_announces_and_answers_as_a_runtime() -> Result<()> {
    let (broker, t) = broker().await?;
    let mut discovery = t.consume(&discovery_queue(), 10).await?;
    let graph = msgflo_participant::protocol::dsl::parse(GRAPH)?;
    let options = Options::new("pipe".try_into()?, broker.as_str());
    let running = runner::start_graph(&graph, "Pipeline", builtins::builtin, options).await?;
    let id = running.id().to_string();
    let announced = Participant::decode(&next(&mut discovery).await?)?;
    ensure!(
        announced.runtime_type.as_deref() == Some("msgflo-rs"),
        "{announced:?}"
    );
    ensure!(announced.version.as_deref() == Some("0.7"), "{announced:?}");
    let (inqueue, outqueue) = (format!(".fbp.{id}.receive"), format!(".fbp.{id}.send"));
    ensure!(
        announced.inqueue.as_deref() == Some(inqueue.as_str()),
        "{announced:?}"
    );
    ensure!(
        announced.outqueue.as_deref() == Some(outqueue.as_str()),
        "{announced:?}"
    );
    let capabilities = &announced.extra["capabilities"];
    ensure!(
        capabilities
            .as_array()
            .is_some_and(|c| c.contains(&json!("component:getsource"))),
        "{announced:?}"
    );

    t.declare_inport(&q(&outqueue)).await?;
    let mut answers = t.consume(&q(&outqueue), 10).await?;
    let ask = json!({"protocol": "component", "command": "getsource",
                     "payload": {"name": "demo/Pipeline"}, "requestId": "g1"});
    t.send_to_inport(&q(&inqueue), Bytes::from(ask.to_string()))
        .await?;
    let source: Value = serde_json::from_slice(&next(&mut answers).await?)?;
    ensure!(
        source["command"] == "source" && source["responseTo"] == "g1",
        "{source}"
    );
    let code = source["payload"]["code"].as_str().context("code")?;
    let back = msgflo_participant::protocol::graph::Graph::from_json(code)?;
    ensure!(back == graph, "{code}");
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_component_participant_keeps_msgflos_keys_and_is_no_runtime() -> Result<()> {
    let (broker, t) = broker().await?;
    let mut discovery = t.consume(&discovery_queue(), 10).await?;
    let options = Options::new("rep".try_into()?, broker.as_str());
    let repeat = builtins::builtin("core/Repeat").context("built in")?;
    let running = runner::start_component(repeat, options).await?;
    let id = running.id().to_string();
    let announced: Value = serde_json::from_slice(&next(&mut discovery).await?)?;
    let mut keys: Vec<&str> = announced["payload"]
        .as_object()
        .context("a payload")?
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    ensure!(
        keys == [
            "component",
            "icon",
            "id",
            "inports",
            "label",
            "outports",
            "role"
        ],
        "{keys:?}"
    );
    let outqueue = format!(".fbp.{id}.send");
    t.declare_inport(&q(&outqueue)).await?;
    let mut answers = t.consume(&q(&outqueue), 10).await?;
    let ask = json!({"protocol": "runtime", "command": "getruntime", "payload": {}});
    t.send_to_inport(
        &q(&format!(".fbp.{id}.receive")),
        Bytes::from(ask.to_string()),
    )
    .await?;
    let answer: Value = serde_json::from_slice(&next(&mut answers).await?)?;
    ensure!(answer["command"] == "error", "{answer}");
    let message = answer["payload"]["message"].as_str().unwrap_or_default();
    ensure!(message.contains("expected \"participant\""), "{message}");
    running.stop().await?;
    Ok(())
}

/// A client on the participant's own FBP channel (no coordinator): it adds
/// a node and an edge live, sends a packet into the exported inport, and
/// gets the output back as `runtime:packet`, with the new inner edge's
/// data as `network:data`; the packet also went out on the broker.
#[tokio::test]
async fn a_client_on_the_fbp_channel_edits_sends_packets_and_sees_outputs() -> Result<()> {
    let (broker, t) = broker().await?;
    let graph = msgflo_participant::protocol::dsl::parse(GRAPH)?;
    let options = Options::new("live".try_into()?, broker.as_str());
    let running = runner::start_graph(&graph, "Pipeline", builtins::builtin, options).await?;
    let id = running.id().to_string();
    let (inqueue, outqueue) = (
        q(&format!(".fbp.{id}.receive")),
        q(&format!(".fbp.{id}.send")),
    );
    t.declare_inport(&outqueue).await?;
    let mut answers = t.consume(&outqueue, 100).await?;
    let sink = q("live.sink");
    t.declare_inport(&sink).await?;
    t.bind(&q("live.OUT"), &sink).await?;
    let mut outputs = t.consume(&sink, 10).await?;
    let send = |message: Value| {
        let (t, inqueue) = (t.clone(), inqueue.clone());
        async move {
            t.send_to_inport(&inqueue, Bytes::from(message.to_string()))
                .await
        }
    };
    let graph_id = "demo/Pipeline";
    let port = |node: &str, port: &str| json!({"node": node, "port": port});
    let edge = |src: Value, tgt: Value| json!({"src": src, "tgt": tgt, "graph": graph_id});
    let (a_out, b_in) = (port("a", "OUT"), port("b", "IN"));
    let (c_in, c_out) = (port("c", "IN"), port("c", "OUT"));
    let watched = json!({"src": c_out, "tgt": b_in});
    let commands = [
        ("graph", "removeedge", edge(a_out.clone(), b_in.clone())),
        (
            "graph",
            "addnode",
            json!({"id": "c", "component": "core/Repeat", "graph": graph_id}),
        ),
        ("graph", "addedge", edge(a_out, c_in)),
        ("graph", "addedge", edge(c_out, b_in)),
        (
            "network",
            "edges",
            json!({"graph": graph_id, "edges": [watched]}),
        ),
    ];
    for (protocol, command, payload) in commands {
        send(json!({"protocol": protocol, "command": command, "payload": payload})).await?;
        let answer: Value = serde_json::from_slice(&next(&mut answers).await?)?;
        ensure!(answer["command"] == command, "{command}: {answer}");
    }
    let packet = json!({"protocol": "runtime", "command": "packet", "payload": {
        "port": "in", "event": "data", "payload": {"x": 1}, "graph": graph_id}});
    send(packet).await?;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame: Value = serde_json::from_slice(&next(&mut answers).await?)?;
        seen.push(format!("{}:{}", frame["protocol"], frame["command"]).replace('"', ""));
        match (frame["protocol"].as_str(), frame["command"].as_str()) {
            (Some("runtime"), Some("packet")) => {
                ensure!(frame["payload"]["port"] == "out", "{frame}");
                ensure!(frame["payload"]["payload"] == json!({"x": 1}), "{frame}");
            }
            (Some("network"), Some("data")) => {
                ensure!(frame["payload"]["id"] == "c() OUT -> IN b()", "{frame}");
            }
            _ => {}
        }
    }
    seen.sort();
    ensure!(
        seen == ["network:data", "runtime:packet", "runtime:packetsent"],
        "{seen:?}"
    );
    ensure!(next(&mut outputs).await? == Bytes::from_static(b"{\"x\":1}"));
    running.stop().await?;
    Ok(())
}
