//! [`Topology`]: the running system as the live view draws it — the graph's
//! nodes with their participants, its edges with the broker routes behind
//! them — taken from the core when asked (`core/view.rs`), pure data. The
//! numbers on top (rates, depths, dead letters) come from the broker and
//! the participants ([`super::numbers`]).

use serde::Serialize;

/// The graph the view draws, and what serves it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Topology {
    /// The graph's name.
    pub graph: String,
    /// Whether its network is started (its edges are wanted on the broker).
    pub started: bool,
    /// Its nodes, in graph order; then roles with participants that the
    /// graph does not name (`in_graph: false`).
    pub nodes: Vec<Node>,
    /// Its edges, in graph order.
    pub edges: Vec<Edge>,
}

/// A graph node: a role, and the participants playing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Node {
    /// The node's name, which is its participants' role.
    pub id: String,
    /// Its component.
    pub component: String,
    /// A msgflo wiring node (`msgflo/RoundRobin`, `msgflo/PubSub`): no
    /// participants, only routes.
    pub wiring: bool,
    /// A role with participants that the graph does not name.
    pub in_graph: bool,
    /// The participants of its role.
    pub participants: Vec<Member>,
    /// Why no participant serves it yet; `None` when one does (or it is
    /// wiring).
    pub pending: Option<String>,
}

/// One participant of a node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Its id.
    pub id: String,
    /// How long ago it last announced itself.
    pub last_seen_ms: u64,
    /// It answered no `connectinport`: its MQTT edges go through the
    /// coordinator.
    pub forwarded: bool,
}

/// A graph edge `src -> tgt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Edge {
    /// Its name, `A() OUT -> IN B()` (also the metrics' `edge` label).
    pub id: String,
    /// Where it starts.
    pub src: End,
    /// Where it ends.
    pub tgt: End,
    /// The participant-to-participant routes it is part of: one for an
    /// edge between two participants, several through a wiring node.
    pub routes: Vec<Route>,
    /// The delivery mode its metadata names (`persistent`, `transient`),
    /// if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<&'static str>,
}

/// A node's port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct End {
    /// The node.
    pub node: String,
    /// Its port.
    pub port: String,
}

/// A route between participants and how the broker carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Route {
    /// Its name (as pending edges and the log name it).
    pub name: String,
    /// Where its messages come from: an outport, or what the participants
    /// of an inport dead-letter (`dead`).
    pub from: End,
    /// `from` is an inport whose dead letters this route carries.
    pub dead: bool,
    /// The inport it feeds.
    pub to: End,
    /// The queue it reads (an outport's exchange or topic, or a dead-letter
    /// queue), once known.
    pub source_queue: Option<String>,
    /// The inport queue its messages wait in, once known.
    pub target_queue: Option<String>,
    /// How the broker carries it: `bind`, `connectinport` or `forward`
    /// (through the coordinator); `None` while it is not wanted (pending,
    /// or the network is not started).
    pub link: Option<&'static str>,
    /// Its links are all in place on the broker.
    pub in_place: bool,
    /// Why it cannot be carried yet.
    pub pending: Option<String>,
}
