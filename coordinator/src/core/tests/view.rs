//! [`Core::view`]: the topology the live view draws.

use super::*;

#[test]
fn the_view_shows_routes_through_wiring_their_links_and_what_waits() {
    let fbp = "a(C) OUT -> IN jobs(msgflo/RoundRobin) OUT -> IN b(C)\n\
               jobs DEADLETTER -> IN dead(C)\n\
               b OUT -> IN c(C)";
    let mut core = core(fbp, Mode::Queues, Some("s"));
    let mut actions = core.start(t(0));
    for role in ["a", "b", "dead"] {
        actions.extend(core.handle(announce(role), t(1)));
    }
    all_done(&mut core, &actions, t(2));
    assert!(core.view(None, t(3)).is_none(), "no secret, no view");
    let view = core.view(Some("s"), t(1_500)).expect("the secret lets in");
    assert!(view.started);
    let ids: Vec<&str> = view.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["a", "jobs", "b", "dead", "c"]);
    let node = |id: &str| view.nodes.iter().find(|n| n.id == id).expect(id);
    assert!(node("jobs").wiring && node("jobs").pending.is_none());
    assert_eq!(node("a").participants[0].last_seen_ms, 1_499);
    assert!(node("c").pending.is_some(), "c has no participant");
    let edge = |id: &str| view.edges.iter().find(|e| e.id == id).expect(id);
    // a -> jobs is the route a.OUT -> b.IN, bound and in place.
    let into_jobs = &edge("a() OUT -> IN jobs()").routes;
    assert_eq!(into_jobs.len(), 1, "{into_jobs:?}");
    assert_eq!(into_jobs[0].to.node, "b");
    assert_eq!(into_jobs[0].target_queue.as_deref(), Some("b.IN"));
    assert_eq!(
        (into_jobs[0].link, into_jobs[0].in_place),
        (Some("bind"), true)
    );
    assert_eq!(edge("jobs() OUT -> IN b()").routes, *into_jobs);
    // The dead letters of b's inport go to dead.
    let dead = &edge("jobs() DEADLETTER -> IN dead()").routes;
    assert!(dead[0].dead && dead[0].from.node == "b", "{dead:?}");
    assert_eq!(dead[0].source_queue.as_deref(), Some("dead-b.IN"));
    // b -> c waits for c.
    let waiting = &edge("b() OUT -> IN c()").routes[0];
    assert_eq!(waiting.link, None);
    assert!(
        waiting
            .pending
            .as_deref()
            .is_some_and(|p| p.contains("role c")),
        "{waiting:?}"
    );
}

#[test]
fn roles_outside_the_graph_are_shown_apart() {
    let mut core = running();
    core.handle(announce("stray"), t(10));
    let view = core.view(None, t(11)).expect("open");
    let stray = view.nodes.iter().find(|n| n.id == "stray").expect("stray");
    assert!(!stray.in_graph && stray.participants.len() == 1);
}

#[test]
fn a_route_the_coordinator_forwards_says_so() {
    let mut core = core("a(C) OUT -> IN b(C)", Mode::Participants, None);
    let mut actions = core.start(t(0));
    actions.extend(core.handle(announce("a"), t(1)));
    actions.extend(core.handle(announce("b"), t(2)));
    all_done(&mut core, &actions, t(3));
    let view = core.view(None, t(4)).expect("open");
    let route = &view.edges[0].routes[0];
    assert_eq!((route.link, route.in_place), (Some("connectinport"), true));
    let silent = Event::Silent {
        participant: msgflo_protocol::ids::ParticipantId::new("b-1").expect("an id"),
    };
    let after = core.handle(silent, t(5_000));
    all_done(&mut core, &after, t(5_001));
    let view = core.view(None, t(5_002)).expect("open");
    let route = &view.edges[0].routes[0];
    assert_eq!(
        (route.link, route.in_place),
        (Some("forward"), true),
        "{route:?}"
    );
    let b = view.nodes.iter().find(|n| n.id == "b").expect("b");
    assert!(b.participants[0].forwarded);
}

/// An edge that names a delivery mode says which; on AMQP its outport's
/// `setoutportdelivery` is among the links the core applies.
#[test]
fn an_edge_shows_the_delivery_mode_it_names() {
    let mut graph =
        msgflo_protocol::dsl::parse("a(C) OUT -> IN b(C)\nb OUT -> IN c(C)").expect("graph");
    if let Some(msgflo_protocol::graph::Connection::Edge(e)) = graph.connections.first_mut() {
        e.metadata = Some(serde_json::from_str(r#"{"delivery": "transient"}"#).expect("json"));
    }
    let mut core = Core::new(
        config(None),
        Mode::Queues,
        Graphs::with_main("g", graph),
        Library::empty(),
    );
    let mut actions = core.start(t(0));
    for role in ["a", "b"] {
        actions.extend(core.handle(announce(role), t(1)));
    }
    let asked = actions.iter().any(|a| {
        matches!(
            a,
            Action::Link {
                link: Link::OutportDelivery { .. },
                ..
            }
        )
    });
    assert!(asked, "{actions:?}");
    let view = core.view(None, t(2)).expect("open");
    let deliveries: Vec<_> = view.edges.iter().map(|e| e.delivery).collect();
    assert_eq!(deliveries, [Some("transient"), None]);
}
