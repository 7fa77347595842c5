//! msgflo's broker-level nodes: `msgflo/RoundRobin` and `msgflo/PubSub` are
//! not participants but ways of wiring participants, as in msgflo-setup. This
//! turns a graph's edges into participant-to-participant [`Route`]s. Pure.
//!
//! - `A OUT -> IN x(msgflo/RoundRobin) OUT -> IN B`: A's outport feeds B's
//!   inport queue, which the participants of role B share round-robin (every
//!   inport is shared that way, so this is a plain route `A.OUT -> B.IN`).
//! - `x DEADLETTER -> IN C` on that node: what B's participants reject (nack)
//!   goes to C — a route from the dead-letters of B's inport (`dead-B.IN`).
//! - `A OUT -> IN p(msgflo/PubSub) OUT -> IN B` (any number of sources and
//!   targets): every source feeds every target.
//!
//! Every other edge between two participants is a route as it stands. An
//! edge to or from such a node that leads nowhere yet (no target) gives no
//! route.

use msgflo_protocol::graph::{Edge, Endpoint, Graph};

/// Component of a round-robin node (msgflo's name).
pub const ROUND_ROBIN: &str = "msgflo/RoundRobin";
/// Component of a publish-subscribe node (msgflo's name).
pub const PUB_SUB: &str = "msgflo/PubSub";

/// Where a route's messages come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// Messages published to a participant's outport.
    Outport(Endpoint),
    /// Messages that the participants of this inport rejected.
    DeadLetters(Endpoint),
}

/// Messages from `from` go to the inport `to`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The source.
    pub from: Source,
    /// The target inport.
    pub to: Endpoint,
}

/// Whether a node of `component` is a participant (not a msgflo wiring node).
pub fn is_participant(component: &str) -> bool {
    component != ROUND_ROBIN && component != PUB_SUB
}

/// Whether `node` of `graph` is a participant (a node of a component
/// that is not msgflo wiring).
pub fn is_participant_node(graph: &Graph, node: &str) -> bool {
    graph
        .processes
        .get(node)
        .is_some_and(|p| is_participant(&p.component))
}

/// Whether `node` of `graph` is a msgflo wiring node (`msgflo/RoundRobin`,
/// `msgflo/PubSub`).
pub fn is_wiring_node(graph: &Graph, node: &str) -> bool {
    graph
        .processes
        .get(node)
        .is_some_and(|p| !is_participant(&p.component))
}

/// The routes between participants that `graph`'s edges make, in edge order.
pub fn routes(graph: &Graph) -> Vec<Route> {
    let mut routes = Vec::new();
    for edge in graph.edges() {
        // Routes through a wiring node are made at its outgoing edges.
        if is_wiring_node(graph, &edge.tgt.process) {
            continue;
        }
        for from in edge_sources(graph, edge) {
            let route = Route {
                from,
                to: edge.tgt.clone(),
            };
            if !routes.contains(&route) {
                routes.push(route);
            }
        }
    }
    routes
}

/// Where the messages on `edge` come from: its source's outport; for an
/// edge out of a wiring node, the outports of the participants feeding the
/// node, or for a round-robin's `DEADLETTER`, the dead letters of the
/// inports it feeds. An edge out of a wiring node that nothing feeds has
/// none.
pub fn edge_sources(graph: &Graph, edge: &Edge) -> Vec<Source> {
    let node = &edge.src.process;
    if !is_wiring_node(graph, node) {
        return vec![Source::Outport(edge.src.clone())];
    }
    let participant = |end: &Endpoint| !is_wiring_node(graph, &end.process);
    if edge.src.port.eq_ignore_ascii_case("deadletter") {
        graph
            .edges()
            .filter(|e| &e.src.process == node && !e.src.port.eq_ignore_ascii_case("deadletter"))
            .filter(|e| participant(&e.tgt))
            .map(|e| Source::DeadLetters(e.tgt.clone()))
            .collect()
    } else {
        graph
            .edges()
            .filter(|e| &e.tgt.process == node && participant(&e.src))
            .map(|e| Source::Outport(e.src.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(fbp: &str) -> Graph {
        msgflo_protocol::dsl::parse(fbp).expect("valid .fbp")
    }

    fn out(process: &str, port: &str) -> Source {
        Source::Outport(Endpoint::new(process, port))
    }

    fn to(process: &str, port: &str) -> Endpoint {
        Endpoint::new(process, port)
    }

    #[test]
    fn plain_edges_are_routes_as_they_stand() {
        let routes = routes(&graph("a(A) OUT -> IN b(B)\nb OUT -> IN c(C)"));
        assert_eq!(
            routes,
            vec![
                Route {
                    from: out("a", "out"),
                    to: to("b", "in")
                },
                Route {
                    from: out("b", "out"),
                    to: to("c", "in")
                },
            ]
        );
    }

    #[test]
    fn round_robin_routes_through_and_dead_letters_to_its_deadletter_target() {
        let g = graph(
            "api(A) OUT -> IN jobs(msgflo/RoundRobin) OUT -> JOB worker(W)\n\
             jobs DEADLETTER -> IN drop(Drop)",
        );
        assert_eq!(
            routes(&g),
            vec![
                Route {
                    from: out("api", "out"),
                    to: to("worker", "job")
                },
                Route {
                    from: Source::DeadLetters(to("worker", "job")),
                    to: to("drop", "in")
                },
            ]
        );
    }

    #[test]
    fn pub_sub_feeds_every_target_from_every_source() {
        let g = graph(
            "a(A) OUT -> IN p(msgflo/PubSub)\nb(B) OUT -> IN p\n\
             p OUT -> IN x(X)\np OUT -> IN y(Y)",
        );
        let routes = routes(&g);
        assert_eq!(routes.len(), 4, "{routes:?}");
        for (s, t) in [("a", "x"), ("b", "x"), ("a", "y"), ("b", "y")] {
            let route = Route {
                from: out(s, "out"),
                to: to(t, "in"),
            };
            assert!(routes.contains(&route), "{s} -> {t} missing: {routes:?}");
        }
    }

    #[test]
    fn each_edge_knows_where_its_messages_come_from() {
        let g = graph(
            "api(A) OUT -> IN jobs(msgflo/RoundRobin) OUT -> JOB worker(W)\n\
             jobs DEADLETTER -> IN drop(Drop)\nidle(msgflo/PubSub) OUT -> IN x(X)",
        );
        let sources: Vec<Vec<Source>> = g.edges().map(|e| edge_sources(&g, e)).collect();
        assert_eq!(
            sources,
            vec![
                vec![out("api", "out")],
                vec![out("api", "out")],
                vec![Source::DeadLetters(to("worker", "job"))],
                vec![],
            ]
        );
    }

    #[test]
    fn a_wiring_node_without_targets_routes_nothing() {
        assert!(routes(&graph("a(A) OUT -> IN jobs(msgflo/RoundRobin)")).is_empty());
        assert!(!is_participant(ROUND_ROBIN) && is_participant("core/Repeat"));
    }
}
