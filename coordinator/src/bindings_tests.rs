//! Plans and diffs for small graphs and registries.

use super::*;
use msgflo_protocol::dsl::parse;
use msgflo_protocol::ids::{PortName, Role};
use std::time::Instant;

fn participant(
    id: &str,
    role: &str,
    inports: &[(&str, Option<&str>)],
    outports: &[&str],
) -> Participant {
    let port = |id: &str, queue: Option<&str>| {
        Port::new(
            PortName::new(id).expect("port"),
            queue.map(|q| QueueName::new(q).expect("queue")),
        )
    };
    let mut p = Participant::new(
        ParticipantId::new(id).expect("id"),
        Role::new(role).expect("role"),
        "core/Repeat",
    );
    p.inports = inports.iter().map(|(id, q)| port(id, *q)).collect();
    p.outports = outports.iter().map(|id| port(id, None)).collect();
    p
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("queue")
}

const GRAPH: &str = "a(Repeat) OUT -> IN b(Repeat)\nb OUT -> IN c(Repeat)";

#[test]
fn edges_wait_for_their_roles_and_are_planned_once_they_appear() {
    let graph = parse(GRAPH).expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    let plan0 = plan(&graph, &registry, Mode::Participants);
    assert!(plan0.links.is_empty());
    assert_eq!(plan0.pending.len(), 2);
    assert_eq!(plan0.pending[0].edge, "a() OUT -> IN b()");
    assert_eq!(plan0.pending[0].missing, "no participant of role a yet");
    // On AMQP too: nothing is bound under guessed names.
    assert_eq!(plan(&graph, &registry, Mode::Queues), plan0);

    registry.seen(participant("a-1", "a", &[("in", None)], &["out"]), now);
    registry.seen(participant("b-1", "b", &[("in", None)], &["out"]), now);
    let queues = plan(&graph, &registry, Mode::Queues);
    assert_eq!(
        queues.links.into_iter().collect::<Vec<_>>(),
        [Link::Bind {
            outport: q("a.OUT"),
            inport: q("b.IN")
        }]
    );
    let plan1 = plan(&graph, &registry, Mode::Participants);
    assert_eq!(plan1.links.len(), 1, "only a -> b, to b's participant");
    assert_eq!(plan1.pending.len(), 1, "b -> c still waits for c");
    assert!(plan1.pending[0]
        .missing
        .starts_with("no participant of role c yet"));
}

/// An outport whose edges name a delivery mode gets it, on AMQP, in every
/// participant of its role that has the port, even before the edge's
/// target appears; on MQTT a participant publishes QoS 1 whatever the
/// mode, so nothing is planned for the outport there.
#[test]
fn an_outport_whose_edges_name_a_mode_is_given_it_on_amqp() {
    let mut graph = parse(GRAPH).expect("graph");
    for edge in graph.connections.iter_mut() {
        if let msgflo_protocol::graph::Connection::Edge(e) = edge {
            if e.src.process == "a" {
                e.metadata = Some(serde_json::from_str(r#"{"delivery": "transient"}"#).unwrap());
            }
        }
    }
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[("in", None)], &["OUT"]), now);
    registry.seen(participant("a-2", "a", &[("in", None)], &["OUT"]), now);
    registry.seen(participant("a-3", "a", &[("in", None)], &[]), now);
    let delivery = |id: &str| Link::OutportDelivery {
        participant: ParticipantId::new(id).expect("id"),
        port: "OUT".into(),
        mode: DeliveryMode::Transient,
    };
    let queues = plan(&graph, &registry, Mode::Queues);
    assert_eq!(
        queues.links.into_iter().collect::<Vec<_>>(),
        [delivery("a-1"), delivery("a-2")]
    );
    assert_eq!(delivery("a-1").to_string(), "transient delivery on a-1.OUT");
    assert!(plan(&graph, &registry, Mode::Participants).links.is_empty());
}

/// A participant that names its queues otherwise (msgflo-python's
/// `role/port`) gets its edges bound to those, and no `ROLE.IN` is ever
/// planned for it, before or after it appears.
#[test]
fn no_default_queue_is_bound_for_a_role_before_discovery_names_its_queues() {
    let graph = parse("rust(X) OUT -> IN py(Y)").expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("rust-1", "rust", &[], &["out"]), now);
    let early = plan(&graph, &registry, Mode::Queues);
    assert!(early.links.is_empty(), "{early:?}");
    assert_eq!(early.pending[0].missing, "no participant of role py yet");
    registry.seen(
        participant("py-1", "py", &[("in", Some("py/in"))], &[]),
        now,
    );
    let links: Vec<Link> = plan(&graph, &registry, Mode::Queues)
        .links
        .into_iter()
        .collect();
    assert_eq!(
        links,
        [Link::Bind {
            outport: q("rust.OUT"),
            inport: q("py/in")
        }]
    );
}

#[test]
fn explicit_queues_win_and_ports_match_without_case() {
    let graph = parse("a(X) OUT -> IN b(Y)").expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["OUT"]), now);
    registry.seen(
        participant("b-1", "b", &[("in", Some("devices/b/in"))], &[]),
        now,
    );
    let links = plan(&graph, &registry, Mode::Queues).links;
    assert_eq!(
        links.into_iter().collect::<Vec<_>>(),
        [Link::Bind {
            outport: q("a.OUT"),
            inport: q("devices/b/in")
        }]
    );
}

#[test]
fn a_missing_port_keeps_the_edge_pending_and_says_which() {
    let graph = parse("a(X) NOPE -> IN b(Y)").expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["out"]), now);
    registry.seen(participant("b-1", "b", &[("in", None)], &[]), now);
    let plan = plan(&graph, &registry, Mode::Participants);
    assert!(plan.links.is_empty());
    assert_eq!(
        plan.pending[0].missing,
        "participant a-1 of role a has no outport \"nope\""
    );
}

#[test]
fn on_mqtt_every_participant_of_the_target_role_is_told() {
    let graph = parse("a(X) OUT -> IN b(Y)").expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["out"]), now);
    registry.seen(participant("b-1", "b", &[("in", None)], &[]), now);
    registry.seen(participant("b-2", "b", &[("in", None)], &[]), now);
    let links: Vec<Link> = plan(&graph, &registry, Mode::Participants)
        .links
        .into_iter()
        .collect();
    let connect = |id: &str| Link::ConnectInport {
        participant: ParticipantId::new(id).expect("id"),
        outport: q("a.OUT"),
        port: "in".into(),
    };
    assert_eq!(links, [connect("b-1"), connect("b-2")]);
}

/// A role served by a msgflo-nodejs participant (answers no
/// `connectinport`) and a Rust one, both on `b.IN`: one forward into `b.IN`
/// reaches both, and the Rust one is not also told to take `a.OUT` (it
/// would get every message twice). A participant of another role is still
/// told.
#[test]
fn a_forwarded_inport_serves_every_participant_of_its_queue_once() {
    let graph = parse("a(X) OUT -> IN b(Y)\na OUT -> IN c(Y)").expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["out"]), now);
    registry.seen(participant("node-1", "b", &[("in", None)], &[]), now);
    registry.seen(participant("rust-1", "b", &[("in", None)], &[]), now);
    registry.seen(participant("c-1", "c", &[("in", None)], &[]), now);
    let links = plan(&graph, &registry, Mode::Participants).links;
    let silent = [ParticipantId::new("node-1").expect("id")].into();
    let links: Vec<Link> = forwarding(links, &silent, &registry).into_iter().collect();
    assert_eq!(
        links,
        [
            Link::ConnectInport {
                participant: ParticipantId::new("c-1").expect("id"),
                outport: q("a.OUT"),
                port: "in".into(),
            },
            Link::Forward {
                outport: q("a.OUT"),
                inport: q("b.IN"),
            },
        ]
    );
}

/// On MQTT a transient edge is subscribed QoS 0 by each participant told
/// to take it, and by none whose inport the coordinator forwards to.
#[test]
fn on_mqtt_a_transient_edge_goes_with_its_connectinport_and_not_with_a_forward() {
    let mut graph = parse("a(X) OUT -> IN b(Y)\na OUT -> IN c(Y)").expect("graph");
    for edge in graph.connections.iter_mut() {
        if let msgflo_protocol::graph::Connection::Edge(e) = edge {
            e.metadata = Some(serde_json::from_str(r#"{"delivery": "transient"}"#).unwrap());
        }
    }
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["out"]), now);
    registry.seen(participant("node-1", "b", &[("in", None)], &[]), now);
    registry.seen(participant("c-1", "c", &[("in", None)], &[]), now);
    let links = plan(&graph, &registry, Mode::Participants).links;
    let id = |id: &str| ParticipantId::new(id).expect("id");
    let transient = |p: &str| Link::InportDelivery {
        participant: id(p),
        outport: q("a.OUT"),
        port: "in".into(),
        mode: DeliveryMode::Transient,
    };
    assert!(links.contains(&transient("node-1")) && links.contains(&transient("c-1")));
    assert_eq!(
        transient("c-1").to_string(),
        "transient delivery of a.OUT -> c-1.in"
    );
    let silent = [id("node-1")].into();
    let links: Vec<Link> = forwarding(links, &silent, &registry).into_iter().collect();
    assert_eq!(
        links,
        [
            Link::ConnectInport {
                participant: id("c-1"),
                outport: q("a.OUT"),
                port: "in".into(),
            },
            Link::Forward {
                outport: q("a.OUT"),
                inport: q("b.IN"),
            },
            transient("c-1"),
        ]
    );
}

/// Two routes carried by one subscription: it is QoS 0 only if both are
/// transient.
#[test]
fn a_subscription_is_transient_only_if_every_route_it_carries_is() {
    let fbp = "a(X) OUT -> IN b(Y)\na OUT -> IN rr(msgflo/RoundRobin) OUT -> IN b";
    let mut graph = parse(fbp).expect("graph");
    let mut registry = Registry::default();
    let now = Instant::now();
    registry.seen(participant("a-1", "a", &[], &["out"]), now);
    registry.seen(participant("b-1", "b", &[("in", None)], &[]), now);
    let inport_deliveries = |graph: &msgflo_protocol::graph::Graph| {
        plan(graph, &registry, Mode::Participants)
            .links
            .into_iter()
            .filter(|l| matches!(l, Link::InportDelivery { .. }))
            .count()
    };
    let mut mark = |direct_only: bool| {
        for edge in graph.connections.iter_mut() {
            if let msgflo_protocol::graph::Connection::Edge(e) = edge {
                if e.src.process == "a" && (!direct_only || e.tgt.process == "b") {
                    e.metadata =
                        Some(serde_json::from_str(r#"{"delivery": "transient"}"#).unwrap());
                }
            }
        }
        graph.clone()
    };
    assert_eq!(
        inport_deliveries(&mark(true)),
        0,
        "the route through rr is not"
    );
    assert_eq!(inport_deliveries(&mark(false)), 1);
}

#[test]
fn the_diff_adds_what_is_wanted_and_removes_what_is_not() {
    let link = |o: &str, i: &str| Link::Bind {
        outport: q(o),
        inport: q(i),
    };
    let actual: BTreeSet<Link> = [link("a.OUT", "b.IN"), link("b.OUT", "c.IN")].into();
    let desired: BTreeSet<Link> = [link("a.OUT", "b.IN"), link("a.OUT", "c.IN")].into();
    let d = diff(&desired, &actual);
    assert_eq!(d.add, [link("a.OUT", "c.IN")]);
    assert_eq!(d.remove, [link("b.OUT", "c.IN")]);
    assert_eq!(diff(&desired, &desired), Diff::default());
}

#[test]
fn a_round_robin_node_binds_through_and_routes_dead_letters() {
    let graph = parse(
        "api(Repeat) OUT -> IN jobs(msgflo/RoundRobin) OUT -> IN work(Repeat)\n\
         jobs DEADLETTER -> IN drop(Drop)",
    )
    .expect("graph");
    let mut registry = Registry::default();
    let early = plan(&graph, &registry, Mode::Queues);
    assert!(early.links.is_empty());
    assert!(early
        .pending
        .iter()
        .any(|p| p.edge == "DEADLETTER(work IN) -> IN drop()"));
    let now = Instant::now();
    for role in ["api", "work", "drop"] {
        let id = format!("{role}-1");
        registry.seen(participant(&id, role, &[("in", None)], &["out"]), now);
    }
    let queues = plan(&graph, &registry, Mode::Queues);
    let expected: BTreeSet<Link> = [("api.OUT", "work.IN"), ("dead-work.IN", "drop.IN")]
        .into_iter()
        .map(|(o, i)| Link::Bind {
            outport: q(o),
            inport: q(i),
        })
        .collect();
    assert_eq!(queues.links, expected, "no queue for the jobs node itself");
    assert!(queues.pending.is_empty());

    // On MQTT the drop participant subscribes to work's dead-letter topic.
    registry.seen(
        participant("work-1", "work", &[("in", Some("w/in"))], &["out"]),
        now,
    );
    registry.seen(participant("drop-1", "drop", &[("in", None)], &[]), now);
    let mqtt = plan(&graph, &registry, Mode::Participants);
    assert!(mqtt.links.contains(&Link::ConnectInport {
        participant: ParticipantId::new("drop-1").expect("id"),
        outport: q("dead-w/in"),
        port: "in".into(),
    }));
}

#[test]
fn a_port_without_a_queue_says_why_in_the_words_clients_see() {
    let registry = {
        let mut r = Registry::default();
        r.seen(
            participant("a-1", "a", &[("in", None)], &[]),
            Instant::now(),
        );
        r
    };
    let text =
        |end: Endpoint, inport| port_queue(&registry, &end, inport).map_err(|e| e.to_string());
    assert_eq!(
        text(Endpoint::new("b", "in"), true),
        Err("no participant of role b yet".into())
    );
    assert_eq!(
        text(Endpoint::new("a", "out"), false),
        Err("participant a-1 of role a has no outport \"out\"".into())
    );
    assert_eq!(
        default_queue(&Endpoint::new("a\u{7}", "in"), true).map_err(|e| e.to_string()),
        Err(
            "a\u{7}.in: invalid queue name \"a\\u{7}.IN\": must not contain control characters"
                .into()
        )
    );
}
