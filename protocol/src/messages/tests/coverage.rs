//! Every command of the fbp-protocol 0.9.8 schemas (protocol 0.7/0.8) has a
//! variant, and every variant has a golden message.

use std::collections::BTreeSet;

use super::{golden_component, golden_graph, golden_network, golden_runtime, golden_trace};
use crate::messages::{Input, Output, Protocol};

const GRAPH: &[&str] = &[
    "clear",
    "addnode",
    "removenode",
    "renamenode",
    "changenode",
    "addedge",
    "removeedge",
    "changeedge",
    "addinitial",
    "removeinitial",
    "addinport",
    "removeinport",
    "renameinport",
    "addoutport",
    "removeoutport",
    "renameoutport",
    "addgroup",
    "removegroup",
    "renamegroup",
    "changegroup",
];

/// The `input:` sections of runtime.yml, graph.yml, component.yml, network.yml,
/// trace.yml, written out by hand.
fn schema_inputs() -> BTreeSet<(Protocol, &'static str)> {
    let mut set = BTreeSet::new();
    let mut add = |p: Protocol, names: &[&'static str]| set.extend(names.iter().map(|c| (p, *c)));
    add(Protocol::Runtime, &["getruntime", "packet"]);
    add(Protocol::Graph, GRAPH);
    add(Protocol::Component, &["list", "getsource", "source"]);
    add(
        Protocol::Network,
        &["start", "getstatus", "stop", "persist", "debug", "edges"],
    );
    add(Protocol::Trace, &["start", "stop", "dump", "clear"]);
    set
}

/// The `output:` sections of the same schemas, written out by hand.
fn schema_outputs() -> BTreeSet<(Protocol, &'static str)> {
    let mut set = BTreeSet::new();
    let mut add = |p: Protocol, names: &[&'static str]| set.extend(names.iter().map(|c| (p, *c)));
    add(
        Protocol::Runtime,
        &["error", "ports", "runtime", "packetsent", "packet"],
    );
    add(Protocol::Graph, GRAPH);
    add(Protocol::Graph, &["error"]);
    add(
        Protocol::Component,
        &["error", "component", "componentsready", "source"],
    );
    add(
        Protocol::Network,
        &[
            "stopped",
            "started",
            "status",
            "output",
            "error",
            "processerror",
            "icon",
            "connect",
            "begingroup",
            "data",
            "endgroup",
            "disconnect",
            "edges",
        ],
    );
    add(
        Protocol::Trace,
        &["start", "stop", "clear", "dump", "error"],
    );
    set
}

/// `(protocol, command)` of each golden text.
fn pairs<'a>(texts: impl Iterator<Item = &'a str>) -> BTreeSet<(Protocol, String)> {
    texts
        .map(|t| {
            let v: serde_json::Value = serde_json::from_str(t).expect("golden is JSON");
            let p = v["protocol"].as_str().and_then(Protocol::from_name);
            let c = v["command"].as_str().map(str::to_owned);
            (
                p.expect("golden names a protocol"),
                c.expect("golden names a command"),
            )
        })
        .collect()
}

fn owned(set: impl IntoIterator<Item = (Protocol, &'static str)>) -> BTreeSet<(Protocol, String)> {
    set.into_iter().map(|(p, c)| (p, c.to_owned())).collect()
}

#[test]
fn input_variants_are_exactly_the_schema_inputs() {
    let ours: Vec<_> = Input::commands().collect();
    let unique: BTreeSet<_> = ours.iter().copied().collect();
    assert_eq!(ours.len(), unique.len(), "duplicate input command");
    assert_eq!(unique, schema_inputs());
}

#[test]
fn output_variants_are_the_schema_outputs_plus_network_persist() {
    let ours: Vec<_> = Output::commands().collect();
    let unique: BTreeSet<_> = ours.iter().copied().collect();
    assert_eq!(ours.len(), unique.len(), "duplicate output command");
    let mut expected = schema_outputs();
    // Named as an output of the `network:persist` capability in shared.yml.
    expected.insert((Protocol::Network, "persist"));
    assert_eq!(unique, expected);
}

#[test]
fn every_input_command_has_a_golden() {
    let goldens = [
        golden_runtime::inputs(),
        golden_graph::inputs(),
        golden_component::inputs(),
        golden_network::inputs(),
        golden_trace::inputs(),
    ];
    let covered = pairs(goldens.iter().flatten().map(|(t, _)| *t));
    assert_eq!(covered, owned(Input::commands()));
}

#[test]
fn every_output_command_has_a_golden() {
    let goldens = [
        golden_runtime::outputs(),
        golden_graph::outputs(),
        golden_component::outputs(),
        golden_network::outputs(),
        golden_trace::outputs(),
    ];
    let covered = pairs(goldens.iter().flatten().map(|(t, _)| *t));
    assert_eq!(covered, owned(Output::commands()));
}
