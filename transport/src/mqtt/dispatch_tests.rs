//! Tests of [`Dispatch`]: windows, turns, waiting messages, generations.

use super::super::super::{Acker, Result};
use super::*;
use crate::Headers;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

struct NoAck;
#[async_trait]
impl Acker for NoAck {
    async fn ack(self: Box<Self>) -> Result<()> {
        Ok(())
    }
    async fn nack(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).unwrap()
}

fn msg(topic: &str, n: u16) -> Message {
    Message {
        topic: topic.into(),
        payload: Bytes::from(n.to_string()),
        pkid: n,
        dup: false,
        headers: Headers::new(),
    }
}

/// A delivery maker that records each target.
fn maker(log: Arc<Mutex<Vec<(u64, u64)>>>) -> impl MakeDelivery {
    move |p: &Message, t: Target<'_>| {
        log.lock().unwrap().push((t.consumer, t.generation));
        Some(Delivery::new(p.payload.clone(), p.dup, Box::new(NoAck)))
    }
}

fn payloads(rx: &mut mpsc::Receiver<Delivery>) -> Vec<Bytes> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|d| d.payload)
        .collect()
}

#[test]
fn a_consumer_never_holds_more_than_its_window() {
    let mut d = Dispatch::default();
    let mut make = maker(Arc::default());
    let (tx, mut rx) = mpsc::channel(2);
    let c = d.add_consumer(&q("in"), 2, tx);
    for n in 1..=4 {
        d.incoming(Some(&q("in")), msg("in", n), &mut make);
    }
    assert_eq!(payloads(&mut rx), ["1", "2"]);
    assert_eq!(d.held(), 2);
    assert_eq!(d.acked(c, 0), Some((q("in"), true)));
    d.pump(&q("in"), &mut make);
    assert_eq!(payloads(&mut rx), ["3"]);
    assert_eq!(d.held(), 1);
}

#[test]
fn consumers_of_one_inport_take_turns() {
    let mut d = Dispatch::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut make = maker(log.clone());
    let (tx1, _rx1) = mpsc::channel(10);
    let (tx2, _rx2) = mpsc::channel(10);
    let a = d.add_consumer(&q("in"), 10, tx1);
    let b = d.add_consumer(&q("in"), 10, tx2);
    for n in 1..=4 {
        d.incoming(Some(&q("in")), msg("in", n), &mut make);
    }
    let who: Vec<_> = log.lock().unwrap().iter().map(|(c, _)| *c).collect();
    assert_eq!(who, [a, b, a, b]);
}

#[test]
fn unrouted_messages_expire_oldest_first() {
    let mut d = Dispatch::default();
    let mut make = maker(Arc::default());
    d.incoming(None, msg("stale", 1), &mut make);
    let between = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(2));
    d.incoming(None, msg("fresh", 2), &mut make);
    let expired = d.expire_unrouted(between);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].topic, "stale");
    assert_eq!(d.held(), 1);
    assert!(d.expire_unrouted(between).is_empty());
    assert_eq!(d.take_unrouted().len(), 1);
}

#[test]
fn unrouted_messages_wait_until_taken_back() {
    let mut d = Dispatch::default();
    let mut make = maker(Arc::default());
    d.incoming(None, msg("old", 1), &mut make);
    assert_eq!(d.held(), 1);
    let back = d.take_unrouted();
    assert_eq!(back.len(), 1);
    assert_eq!(d.held(), 0);
}

#[test]
fn a_dropped_consumer_is_skipped_and_messages_wait_for_the_next() {
    let mut d = Dispatch::default();
    let mut make = maker(Arc::default());
    let (tx, rx) = mpsc::channel(10);
    d.add_consumer(&q("in"), 10, tx);
    drop(rx);
    d.incoming(Some(&q("in")), msg("in", 1), &mut make);
    assert_eq!(d.held(), 1);
    let (tx, mut rx) = mpsc::channel(10);
    d.add_consumer(&q("in"), 10, tx);
    d.pump(&q("in"), &mut make);
    assert_eq!(payloads(&mut rx), ["1"]);
}

#[test]
fn past_the_cap_messages_are_skipped_until_the_consumers_caught_up() {
    let mut d = Dispatch::with_cap(4);
    let mut make = maker(Arc::default());
    let (tx, mut rx) = mpsc::channel(1);
    let c = d.add_consumer(&q("in"), 1, tx);
    for n in 1..=6 {
        d.incoming(Some(&q("in")), msg("in", n), &mut make);
    }
    // 1 delivered, 2..=5 held, 6 skipped.
    assert_eq!((d.held(), d.needs_resync()), (4, false));
    for _ in 0..2 {
        rx.try_recv().unwrap();
        d.acked(c, 0);
        d.pump(&q("in"), &mut make);
    }
    assert_eq!((d.held(), d.needs_resync()), (2, true));
    d.new_generation();
    assert!(!d.needs_resync());
}

/// QoS 0 messages (packet id 0) take at most half the cap, and past it are
/// dropped: nothing would send them again, so they never ask for a resync,
/// and QoS 1 messages still have the other half.
#[test]
fn qos_0_messages_take_half_the_cap_and_past_it_are_dropped() {
    let mut d = Dispatch::with_cap(6);
    let mut make = maker(Arc::default());
    let (tx, mut rx) = mpsc::channel(1);
    let c = d.add_consumer(&q("in"), 1, tx);
    let qos0 = |n: u16| Message {
        payload: Bytes::from(format!("q0-{n}")),
        pkid: 0,
        ..msg("in", n)
    };
    for n in 1..=6 {
        d.incoming(Some(&q("in")), qos0(n), &mut make);
    }
    // 1 delivered, 2..=4 held (half the cap), 5 and 6 dropped.
    assert_eq!((d.held(), d.needs_resync()), (3, false));
    for n in 7..=9 {
        d.incoming(Some(&q("in")), msg("in", n), &mut make);
    }
    assert_eq!((d.held(), d.needs_resync()), (6, false), "QoS 1 still fit");
    let mut got = Vec::new();
    while let Ok(delivery) = rx.try_recv() {
        got.push(delivery.payload);
        d.acked(c, 0);
        d.pump(&q("in"), &mut make);
    }
    assert_eq!(got, ["q0-1", "q0-2", "q0-3", "q0-4", "7", "8", "9"]);
    assert!(!d.needs_resync(), "nothing to get again");
}

#[test]
fn a_new_generation_forgets_waiting_messages_and_old_acks() {
    let mut d = Dispatch::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut make = maker(log.clone());
    let (tx, mut rx) = mpsc::channel(1);
    let c = d.add_consumer(&q("in"), 1, tx);
    d.incoming(Some(&q("in")), msg("in", 1), &mut make);
    d.incoming(Some(&q("in")), msg("in", 2), &mut make);
    d.incoming(None, msg("x", 3), &mut make);
    d.new_generation();
    assert_eq!(d.held(), 0);
    assert_eq!(d.acked(c, 0), Some((q("in"), false)), "stale ack");
    assert_eq!(payloads(&mut rx), ["1"]);
    d.incoming(Some(&q("in")), msg("in", 1), &mut make);
    assert_eq!(payloads(&mut rx), ["1"], "window starts empty");
    assert_eq!(log.lock().unwrap().last(), Some(&(c, 1)));
}
