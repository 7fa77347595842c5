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

use msgflo_protocol::graph::{Endpoint, Graph};

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
    let virtual_node = |node: &str| is_wiring_node(graph, node);
    let into = |node: &str| -> Vec<Endpoint> {
        graph
            .edges()
            .filter(|e| e.tgt.process == node && !virtual_node(&e.src.process))
            .map(|e| e.src.clone())
            .collect()
    };
    let out_of = |node: &str, deadletter: bool| -> Vec<Endpoint> {
        graph
            .edges()
            .filter(|e| {
                e.src.process == node
                    && e.src.port.eq_ignore_ascii_case("deadletter") == deadletter
                    && !virtual_node(&e.tgt.process)
            })
            .map(|e| e.tgt.clone())
            .collect()
    };
    let mut routes = Vec::new();
    let mut push = |route: Route| {
        if !routes.contains(&route) {
            routes.push(route);
        }
    };
    for edge in graph.edges() {
        let (src, tgt) = (&edge.src, &edge.tgt);
        match (virtual_node(&src.process), virtual_node(&tgt.process)) {
            (false, false) => push(Route {
                from: Source::Outport(src.clone()),
                to: tgt.clone(),
            }),
            // Routes through a wiring node are made once, at its first
            // outgoing edge.
            (true, false) => {
                let node = &src.process;
                let deadletter = src.port.eq_ignore_ascii_case("deadletter");
                if deadletter {
                    for worker in out_of(node, false) {
                        push(Route {
                            from: Source::DeadLetters(worker),
                            to: tgt.clone(),
                        });
                    }
                } else {
                    for source in into(node) {
                        push(Route {
                            from: Source::Outport(source),
                            to: tgt.clone(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    routes
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
    fn a_wiring_node_without_targets_routes_nothing() {
        assert!(routes(&graph("a(A) OUT -> IN jobs(msgflo/RoundRobin)")).is_empty());
        assert!(!is_participant(ROUND_ROBIN) && is_participant("core/Repeat"));
    }
}
