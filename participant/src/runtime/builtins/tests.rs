//! Each built-in in a small graph.

use super::*;
use crate::runtime::{EdgeRx, Network, Packet};
use msgflo_protocol::dsl::parse;
use std::time::{Duration, Instant};

fn build(fbp: &str) -> Network {
    Network::build(&parse(fbp).expect("valid .fbp"), builtin).expect("valid graph")
}

async fn collect(mut rx: EdgeRx) -> Vec<Packet> {
    let mut got = Vec::new();
    while let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        got.push(p);
    }
    got
}

#[test]
fn every_builtin_is_found_by_full_and_short_name_with_described_ports() {
    for name in BUILTINS {
        let decl = builtin(name).expect(name);
        assert_eq!(decl.name, name);
        assert!(decl.check().is_ok());
        assert!(!decl.description.is_empty());
        assert!(decl
            .inports
            .iter()
            .chain(&decl.outports)
            .all(|p| p.description.is_some()));
        assert_eq!(
            builtin(name.trim_start_matches("core/")).map(|d| d.name),
            Some(name.to_owned())
        );
    }
    assert!(builtin("core/Nope").is_none());
    assert!(split().outports[0].addressable && merge().inports[0].addressable);
}

#[test]
fn builtins_have_a_discovery_and_a_component_component_form() {
    for name in BUILTINS {
        let decl = builtin(name).expect(name);
        let spec = decl.spec();
        assert_eq!(
            (spec.name.as_str(), spec.label.as_str()),
            (name, decl.description.as_str())
        );
        assert_eq!(spec.icon, decl.icon);
        let ids = |ports: &[crate::component::PortSpec]| {
            ports.iter().map(|p| p.id.to_string()).collect::<Vec<_>>()
        };
        let decl_ids = |ports: &[crate::runtime::PortDecl]| {
            ports.iter().map(|p| p.id.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&spec.inports), decl_ids(&decl.inports), "{name}");
        assert_eq!(ids(&spec.outports), decl_ids(&decl.outports), "{name}");
        assert!(spec
            .inports
            .iter()
            .chain(&spec.outports)
            .all(|p| p.description.is_some()));
    }
    // The FBP form, as a client sees it.
    let json = serde_json::to_value(split().info()).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "name": "core/Split",
            "description": "Sends each packet to every connection of its outport",
            "icon": split().icon,
            "subgraph": false,
            "inPorts": [{"id": "in", "type": "all", "addressable": false, "description": "Packet to copy"}],
            "outPorts": [{"id": "out", "type": "all", "addressable": true, "description": "A copy for each connection"}],
        })
    );
    let counter = counter().info();
    assert_eq!(counter.out_ports[0].kind, "int");
}

#[tokio::test]
async fn repeat_output_forward_data_and_brackets_and_drop_takes_all() {
    let mut net = build("a(core/Repeat) OUT -> IN o(core/Output) OUT -> IN d(core/Drop)");
    let mut input = net.input("a", "in", None).expect("a.in");
    let out = net.output("o", "out", None).expect("o.out");
    tokio::spawn(net.run(std::future::pending()));
    let sent = [
        Packet::open(Some("g")),
        Packet::data("1"),
        Packet::close(Some("g")),
    ];
    for p in sent.clone() {
        input.push(p).await.expect("running");
    }
    std::mem::drop(input);
    assert_eq!(collect(out).await, sent);
}

#[tokio::test]
async fn counter_counts_data_packets_only() {
    let mut net = build("c(core/Counter)");
    let mut input = net.input("c", "in", None).expect("c.in");
    let out = net.output("c", "count", None).expect("c.count");
    tokio::spawn(net.run(std::future::pending()));
    for p in [
        Packet::open(None),
        Packet::data("a"),
        Packet::data("b"),
        Packet::close(None),
    ] {
        input.push(p).await.expect("running");
    }
    std::mem::drop(input);
    assert_eq!(collect(out).await, [Packet::data("1"), Packet::data("2")]);
}

#[tokio::test]
async fn delay_forwards_later_in_order_without_blocking_other_nodes() {
    let mut net = build("'200' -> DELAY d(core/Delay)\nr(core/Repeat)");
    let mut slow = net.input("d", "in", None).expect("d.in");
    let mut fast = net.input("r", "in", None).expect("r.in");
    let mut delayed = net.output("d", "out", None).expect("d.out");
    let mut direct = net.output("r", "out", None).expect("r.out");
    tokio::spawn(net.run(std::future::pending()));
    tokio::time::sleep(Duration::from_millis(20)).await; // the delay IIP first
    let start = Instant::now();
    slow.push(Packet::data("1")).await.expect("running");
    slow.push(Packet::data("2")).await.expect("running");
    fast.push(Packet::data("x")).await.expect("running");
    assert_eq!(direct.recv().await, Some(Packet::data("x")));
    assert!(
        start.elapsed() < Duration::from_millis(150),
        "Repeat was not held up by Delay"
    );
    assert_eq!(delayed.recv().await, Some(Packet::data("1")));
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(delayed.recv().await, Some(Packet::data("2")));
}
