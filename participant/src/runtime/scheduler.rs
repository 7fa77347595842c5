//! [`Network::run`]: the cooperative scheduler. One task owns every node and
//! goes round them; each node takes a batch (up to [`BATCH`](super::node::BATCH)
//! packets, fewer if its output rings have less room) from its input rings
//! and processes it. When a round does nothing the task parks on its one
//! [`Signal`](super::edge) — woken by edges from outside (data in, room out)
//! — or sleeps until the next component timer.
//!
//! It finishes by itself once it is quiet (no packet waiting anywhere, no
//! timer) and every edge from outside (IIPs included) is closed; otherwise
//! it runs until `shutdown` resolves. Every 32 busy rounds it yields to the
//! tokio runtime, so a graph that never idles still shares its thread.
//!
//! [`Scheduling::TaskPerNode`] runs the same loop per node, each in its own
//! task: there every edge crosses tasks, so it signals, and a node finishes
//! once its own inputs are closed and drained (closing the edges it feeds).

use super::edge::Signal;
use super::live::Live;
use super::network::{Network, Scheduling};
use super::node::{Node, Reporter};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Busy rounds between yields to the tokio runtime.
const ROUNDS_PER_YIELD: u32 = 32;

impl Network {
    /// Runs the graph until it is finished (see the module docs) or
    /// `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tracing::debug!(nodes = self.nodes.len(), scheduling = ?self.scheduling, "network running");
        match self.scheduling {
            Scheduling::Cooperative => {
                let signal = self.signals.first().cloned().unwrap_or_default();
                drive(self.nodes, &signal, &self.reporter, shutdown, self.live).await;
            }
            Scheduling::TaskPerNode => {
                // Edits are refused (their sender sees the channel closed).
                drop(self.live);
                run_task_per_node(self.nodes, self.signals, &self.reporter, shutdown).await;
            }
        }
        tracing::debug!("network stopped");
    }
}

/// A task per node, each driving its one node; all are told to stop when
/// `shutdown` resolves (and aborted if this future is dropped).
async fn run_task_per_node(
    nodes: Vec<Node>,
    signals: Vec<Arc<Signal>>,
    reporter: &Reporter,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for (node, signal) in nodes.into_iter().zip(signals) {
        let (reporter, mut stopped) = (reporter.clone(), stopped.clone());
        tasks.spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            drive(vec![node], &signal, &reporter, stop, None).await;
        });
    }
    let mut shutdown = pin!(shutdown);
    let mut stopping = false;
    loop {
        tokio::select! {
            () = &mut shutdown, if !stopping => {
                stopping = true;
                let _ = stop.send(true);
            }
            joined = tasks.join_next() => match joined {
                Some(Err(e)) => tracing::error!(error = %e, "node task failed"),
                Some(Ok(())) => {}
                None => break,
            },
        }
    }
}

/// Goes round `nodes` until they are finished or `shutdown` resolves,
/// parking on `signal` when a round does nothing; applies `live` edits
/// between rounds.
async fn drive(
    mut nodes: Vec<Node>,
    signal: &Arc<Signal>,
    reporter: &Reporter,
    shutdown: impl Future<Output = ()>,
    mut live: Option<Live>,
) {
    let mut shutdown = pin!(shutdown);
    let mut rounds = 0u32;
    loop {
        let now = Instant::now();
        let mut progress = 0;
        if let Some(live) = &mut live {
            progress += usize::from(live.take(&mut nodes, signal));
        }
        for node in &mut nodes {
            progress += node.step(now, reporter);
        }
        if let Some(live) = &mut live {
            live.sweep(&mut nodes);
        }
        if progress > 0 {
            rounds += 1;
            if rounds.is_multiple_of(ROUNDS_PER_YIELD) {
                tokio::task::yield_now().await;
                if futures_util::poll!(shutdown.as_mut()).is_ready() {
                    return;
                }
            }
            continue;
        }
        if finished(&nodes) {
            tracing::debug!("nodes finished");
            return;
        }
        let deadline = nodes.iter().filter_map(|n| n.next_tick()).min();
        // Moves a `&mut` borrow in, so the future stays `Send` without
        // needing the nodes to be `Sync`.
        let parked = &mut nodes;
        let park = poll_fn(move |cx| {
            signal.park(cx);
            let now = Instant::now();
            if parked.iter().any(|n| n.runnable(now)) || finished(parked) {
                signal.unpark();
                return Poll::Ready(());
            }
            Poll::Pending
        });
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let edit = async {
            match &mut live {
                Some(live) => live.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = park => {}
            () = timer => {}
            Some((edit, reply)) = edit => {
                if let Some(live) = &mut live {
                    live.apply_one(&mut nodes, signal, edit, reply);
                }
            }
        }
    }
}

/// Quiet, and nothing can come from outside any more.
fn finished(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| n.quiet())
        && nodes
            .iter()
            .flat_map(|n| &n.inputs)
            .all(|e| !e.external || e.rx.is_closed())
}
