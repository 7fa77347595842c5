//! Edges: bounded single-producer/single-consumer rings of [`Packet`]s.
//!
//! The ring is [`rtrb`] (a well-kept, audited lock-free SPSC ring with chunked
//! reads and writes) rather than our own: a push or pop is a couple of plain
//! loads/stores with acquire/release ordering, batches are one index update,
//! and the storage is allocated once. What rtrb does not do is sleeping, so
//! each side has a `Signal`: an [`AtomicWaker`] plus a `parked` flag.
//!
//! Wake-up protocol (no lock, no syscall, no allocation per packet):
//! - a side that finds the ring empty (consumer) or full (producer) registers
//!   its waker, sets `parked`, issues a `SeqCst` fence and checks the ring
//!   again before returning `Pending`;
//! - the other side, after a push (pop) — once per batch — issues a `SeqCst`
//!   fence and wakes only if `parked` is set. So the consumer is woken only
//!   when it saw the ring empty and data arrived: the empty -> non-empty
//!   transition it is waiting for; a busy consumer costs the producer a fence
//!   per batch and nothing else.
//!
//! Edges inside one scheduler have no signals at all (both ends live in the
//! same task, which polls them); edges that cross into or out of a graph
//! share the scheduler's one signal on the graph's side.
//!
//! Back-pressure: a full ring refuses the push (`try_push` gives the packet
//! back) or makes `push` wait; nothing is dropped and nothing grows.

use super::packet::Packet;
use futures_util::task::AtomicWaker;
use rtrb::{Consumer, Producer, RingBuffer};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Default ring capacity of an edge, in packets.
pub const DEFAULT_CAPACITY: usize = 1024;

/// One side's parking spot: see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    waker: AtomicWaker,
    parked: AtomicBool,
}

impl Signal {
    /// Called after making progress the parked side may wait for.
    pub(crate) fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::AcqRel) {
            self.waker.wake();
        }
    }

    /// Registers `cx` and marks this side parked; the caller must check its
    /// condition again afterwards and [`Signal::unpark`] if it holds.
    pub(crate) fn park(&self, cx: &Context<'_>) {
        self.waker.register(cx.waker());
        self.parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    pub(crate) fn unpark(&self) {
        self.parked.store(false, Ordering::Relaxed);
    }
}

/// The producing end of an edge.
///
/// Field order matters: `ring` is dropped before `rx`, so the consumer, when
/// woken by the drop, already sees the ring abandoned.
pub struct EdgeTx {
    ring: Producer<Packet>,
    /// Where the producer parks when full.
    tx: Option<Arc<Signal>>,
    /// Where the consumer parks when empty; notified on drop.
    rx: Peer,
}

/// The consuming end of an edge (fields ordered as in [`EdgeTx`]).
pub struct EdgeRx {
    ring: Consumer<Packet>,
    rx: Option<Arc<Signal>>,
    /// Where the producer parks when full; notified on drop.
    tx: Peer,
}

/// The other side's signal. Notifying it on drop — after the ring half
/// declared before it is gone — tells a parked peer that this end closed.
/// (A `Drop` on the edge end itself would run before the ring half drops: the
/// peer could wake, still see the ring alive, park again and never wake.)
struct Peer(Option<Arc<Signal>>);

impl Peer {
    #[inline]
    fn notify(&self) {
        if let Some(signal) = &self.0 {
            signal.notify();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.notify();
    }
}

impl std::fmt::Debug for EdgeTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeTx")
            .field("capacity", &self.ring.buffer().capacity())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for EdgeRx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeRx")
            .field("capacity", &self.ring.buffer().capacity())
            .finish_non_exhaustive()
    }
}

/// An edge of `capacity` packets whose ends can wait (`push`, `recv`) in
/// different tasks or threads.
pub fn channel(capacity: usize) -> (EdgeTx, EdgeRx) {
    with_signals(capacity, Some(Arc::default()), Some(Arc::default()))
}

/// An edge whose producer parks on `tx` and consumer on `rx` (`None`: that
/// side never waits, so nobody needs to signal it).
pub(crate) fn with_signals(
    capacity: usize,
    tx: Option<Arc<Signal>>,
    rx: Option<Arc<Signal>>,
) -> (EdgeTx, EdgeRx) {
    let (producer, consumer) = RingBuffer::new(capacity.max(1));
    (
        EdgeTx {
            ring: producer,
            tx: tx.clone(),
            rx: Peer(rx.clone()),
        },
        EdgeRx {
            ring: consumer,
            rx,
            tx: Peer(tx),
        },
    )
}

impl EdgeTx {
    /// Pushes one packet, or gives it back when the ring is full.
    #[inline]
    pub fn try_push(&mut self, packet: Packet) -> Result<(), Packet> {
        match self.ring.push(packet) {
            Ok(()) => {
                self.rx.notify();
                Ok(())
            }
            Err(rtrb::PushError::Full(packet)) => Err(packet),
        }
    }

    /// Moves as many packets from the front of `packets` as fit, in one
    /// batch; returns how many.
    pub fn push_batch(&mut self, packets: &mut VecDeque<Packet>) -> usize {
        let n = packets.len().min(self.ring.slots());
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = self.ring.write_chunk_uninit(n) else {
            return 0;
        };
        let pushed = chunk.fill_from_iter(packets.drain(..n));
        self.rx.notify();
        pushed
    }

    /// Pushes `packet`, waiting while the ring is full; gives it back if the
    /// consumer is gone.
    pub async fn push(&mut self, packet: Packet) -> Result<(), Packet> {
        let mut packet = Some(packet);
        poll_fn(|cx| {
            let Some(p) = packet.take() else {
                return Poll::Ready(Ok(()));
            };
            match self.try_push(p) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(p) if self.ring.is_abandoned() => Poll::Ready(Err(p)),
                Err(p) => {
                    packet = Some(p);
                    self.park_until_space(cx);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Pushes all of `packets` in batches, waiting for space; stops early
    /// (leaving the rest in `packets`) if the consumer is gone.
    pub async fn push_all(&mut self, packets: &mut VecDeque<Packet>) {
        while !packets.is_empty() {
            if self.push_batch(packets) == 0 {
                if self.ring.is_abandoned() {
                    return;
                }
                let mut parked = false;
                poll_fn(|cx| {
                    if std::mem::replace(&mut parked, true) {
                        return Poll::Ready(());
                    }
                    self.park_until_space(cx);
                    Poll::Pending
                })
                .await;
            }
        }
    }

    /// Arranges for `cx` to be woken once there is space (or the consumer
    /// is gone); the caller returns `Pending`.
    fn park_until_space(&mut self, cx: &Context<'_>) {
        let Some(signal) = &self.tx else {
            // Nobody will signal us: poll again soon.
            cx.waker().wake_by_ref();
            return;
        };
        signal.park(cx);
        if !self.ring.is_full() || self.ring.is_abandoned() {
            signal.unpark();
            cx.waker().wake_by_ref();
        }
    }

    /// Free slots now.
    pub fn free(&self) -> usize {
        self.ring.slots()
    }

    /// The consumer is gone.
    pub fn is_closed(&self) -> bool {
        self.ring.is_abandoned()
    }
}

impl EdgeRx {
    /// Pops one packet, if any.
    #[inline]
    pub fn try_pop(&mut self) -> Option<Packet> {
        let packet = self.ring.pop().ok()?;
        self.tx.notify();
        Some(packet)
    }

    /// Moves up to `max` packets into `out` in one batch; returns how many.
    pub fn pop_batch(&mut self, max: usize, out: &mut Vec<Packet>) -> usize {
        let n = self.ring.slots().min(max);
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = self.ring.read_chunk(n) else {
            return 0;
        };
        out.extend(chunk);
        self.tx.notify();
        n
    }

    /// Waits for a packet; `None` once the ring is empty and the producer gone.
    pub async fn recv(&mut self) -> Option<Packet> {
        poll_fn(|cx| {
            if let Some(packet) = self.try_pop() {
                return Poll::Ready(Some(packet));
            }
            if self.ring.is_abandoned() && self.ring.is_empty() {
                return Poll::Ready(None);
            }
            self.park_until_data(cx);
            Poll::Pending
        })
        .await
    }

    /// Waits for packets and moves up to `max` into `out`; 0 once the ring is
    /// empty and the producer gone.
    pub async fn recv_batch(&mut self, max: usize, out: &mut Vec<Packet>) -> usize {
        poll_fn(|cx| {
            let n = self.pop_batch(max, out);
            if n > 0 || max == 0 || (self.ring.is_abandoned() && self.ring.is_empty()) {
                return Poll::Ready(n);
            }
            self.park_until_data(cx);
            Poll::Pending
        })
        .await
    }

    /// Arranges for `cx` to be woken once data arrives (or the producer is
    /// gone); the caller returns `Pending`.
    fn park_until_data(&mut self, cx: &Context<'_>) {
        let Some(signal) = &self.rx else {
            cx.waker().wake_by_ref();
            return;
        };
        signal.park(cx);
        if !self.ring.is_empty() || self.ring.is_abandoned() {
            signal.unpark();
            cx.waker().wake_by_ref();
        }
    }

    /// Packets waiting now.
    pub fn len(&self) -> usize {
        self.ring.slots()
    }

    /// No packet is waiting now.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The producer is gone (packets may still be waiting).
    pub fn is_closed(&self) -> bool {
        self.ring.is_abandoned()
    }

    /// The ring, for the scheduler's chunked reads.
    pub(crate) fn ring(&mut self) -> &mut Consumer<Packet> {
        &mut self.ring
    }

    /// Tells a producer waiting for space that some was freed.
    pub(crate) fn notify_producer(&self) {
        self.tx.notify();
    }
}

#[cfg(test)]
#[path = "edge_tests.rs"]
mod tests;
