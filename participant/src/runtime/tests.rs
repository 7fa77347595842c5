//! Graphs end to end: build errors, IIPs, addressable ports, fan-out,
//! fan-in, and isolation of failing and panicking nodes — each run with both
//! [`Scheduling`] modes.

use super::*;
use msgflo_protocol::dsl::parse;
use std::time::Duration;

fn lookup(name: &str) -> Option<ComponentDecl> {
    match name {
        "test/Fail" => Some(
            ComponentDecl::from_fn("test/Fail", || {
                |input: Input, out: &mut Outputs| {
                    if input
                        .packet
                        .payload()
                        .is_some_and(|p| p.as_ref() == b"\"bad\"")
                    {
                        return Err("bad packet".into());
                    }
                    out.send(0, input.packet);
                    Ok(())
                }
            })
            .inport("in", "all", "")
            .outport("out", "all", ""),
        ),
        "test/Panic" => Some(
            ComponentDecl::from_fn("test/Panic", || {
                |_: Input, _: &mut Outputs| -> Result<(), ProcessError> { panic!("boom") }
            })
            .inport("in", "all", ""),
        ),
        _ => builtins::builtin(name),
    }
}

fn build(scheduling: Scheduling, fbp: &str) -> Network {
    let graph = parse(fbp).expect("valid .fbp");
    Network::build_scheduled(&graph, lookup, edge::DEFAULT_CAPACITY, scheduling)
        .expect("valid graph")
}

async fn collect(mut rx: EdgeRx) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        got.push(String::from_utf8_lossy(p.payload().expect("data")).into_owned());
    }
    got
}

#[test]
fn build_errors_name_every_unknown_component_and_port_at_once() {
    let graph =
        parse("a(core/Nope) OUT -> IN b(core/Repeat)\nb NOPE -> IN c(core/Drop)\n'x' -> IN[1] c")
            .expect("valid .fbp");
    let err = Network::build(&graph, lookup).expect_err("invalid");
    let text = err.to_string();
    assert_eq!(err.problems.len(), 3, "{text}");
    assert!(
        text.contains("node a: unknown component \"core/Nope\""),
        "{text}"
    );
    assert!(
        text.contains("node b: core/Repeat has no outport \"nope\""),
        "{text}"
    );
    assert!(
        text.contains("inport \"in\" of core/Drop is not addressable"),
        "{text}"
    );
}

async fn iips_flow_and_the_network_finishes_when_drained(scheduling: Scheduling) {
    let mut net = build(
        scheduling,
        "'hello' -> IN a(core/Repeat) OUT -> IN b(core/Repeat)",
    );
    let out = net.output("b", "out", None).expect("b.out");
    let running = tokio::spawn(net.run(std::future::pending()));
    assert_eq!(collect(out).await, ["\"hello\""]);
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("finished")
        .expect("no panic");
}

async fn split_fans_out_to_every_slot_and_merge_fans_in(scheduling: Scheduling) {
    let mut net = build(
        scheduling,
        "'1' -> IN s(core/Split)\n\
         s OUT[0] -> IN a(core/Repeat)\n\
         s OUT[1] -> IN b(core/Repeat)\n\
         a OUT -> IN[0] m(core/Merge)\n\
         b OUT -> IN[1] m",
    );
    let out = net.output("m", "out", None).expect("m.out");
    tokio::spawn(net.run(std::future::pending()));
    assert_eq!(collect(out).await, ["\"1\"", "\"1\""]);
}

async fn an_outport_feeding_several_edges_sends_each_a_copy_in_order(scheduling: Scheduling) {
    let mut net = build(scheduling, "a(core/Repeat) OUT -> IN b(core/Drop)");
    let mut input = net.input("a", "in", None).expect("a.in");
    let first = net.output("a", "out", None).expect("a.out");
    let second = net.output("a", "out", None).expect("a.out");
    tokio::spawn(net.run(std::future::pending()));
    tokio::spawn(async move {
        for i in 0..3000 {
            input
                .push(Packet::data(i.to_string()))
                .await
                .expect("running");
        }
    });
    let expected: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    let (a, b) = tokio::join!(collect(first), collect(second));
    assert_eq!(a, expected);
    assert_eq!(b, expected);
}

async fn a_failing_packet_is_reported_by_node_name_and_the_node_goes_on(scheduling: Scheduling) {
    let mut net = build(scheduling, "'bad' -> IN f(test/Fail)");
    let mut input = net.input("f", "in", None).expect("f.in");
    let out = net.output("f", "out", None).expect("f.out");
    let mut errors = net.errors().expect("first call");
    tokio::spawn(net.run(std::future::pending()));
    input.push(Packet::data("\"good\"")).await.expect("running");
    drop(input);
    assert_eq!(collect(out).await, ["\"good\""]);
    let error = errors.recv().await.expect("reported");
    assert!(
        matches!(&error, NodeError::Failed { node, .. } if &**node == "f"),
        "{error}"
    );
}

async fn a_panicking_node_is_stopped_and_the_others_keep_running(scheduling: Scheduling) {
    let mut net = build(
        scheduling,
        "s(core/Split) OUT[0] -> IN p(test/Panic)\ns OUT[1] -> IN r(core/Repeat)",
    );
    let mut input = net.input("s", "in", None).expect("s.in");
    let out = net.output("r", "out", None).expect("r.out");
    let mut errors = net.errors().expect("first call");
    tokio::spawn(net.run(std::future::pending()));
    tokio::spawn(async move {
        for i in 0..5000 {
            input
                .push(Packet::data(i.to_string()))
                .await
                .expect("running");
        }
    });
    assert_eq!(
        collect(out).await.len(),
        5000,
        "nothing lost past the panicking branch"
    );
    let error = errors.recv().await.expect("reported");
    assert_eq!(
        error.to_string(),
        "node p (test/Panic) panicked and was stopped: boom"
    );
}

async fn shutdown_stops_a_network_that_would_run_forever(scheduling: Scheduling) {
    let mut net = build(scheduling, "a(core/Repeat) OUT -> IN b(core/Drop)");
    let _input = net.input("a", "in", None).expect("a.in");
    let stopped = tokio::time::timeout(Duration::from_secs(5), net.run(async {}));
    stopped.await.expect("stopped by shutdown");
}

/// Each case once per scheduling mode.
macro_rules! both_schedulings {
    ($($case:ident),+ $(,)?) => {
        mod cooperative {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Scheduling::Cooperative).await
                }
            )+
        }
        mod task_per_node {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Scheduling::TaskPerNode).await
                }
            )+
        }
    };
}

both_schedulings!(
    iips_flow_and_the_network_finishes_when_drained,
    split_fans_out_to_every_slot_and_merge_fans_in,
    an_outport_feeding_several_edges_sends_each_a_copy_in_order,
    a_failing_packet_is_reported_by_node_name_and_the_node_goes_on,
    a_panicking_node_is_stopped_and_the_others_keep_running,
    shutdown_stops_a_network_that_would_run_forever,
);

/// What a node sends in one step to an edge read outside the network
/// arrives there together: a reader that finds the ring empty after a data
/// packet can trust that no close sent with it is still coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steps_packets_reach_an_outside_reader_together() {
    let wrap = ComponentDecl::from_fn("test/Wrap", || {
        |input: Input, out: &mut Outputs| {
            out.send(0, input.packet.derive(Body::Open(None)));
            out.send(0, input.packet.clone());
            out.send(0, input.packet.derive(Body::Close(None)));
            Ok(())
        }
    })
    .inport("in", "all", "")
    .outport("out", "all", "");
    let graph = parse("w(test/Wrap)").expect("valid .fbp");
    let mut network = Network::build(&graph, move |name| {
        (name == "test/Wrap").then(|| wrap.clone())
    })
    .expect("builds");
    let mut input = network.input("w", "in", None).expect("inport");
    let mut output = network.output("w", "out", None).expect("outport");
    let running = tokio::spawn(network.run(std::future::pending()));
    for i in 0..200 {
        input.push(Packet::data(format!("{i}"))).await.ok();
        let open = output.recv().await.expect("the open");
        assert_eq!(open.body, Body::Open(None));
        assert_eq!(output.len(), 2, "data and close came with the open");
        output.try_pop();
        output.try_pop();
    }
    running.abort();
}
