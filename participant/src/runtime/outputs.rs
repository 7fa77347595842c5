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

use super::edge::EdgeTx;
use super::packet::Packet;
use std::collections::VecDeque;

/// One edge leaving an outport.
#[derive(Debug)]
pub(crate) struct OutEdge {
    /// The slot of an addressable outport this edge leaves from.
    pub(crate) index: Option<u32>,
    pub(crate) tx: EdgeTx,
    overflow: VecDeque<Packet>,
}

impl OutEdge {
    pub(crate) fn new(index: Option<u32>, tx: EdgeTx) -> Self {
        Self {
            index,
            tx,
            overflow: VecDeque::new(),
        }
    }

    #[inline]
    fn push(&mut self, packet: Packet) {
        if self.overflow.is_empty() {
            if let Err(packet) = self.tx.try_push(packet) {
                self.overflow.push_back(packet);
            }
        } else {
            self.overflow.push_back(packet);
        }
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
        let mut targets = edges
            .iter_mut()
            .filter(|e| e.index == Some(index))
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
            budget = budget.min(edge.tx.free());
        }
        budget
    }

    /// Pushes waiting overflow; returns how many packets moved.
    pub(crate) fn flush(&mut self) -> usize {
        let mut moved = 0;
        for edge in self.ports.iter_mut().flatten() {
            if !edge.overflow.is_empty() {
                moved += edge.tx.push_batch(&mut edge.overflow);
            }
        }
        moved
    }

    /// Some overflow could move now.
    pub(crate) fn can_flush(&self) -> bool {
        self.ports
            .iter()
            .flatten()
            .any(|e| !e.overflow.is_empty() && e.tx.free() > 0)
    }

    /// Packets wait in overflow.
    pub(crate) fn has_overflow(&self) -> bool {
        self.ports.iter().flatten().any(|e| !e.overflow.is_empty())
    }
}
