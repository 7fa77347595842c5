//! Graph participants on the in-memory broker: a message is acked only once
//! the graph has handled it (published, or dropped by a node), and nacked
//! when a node fails or panics on it.

use anyhow::{Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::{dsl, ids::QueueName};
use msgflo_participant::runner::{self, Options, RunError};
use msgflo_participant::runtime::{builtins, ComponentDecl, Input, Outputs};
use msgflo_participant::transport::{connect, dead_letter_queue, discovery_queue, ConnectOptions};
use std::time::Duration;

mod support;
use support::next;

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("valid queue name")
}

/// Drops `"drop"`, fails on `"fail"`, panics on `"panic"`, forwards the rest.
fn check() -> ComponentDecl {
    ComponentDecl::from_fn("test/Check", || {
        |input: Input, out: &mut Outputs| match input.packet.payload().map(|p| &p[..]) {
            Some(b"\"drop\"") => Ok(()),
            Some(b"\"fail\"") => Err("told to fail".into()),
            Some(b"\"panic\"") => panic!("told to panic"),
            _ => {
                out.send(0, input.packet);
                Ok(())
            }
        }
    })
    .inport("in", "any", "")
    .outport("out", "any", "")
}

fn lookup(name: &str) -> Option<ComponentDecl> {
    (name == "test/Check")
        .then(check)
        .or_else(|| builtins::builtin(name))
}

#[tokio::test]
async fn deliveries_are_settled_by_the_graph_acked_when_handled_nacked_on_failure() -> Result<()> {
    let broker = format!("memory://graph-{}", uuid::Uuid::new_v4().simple());
    let t = connect(&broker, ConnectOptions::default()).await?;
    t.declare_inport(&discovery_queue()).await?;
    let graph = dsl::parse(
        "INPORT=a.IN:IN\nOUTPORT=c.OUT:OUT\n\
         a(core/Repeat) OUT -> IN b(test/Check) OUT -> IN c(core/Repeat)",
    )?;
    let mut options = Options::new("g".try_into()?, broker.clone());
    // One unacked message at a time: the next is delivered only once the
    // graph settled the previous one.
    options.prefetch = 1;
    let running = runner::start_graph(&graph, "chain", lookup, options).await?;

    let sink = q("g-sink");
    t.declare_outport(&q("g.OUT")).await?;
    t.declare_inport(&sink).await?;
    let mut out = t.consume(&sink, 100).await?;
    t.bind(&q("g.OUT"), &sink).await?;
    let mut dead = t.consume(&dead_letter_queue(&q("g.IN")), 10).await?;

    for payload in ["\"drop\"", "\"fail\"", "\"ok\""] {
        t.send_to_inport(&q("g.IN"), Bytes::from(payload)).await?;
    }
    assert_eq!(
        next(&mut out).await?,
        "\"ok\"",
        "dropped and failed ones settled"
    );
    assert_eq!(
        next(&mut dead).await?,
        "\"fail\"",
        "only the failed one is dead-lettered"
    );

    // A panic stops the node: its message and what reaches it later are nacked.
    for payload in ["\"panic\"", "\"after\""] {
        t.send_to_inport(&q("g.IN"), Bytes::from(payload)).await?;
    }
    assert_eq!(next(&mut dead).await?, "\"panic\"");
    assert_eq!(next(&mut dead).await?, "\"after\"");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), out.next())
            .await
            .is_err(),
        "nothing else is published"
    );
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_graph_without_exported_ports_or_with_unknown_components_is_refused() -> Result<()> {
    let options = || Options::new("g".try_into().expect("role"), "memory://refused");
    let cases = [
        (
            "a(core/Repeat) OUT -> IN b(core/Repeat)",
            "exports no ports",
        ),
        (
            "INPORT=a.IN:IN\na(core/Nope) OUT -> IN b(core/Repeat)",
            "unknown component",
        ),
    ];
    for (text, expected) in cases {
        let graph = dsl::parse(text)?;
        let error = runner::start_graph(&graph, "g", builtins::builtin, options())
            .await
            .err()
            .context("refused")?;
        assert!(matches!(error, RunError::Config(_)));
        assert!(error.to_string().contains(expected), "{error}");
    }
    Ok(())
}

/// Discovery describes a graph's exported ports with the types and
/// descriptions of the inner ports; a one-node graph without a description
/// of its own is described as its node's component.
#[tokio::test]
async fn discovery_takes_port_types_and_descriptions_from_the_inner_nodes() -> Result<()> {
    let broker = format!("memory://graph-{}", uuid::Uuid::new_v4().simple());
    let t = connect(&broker, ConnectOptions::default()).await?;
    t.declare_inport(&discovery_queue()).await?;
    let mut discovery = t.consume(&discovery_queue(), 10).await?;
    let cases = [
        (
            "INPORT=c.IN:PACKETS\nOUTPORT=c.COUNT:N\nc(core/Counter)",
            "core/Counter",
            "Counts the packets it receives and sends the count",
            "Packets to count",
        ),
        (
            "# @description two nodes\nINPORT=r.IN:PACKETS\nOUTPORT=c.COUNT:N\n\
             r(core/Repeat) OUT -> IN c(core/Counter)",
            "counting",
            "two nodes",
            "Packet to forward",
        ),
    ];
    for (text, name, label, inport) in cases {
        let graph = dsl::parse(text)?;
        let role = format!("disc-{}", uuid::Uuid::new_v4().simple());
        let options = Options::new(role.as_str().try_into()?, broker.clone());
        let running = runner::start_graph(&graph, name, builtins::builtin, options).await?;
        let message: serde_json::Value = serde_json::from_slice(&next(&mut discovery).await?)?;
        let p = &message["payload"];
        assert_eq!(p["component"], name, "{message}");
        assert_eq!(p["label"], label, "{message}");
        assert_eq!(p["inports"][0]["id"], "packets");
        assert_eq!(p["inports"][0]["type"], "all");
        assert_eq!(p["inports"][0]["description"], inport);
        assert_eq!(p["outports"][0]["id"], "n");
        assert_eq!(p["outports"][0]["type"], "int");
        assert_eq!(
            p["outports"][0]["description"],
            "Packets counted so far, after each packet"
        );
        running.stop().await?;
    }
    Ok(())
}

/// A graph still holding a message when stopped (here `core/Delay`, set to
/// an hour) is given `drain_timeout`; then the message is left unacked and
/// the broker delivers it again — not acked as if it had been handled.
#[tokio::test]
async fn stopping_gives_up_on_a_graph_that_does_not_drain_and_leaves_its_message_unacked(
) -> Result<()> {
    let broker = format!("memory://graph-{}", uuid::Uuid::new_v4().simple());
    let t = connect(&broker, ConnectOptions::default()).await?;
    t.declare_inport(&discovery_queue()).await?;
    let (seen_tx, seen) = std::sync::mpsc::sync_channel::<()>(1);
    let seen_tx = std::sync::Mutex::new(seen_tx);
    let lookup = move |name: &str| {
        if name != "test/Seen" {
            return builtins::builtin(name);
        }
        let seen_tx = seen_tx.lock().ok()?.clone();
        let decl = ComponentDecl::from_fn("test/Seen", move || {
            let seen_tx = seen_tx.clone();
            move |input: Input, out: &mut Outputs| {
                let _ = seen_tx.try_send(());
                out.send(0, input.packet);
                Ok(())
            }
        });
        Some(decl.inport("in", "any", "").outport("out", "any", ""))
    };
    let graph = dsl::parse(
        "INPORT=s.IN:IN\nOUTPORT=d.OUT:OUT\n'3600000' -> DELAY d(core/Delay)\n\
         s(test/Seen) OUT -> IN d",
    )?;
    let mut options = Options::new("hold".try_into()?, broker.clone());
    options.drain_timeout = Duration::from_millis(300);
    let running = runner::start_graph(&graph, "hold", lookup, options).await?;
    t.send_to_inport(&q("hold.IN"), Bytes::from_static(b"\"held\""))
        .await?;
    tokio::task::spawn_blocking(move || seen.recv_timeout(support::WAIT))
        .await?
        .context("the message reached the graph")?;

    let started = std::time::Instant::now();
    running.stop().await?;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop waited {:?}",
        started.elapsed()
    );
    let mut again = t.consume(&q("hold.IN"), 1).await?;
    let delivery = tokio::time::timeout(support::WAIT, again.next())
        .await
        .context("the message came back")?
        .context("consumer ended")?;
    assert_eq!(&delivery.payload[..], b"\"held\"");
    assert!(delivery.redelivered, "it was delivered before, never acked");
    Ok(())
}
