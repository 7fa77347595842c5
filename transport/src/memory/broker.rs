//! [`Broker`]: one named in-process broker, its [`State`] behind a mutex, and
//! the glue from the state's hand-outs to [`Delivery`]s: [`ChannelOutlet`]
//! and the acker.
//!
//! Why a mutex and not a task owning the state: brokers are process-global and
//! outlive any one tokio runtime (each `#[tokio::test]` has its own), and a
//! task dies with the runtime that spawned it. Every operation is short and
//! never awaits, so a `std::sync::Mutex` held for one operation is simpler and
//! faster; hand-outs are sent with `try_reserve` under the lock, which keeps
//! each queue's order. A poisoned lock is taken over: the state code has no
//! panicking paths, and one panicking test must not fail all the others.

use super::dispatch::{ConsumerId, Handout, Offer, Outlet, Settle, Tag};
use super::state::State;
use crate::{Acker, Delivery, Result};
use async_trait::async_trait;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tracing::debug;

/// One in-process broker.
pub(super) struct Broker {
    name: String,
    me: Weak<Broker>,
    state: Mutex<State<ChannelOutlet>>,
}

impl Broker {
    /// A new, empty broker.
    pub(super) fn new(name: &str) -> Arc<Self> {
        Arc::new_cyclic(|me| Broker {
            name: name.to_owned(),
            me: me.clone(),
            state: Mutex::new(State::default()),
        })
    }

    /// Its name (`memory://NAME`).
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on the state under the lock.
    pub(super) fn with_state<R>(&self, f: impl FnOnce(&mut State<ChannelOutlet>) -> R) -> R {
        let (result, removed) = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let result = f(&mut state);
            (result, std::mem::take(&mut state.consumers.removed))
        };
        // Dropping a channel may drop deliveries still in it, and a dropped
        // delivery settles itself: that must happen outside the lock.
        drop(removed);
        result
    }

    /// An outlet sending this broker's deliveries into `tx`.
    pub(super) fn outlet(&self, tx: mpsc::Sender<Delivery>) -> ChannelOutlet {
        ChannelOutlet {
            tx,
            broker: self.me.clone(),
        }
    }
}

/// Hands deliveries to a [`Consumer`](crate::Consumer) through its
/// channel, whose capacity is the consumer's prefetch.
pub(super) struct ChannelOutlet {
    tx: mpsc::Sender<Delivery>,
    broker: Weak<Broker>,
}

impl Outlet for ChannelOutlet {
    fn offer(&mut self, handout: Handout) -> Offer {
        // Reserve first, so a refused delivery is never built and dropped
        // (its drop would lock the broker, which is locked now).
        match self.tx.try_reserve() {
            Ok(permit) => {
                let acker = MemoryAcker {
                    broker: self.broker.clone(),
                    consumer: handout.consumer,
                    tag: handout.tag,
                    settled: false,
                };
                permit.send(
                    Delivery::new(handout.payload, handout.redelivered, Box::new(acker))
                        .with_headers(handout.headers),
                );
                Offer::Taken
            }
            Err(TrySendError::Full(())) => Offer::Full,
            Err(TrySendError::Closed(())) => Offer::Gone,
        }
    }
}

/// Settles one delivery; dropped unsettled, it lets its consumer take more
/// (its channel has room again) and leaves the message unacked.
struct MemoryAcker {
    broker: Weak<Broker>,
    consumer: ConsumerId,
    tag: Tag,
    settled: bool,
}

impl MemoryAcker {
    fn settle(&mut self, how: Settle) {
        self.settled = true;
        let Some(broker) = self.broker.upgrade() else {
            return;
        };
        let live = broker.with_state(|s| s.settle(self.tag, self.consumer, how));
        if !live && how != Settle::Release {
            debug!(
                broker = %broker.name,
                ?how,
                "delivery from a lost connection settled: ignored, it was redelivered"
            );
        }
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(mut self: Box<Self>) -> Result<()> {
        self.settle(Settle::Ack);
        Ok(())
    }

    async fn nack(mut self: Box<Self>) -> Result<()> {
        self.settle(Settle::Nack);
        Ok(())
    }
}

impl Drop for MemoryAcker {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(Settle::Release);
        }
    }
}
