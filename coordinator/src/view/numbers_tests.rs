use super::*;
use crate::view::topology::{Edge, Member, Node};
use msgflo_protocol::calls::{BrokerState, LastError, PortCounts};
use std::time::Duration;

fn end(node: &str, port: &str) -> End {
    End {
        node: node.into(),
        port: port.into(),
    }
}

/// `a OUT -> IN b`, and the dead letters of b's inport to `c`.
fn topology() -> Topology {
    let member = |id: &str| Member {
        id: id.into(),
        ..Member::default()
    };
    let node = |id: &str, members: &[&str]| Node {
        id: id.into(),
        in_graph: true,
        participants: members.iter().map(|m| member(m)).collect(),
        ..Node::default()
    };
    let route = |from: End, dead: bool, to: End, queue: &str| Route {
        from,
        dead,
        to,
        target_queue: Some(queue.into()),
        ..Route::default()
    };
    Topology {
        nodes: vec![
            node("a", &["a-1"]),
            node("b", &["b-1", "b-2"]),
            node("c", &["c-1"]),
        ],
        edges: vec![
            Edge {
                id: "a->b".into(),
                src: end("a", "out"),
                tgt: end("b", "in"),
                routes: vec![route(end("a", "out"), false, end("b", "in"), "b.IN")],
                delivery: None,
            },
            Edge {
                id: "dead b->c".into(),
                src: end("b", "deadletter"),
                tgt: end("c", "in"),
                routes: vec![route(end("b", "in"), true, end("c", "in"), "c.IN")],
                delivery: None,
            },
        ],
        ..Topology::default()
    }
}

fn health(processed: u64, failed: u64) -> Health {
    Health {
        ports: [("IN".to_owned(), PortCounts { processed, failed })].into(),
        broker: BrokerState {
            url: "amqp://x".into(),
            connected: true,
            reconnects: 0,
        },
        ..Health::default()
    }
}

fn seen(at: Instant, b1: (u64, u64), b2: (u64, u64), depth: u64) -> Observation {
    Observation {
        at,
        health: [
            ("b-1".to_owned(), health(b1.0, b1.1)),
            ("b-2".to_owned(), health(b2.0, b2.1)),
            ("c-1".to_owned(), health(b1.1 + b2.1, 0)),
        ]
        .into(),
        depths: [(
            "b.IN".to_owned(),
            QueueDepth {
                messages: depth,
                consumers: 2,
            },
        )]
        .into(),
    }
}

#[test]
fn nothing_observed_yet_is_no_numbers() {
    let numbers = numbers(&topology(), None, None, Instant::now());
    assert_eq!(numbers, Numbers::default());
}

#[test]
fn edges_count_what_their_targets_took_and_rates_come_from_two_observations() {
    let start = Instant::now();
    let before = seen(start, (10, 1), (20, 0), 5);
    let now = seen(start + Duration::from_secs(2), (30, 2), (40, 1), 7);
    let numbers = numbers(
        &topology(),
        Some(&now),
        Some(&before),
        start + Duration::from_secs(3),
    );
    assert_eq!(numbers.age_ms, Some(1000));
    let edge = &numbers.edges["a->b"];
    // b's two participants took 30+2 + 40+1 = 73 (before: 31).
    assert_eq!(edge.messages, Some(73));
    assert_eq!(edge.rate, Some(21.0));
    assert_eq!(edge.depth, Some(7));
    assert_eq!(edge.dead, Some(3));
    let dead = &numbers.edges["dead b->c"];
    assert_eq!(dead.messages, Some(3), "what b dead-lettered");
    assert_eq!(dead.rate, Some(1.0));
    assert_eq!(dead.depth, None, "c.IN was not counted");
    let b = &numbers.nodes["b"];
    assert_eq!((b.answered, b.processed, b.failed), (2, 70, 3));
    assert_eq!(numbers.nodes["a"].answered, 0);
    assert_eq!(numbers.nodes["a"].rate, None);
}

#[test]
fn an_edge_counts_what_its_source_sent_where_the_source_says() {
    let start = Instant::now();
    let mut before = seen(start, (0, 0), (0, 0), 0);
    let mut now = seen(start + Duration::from_secs(1), (5, 0), (5, 0), 0);
    let sender = |sent: u64| Health {
        sent: [("OUT".to_owned(), sent)].into(),
        ..health(0, 0)
    };
    before.health.insert("a-1".into(), sender(100));
    now.health.insert("a-1".into(), sender(130));
    let numbers = numbers(&topology(), Some(&now), Some(&before), start);
    let edge = &numbers.edges["a->b"];
    assert_eq!((edge.messages, edge.rate), (Some(130), Some(30.0)));
}

#[test]
fn a_restarted_participant_is_no_negative_rate_and_the_latest_error_wins() {
    let start = Instant::now();
    let before = seen(start, (100, 0), (100, 0), 0);
    let mut now = seen(start + Duration::from_secs(1), (3, 0), (101, 0), 0);
    let error = |message: &str, ms_ago| LastError {
        message: message.into(),
        ms_ago,
    };
    if let Some(h) = now.health.get_mut("b-1") {
        h.last_error = Some(error("old", 5_000));
        h.broker.connected = false;
    }
    if let Some(h) = now.health.get_mut("b-2") {
        h.last_error = Some(error("new", 10));
    }
    let numbers = numbers(&topology(), Some(&now), Some(&before), start);
    assert_eq!(numbers.edges["a->b"].rate, Some(0.0));
    let b = &numbers.nodes["b"];
    assert_eq!(b.last_error.as_deref(), Some("new"));
    assert_eq!(b.disconnected, 1);
}
