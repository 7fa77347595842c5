//! Live edits: changing a running [`Network`](super::Network) — add or remove
//! a node, an edge or an IIP, watch edges — without stopping it and without
//! losing a packet in flight.
//!
//! An [`Editor`] (from [`Network::editor`](super::Network::editor), before
//! `run`) sends each [`Edit`] to the scheduler's task, which applies it
//! between two rounds, so no node is ever in the middle of a step, and
//! answers once it is in force. Only the cooperative scheduler takes edits.
//!
//! What happens to packets in flight:
//! - **Removing an edge** stops its source from pushing into it; what its
//!   ring already holds is still taken by the target. If it was the last
//!   edge leaving that port (slot), the port is *held*: what the node sends
//!   there waits, and the node takes no more input (back-pressure, up to
//!   the broker) until an edge from the port is added again, which gets the
//!   held packets first (`outputs.rs`). So `remove a -> b; add a -> c`
//!   loses nothing in between. To discard a port's output, connect it to
//!   `core/Drop`.
//! - **Removing a node** disconnects the edges into it (their sources are
//!   held as above) and lets it finish what its rings hold; it goes once
//!   they are drained and no timer of its own is due. Packets it holds then
//!   at ports whose edges were removed have nowhere to go: they are failed
//!   (a graph participant nacks — dead-letters — their messages) with one
//!   warning. Remove the edge into a node before the edges out of it (what
//!   noflo-ui does) and nothing is held there.
//! - **Adding** a node, an edge or an IIP never touches what flows. A node
//!   added live starts with its outports held, so what it sends before its
//!   edges out exist waits for them; connect every port it sends on (if
//!   only to `core/Drop`).

use super::component::ComponentDecl;
use super::edge::{self, Signal};
use super::node::{InEdge, Node};
use super::outputs::{OutEdge, Outputs, Sample, Tap, Target};
use super::outside::{Statuses, Wake};
use super::packet::Packet;
use bytes::Bytes;
use msgflo_protocol::graph::Endpoint;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// One change to a running network.
#[derive(Debug)]
pub enum Edit {
    /// A node `name` running `component`.
    AddNode {
        /// Unique in the network.
        name: String,
        /// Its component.
        component: ComponentDecl,
    },
    /// Removes node `name` once it has finished what it holds.
    RemoveNode {
        /// The node.
        name: String,
    },
    /// An edge `src` (outport) -> `tgt` (inport).
    AddEdge {
        /// Node, outport, slot.
        src: Endpoint,
        /// Node, inport, slot.
        tgt: Endpoint,
    },
    /// Removes the edge `src` -> `tgt`.
    RemoveEdge {
        /// Node, outport, slot.
        src: Endpoint,
        /// Node, inport, slot.
        tgt: Endpoint,
    },
    /// Sends `data` once to `tgt`.
    AddInitial {
        /// Node, inport, slot.
        tgt: Endpoint,
        /// The packet's bytes.
        data: Bytes,
    },
    /// Watches exactly these edges (none: stop watching): each body one
    /// carries is copied to `sink` as a [`Sample`] whose `edge` is its
    /// position in `edges`. Edges that do not exist are named in the error;
    /// the others are watched all the same.
    Watch {
        /// The edges, `src` -> `tgt`.
        edges: Vec<(Endpoint, Endpoint)>,
        /// Where samples go; full: the sample is skipped.
        sink: mpsc::Sender<Sample>,
    },
}

/// An edit that was not applied (or, for [`Edit::Watch`], not fully).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The edit does not fit the network: one line naming what.
    #[error("{0}")]
    Refused(String),
    /// Nobody applies edits: the network has finished, or runs a task per
    /// node (which takes none).
    #[error("the network is not running, or does not take live edits")]
    NotRunning,
}

type Reply = oneshot::Sender<Result<(), EditError>>;

/// Sends edits to a running network (cloneable).
#[derive(Debug, Clone)]
pub struct Editor {
    tx: mpsc::UnboundedSender<(Edit, Reply)>,
}

impl Editor {
    /// Applies `edit` and waits until it is in force.
    pub async fn apply(&self, edit: Edit) -> Result<(), EditError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((edit, reply))
            .map_err(|_| EditError::NotRunning)?;
        answer.await.unwrap_or(Err(EditError::NotRunning))
    }
}

/// The scheduler's side: takes edits and applies them to its nodes.
#[derive(Debug)]
pub(crate) struct Live {
    rx: mpsc::UnboundedReceiver<(Edit, Reply)>,
    capacity: usize,
    case_sensitive: bool,
    /// Nodes being removed.
    retiring: usize,
    /// Given to nodes fed from outside.
    statuses: Statuses,
}

/// A new editor and the scheduler's end of it.
pub(crate) fn channel(capacity: usize, case_sensitive: bool, statuses: Statuses) -> (Editor, Live) {
    let (tx, rx) = mpsc::unbounded_channel();
    let live = Live {
        rx,
        capacity,
        case_sensitive,
        retiring: 0,
        statuses,
    };
    (Editor { tx }, live)
}

/// A resolved endpoint: node position, port position, slot.
type Resolved = (usize, usize, Option<u32>);

impl Live {
    /// Applies the edits waiting; returns whether there were any.
    pub(crate) fn take(&mut self, nodes: &mut Vec<Node>, signal: &Arc<Signal>) -> bool {
        let mut any = false;
        while let Ok((edit, reply)) = self.rx.try_recv() {
            self.apply_one(nodes, signal, edit, reply);
            any = true;
        }
        any
    }

    /// Waits for the next edit (pending forever once no editor is left).
    pub(crate) async fn next(&mut self) -> Option<(Edit, Reply)> {
        match self.rx.recv().await {
            Some(edit) => Some(edit),
            None => std::future::pending().await,
        }
    }

    /// Applies one edit and answers it.
    pub(crate) fn apply_one(
        &mut self,
        nodes: &mut Vec<Node>,
        signal: &Arc<Signal>,
        edit: Edit,
        reply: Reply,
    ) {
        tracing::debug!(?edit, "live edit");
        let result = self.apply(nodes, signal, edit);
        if let Err(e) = &result {
            tracing::debug!(error = %e, "live edit refused");
        }
        for node in nodes.iter_mut() {
            node.prune_inputs();
        }
        let _ = reply.send(result);
    }

    fn apply(
        &mut self,
        nodes: &mut Vec<Node>,
        signal: &Arc<Signal>,
        edit: Edit,
    ) -> Result<(), EditError> {
        match edit {
            Edit::AddNode { name, component } => {
                if let Some(node) = nodes.iter().find(|n| *n.name == *name) {
                    let still = if node.retiring {
                        " (it is still being removed)"
                    } else {
                        ""
                    };
                    return Err(refused(format!("node {name} already exists{still}")));
                }
                component
                    .check()
                    .map_err(|e| refused(format!("node {name}: {e}")))?;
                let mut node = Node::new(Arc::from(name.as_str()), &component);
                node.outputs = Outputs::held(component.outports.len());
                node.attach(Wake(signal.clone()), &self.statuses);
                nodes.push(node);
                Ok(())
            }
            Edit::RemoveNode { name } => {
                let at = self.node(nodes, &name)?;
                for node in nodes.iter_mut() {
                    node.outputs.disconnect_node(&name);
                }
                nodes[at].retiring = true;
                self.retiring += 1;
                self.sweep(nodes);
                Ok(())
            }
            Edit::AddEdge { src, tgt } => {
                let ((sn, sp, si), tn, to) = self.edge(nodes, &src, &tgt)?;
                if nodes[sn].outputs.feeds(sp, si, &to) {
                    return Err(refused(format!("{} already exists", edge_text(&src, &tgt))));
                }
                // Both ends live in this task: the ring needs no signals.
                let (tx, rx) = edge::with_signals(self.capacity, None, None);
                nodes[tn].inputs.push(InEdge {
                    port: to.port,
                    index: to.index,
                    rx,
                    external: false,
                });
                nodes[sn]
                    .outputs
                    .connect_live(sp, OutEdge::into_node(si, tx, to));
                Ok(())
            }
            Edit::RemoveEdge { src, tgt } => {
                let ((sn, sp, si), _, to) = self.edge(nodes, &src, &tgt)?;
                if nodes[sn].outputs.disconnect(sp, si, &to) {
                    Ok(())
                } else {
                    Err(refused(format!("there is no {}", edge_text(&src, &tgt))))
                }
            }
            Edit::AddInitial { tgt, data } => {
                let (tn, tp, ti) = self.resolve(nodes, &tgt, true)?;
                let (mut tx, rx) = edge::with_signals(1, None, Some(signal.clone()));
                let _ = tx.try_push(Packet::data(data));
                nodes[tn].inputs.push(InEdge {
                    port: tp,
                    index: ti,
                    rx,
                    external: true,
                });
                Ok(())
            }
            Edit::Watch { edges, sink } => {
                for node in nodes.iter_mut() {
                    node.outputs.clear_taps();
                }
                let mut unknown = Vec::new();
                for (edge, (src, tgt)) in edges.iter().enumerate() {
                    let tap = Tap {
                        edge,
                        sink: sink.clone(),
                    };
                    let tapped = match self.edge(nodes, src, tgt) {
                        Ok(((sn, sp, si), _, to)) => nodes[sn].outputs.tap(sp, si, &to, tap),
                        Err(_) => false,
                    };
                    if !tapped {
                        unknown.push(edge_text(src, tgt));
                    }
                }
                if unknown.is_empty() {
                    Ok(())
                } else {
                    Err(refused(format!(
                        "cannot watch: no {}",
                        unknown.join(", no ")
                    )))
                }
            }
        }
    }

    /// Removes the retiring nodes that are done (see the module docs).
    pub(crate) fn sweep(&mut self, nodes: &mut Vec<Node>) {
        if self.retiring == 0 {
            return;
        }
        let mut gone = Vec::new();
        nodes.retain_mut(|node| {
            if !(node.retiring && node.retirable()) {
                return true;
            }
            let failed = node.outputs.fail_held();
            if failed > 0 {
                tracing::warn!(node = %node.name, failed, "removed node held packets at ports without edges; they failed");
            }
            gone.push(node.name.clone());
            false
        });
        self.retiring -= gone.len();
        for name in gone {
            tracing::debug!(node = %name, "node removed");
        }
        // Its edges out are gone: the rings they fed are closed.
        for node in nodes.iter_mut() {
            node.prune_inputs();
        }
    }

    /// The position of live (not retiring) node `name`.
    fn node(&self, nodes: &[Node], name: &str) -> Result<usize, EditError> {
        nodes
            .iter()
            .position(|n| *n.name == *name && !n.retiring)
            .ok_or_else(|| refused(format!("unknown node {name:?}")))
    }

    /// The edge `src` -> `tgt`: its source resolved, the target node's
    /// position and the [`Target`] the source's outputs know it by.
    fn edge(
        &self,
        nodes: &[Node],
        src: &Endpoint,
        tgt: &Endpoint,
    ) -> Result<(Resolved, usize, Target), EditError> {
        let source = self.resolve(nodes, src, false)?;
        let (tn, port, index) = self.resolve(nodes, tgt, true)?;
        let to = Target {
            node: nodes[tn].name.clone(),
            port,
            index,
        };
        Ok((source, tn, to))
    }

    fn resolve(&self, nodes: &[Node], end: &Endpoint, inport: bool) -> Result<Resolved, EditError> {
        let at = self.node(nodes, &end.process)?;
        let decl = &nodes[at].decl;
        let (port, kind, ports) = if inport {
            let port = decl.inport_index(&end.port, self.case_sensitive);
            (port, "inport", &decl.inports)
        } else {
            let port = decl.outport_index(&end.port, self.case_sensitive);
            (port, "outport", &decl.outports)
        };
        let Some(port) = port else {
            return Err(refused(format!(
                "node {}: {} has no {kind} {:?}",
                end.process, decl.name, end.port
            )));
        };
        if end.index.is_some() && !ports[port].addressable {
            return Err(refused(format!(
                "node {}: {kind} {:?} of {} is not addressable",
                end.process, end.port, decl.name
            )));
        }
        Ok((at, port, end.index))
    }
}

fn refused(text: String) -> EditError {
    EditError::Refused(text)
}

/// `a OUT -> IN b`, as the error texts say it.
fn edge_text(src: &Endpoint, tgt: &Endpoint) -> String {
    let slot = |i: Option<u32>| i.map(|i| format!("[{i}]")).unwrap_or_default();
    format!(
        "edge {} {}{} -> {}{} {}",
        src.process,
        src.port,
        slot(src.index),
        tgt.port,
        slot(tgt.index),
        tgt.process
    )
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
