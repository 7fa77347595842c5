//! `cargo bench -p msgflo-participant --bench edges`: packets through a chain
//! of 10 `core/Repeat` nodes in one in-process graph, against the raw edge
//! primitive (the same ring, one producer task, one consumer task) in the
//! same run, plus the latency of a single packet through the chain.
//!
//! Prints `edges: chain=10 rate=<edge-hops/s> raw=<ops/s> ratio=<rate/raw>`
//! and `latency: p50=<µs> p99=<µs>` for the runtime's scheduling (one
//! cooperative task per graph), the same with an `Editor` taken (as in a
//! graph participant: the scheduler looks for live edits every round), then
//! the same two lines for a task per node
//! (`Scheduling::TaskPerNode`: same nodes, same edges, but every edge
//! crosses tasks), like for like. An edge-hop is one packet passing one
//! Repeat node (10 per packet; the two edges in and out are not counted).

use bytes::Bytes;
use msgflo_participant::protocol::graph::{Connection, Edge, Endpoint, Graph, Process};
use msgflo_participant::runtime::{builtins, edge, Editor, Network, Packet, Scheduling};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const CHAIN: usize = 10;
const PACKETS: usize = 5_000_000;
const RAW_OPS: usize = 50_000_000;
const LATENCY_SAMPLES: usize = 20_000;
const BATCH: usize = 256;

fn chain_graph() -> Graph {
    let mut graph = Graph::default();
    for i in 0..CHAIN {
        let process = Process {
            component: "core/Repeat".into(),
            ..Process::default()
        };
        graph.processes.insert(format!("r{i}"), process);
    }
    for i in 1..CHAIN {
        graph.connections.push(Connection::Edge(Edge {
            src: Endpoint::new(format!("r{}", i - 1), "out"),
            tgt: Endpoint::new(format!("r{i}"), "in"),
            metadata: None,
            extra: Default::default(),
        }));
    }
    graph
}

fn packet() -> Packet {
    Packet::data(Bytes::from_static(b"{\"n\":1}"))
}

/// Pushes `n` packets in batches into `tx`.
async fn produce(mut tx: edge::EdgeTx, n: usize) {
    let mut batch = VecDeque::with_capacity(BATCH);
    let mut left = n;
    while left > 0 {
        let k = left.min(BATCH);
        batch.extend((0..k).map(|_| packet()));
        tx.push_all(&mut batch).await;
        left -= k;
    }
}

/// Receives until `n` packets arrived.
async fn consume(mut rx: edge::EdgeRx, n: usize) {
    let mut out = Vec::with_capacity(BATCH);
    let mut got = 0;
    while got < n {
        let k = rx.recv_batch(BATCH, &mut out).await;
        assert!(k > 0, "edge closed after {got} of {n}");
        got += k;
        out.clear();
    }
}

async fn raw() -> f64 {
    let (tx, rx) = edge::channel(edge::DEFAULT_CAPACITY);
    let start = Instant::now();
    let producer = tokio::spawn(produce(tx, RAW_OPS));
    consume(rx, RAW_OPS).await;
    producer.await.expect("producer");
    RAW_OPS as f64 / start.elapsed().as_secs_f64()
}

/// How the chain runs: the scheduling, and whether live edits are possible
/// (an [`Editor`] exists: the scheduler then checks for edits each round).
#[derive(Clone, Copy)]
struct Mode(Scheduling, bool);

fn network(
    Mode(scheduling, editable): Mode,
) -> (Network, edge::EdgeTx, edge::EdgeRx, Option<Editor>) {
    let graph = chain_graph();
    let mut network = Network::build_scheduled(
        &graph,
        builtins::builtin,
        edge::DEFAULT_CAPACITY,
        scheduling,
    )
    .expect("valid graph");
    let tx = network.input("r0", "in", None).expect("r0.in");
    let rx = network
        .output(&format!("r{}", CHAIN - 1), "out", None)
        .expect("out");
    let editor = editable.then(|| network.editor());
    (network, tx, rx, editor)
}

async fn chain(mode: Mode) -> f64 {
    let (network, tx, rx, _editor) = network(mode);
    let running = tokio::spawn(network.run(std::future::pending()));
    let start = Instant::now();
    let producer = tokio::spawn(produce(tx, PACKETS));
    consume(rx, PACKETS).await;
    let elapsed = start.elapsed();
    producer.await.expect("producer");
    running.await.expect("network");
    (PACKETS * CHAIN) as f64 / elapsed.as_secs_f64()
}

async fn latency(mode: Mode) -> (Duration, Duration) {
    let (network, mut tx, mut rx, _editor) = network(mode);
    let running = tokio::spawn(network.run(std::future::pending()));
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let start = Instant::now();
        tx.push(packet()).await.expect("network alive");
        rx.recv().await.expect("a packet");
        samples.push(start.elapsed());
    }
    drop(tx);
    running.await.expect("network");
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::env::var("W")
                .ok()
                .and_then(|w| w.parse().ok())
                .unwrap_or(2),
        )
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let raw = raw().await;
        for (mode, label) in [
            (Mode(Scheduling::Cooperative, false), ""),
            (Mode(Scheduling::Cooperative, true), " editable"),
            (Mode(Scheduling::TaskPerNode, false), " scheduling=task-per-node"),
        ] {
            let rate = chain(mode).await;
            let (p50, p99) = latency(mode).await;
            println!(
                "edges: chain={CHAIN}{label} rate={rate:.0} raw={raw:.0} ratio={:.2}",
                rate / raw
            );
            println!(
                "latency:{label} p50={:.1}us p99={:.1}us (one packet through {CHAIN} nodes and 2 edges in/out)",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
        }
    });
}
