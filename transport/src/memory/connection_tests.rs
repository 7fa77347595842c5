use super::super::{broker, kill_connection};
use crate::{
    connect, dead_letter_queue, discovery_queue, ConnectOptions, Consumer, Delivery, Transport,
    TransportError,
};
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::sync::Arc;
use std::time::Duration;

/// A broker name no other test uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).unwrap()
}

async fn open(broker: &str, client_id: &str) -> Arc<dyn Transport> {
    let options = ConnectOptions {
        client_id: client_id.to_owned(),
        ..ConnectOptions::default()
    };
    connect(&format!("memory://{broker}"), options)
        .await
        .unwrap()
}

async fn next(c: &mut Consumer) -> Delivery {
    tokio::time::timeout(Duration::from_secs(5), c.next())
        .await
        .expect("a delivery in time")
        .expect("the consumer is open")
}

fn text(d: &Delivery) -> &str {
    std::str::from_utf8(&d.payload).unwrap()
}

/// Messages waiting and unacked on broker `name`, queue `queue`.
fn counts(name: &str, queue: &str) -> (Option<usize>, usize) {
    broker(name).with_state(|s| (s.waiting(queue), s.unacked()))
}

#[tokio::test]
async fn connections_to_one_name_share_a_broker_and_no_name_is_default() {
    let (name, queue) = (unique("b"), q(&unique("in")));
    let (a, b) = (open(&name, "a").await, open(&name, "b").await);
    a.declare_inport(&queue).await.unwrap();
    let mut c = a.consume(&queue, 1).await.unwrap();
    b.send_to_inport(&queue, Bytes::from("hi")).await.unwrap();
    assert_eq!(text(&next(&mut c).await), "hi");

    let default = connect("memory://", ConnectOptions::default())
        .await
        .unwrap();
    assert_eq!(default.broker().host, "default");
    let shared = q(&unique("shared"));
    default.declare_inport(&shared).await.unwrap();
    let other = open("default", "other").await;
    let mut c = other.consume(&shared, 1).await.unwrap();
    default.send_to_inport(&shared, Bytes::new()).await.unwrap();
    next(&mut c).await.ack().await.unwrap();
}

#[tokio::test]
async fn close_ends_consumers_and_later_calls_fail() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let queue = q("in");
    t.declare_inport(&queue).await.unwrap();
    let mut c = t.consume(&queue, 1).await.unwrap();
    t.close().await.unwrap();
    assert!(c.next().await.is_none());
    let err = t.send_to_inport(&queue, Bytes::new()).await.unwrap_err();
    assert!(matches!(err, TransportError::Closed), "{err}");
    assert!(matches!(
        t.consume(&queue, 1).await,
        Err(TransportError::Closed)
    ));
    t.close().await.unwrap();
}

#[tokio::test]
async fn dropping_a_transport_gives_its_unacked_messages_back() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let queue = q("in");
    t.declare_inport(&queue).await.unwrap();
    let mut c = t.consume(&queue, 1).await.unwrap();
    t.send_to_inport(&queue, Bytes::from("x")).await.unwrap();
    let d = next(&mut c).await;
    drop(t);
    assert_eq!(counts(&name, "in"), (Some(1), 0));
    d.ack().await.unwrap();
    assert_eq!(
        counts(&name, "in"),
        (Some(1), 0),
        "a stale ack changed nothing"
    );
}

#[tokio::test]
async fn prefetch_bounds_unacked_deliveries_and_zero_means_no_limit() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let (one, many) = (q("one"), q("many"));
    t.declare_inport(&one).await.unwrap();
    t.declare_inport(&many).await.unwrap();
    let mut c = t.consume(&one, 2).await.unwrap();
    for i in 0..5 {
        t.send_to_inport(&one, Bytes::from(i.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(counts(&name, "one"), (Some(3), 2));
    next(&mut c).await.ack().await.unwrap();
    assert_eq!(counts(&name, "one"), (Some(2), 2));

    let mut all = t.consume(&many, 0).await.unwrap();
    for _ in 0..1000 {
        t.send_to_inport(&many, Bytes::new()).await.unwrap();
    }
    assert_eq!(counts(&name, "many").0, Some(0));
    for _ in 0..1000 {
        next(&mut all).await;
    }
}

#[tokio::test]
async fn a_killed_connection_redelivers_once_and_ignores_old_acks() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let queue = q("in");
    t.declare_inport(&queue).await.unwrap();
    let mut c = t.consume(&queue, 1).await.unwrap();
    for p in ["a", "b"] {
        t.send_to_inport(&queue, Bytes::from(p)).await.unwrap();
    }
    let old = next(&mut c).await;
    kill_connection(&name, "c").unwrap();
    old.ack().await.unwrap();
    let again = next(&mut c).await;
    assert_eq!((text(&again), again.redelivered), ("a", true));
    again.ack().await.unwrap();
    let b = next(&mut c).await;
    assert_eq!((text(&b), b.redelivered), ("b", false));
    b.ack().await.unwrap();
    assert_eq!(counts(&name, "in"), (Some(0), 0));
    // Publishing works after the reconnection.
    t.send_to_inport(&queue, Bytes::from("c")).await.unwrap();
    assert_eq!(text(&next(&mut c).await), "c");
}

#[tokio::test]
async fn stale_deliveries_left_in_the_channel_do_not_stall_a_consumer() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let queue = q("in");
    t.declare_inport(&queue).await.unwrap();
    let mut c = t.consume(&queue, 2).await.unwrap();
    for p in ["1", "2", "3"] {
        t.send_to_inport(&queue, Bytes::from(p)).await.unwrap();
    }
    kill_connection(&name, "c").unwrap();
    // The two stale deliveries fill the channel; dropping or acking them
    // makes room for the redelivered ones.
    drop(next(&mut c).await);
    next(&mut c).await.ack().await.unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        let d = next(&mut c).await;
        got.push((text(&d).to_owned(), d.redelivered));
        d.ack().await.unwrap();
    }
    let want = [("1", true), ("2", true), ("3", false)];
    assert_eq!(got, want.map(|(p, r)| (p.to_owned(), r)));
}

#[tokio::test]
async fn a_dropped_consumer_leaves_its_messages_to_the_others() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let queue = q("in");
    t.declare_inport(&queue).await.unwrap();
    let gone = t.consume(&queue, 5).await.unwrap();
    let mut c = t.consume(&queue, 5).await.unwrap();
    drop(gone);
    for p in ["1", "2", "3"] {
        t.send_to_inport(&queue, Bytes::from(p)).await.unwrap();
    }
    for p in ["1", "2", "3"] {
        assert_eq!(text(&next(&mut c).await), p);
    }
}

#[tokio::test]
async fn refusals_name_the_queue_and_the_broker() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let (missing, inport) = (q("missing"), q("in"));
    t.declare_inport(&inport).await.unwrap();
    let err = t.publish(&missing, Bytes::new()).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("publish to missing failed: NOT_FOUND"),
        "{shown}"
    );
    assert!(shown.contains(&name), "{shown}");
    assert!(!err.is_recoverable());
    for err in [
        t.send_to_inport(&missing, Bytes::new()).await.unwrap_err(),
        t.consume(&missing, 1).await.unwrap_err(),
    ] {
        let shown = err.to_string();
        assert!(
            shown.contains("no queue \"missing\"") || shown.contains("no exchange \"missing\""),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn killing_an_unknown_broker_or_client_fails() {
    let name = unique("b");
    let err = kill_connection(&name, "c").unwrap_err().to_string();
    assert!(err.contains("no memory broker"), "{err}");
    let _t = open(&name, "c").await;
    let err = kill_connection(&name, "other").unwrap_err().to_string();
    assert!(
        err.contains("no open connection with client id \"other\""),
        "{err}"
    );
    kill_connection(&name, "c").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_fan_out_in_order() {
    const N: usize = 10_000;
    let name = unique("b");
    let (publisher, sub) = (open(&name, "p").await, open(&name, "s").await);
    let (out, a, b) = (q("OUT"), q("A"), q("B"));
    publisher.declare_outport(&out).await.unwrap();
    let mut consumers = Vec::new();
    for inport in [&a, &b] {
        sub.declare_inport(inport).await.unwrap();
        sub.bind(&out, inport).await.unwrap();
        consumers.push(sub.consume(inport, 100).await.unwrap());
    }
    let sending = tokio::spawn(async move {
        for i in 0..N {
            publisher
                .publish(&out, Bytes::from(i.to_string()))
                .await
                .unwrap();
        }
    });
    for mut c in consumers {
        for i in 0..N {
            let d = next(&mut c).await;
            assert_eq!(text(&d), i.to_string());
            d.ack().await.unwrap();
        }
    }
    sending.await.unwrap();
}

#[tokio::test]
async fn the_discovery_queue_is_plain_and_declared_on_first_use() {
    let name = unique("b");
    let t = open(&name, "c").await;
    t.announce(Bytes::from("hello")).await.unwrap();
    let mut c = t.consume(&discovery_queue(), 1).await.unwrap();
    assert_eq!(text(&next(&mut c).await), "hello");
    t.declare_inport(&discovery_queue()).await.unwrap();
    assert_eq!(counts(&name, "dead-fbp").0, None);
}

#[tokio::test]
async fn a_dead_letter_queue_declared_as_an_inport_has_no_dead_letter_queue() {
    let name = unique("b");
    let t = open(&name, "c").await;
    let dead = dead_letter_queue(&q("in"));
    t.declare_inport(&dead).await.unwrap();
    assert_eq!(counts(&name, "dead-dead-in").0, None);
    let mut c = t.consume(&dead, 1).await.unwrap();
    t.publish(&dead, Bytes::from("via its exchange"))
        .await
        .unwrap();
    next(&mut c).await.nack().await.unwrap();
    assert_eq!(counts(&name, "dead-in"), (Some(0), 0), "nack dropped it");
}

#[tokio::test]
async fn bind_declares_a_missing_end_and_keeps_an_existing_one() {
    let t = open(&unique("bind-ends"), "c").await;
    let (out, inport) = (q("never.OUT"), q("never.IN"));
    t.bind(&out, &inport).await.unwrap();
    let mut consumer = t.consume(&inport, 1).await.unwrap();
    t.publish(&out, Bytes::from_static(b"1")).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert_eq!(text(&delivery), "1");
    delivery.nack().await.unwrap();
    let mut dead = t.consume(&dead_letter_queue(&inport), 1).await.unwrap();
    assert_eq!(text(&next(&mut dead).await), "1");

    // Bound again to a second outport: the queue and what waits in it stay.
    t.send_to_inport(&inport, Bytes::from_static(b"2"))
        .await
        .unwrap();
    t.bind(&q("other.OUT"), &inport).await.unwrap();
    assert_eq!(text(&next(&mut consumer).await), "2");
}
