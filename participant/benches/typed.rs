//! `cargo bench -p msgflo-participant --bench typed`: a chain of 10 JSON
//! components in one in-process graph, each adding one to a field of an
//! order (about 330 bytes of JSON), two ways in the same run:
//! - `reparse`: every component parses its input's bytes and serialises
//!   its output (what in-process payloads made every JSON component do
//!   while they were bytes only);
//! - `typed`: the first component parses the bytes, the value then goes
//!   typed through the 9 others ([`Packet::into_json`], [`Body::json`]),
//!   and is serialised once, where the chain ends (as an exported outport
//!   does).
//!
//! Prints `typed: chain=10 reparse=<packets/s> typed=<packets/s>
//! ratio=<typed/reparse>`, best of `RUNS` (3) each, alternated.

use bytes::Bytes;
use msgflo_participant::protocol::graph::{Connection, Edge, Endpoint, Graph, Process};
use msgflo_participant::runtime::{Body, ComponentDecl, Input, Network, Outputs, Packet};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Instant;

const CHAIN: usize = 10;
const PACKETS: usize = 200_000;
const BATCH: usize = 256;

fn order() -> Bytes {
    let order = json!({
        "id": "order-20261207-0001",
        "customer": {"id": 4711, "name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [
            {"sku": "FBP-001", "qty": 2, "price": 12.5},
            {"sku": "FBP-002", "qty": 1, "price": 99.0},
            {"sku": "MQ-0042", "qty": 5, "price": 3.25}
        ],
        "shipping": {"street": "1 Flow Road", "city": "Oslo", "zip": "0150"},
        "hops": 0
    });
    Bytes::from(serde_json::to_vec(&order).expect("json"))
}

fn bump(value: &mut Value) {
    if let Some(hops) = value.get_mut("hops") {
        *hops = json!(hops.as_u64().unwrap_or(0) + 1);
    }
}

fn reparse() -> ComponentDecl {
    ComponentDecl::from_fn("bench/Reparse", || {
        |input: Input, out: &mut Outputs| {
            let Some(bytes) = input.packet.payload() else {
                out.send(0, input.packet);
                return Ok(());
            };
            let mut value: Value = serde_json::from_slice(bytes)?;
            bump(&mut value);
            let body = Body::Data(Bytes::from(serde_json::to_vec(&value)?));
            out.send(0, input.packet.derive(body));
            Ok(())
        }
    })
    .inport("in", "object", "an order")
    .outport("out", "object", "the order, one hop more")
}

fn typed() -> ComponentDecl {
    ComponentDecl::from_fn("bench/Typed", || {
        |input: Input, out: &mut Outputs| {
            if input.packet.is_bracket() {
                out.send(0, input.packet);
                return Ok(());
            }
            let token = input.packet.token.clone();
            // Moved, so a typed value no one else shares is not copied.
            let Some(value) = input.packet.into_json() else {
                return Ok(());
            };
            let mut value = value?;
            bump(&mut value);
            out.send(
                0,
                Packet {
                    body: Body::json(value),
                    token,
                },
            );
            Ok(())
        }
    })
    .inport("in", "object", "an order")
    .outport("out", "object", "the order, one hop more")
}

fn chain_graph(component: &str) -> Graph {
    let mut graph = Graph::default();
    for i in 0..CHAIN {
        let process = Process {
            component: component.into(),
            ..Process::default()
        };
        graph.processes.insert(format!("n{i}"), process);
    }
    for i in 1..CHAIN {
        graph.connections.push(Connection::Edge(Edge {
            src: Endpoint::new(format!("n{}", i - 1), "out"),
            tgt: Endpoint::new(format!("n{i}"), "in"),
            metadata: None,
            extra: Default::default(),
        }));
    }
    graph
}

/// Packets per second through the chain of `component`; checks that each
/// came out with 10 hops more.
async fn run(component: &'static str) -> f64 {
    let graph = chain_graph(component);
    let lookup = |name: &str| match name {
        "bench/Reparse" => Some(reparse()),
        "bench/Typed" => Some(typed()),
        _ => None,
    };
    let mut network = Network::build(&graph, lookup).expect("graph");
    let mut tx = network.input("n0", "in", None).expect("in");
    let mut rx = network
        .output(&format!("n{}", CHAIN - 1), "out", None)
        .expect("out");
    let running = tokio::spawn(network.run(std::future::pending()));
    let payload = order();
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        let mut batch = VecDeque::with_capacity(BATCH);
        let mut left = PACKETS;
        while left > 0 {
            let k = left.min(BATCH);
            batch.extend((0..k).map(|_| Packet::data(payload.clone())));
            tx.push_all(&mut batch).await;
            left -= k;
        }
    });
    let mut out = Vec::with_capacity(BATCH);
    let (mut got, mut last) = (0, Bytes::new());
    while got < PACKETS {
        let k = rx.recv_batch(BATCH, &mut out).await;
        assert!(k > 0, "edge closed after {got}");
        got += k;
        for packet in out.drain(..) {
            // Where the chain ends the bytes are made: once.
            last = packet.payload().cloned().expect("data");
        }
    }
    let elapsed = start.elapsed();
    producer.await.expect("producer");
    drop(rx);
    running.abort();
    let value: Value = serde_json::from_slice(&last).expect("json out");
    assert_eq!(value["hops"], json!(CHAIN), "{component}");
    PACKETS as f64 / elapsed.as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    runtime.block_on(async {
        let (mut reparsed, mut typed) = (0f64, 0f64);
        for _ in 0..runs {
            reparsed = reparsed.max(run("bench/Reparse").await);
            typed = typed.max(run("bench/Typed").await);
        }
        println!(
            "typed: chain={CHAIN} reparse={reparsed:.0} typed={typed:.0} ratio={:.2} (packets/s, best of {runs})",
            typed / reparsed
        );
    });
}
