//! Live edits on running networks: rewiring while packets flow loses none,
//! held ports push back, removed nodes finish first, watches see the
//! packets, and edits that do not fit are refused by name.

use super::*;
use crate::runtime::{builtins, EdgeRx, Network, Packet, Scheduling, Token, Track};
use msgflo_protocol::dsl::parse;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn build(fbp: &str) -> Network {
    Network::build(&parse(fbp).expect("valid .fbp"), builtins::builtin).expect("valid graph")
}

fn end(node: &str, port: &str) -> Endpoint {
    Endpoint::new(node, port)
}

fn repeat() -> ComponentDecl {
    builtins::builtin("core/Repeat").expect("built in")
}

async fn edge(editor: &Editor, src: &str, tgt: &str, add: bool) -> Result<(), EditError> {
    let (src, tgt) = (end(src, "OUT"), end(tgt, "IN"));
    let edit = if add {
        Edit::AddEdge { src, tgt }
    } else {
        Edit::RemoveEdge { src, tgt }
    };
    editor.apply(edit).await
}

async fn take(out: &mut EdgeRx, n: usize) -> Vec<u32> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let packet = tokio::time::timeout(Duration::from_secs(10), out.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} packets arrived", got.len()))
            .unwrap_or_else(|| panic!("output closed after {} of {n} packets", got.len()));
        let text = std::str::from_utf8(packet.payload().expect("data")).expect("utf-8");
        got.push(text.parse().expect("a number"));
    }
    got
}

/// The network of `fbp` running, fed `0..n` at `a.in` in the background;
/// its editor and `b.out`.
fn flowing(fbp: &str, n: u32) -> (Editor, EdgeRx) {
    let mut net = build(fbp);
    let mut input = net.input("a", "in", None).expect("a.in");
    let out = net.output("b", "out", None).expect("b.out");
    let editor = net.editor();
    tokio::spawn(net.run(std::future::pending()));
    tokio::spawn(async move {
        for i in 0..n {
            input
                .push(Packet::data(i.to_string()))
                .await
                .expect("running");
        }
    });
    (editor, out)
}

/// Counts the packets whose token was failed.
#[derive(Default)]
struct Failures(AtomicUsize);

impl Track for Failures {
    fn fail(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn a_node_inserted_into_a_running_chain_loses_nothing() {
    const N: u32 = 20_000;
    let (editor, mut out) = flowing("a(core/Repeat) OUT -> IN b(core/Repeat)", N);
    let mut got = take(&mut out, 5_000).await;
    edge(&editor, "a", "b", false).await.expect("removed");
    let component = repeat();
    let add = Edit::AddNode {
        name: "c".into(),
        component,
    };
    editor.apply(add).await.expect("added");
    let (sink, mut samples) = mpsc::channel(16);
    edge(&editor, "a", "c", true).await.expect("a -> c");
    edge(&editor, "c", "b", true).await.expect("c -> b");
    let watch = Edit::Watch {
        edges: vec![(end("c", "out"), end("b", "in"))],
        sink,
    };
    editor.apply(watch).await.expect("watched");
    got.extend(take(&mut out, (N - 5_000) as usize).await);
    // What was in the ring a -> b and what went round by c may interleave.
    got.sort_unstable();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    let sample = samples.recv().await.expect("a sample of c -> b");
    assert_eq!(sample.edge, 0);
}

#[tokio::test]
async fn a_removed_node_finishes_what_its_rings_hold_before_it_goes() {
    const N: u32 = 10_000;
    let fbp = "a(core/Repeat) OUT -> IN x(core/Repeat) OUT -> IN b(core/Repeat)";
    let (editor, mut out) = flowing(fbp, N);
    let mut got = take(&mut out, 3_000).await;
    let remove = Edit::RemoveNode { name: "x".into() };
    editor.apply(remove).await.expect("removed");
    let again = edge(&editor, "x", "b", true).await;
    assert_eq!(again, Err(EditError::Refused("unknown node \"x\"".into())));
    edge(&editor, "a", "b", true).await.expect("a -> b");
    got.extend(take(&mut out, (N - 3_000) as usize).await);
    got.sort_unstable();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_port_whose_last_edge_was_removed_holds_its_packets_until_it_is_connected() {
    let mut net = build("a(core/Repeat) OUT -> IN b(core/Repeat)");
    let mut input = net.input("a", "in", None).expect("a.in");
    let mut out = net.output("b", "out", None).expect("b.out");
    let editor = net.editor();
    tokio::spawn(net.run(std::future::pending()));
    edge(&editor, "a", "b", false).await.expect("removed");
    for i in 0..5 {
        input
            .push(Packet::data(i.to_string()))
            .await
            .expect("running");
    }
    let early = tokio::time::timeout(Duration::from_secs(60), out.recv()).await;
    assert!(early.is_err(), "a held port sent on: {early:?}");
    edge(&editor, "a", "b", true).await.expect("added again");
    assert_eq!(take(&mut out, 5).await, [0, 1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn packets_held_by_a_removed_node_fail_so_their_messages_are_nacked() {
    let mut net = build("a(core/Repeat) OUT -> IN x(core/Repeat) OUT -> IN b(core/Repeat)");
    let mut input = net.input("a", "in", None).expect("a.in");
    let _out = net.output("b", "out", None).expect("b.out");
    let editor = net.editor();
    let running = tokio::spawn(net.run(std::future::pending()));
    edge(&editor, "x", "b", false)
        .await
        .expect("x -> b removed");
    let failures = Arc::new(Failures::default());
    for i in 0..3 {
        let token: Token = failures.clone();
        let packet = Packet {
            token: Some(token),
            ..Packet::data(i.to_string())
        };
        input.push(packet).await.expect("running");
    }
    // Wait until x took them (its held port keeps them).
    editor
        .apply(Edit::Watch {
            edges: vec![],
            sink: mpsc::channel(1).0,
        })
        .await
        .expect("no-op");
    let remove = Edit::RemoveNode { name: "x".into() };
    editor.apply(remove).await.expect("removed");
    drop(input);
    tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("the network finishes")
        .expect("no panic");
    assert_eq!(failures.0.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn edits_that_do_not_fit_are_refused_naming_what_is_wrong() {
    let mut net = build("a(core/Repeat) OUT -> IN b(core/Repeat)");
    let _input = net.input("a", "in", None).expect("a.in");
    let editor = net.editor();
    tokio::spawn(net.run(std::future::pending()));
    let refused = |text: &str| Err(EditError::Refused(text.into()));
    assert_eq!(
        edge(&editor, "a", "nope", true).await,
        refused("unknown node \"nope\"")
    );
    let bad_port = Edit::AddEdge {
        src: end("a", "NOPE"),
        tgt: end("b", "IN"),
    };
    assert_eq!(
        editor.apply(bad_port).await,
        refused("node a: core/Repeat has no outport \"NOPE\"")
    );
    assert_eq!(
        edge(&editor, "a", "b", true).await,
        refused("edge a OUT -> IN b already exists")
    );
    assert_eq!(
        edge(&editor, "b", "a", false).await,
        refused("there is no edge b OUT -> IN a")
    );
    let mut slot = end("b", "IN");
    slot.index = Some(1);
    let slot = Edit::AddInitial {
        tgt: slot,
        data: Bytes::from_static(b"1"),
    };
    assert_eq!(
        editor.apply(slot).await,
        refused("node b: inport \"IN\" of core/Repeat is not addressable")
    );
    let twice = Edit::AddNode {
        name: "a".into(),
        component: repeat(),
    };
    assert_eq!(editor.apply(twice).await, refused("node a already exists"));
    let watch = Edit::Watch {
        edges: vec![(end("a", "OUT"), end("c", "IN"))],
        sink: mpsc::channel(1).0,
    };
    assert_eq!(
        editor.apply(watch).await,
        refused("cannot watch: no edge a OUT -> IN c")
    );
}

#[tokio::test]
async fn an_iip_added_live_is_processed_once() {
    let mut net = build("a(core/Repeat) OUT -> IN b(core/Repeat)");
    let _input = net.input("a", "in", None).expect("a.in");
    let mut out = net.output("b", "out", None).expect("b.out");
    let editor = net.editor();
    tokio::spawn(net.run(std::future::pending()));
    let iip = Edit::AddInitial {
        tgt: end("a", "in"),
        data: Bytes::from_static(b"7"),
    };
    editor.apply(iip).await.expect("added");
    assert_eq!(take(&mut out, 1).await, [7]);
}

#[tokio::test]
async fn a_network_run_as_a_task_per_node_takes_no_edits() {
    let graph = parse("a(core/Repeat) OUT -> IN b(core/Repeat)").expect("valid .fbp");
    let mut net = Network::build_scheduled(&graph, builtins::builtin, 64, Scheduling::TaskPerNode)
        .expect("valid graph");
    let _input = net.input("a", "in", None).expect("a.in");
    let editor = net.editor();
    tokio::spawn(net.run(std::future::pending()));
    let add = Edit::AddNode {
        name: "c".into(),
        component: repeat(),
    };
    assert_eq!(editor.apply(add).await, Err(EditError::NotRunning));
}
