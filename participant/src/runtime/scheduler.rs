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

use super::network::Network;
use super::node::Node;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

/// Busy rounds between yields to the tokio runtime.
const ROUNDS_PER_YIELD: u32 = 32;

impl Network {
    /// Runs the graph until it is finished (see the module docs) or
    /// `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = pin!(shutdown);
        let mut rounds = 0u32;
        tracing::debug!(nodes = self.nodes.len(), "network running");
        loop {
            let now = Instant::now();
            let mut progress = 0;
            for node in &mut self.nodes {
                progress += node.step(now, &self.reporter);
            }
            if progress > 0 {
                rounds += 1;
                if rounds.is_multiple_of(ROUNDS_PER_YIELD) {
                    tokio::task::yield_now().await;
                    if futures_util::poll!(shutdown.as_mut()).is_ready() {
                        break;
                    }
                }
                continue;
            }
            if finished(&self.nodes) {
                tracing::debug!("network finished");
                return;
            }
            let deadline = self.nodes.iter().filter_map(|n| n.next_tick()).min();
            // Moves `&mut` borrows in, so the future stays `Send` without
            // needing the nodes to be `Sync`.
            let (nodes, signal) = (&mut self.nodes, &self.signal);
            let park = poll_fn(move |cx| {
                signal.park(cx);
                let now = Instant::now();
                if nodes.iter().any(|n| n.runnable(now)) || finished(nodes) {
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
            tokio::select! {
                () = &mut shutdown => break,
                () = park => {}
                () = timer => {}
            }
        }
        tracing::debug!("network stopped");
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
