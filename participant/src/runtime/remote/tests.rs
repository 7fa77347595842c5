//! `core/Remote` inside a network, with no remote there: its state is
//! reported, its packets are held (their tokens neither acked nor failed)
//! and, once the buffer is full, it takes no more input. The round trips
//! through real remotes are in `tests/tests/bridge.rs`.

use super::CAPACITY;
use crate::runtime::{builtins, Network, NodeError, Packet, Token, Track};
use msgflo_protocol::dsl;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Counted {
    failed: AtomicUsize,
}

impl Track for Counted {
    fn fail(&self) {
        self.failed.fetch_add(1, Ordering::SeqCst);
    }
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn network(address: &str) -> Network {
    let graph = dsl::parse(&format!(
        "INPORT=r.IN:IN\n'{address}' -> ADDRESS r(core/Remote)\nr OUT -> IN sink(core/Drop)"
    ))
    .expect("graph");
    Network::build(&graph, builtins::builtin).expect("network")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_remote_is_reported_and_its_packets_wait_until_the_buffer_is_full() {
    let address = format!("ws://127.0.0.1:{}", closed_port());
    let mut network = network(&address);
    let statuses = network.statuses();
    let mut input = network.input("r", "in", None).expect("inport in");
    let running = tokio::spawn(network.run(std::future::pending()));
    let token: Arc<Counted> = Arc::default();
    let mut taken = 0;
    // The node's buffer, then the edge into it, fill up; then pushing waits.
    loop {
        let packet = Packet {
            token: Some(token.clone() as Token),
            ..Packet::data("{\"n\":1}")
        };
        match tokio::time::timeout(Duration::from_millis(500), input.push(packet)).await {
            Ok(Ok(())) => taken += 1,
            Ok(Err(_)) => panic!("the network stopped"),
            Err(_) => break,
        }
        assert!(
            taken <= 4 * CAPACITY,
            "no back-pressure after {taken} packets"
        );
    }
    assert!(taken >= CAPACITY, "only {taken} packets were taken");
    let state = loop {
        let state = statuses.snapshot().get("r").cloned().unwrap_or_default();
        if state.contains("again") {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(state.contains(&address), "{state}");
    assert!(state.contains("cannot reach"), "{state}");
    assert_eq!(token.failed.load(Ordering::SeqCst), 0, "nothing was failed");
    // Held: every packet still holds its token.
    assert!(Arc::strong_count(&token) > CAPACITY);
    running.abort();
}

#[tokio::test]
async fn an_address_that_is_not_ws_is_a_node_error_in_one_line() {
    let mut network = network("http://127.0.0.1:1");
    let mut errors = network.errors().expect("errors");
    let running = tokio::spawn(network.run(std::future::pending()));
    let error = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .expect("an error in time")
        .expect("an error");
    let NodeError::Failed { node, error, .. } = error else {
        panic!("{error:?}");
    };
    assert_eq!(&*node, "r");
    assert!(error.contains("ws:// or wss://"), "{error}");
    assert!(!error.contains('\n'));
    running.abort();
}

/// The README's example graph builds, the node with the ports its graph
/// connects.
#[test]
fn the_readme_example_builds() {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("#### Remote subgraphs")
        .nth(1)
        .expect("the README section");
    let graph = section
        .split("```fbp\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("its .fbp example");
    let graph = dsl::parse(graph).expect("it parses");
    let network = Network::build(&graph, builtins::builtin).expect("it builds");
    let remote = network.component("upscale").expect("the node");
    let names = |ports: &[crate::runtime::PortDecl]| {
        ports.iter().map(|p| p.id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&remote.inports), ["address", "secret", "graph", "in"]);
    assert_eq!(names(&remote.outports), ["out"]);
}
