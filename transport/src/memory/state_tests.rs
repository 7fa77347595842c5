use super::super::testing::TestOutlet;
use super::*;

fn state() -> State<TestOutlet> {
    State::default()
}

fn waiting(s: &State<TestOutlet>, queue: &str) -> Vec<Bytes> {
    let q = s.queues.get(queue).expect("queue exists");
    q.messages.iter().map(|m| m.payload.clone()).collect()
}

#[test]
fn publish_copies_into_every_bound_queue_in_order() {
    let mut s = state();
    s.declare_exchange("out");
    s.declare_inport("a", "dead-a");
    s.declare_inport("b", "dead-b");
    s.bind("out", "a").unwrap();
    s.bind("out", "b").unwrap();
    s.bind("out", "b").unwrap();
    for p in ["1", "2"] {
        assert_eq!(s.publish("out", Bytes::from(p)).unwrap(), 2);
    }
    assert_eq!(waiting(&s, "a"), ["1", "2"]);
    assert_eq!(waiting(&s, "b"), ["1", "2"]);
}

#[test]
fn copies_share_the_bytes() {
    let mut s = state();
    s.declare_exchange("out");
    s.declare_inport("a", "dead-a");
    s.bind("out", "a").unwrap();
    let payload = Bytes::from(vec![7u8; 64]);
    s.publish("out", payload.clone()).unwrap();
    assert_eq!(waiting(&s, "a")[0].as_ptr(), payload.as_ptr());
}

#[test]
fn publish_without_bindings_drops_but_an_unknown_exchange_is_an_error() {
    let mut s = state();
    s.declare_exchange("out");
    assert_eq!(s.publish("out", Bytes::new()), Ok(0));
    assert_eq!(
        s.publish("nope", Bytes::new()),
        Err(Refusal::NoExchange("nope".into()))
    );
    assert_eq!(
        s.send("nope", Bytes::new()),
        Err(Refusal::NoQueue("nope".into()))
    );
}

#[test]
fn an_inport_is_reachable_through_its_own_exchange_and_has_a_dead_letter_queue() {
    let mut s = state();
    s.declare_inport("in", "dead-in");
    s.publish("in", Bytes::from("via exchange")).unwrap();
    s.send("in", Bytes::from("direct")).unwrap();
    assert_eq!(waiting(&s, "in"), ["via exchange", "direct"]);
    s.dead_letter("in", Bytes::from("bad"), &Headers::new());
    assert_eq!(waiting(&s, "dead-in"), ["bad"]);
    // The dead-letter queue has no dead-letter exchange of its own.
    s.dead_letter("dead-in", Bytes::from("dropped"), &Headers::new());
    assert_eq!(waiting(&s, "dead-in"), ["bad"]);
}

#[test]
fn declaring_again_keeps_messages_and_bindings() {
    let mut s = state();
    s.declare_exchange("out");
    s.declare_inport("in", "dead-in");
    s.bind("out", "in").unwrap();
    s.send("in", Bytes::from("kept")).unwrap();
    s.declare_exchange("out");
    s.declare_inport("in", "dead-in");
    s.publish("out", Bytes::from("bound")).unwrap();
    assert_eq!(waiting(&s, "in"), ["kept", "bound"]);
}

#[test]
fn unbind_stops_copies_and_tolerates_a_missing_binding() {
    let mut s = state();
    s.declare_exchange("out");
    s.declare_inport("in", "dead-in");
    s.bind("out", "in").unwrap();
    s.unbind("out", "in").unwrap();
    s.unbind("out", "in").unwrap();
    assert_eq!(s.publish("out", Bytes::from("lost")), Ok(0));
    assert_eq!(s.waiting("in"), Some(0));
}

#[test]
fn binding_needs_both_ends() {
    let mut s = state();
    s.declare_exchange("out");
    s.declare_inport("in", "dead-in");
    assert_eq!(
        s.bind("nope", "in"),
        Err(Refusal::NoExchange("nope".into()))
    );
    assert_eq!(s.bind("out", "nope"), Err(Refusal::NoQueue("nope".into())));
    assert_eq!(
        s.unbind("out", "nope"),
        Err(Refusal::NoQueue("nope".into()))
    );
    assert_eq!(
        Refusal::NoExchange("x".into()).to_string(),
        "NOT_FOUND - no exchange \"x\""
    );
}

#[test]
fn connections_are_found_by_client_id() {
    let mut s = state();
    let a = s.open("a");
    let b = s.open("b");
    let a2 = s.open("a");
    assert_eq!(s.connections_of("a"), [a, a2]);
    assert_eq!(s.connections_of("b"), [b]);
    assert!(s.connections_of("c").is_empty());
}
