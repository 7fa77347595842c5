//! What the node and its link share: the packets on their way out (waiting,
//! then in flight until the remote confirms them), the packets that came
//! in, and the settings. One lock, taken once per packet by the node and
//! once per batch by the link.

use super::wire::Outgoing;
use crate::runtime::Packet;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

/// Where the remote is and how to speak to it (`core/Remote`'s settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Settings {
    /// `ws://` or `wss://` address.
    pub address: Option<String>,
    /// The remote's secret or token.
    pub secret: Option<String>,
    /// The remote graph; by default the one its `runtime:runtime` names.
    pub graph: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Queues {
    /// Waiting to be sent, in order.
    pub outbox: VecDeque<Outgoing>,
    /// Sent, waiting for `runtime:packetsent`, in order.
    pub in_flight: VecDeque<Outgoing>,
    /// From the remote: (our outport, packet).
    pub inbox: VecDeque<(usize, Packet)>,
    pub settings: Settings,
    /// The node is gone: the link stops.
    pub closed: bool,
}

impl Queues {
    /// Packets on their way out, waiting or in flight.
    pub(super) fn outgoing(&self) -> usize {
        self.outbox.len() + self.in_flight.len()
    }

    /// The connection was lost: what was in flight goes first next time
    /// (the remote may see some of it twice; none of it is lost).
    pub(super) fn requeue(&mut self) {
        while let Some(packet) = self.in_flight.pop_back() {
            self.outbox.push_front(packet);
        }
    }
}

#[derive(Debug)]
pub(super) struct Shared {
    queues: Mutex<Queues>,
    /// Wakes the link: packets to send, room in the inbox, or closed.
    pub link: Notify,
    /// Most packets on their way out, and most waiting in the inbox.
    pub capacity: usize,
}

impl Shared {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            queues: Mutex::default(),
            link: Notify::new(),
            capacity,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
