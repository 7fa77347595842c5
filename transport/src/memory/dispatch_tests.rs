use super::super::state::{Refusal, State};
use super::super::testing::TestOutlet;
use super::*;

/// A state with inport `in` (dead-letter queue `dead-in`) and one connection.
fn setup() -> (State<TestOutlet>, ConnId) {
    let mut s = State::default();
    s.declare_inport("in", "dead-in");
    let conn = s.open("client");
    (s, conn)
}

fn send(s: &mut State<TestOutlet>, texts: &[&str]) {
    for t in texts {
        s.send("in", Bytes::from(t.to_string())).unwrap();
    }
}

#[test]
fn consumers_of_one_queue_take_turns() {
    let (mut s, conn) = setup();
    let (a, b) = (TestOutlet::default(), TestOutlet::default());
    s.consume(conn, "in", 10, a.clone()).unwrap();
    s.consume(conn, "in", 10, b.clone()).unwrap();
    send(&mut s, &["1", "2", "3", "4", "5"]);
    assert_eq!(a.texts(), ["1", "3", "5"]);
    assert_eq!(b.texts(), ["2", "4"]);
}

#[test]
fn prefetch_limits_unacked_deliveries_and_an_ack_frees_a_slot() {
    let (mut s, conn) = setup();
    let a = TestOutlet::default();
    let id = s.consume(conn, "in", 2, a.clone()).unwrap();
    send(&mut s, &["1", "2", "3"]);
    let got = a.take();
    assert_eq!(got.len(), 2);
    assert_eq!(s.waiting("in"), Some(1));
    assert!(s.settle(got[0].tag, id, Settle::Ack));
    assert_eq!(a.texts(), ["3"]);
    assert_eq!(s.unacked(), 2);
}

#[test]
fn messages_waiting_before_the_consumer_are_handed_out_in_order() {
    let (mut s, conn) = setup();
    send(&mut s, &["1", "2", "3"]);
    let a = TestOutlet::default();
    s.consume(conn, "in", 5, a.clone()).unwrap();
    assert_eq!(a.texts(), ["1", "2", "3"]);
}

#[test]
fn nack_dead_letters_the_same_bytes_once() {
    let (mut s, conn) = setup();
    let (a, dead) = (TestOutlet::default(), TestOutlet::default());
    let id = s.consume(conn, "in", 1, a.clone()).unwrap();
    s.consume(conn, "dead-in", 1, dead.clone()).unwrap();
    let payload = Bytes::from("poison");
    s.send("in", payload.clone()).unwrap();
    let got = a.take();
    assert!(s.settle(got[0].tag, id, Settle::Nack));
    let dead_got = dead.take();
    assert_eq!(dead_got.len(), 1);
    assert_eq!(dead_got[0].payload.as_ptr(), payload.as_ptr());
    assert!(!dead_got[0].redelivered);
    // A second nack of the same delivery does nothing.
    assert!(!s.settle(got[0].tag, id, Settle::Nack));
    assert!(dead.take().is_empty());
    assert_eq!(s.waiting("in"), Some(0));
}

#[test]
fn a_full_outlet_keeps_the_message_first_until_a_settle_makes_room() {
    let (mut s, conn) = setup();
    let a = TestOutlet::with_room(1);
    let id = s.consume(conn, "in", 10, a.clone()).unwrap();
    send(&mut s, &["1", "2", "3"]);
    let first = a.take();
    assert_eq!(first.len(), 1);
    assert_eq!(s.waiting("in"), Some(2));
    a.set_room(None);
    // Dropping a delivery makes room in a channel, without settling it.
    assert!(s.settle(first[0].tag, id, Settle::Release));
    assert_eq!(a.texts(), ["2", "3"]);
    assert_eq!(s.unacked(), 3);
}

#[test]
fn a_full_outlet_lets_other_consumers_take_the_message() {
    let (mut s, conn) = setup();
    let (a, b) = (TestOutlet::with_room(0), TestOutlet::default());
    s.consume(conn, "in", 10, a.clone()).unwrap();
    s.consume(conn, "in", 10, b.clone()).unwrap();
    send(&mut s, &["1", "2"]);
    assert!(a.take().is_empty());
    assert_eq!(b.texts(), ["1", "2"]);
}

#[test]
fn a_gone_consumer_is_removed_and_its_message_goes_to_the_next() {
    let (mut s, conn) = setup();
    let (a, b) = (TestOutlet::default(), TestOutlet::default());
    s.consume(conn, "in", 10, a.clone()).unwrap();
    s.consume(conn, "in", 10, b.clone()).unwrap();
    a.close();
    send(&mut s, &["1", "2"]);
    assert_eq!(b.texts(), ["1", "2"]);
    assert_eq!(s.consumers.removed.len(), 1);
}

#[test]
fn closing_a_connection_requeues_its_unacked_in_order_and_ends_its_consumers() {
    let (mut s, conn) = setup();
    let a = TestOutlet::default();
    let id = s.consume(conn, "in", 10, a.clone()).unwrap();
    send(&mut s, &["1", "2", "3"]);
    let got = a.take();
    assert!(s.settle(got[1].tag, id, Settle::Ack));
    s.drop_connection(conn, false);
    assert_eq!(s.consumers.removed.len(), 1);
    assert!(s.connections_of("client").is_empty());
    assert_eq!(
        s.consume(conn, "in", 1, TestOutlet::default()).map(|_| ()),
        Err(Refusal::ConnectionClosed)
    );
    // The old delivery's ack is ignored: the message stays queued.
    assert!(!s.settle(got[0].tag, id, Settle::Ack));

    let again = s.open("client");
    let b = TestOutlet::default();
    s.consume(again, "in", 10, b.clone()).unwrap();
    let back = b.take();
    let texts: Vec<_> = back.iter().map(|h| h.payload.clone()).collect();
    assert_eq!(texts, ["1", "3"]);
    assert!(back.iter().all(|h| h.redelivered));
}

#[test]
fn a_killed_connection_gets_its_unacked_back_on_the_same_consumer() {
    let (mut s, conn) = setup();
    let other = s.open("other");
    let a = TestOutlet::default();
    let id = s.consume(conn, "in", 2, a.clone()).unwrap();
    send(&mut s, &["1", "2", "3"]);
    let got = a.take();
    assert_eq!(got.len(), 2);
    assert_eq!(s.reconnects(conn), 0);
    assert_eq!(s.kill_client("client"), 1);
    assert_eq!(s.kill_client("nobody"), 0);
    assert_eq!(s.connections_of("other"), [other]);
    assert_eq!((s.reconnects(conn), s.reconnects(other)), (1, 0));
    let back = a.take();
    let texts: Vec<_> = back.iter().map(|h| h.payload.clone()).collect();
    assert_eq!(texts, ["1", "2"]);
    assert!(back.iter().all(|h| h.redelivered));
    // Acks from before the kill are ignored and free no slot twice.
    assert!(!s.settle(got[0].tag, id, Settle::Ack));
    assert!(!s.settle(got[1].tag, id, Settle::Ack));
    assert!(a.take().is_empty());
    assert!(s.settle(back[0].tag, id, Settle::Ack));
    assert_eq!(a.texts(), ["3"]);
}

#[test]
fn a_killed_connection_whose_outlet_is_full_resumes_when_it_drains() {
    let (mut s, conn) = setup();
    let a = TestOutlet::with_room(2);
    let id = s.consume(conn, "in", 2, a.clone()).unwrap();
    send(&mut s, &["1", "2"]);
    // The two stale deliveries still fill the channel after the kill.
    let stale = a.take();
    s.kill_client("client");
    assert!(a.take().is_empty());
    assert_eq!(s.waiting("in"), Some(2));
    a.set_room(Some(1));
    assert!(!s.settle(stale[0].tag, id, Settle::Release));
    assert_eq!(a.texts(), ["1"]);
    a.set_room(Some(1));
    assert!(!s.settle(stale[1].tag, id, Settle::Ack));
    assert_eq!(a.texts(), ["2"]);
}

#[test]
fn prefetch_zero_is_taken_as_one() {
    let (mut s, conn) = setup();
    let a = TestOutlet::default();
    s.consume(conn, "in", 0, a.clone()).unwrap();
    send(&mut s, &["1", "2"]);
    assert_eq!(a.texts(), ["1"]);
}

#[test]
fn consuming_an_unknown_queue_is_refused() {
    let (mut s, conn) = setup();
    assert_eq!(
        s.consume(conn, "nope", 1, TestOutlet::default())
            .map(|_| ()),
        Err(Refusal::NoQueue("nope".into()))
    );
}
