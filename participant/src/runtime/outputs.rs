//! [`Outputs`]: how a node sends. Each outport feeds zero or more edges; a
//! packet sent on a port with several edges is cloned for all but the last
//! (a clone of a `Bytes` handle, not of the bytes). An unconnected port
//! drops what is sent to it, as in noflo.
//!
//! A push into a full ring is never dropped: it waits in the edge's overflow
//! queue, and the scheduler gives the node no more input until the overflow
//! is flushed. The scheduler sizes each batch by the free space of the
//! node's output rings, so overflow only holds what one batch emitted beyond
//! one packet per input per edge — it is bounded by the batch, and its
//! storage is kept for reuse.
//!
//! Live edits (`live.rs`): when an edit removes the last edge leaving a
//! port (slot), the port is *held* rather than unconnected: what is sent to
//! it waits in a held edge (no ring) and the node takes no more input —
//! back-pressure up to the broker — until an edge from that port is added
//! again and gets the held packets first, in order. So rewiring a running
//! graph (remove `a -> b`, add `a -> c`) loses nothing in between. A watched
//! edge (`network:edges`) copies each body it carries to its tap.

use super::edge::EdgeTx;
use super::packet::{Body, Packet};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Where an edge inside the graph goes: node name, inport position, slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) node: Arc<str>,
    pub(crate) port: usize,
    pub(crate) index: Option<u32>,
}

/// A copy of what a watched edge carried, for `network:data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Its position in the watched edges ([`Edit::Watch`](super::Edit::Watch)).
    pub edge: usize,
    /// What went through.
    pub body: Body,
}

/// The tap of a watched edge: samples go out with `try_send`, so a slow
/// watcher loses samples (counted by the watcher), never packets.
#[derive(Debug, Clone)]
pub(crate) struct Tap {
    pub(crate) edge: usize,
    pub(crate) sink: mpsc::Sender<Sample>,
}

/// One edge leaving an outport.
#[derive(Debug)]
pub(crate) struct OutEdge {
    /// The slot of an addressable outport this edge leaves from.
    pub(crate) index: Option<u32>,
    /// `None`: held (see the module docs); its packets wait in `overflow`.
    pub(crate) tx: Option<EdgeTx>,
    /// The node it feeds; `None` for an exported outport (or held).
    /// Boxed, as `tap`: cold data, kept out of the hot struct.
    pub(crate) to: Option<Box<Target>>,
    tap: Option<Box<Tap>>,
    overflow: VecDeque<Packet>,
    /// Read outside the network (an exported outport): what one step sends
    /// waits in `overflow` and goes into the ring at the end of the step,
    /// in one batch, so the reader sees a step's packets together (a data
    /// packet with the close a node sent right after it).
    staged: bool,
}

impl OutEdge {
    pub(crate) fn new(index: Option<u32>, tx: EdgeTx) -> Self {
        Self {
            index,
            tx: Some(tx),
            to: None,
            tap: None,
            overflow: VecDeque::new(),
            staged: false,
        }
    }

    /// An edge read outside the network: staged (see [`OutEdge::staged`]).
    pub(crate) fn external(index: Option<u32>, tx: EdgeTx) -> Self {
        Self {
            staged: true,
            ..Self::new(index, tx)
        }
    }

    /// An edge into node `to`.
    pub(crate) fn into_node(index: Option<u32>, tx: EdgeTx, to: Target) -> Self {
        Self {
            to: Some(Box::new(to)),
            ..Self::new(index, tx)
        }
    }

    #[inline]
    fn push(&mut self, packet: Packet) {
        if self.tap.is_some() {
            self.sample(&packet);
        }
        if let (Some(tx), true) = (&mut self.tx, self.overflow.is_empty() && !self.staged) {
            if let Err(packet) = tx.try_push(packet) {
                self.overflow.push_back(packet);
            }
            return;
        }
        self.overflow.push_back(packet);
    }

    /// Copies `packet`'s body to the tap (never waits).
    #[cold]
    fn sample(&self, packet: &Packet) {
        if let Some(tap) = &self.tap {
            let _ = tap.sink.try_send(Sample {
                edge: tap.edge,
                body: packet.body.clone(),
            });
        }
    }

    fn is_held(&self) -> bool {
        self.tx.is_none()
    }
}

/// The outports of one node.
#[derive(Debug, Default)]
pub struct Outputs {
    ports: Vec<Vec<OutEdge>>,
}

impl Outputs {
    pub(crate) fn new(ports: usize) -> Self {
        Self {
            ports: (0..ports).map(|_| Vec::new()).collect(),
        }
    }

    /// Outputs whose every port is held until an edge leaves it (a node
    /// added live: what it sends before its edges out are added waits).
    pub(crate) fn held(ports: usize) -> Self {
        let held = || OutEdge {
            index: None,
            tx: None,
            to: None,
            tap: None,
            overflow: VecDeque::new(),
            staged: false,
        };
        Self {
            ports: (0..ports).map(|_| vec![held()]).collect(),
        }
    }

    pub(crate) fn connect(&mut self, port: usize, edge: OutEdge) {
        if let Some(edges) = self.ports.get_mut(port) {
            edges.push(edge);
        }
    }

    /// Sends `packet` on outport `port` (by position) to every edge it
    /// feeds, every slot of an addressable port included.
    #[inline]
    pub fn send(&mut self, port: usize, packet: Packet) {
        let Some(edges) = self.ports.get_mut(port) else {
            tracing::debug!(port, "send to an undeclared outport");
            return;
        };
        if let Some((last, rest)) = edges.split_last_mut() {
            for edge in rest {
                edge.push(packet.clone());
            }
            last.push(packet);
        }
    }

    /// Sends `packet` only to the edges at slot `index` of addressable
    /// outport `port`.
    pub fn send_to(&mut self, port: usize, index: u32, packet: Packet) {
        let Some(edges) = self.ports.get_mut(port) else {
            tracing::debug!(port, "send to an undeclared outport");
            return;
        };
        // A held port without slots yet holds for every slot.
        let mut targets = edges
            .iter_mut()
            .filter(|e| e.index == Some(index) || (e.is_held() && e.index.is_none()))
            .peekable();
        while let Some(edge) = targets.next() {
            if targets.peek().is_some() {
                edge.push(packet.clone());
            } else {
                edge.push(packet);
                return;
            }
        }
    }

    /// How many edges leave outport `port`.
    pub fn connections(&self, port: usize) -> usize {
        self.ports.get(port).map_or(0, Vec::len)
    }

    /// The slots of addressable outport `port` that have edges, in edge order.
    pub fn slots(&self, port: usize) -> impl Iterator<Item = u32> + '_ {
        self.ports
            .get(port)
            .into_iter()
            .flatten()
            .filter_map(|e| e.index)
    }

    /// How many packets per edge fit now: 0 while any overflow waits.
    pub(crate) fn budget(&self) -> usize {
        let mut budget = usize::MAX;
        for edge in self.ports.iter().flatten() {
            if !edge.overflow.is_empty() {
                return 0;
            }
            if let Some(tx) = &edge.tx {
                budget = budget.min(tx.free());
            }
        }
        budget
    }

    /// Pushes waiting overflow; returns how many packets moved.
    pub(crate) fn flush(&mut self) -> usize {
        let mut moved = 0;
        for edge in self.ports.iter_mut().flatten() {
            if let (Some(tx), false) = (&mut edge.tx, edge.overflow.is_empty()) {
                moved += tx.push_batch(&mut edge.overflow);
            }
        }
        moved
    }

    /// Some overflow could move now.
    pub(crate) fn can_flush(&self) -> bool {
        self.ports
            .iter()
            .flatten()
            .any(|e| !e.overflow.is_empty() && e.tx.as_ref().is_some_and(|tx| tx.free() > 0))
    }

    /// Packets wait in overflow.
    pub(crate) fn has_overflow(&self) -> bool {
        self.ports.iter().flatten().any(|e| !e.overflow.is_empty())
    }

    /// Packets wait in overflow that can leave some day: not held ones.
    pub(crate) fn has_moving_overflow(&self) -> bool {
        self.ports
            .iter()
            .flatten()
            .any(|e| !e.is_held() && !e.overflow.is_empty())
    }

    /// Connects an edge made by a live edit: a held edge at the same port
    /// and slot takes it (its packets go first); else it is added.
    pub(crate) fn connect_live(&mut self, port: usize, edge: OutEdge) {
        let Some(edges) = self.ports.get_mut(port) else {
            return;
        };
        match edges
            .iter_mut()
            .find(|e| e.is_held() && (e.index == edge.index || e.index.is_none()))
        {
            Some(held) => {
                held.index = edge.index;
                held.tx = edge.tx;
                held.to = edge.to;
            }
            None => edges.push(edge),
        }
    }

    /// Whether outport `port` (slot `index`) has an edge into `to`.
    pub(crate) fn feeds(&self, port: usize, index: Option<u32>, to: &Target) -> bool {
        self.ports
            .get(port)
            .into_iter()
            .flatten()
            .any(|e| e.index == index && e.to.as_deref() == Some(to))
    }

    /// Removes the edge from `port` (slot `index`) into `to`; if it was the
    /// last one at that port and slot, the port is held (module docs), its
    /// waiting packets kept. Returns whether there was such an edge.
    pub(crate) fn disconnect(&mut self, port: usize, index: Option<u32>, to: &Target) -> bool {
        let Some(edges) = self.ports.get_mut(port) else {
            return false;
        };
        let Some(at) = edges
            .iter()
            .position(|e| e.index == index && e.to.as_deref() == Some(to))
        else {
            return false;
        };
        let last = !edges
            .iter()
            .enumerate()
            .any(|(i, e)| i != at && e.index == index);
        let edge = &mut edges[at];
        if last {
            // Packets already in the ring stay there for the target to take.
            edge.tx = None;
            edge.to = None;
            edge.tap = None;
        } else {
            let mut edge = edges.remove(at);
            // Whatever waited for this ring still goes in if it fits; the
            // rest were copies for this edge only — the port's other edges
            // carry the same packets on.
            if let Some(tx) = &mut edge.tx {
                tx.push_batch(&mut edge.overflow);
            }
            if !edge.overflow.is_empty() {
                tracing::debug!(
                    dropped = edge.overflow.len(),
                    "copies for a removed fan-out edge dropped"
                );
            }
        }
        true
    }

    /// Removes every edge into node `node` (as [`Outputs::disconnect`]).
    pub(crate) fn disconnect_node(&mut self, node: &str) {
        let targets: Vec<(usize, Option<u32>, Target)> = self
            .ports
            .iter()
            .enumerate()
            .flat_map(|(port, edges)| {
                edges.iter().filter_map(move |e| {
                    let to = e.to.as_deref().filter(|t| &*t.node == node)?;
                    Some((port, e.index, to.clone()))
                })
            })
            .collect();
        for (port, index, to) in targets {
            self.disconnect(port, index, &to);
        }
    }

    /// Fails the packets held at ports with no edge (the node is being
    /// removed); returns how many.
    pub(crate) fn fail_held(&mut self) -> usize {
        let mut failed = 0;
        for edge in self.ports.iter_mut().flatten().filter(|e| e.is_held()) {
            for packet in edge.overflow.drain(..) {
                failed += 1;
                if let Some(token) = packet.token {
                    token.fail();
                }
            }
        }
        failed
    }

    /// Watches the edge from `port` (slot `index`) into `to`; `false` if
    /// there is none.
    pub(crate) fn tap(&mut self, port: usize, index: Option<u32>, to: &Target, tap: Tap) -> bool {
        let edge = self
            .ports
            .get_mut(port)
            .into_iter()
            .flatten()
            .find(|e| e.index == index && e.to.as_deref() == Some(to));
        match edge {
            Some(edge) => {
                edge.tap = Some(Box::new(tap));
                true
            }
            None => false,
        }
    }

    /// Stops watching every edge.
    pub(crate) fn clear_taps(&mut self) {
        for edge in self.ports.iter_mut().flatten() {
            edge.tap = None;
        }
    }
}
