//! One node of a running graph: its process state, input rings and outputs,
//! and one scheduling step over a batch of packets. A step runs under
//! `catch_unwind`, once per batch (free when nothing panics): a node that
//! panics is stopped, reported with its name, and from then on its inputs
//! are drained and dropped so the nodes upstream never block on it.
//! A packet's [`Token`] is marked failed when the node returns an error on
//! it, panics while holding it, or drains it after being stopped: that is
//! where a graph participant's delivery gets nacked.

use super::component::{Attached, ComponentDecl, Input, Process, ProcessError};
use super::edge::EdgeRx;
use super::outputs::Outputs;
use super::outside::{Statuses, Wake};
use super::packet::Token;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Most packets one node takes from its inputs in one step.
pub const BATCH: usize = 256;

/// A node failed on a packet or panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The process function returned an error; the node goes on.
    #[error("node {node} ({component}) failed: {error}")]
    Failed {
        /// Node name in the graph.
        node: Arc<str>,
        /// Its component.
        component: Arc<str>,
        /// The error, as text.
        error: String,
    },
    /// The process function panicked; the node is stopped.
    #[error("node {node} ({component}) panicked and was stopped: {reason}")]
    Panicked {
        /// Node name in the graph.
        node: Arc<str>,
        /// Its component.
        component: Arc<str>,
        /// The panic message.
        reason: String,
    },
}

/// Logs node errors and passes them on to whoever listens (bounded; when
/// nobody reads, reports beyond the bound are only logged).
#[derive(Debug, Clone)]
pub(crate) struct Reporter(pub(crate) mpsc::Sender<NodeError>);

impl Reporter {
    fn report(&self, error: NodeError) {
        match &error {
            NodeError::Failed {
                node,
                component,
                error,
            } => {
                tracing::warn!(%node, %component, %error, "node failed on a packet");
            }
            NodeError::Panicked {
                node,
                component,
                reason,
            } => {
                tracing::error!(%node, %component, %reason, "node panicked; stopped");
            }
        }
        let _ = self.0.try_send(error);
    }
}

/// An edge arriving at an inport.
#[derive(Debug)]
pub(crate) struct InEdge {
    pub(crate) port: usize,
    pub(crate) index: Option<u32>,
    pub(crate) rx: EdgeRx,
    /// Fed from outside the network (an IIP or [`Network::input`](super::Network::input)).
    pub(crate) external: bool,
}

pub(crate) struct Node {
    pub(crate) name: Arc<str>,
    pub(crate) component: Arc<str>,
    /// Its component's ports, to resolve live edits by port name.
    pub(crate) decl: Arc<ComponentDecl>,
    /// Removed by a live edit: it takes no new edges and goes once its
    /// inputs are drained (see [`Node::retirable`]).
    pub(crate) retiring: bool,
    pub(crate) process: Box<dyn Process>,
    pub(crate) inputs: Vec<InEdge>,
    pub(crate) outputs: Outputs,
    stopped: bool,
    /// The token of the packet being processed, failed if the node panics.
    current: Option<Token>,
    /// Which input the next step starts with (fairness under fan-in).
    next_input: usize,
}

impl Node {
    /// A node `name` running a fresh instance of `decl`.
    pub(crate) fn new(name: Arc<str>, decl: &ComponentDecl) -> Self {
        Self {
            name,
            component: Arc::from(decl.name.as_str()),
            process: decl.instantiate(),
            decl: Arc::new(decl.clone()),
            retiring: false,
            inputs: Vec::new(),
            outputs: Outputs::new(decl.outports.len()),
            stopped: false,
            current: None,
            next_input: 0,
        }
    }

    /// Tells the process where it runs (see [`Attached`]).
    pub(crate) fn attach(&mut self, wake: Wake, statuses: &Statuses) {
        self.process.attach(Attached {
            node: self.name.clone(),
            inports: self.decl.inports.clone(),
            outports: self.decl.outports.clone(),
            wake,
            statuses: statuses.clone(),
        });
    }

    /// Runs one batch; returns how many packets were taken or moved.
    pub(crate) fn step(&mut self, now: Instant, reporter: &Reporter) -> usize {
        if self.stopped {
            return self.outputs.flush() + self.drain();
        }
        let mut moved = self.outputs.flush();
        let result = catch_unwind(AssertUnwindSafe(|| self.run_batch(now, reporter)));
        match result {
            Ok(n) => moved += n,
            Err(panic) => {
                self.stopped = true;
                if let Some(token) = self.current.take() {
                    token.fail();
                }
                reporter.report(NodeError::Panicked {
                    node: self.name.clone(),
                    component: self.component.clone(),
                    reason: panic_reason(panic.as_ref()),
                });
                moved += 1;
            }
        }
        // What the step sent to edges read outside the network, together.
        moved + self.outputs.flush()
    }

    fn run_batch(&mut self, now: Instant, reporter: &Reporter) -> usize {
        if self.process.next_tick().is_some_and(|t| t <= now) {
            if let Err(e) = self.process.tick(now, &mut self.outputs) {
                failed(&self.name, &self.component, e, reporter);
            }
        }
        let mut taken = 0;
        if self.process.ready() {
            let budget = BATCH.min(self.outputs.budget());
            if budget > 0 {
                taken += self.process.poll(budget, &mut self.outputs);
            }
        }
        let mut budget = BATCH.min(self.outputs.budget()).min(self.process.accepts());
        let count = self.inputs.len();
        for i in 0..count {
            if budget == 0 {
                break;
            }
            let k = (self.next_input + i) % count;
            let edge = &mut self.inputs[k];
            let n = edge.rx.len().min(budget);
            if n == 0 {
                continue;
            }
            let (port, index) = (edge.port, edge.index);
            let Ok(chunk) = edge.rx.ring().read_chunk(n) else {
                continue;
            };
            for packet in chunk {
                self.current.clone_from(&packet.token);
                let input = Input {
                    port,
                    index,
                    packet,
                };
                if let Err(e) = self.process.process(input, &mut self.outputs) {
                    if let Some(token) = &self.current {
                        token.fail();
                    }
                    failed(&self.name, &self.component, e, reporter);
                }
                self.current = None;
            }
            self.inputs[k].rx.notify_producer();
            budget -= n;
            taken += n;
        }
        if count > 0 {
            self.next_input = (self.next_input + 1) % count;
        }
        taken
    }

    /// A stopped node's inputs are taken and dropped.
    fn drain(&mut self) -> usize {
        let mut n = 0;
        for edge in &mut self.inputs {
            while let Some(packet) = edge.rx.try_pop() {
                if let Some(token) = packet.token {
                    token.fail();
                }
                n += 1;
            }
        }
        n
    }

    /// A step now would do something.
    pub(crate) fn runnable(&self, now: Instant) -> bool {
        if self.stopped {
            return self.inputs.iter().any(|e| !e.rx.is_empty());
        }
        if self.outputs.can_flush() || self.process.next_tick().is_some_and(|t| t <= now) {
            return true;
        }
        if self.process.ready() && self.outputs.budget() > 0 {
            return true;
        }
        let has_input = self.inputs.iter().any(|e| !e.rx.is_empty());
        has_input && self.outputs.budget() > 0 && self.process.accepts() > 0
    }

    /// Nothing waits in or behind this node, and nothing will come from its
    /// own timers.
    pub(crate) fn quiet(&self) -> bool {
        let timer = !self.stopped && self.process.next_tick().is_some();
        let outside = !self.stopped && (self.process.ready() || self.process.busy());
        !timer
            && !outside
            && !self.outputs.has_overflow()
            && self.inputs.iter().all(|e| e.rx.is_empty())
    }

    /// A node being removed can go: its inputs are closed and drained, no
    /// timer is due, and nothing waits for a ring (held packets are failed
    /// when it goes: they have nowhere to go).
    pub(crate) fn retirable(&self) -> bool {
        let timer = !self.stopped && self.process.next_tick().is_some();
        !timer
            && !self.outputs.has_moving_overflow()
            && self
                .inputs
                .iter()
                .all(|e| e.rx.is_empty() && e.rx.is_closed())
    }

    /// Forgets input edges whose producer is gone and that are drained
    /// (left by live edits).
    pub(crate) fn prune_inputs(&mut self) {
        self.inputs
            .retain(|e| e.external || !(e.rx.is_closed() && e.rx.is_empty()));
    }

    /// When this node's timer fires, if it has one.
    pub(crate) fn next_tick(&self) -> Option<Instant> {
        (!self.stopped).then(|| self.process.next_tick()).flatten()
    }
}

fn failed(node: &Arc<str>, component: &Arc<str>, error: ProcessError, reporter: &Reporter) {
    reporter.report(NodeError::Failed {
        node: node.clone(),
        component: component.clone(),
        error: error.to_string(),
    });
}

fn panic_reason(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
