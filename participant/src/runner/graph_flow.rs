//! How a message moves through a graph participant (`graph.rs` starts
//! it): [`feed`] takes each broker delivery of an exported inport into the
//! graph as a packet whose [`Token`] owns the delivery; [`publish`] sends
//! what reaches an exported outport (and waits until the broker has it);
//! when the last clone of a token is dropped, [`settle`] acks its delivery,
//! or nacks it if a node failed on it.

use super::brackets::{self, Framer, Outgoing};
use super::fbp_packets;
use super::stats::{Stats, Taken};
use crate::outputs::Outputs;
use crate::runtime::{Body, EdgeRx, EdgeTx, Packet, Token, Track};
use crate::trace::{Hop, Place};
use crate::transport::{Consumer, Delivery, DeliveryMode};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use msgflo_protocol::ids::PortName;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, watch};

/// A delivery settled by the graph: `true` when it failed.
pub(super) type Outcome = (Delivery, bool);

/// Where finished deliveries go, unless the participant gave up on them.
#[derive(Clone)]
pub(super) struct Settled {
    pub(super) outcomes: mpsc::UnboundedSender<Outcome>,
    /// Stopping timed out: drop deliveries unacked (the broker redelivers).
    pub(super) abandoned: Arc<AtomicBool>,
    /// Counts each delivery's end.
    pub(super) stats: Arc<Stats>,
    /// Where an inport's consumer goes once it stopped taking messages: it
    /// lives on until the last delivery is settled, because on AMQP its
    /// channel closes with it, and a delivery still in the graph could then
    /// not be acked — the broker would deliver it again, a duplicate.
    pub(super) parked: mpsc::UnboundedSender<Consumer>,
}

/// The token of one delivery: settles it when the last clone is dropped.
struct Tracker {
    delivery: Mutex<Option<Delivery>>,
    failed: AtomicBool,
    settled: Settled,
    /// The inport it came from, for the counts.
    port: PortName,
    /// When, for the processing time.
    taken: Taken,
    /// Its place in a trace (its span ends with this token).
    hop: Option<Hop>,
    /// The delivery's mode, which its outputs keep.
    mode: DeliveryMode,
}

impl Track for Tracker {
    fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    fn superseded(&self) -> bool {
        self.with_delivery(Delivery::superseded).unwrap_or(false)
    }

    fn superseded_signal(&self) -> Option<crate::transport::Signal> {
        self.with_delivery(Delivery::superseded_signal).flatten()
    }

    fn hop(&self) -> Option<&Hop> {
        self.hop.as_ref()
    }

    fn mode(&self) -> Option<DeliveryMode> {
        Some(self.mode)
    }
}

impl Tracker {
    /// `f` of the delivery, while it is not settled yet.
    fn with_delivery<T>(&self, f: impl FnOnce(&Delivery) -> T) -> Option<T> {
        self.delivery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(f)
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let delivery = self
            .delivery
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(delivery) = delivery.take() else {
            return;
        };
        if self.settled.abandoned.load(Ordering::SeqCst) {
            tracing::debug!("delivery left unacked: the participant stopped waiting for it");
            self.settled.stats.left();
            return;
        }
        let failed = *self.failed.get_mut();
        self.settled
            .stats
            .settled(self.port.as_str(), failed, self.taken);
        let _ = self.settled.outcomes.send((delivery, failed));
    }
}

/// Acks or nacks each delivery the graph is done with, several at a time
/// (their order does not matter to the broker); ends once every token and
/// every inport task is gone and the last ack went out — and only then
/// drops the inports' consumers (parked by `feed` when it stopped).
pub(super) async fn settle(
    mut outcomes: mpsc::UnboundedReceiver<Outcome>,
    mut parked: mpsc::UnboundedReceiver<Consumer>,
) {
    const AT_ONCE: usize = 256;
    let mut pending = FuturesUnordered::new();
    let mut consumers = Vec::new();
    loop {
        tokio::select! {
            biased;
            Some(()) = pending.next(), if !pending.is_empty() => {}
            Some(consumer) = parked.recv() => consumers.push(consumer),
            outcome = outcomes.recv(), if pending.len() < AT_ONCE => match outcome {
                Some((delivery, failed)) => pending.push(settle_one(delivery, failed)),
                None => break,
            },
        }
    }
    while pending.next().await.is_some() {}
    drop(consumers);
}

async fn settle_one(delivery: Delivery, failed: bool) {
    let result = if failed {
        delivery.nack().await
    } else {
        delivery.ack().await
    };
    if let Err(e) = result {
        // The broker redelivers an unacked message: nothing is lost.
        tracing::debug!(error = %e, "ack/nack failed; the broker will redeliver");
    }
}

/// Feeds the deliveries of one exported inport into the graph until `stop`.
pub(super) async fn feed(
    place: Place,
    mut consumer: Consumer,
    mut tx: EdgeTx,
    settled: Settled,
    mut stop: watch::Receiver<bool>,
) {
    let port = &place.port;
    'deliveries: while let Some(delivery) = super::next_delivery(&mut consumer, &mut stop).await {
        let hop = Hop::take(&place, &delivery.headers, delivery.message_id.as_deref());
        let framing = brackets::decode(&delivery.headers).unwrap_or_else(|reason| {
            tracing::warn!(%port, %reason, "brackets of a message ignored");
            brackets::Framing::default()
        });
        let data = Body::Data(delivery.payload.clone());
        let taken = settled.stats.taken();
        let mode = delivery.mode;
        let token: Token = Arc::new(Tracker {
            delivery: Mutex::new(Some(delivery)),
            failed: AtomicBool::new(false),
            settled: settled.clone(),
            port: port.clone(),
            taken,
            hop,
            mode,
        });
        let mut packets: VecDeque<Packet> = framing
            .before
            .into_iter()
            .chain([data])
            .chain(framing.after)
            .map(|body| Packet {
                body,
                token: Some(token.clone()),
            })
            .collect();
        // In one batch where the ring has room: the graph then takes a
        // message's brackets in the same step as its data.
        if !tx.is_closed() {
            tx.push_batch(&mut packets);
        }
        for packet in packets {
            if tx.push(packet).await.is_err() {
                tracing::warn!(%port, "the graph stopped; message dead-lettered");
                token.fail();
                break 'deliveries;
            }
        }
    }
    tracing::debug!(%port, "graph inport stopped");
    // Kept until every delivery is settled (see `Settled::parked`).
    let _ = settled.parked.send(consumer);
}

/// Publishes what reaches one exported outport (up to `concurrency` awaiting
/// confirmation), then drops it, until the graph has finished. Brackets are
/// framed onto the data messages ([`Framer`]).
pub(super) async fn publish(
    port: PortName,
    mut rx: EdgeRx,
    (outputs, stats, packets): (Outputs, Arc<Stats>, Arc<fbp_packets::PacketWatch>),
    concurrency: usize,
) {
    let to = Publishing {
        outputs,
        stats,
        packets,
    };
    let mut inflight = FuturesUnordered::new();
    let mut framer = Framer::default();
    loop {
        if inflight.len() < concurrency {
            // Take what is there without waiting; once nothing is, the held
            // message goes out.
            if let Some(packet) = rx.try_pop() {
                if let Some(message) = framer.push(packet) {
                    inflight.push(send(&port, message, &to));
                }
                continue;
            }
            if let Some(message) = framer.flush() {
                inflight.push(send(&port, message, &to));
                continue;
            }
        }
        tokio::select! {
            biased;
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            packet = rx.recv(), if inflight.len() < concurrency => match packet {
                Some(packet) => {
                    if let Some(message) = framer.push(packet) {
                        inflight.push(send(&port, message, &to));
                    }
                }
                None => break,
            },
        }
    }
    if let Some(message) = framer.flush() {
        inflight.push(send(&port, message, &to));
    }
    while inflight.next().await.is_some() {}
    if framer.stranded() > 0 {
        tracing::info!(%port, brackets = framer.stranded(), "brackets after the last message were not sent");
    }
    tracing::debug!(%port, "graph outport stopped");
}

/// Where an exported outport's messages go.
struct Publishing {
    outputs: Outputs,
    /// Counts failures.
    stats: Arc<Stats>,
    /// Copies for an FBP client (`fbp_packets.rs`).
    packets: Arc<fbp_packets::PacketWatch>,
}

/// Resolves once every token is superseded: the broker delivers each input
/// again, and this output will be made again from it. Never for no tokens
/// (an output of IIPs or of a component's own is always published), nor
/// when one of them cannot be superseded.
async fn superseded(tokens: &[Token]) {
    let signals: Option<Vec<_>> = tokens.iter().map(|t| t.superseded_signal()).collect();
    match signals {
        Some(signals) if !signals.is_empty() => {
            futures_util::future::join_all(signals).await;
            if tokens.iter().all(|token| token.superseded()) {
                return;
            }
            std::future::pending().await
        }
        _ => std::future::pending().await,
    }
}

async fn send(port: &PortName, message: Outgoing, to: &Publishing) {
    let Outgoing {
        payload,
        mut headers,
        tokens,
    } = message;
    // The first input's trace goes on (see `crate::trace`), in its
    // delivery mode unless the participant has its own.
    if let Some(hop) = tokens.iter().find_map(|token| token.hop()) {
        hop.stamp(&mut headers);
    }
    let outputs = match tokens.iter().find_map(|token| token.mode()) {
        Some(mode) => to.outputs.clone().answering(mode),
        None => to.outputs.clone(),
    };
    // Publishing the output of an input the broker delivers again would only
    // make a duplicate: it is made again from that copy. Also when the
    // connection is lost while the output waits for its confirm (the
    // transport would publish it again).
    let copy = payload.clone();
    let published = tokio::select! {
        biased;
        () = superseded(&tokens) => {
            tracing::debug!(%port, "output not published: its input comes again (its connection was lost)");
            return;
        }
        published = outputs.send_with(port.as_str(), payload, &headers) => published,
    };
    match published {
        Ok(()) => to.packets.published(port.as_str(), &copy).await,
        Err(e) => {
            tracing::warn!(%port, error = %e, "cannot publish a graph output; its input is dead-lettered");
            to.stats
                .error(format_args!("cannot publish to {port}: {e}"));
            for token in &tokens {
                token.fail();
            }
        }
    }
}

/// Keeps the last node error for `health` (the network logs each).
pub(super) async fn note_errors(
    mut errors: mpsc::Receiver<crate::runtime::NodeError>,
    stats: Arc<Stats>,
) {
    while let Some(error) = errors.recv().await {
        stats.error(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Signal;
    use std::time::Duration;

    /// A token superseded once `gone` turns true (`None`: never).
    struct Fake(Option<watch::Receiver<bool>>);

    impl Track for Fake {
        fn fail(&self) {}
        fn superseded(&self) -> bool {
            self.0.as_ref().is_some_and(|gone| *gone.borrow())
        }
        fn superseded_signal(&self) -> Option<Signal> {
            let mut gone = self.0.clone()?;
            Some(Box::pin(async move {
                let _ = gone.wait_for(|gone| *gone).await;
            }))
        }
    }

    async fn resolves(tokens: &[Token]) -> bool {
        tokio::time::timeout(Duration::from_millis(100), superseded(tokens))
            .await
            .is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn an_output_is_superseded_once_all_its_inputs_are() {
        let (a, a_gone) = watch::channel(false);
        let (b, b_gone) = watch::channel(false);
        let tokens: Vec<Token> = vec![Arc::new(Fake(Some(a_gone))), Arc::new(Fake(Some(b_gone)))];
        assert!(!resolves(&tokens).await, "neither input is gone");
        a.send_replace(true);
        assert!(!resolves(&tokens).await, "one input is still live");
        b.send_replace(true);
        assert!(resolves(&tokens).await);
    }

    #[tokio::test(start_paused = true)]
    async fn outputs_without_inputs_or_with_one_that_cannot_be_superseded_are_published() {
        assert!(!resolves(&[]).await, "an output of IIPs");
        let (a, a_gone) = watch::channel(true);
        let tokens: Vec<Token> = vec![Arc::new(Fake(Some(a_gone))), Arc::new(Fake(None))];
        assert!(!resolves(&tokens).await);
        drop(a);
    }
}
