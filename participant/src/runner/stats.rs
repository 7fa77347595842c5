//! What `health` reports ([`msgflo_protocol::calls::Health`]): counted as
//! messages are taken and settled, by the inport loops (`inport.rs`) and the
//! graph's delivery tokens (`graph.rs`). Atomics only on the message path.

use crate::runtime::Statuses;
use msgflo_protocol::calls::{BrokerState, Health, LastError, PortCounts};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

#[derive(Default)]
struct Counts {
    processed: AtomicU64,
    failed: AtomicU64,
}

/// A participant's counters.
pub(crate) struct Stats {
    started: Instant,
    ports: BTreeMap<String, Counts>,
    in_flight: AtomicU64,
    last_error: Mutex<Option<(String, Instant)>>,
    prefetch: AtomicU16,
    draining: AtomicBool,
    /// The graph's links to the outside (`core/Remote`), once it runs.
    links: Mutex<Option<Statuses>>,
}

impl Stats {
    /// Counters for `inports`, from now.
    pub(crate) fn new<'a>(inports: impl IntoIterator<Item = &'a str>, prefetch: u16) -> Self {
        Self {
            started: Instant::now(),
            ports: inports
                .into_iter()
                .map(|p| (p.to_owned(), Counts::default()))
                .collect(),
            in_flight: AtomicU64::new(0),
            last_error: Mutex::new(None),
            prefetch: AtomicU16::new(prefetch),
            draining: AtomicBool::new(false),
            links: Mutex::new(None),
        }
    }

    /// Reports the links of the graph's `core/Remote` nodes from now on.
    pub(crate) fn set_links(&self, links: Statuses) {
        *self.links.lock().unwrap_or_else(PoisonError::into_inner) = Some(links);
    }

    /// A message was taken from the broker.
    pub(crate) fn taken(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A message taken from `port` was acked (`failed`: dead-lettered).
    pub(crate) fn settled(&self, port: &str, failed: bool) {
        self.left();
        if let Some(counts) = self.ports.get(port) {
            let counter = if failed {
                &counts.failed
            } else {
                &counts.processed
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A message taken was left unacked (the broker delivers it again).
    pub(crate) fn left(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Something failed.
    pub(crate) fn error(&self, error: impl Display) {
        let mut last = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *last = Some((error.to_string(), Instant::now()));
    }

    /// The prefetch now in force.
    pub(crate) fn set_prefetch(&self, prefetch: u16) {
        self.prefetch.store(prefetch, Ordering::Relaxed);
    }

    /// A drain was asked for.
    pub(crate) fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// The `health` answer, with the broker connection as given.
    pub(crate) fn health(&self, broker: BrokerState) -> Health {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let last = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Health {
            uptime_ms: ms(self.started.elapsed()),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            ports: self
                .ports
                .iter()
                .map(|(port, c)| {
                    let counts = PortCounts {
                        processed: c.processed.load(Ordering::Relaxed),
                        failed: c.failed.load(Ordering::Relaxed),
                    };
                    (port.clone(), counts)
                })
                .collect(),
            last_error: last.as_ref().map(|(message, at)| LastError {
                message: message.clone(),
                ms_ago: ms(at.elapsed()),
            }),
            broker,
            prefetch: self.prefetch.load(Ordering::Relaxed),
            draining: self.draining.load(Ordering::Relaxed),
            links: self
                .links
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(Statuses::snapshot)
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_was_taken_and_how_it_ended() {
        let stats = Stats::new(["in", "other"], 8);
        for _ in 0..4 {
            stats.taken();
        }
        stats.settled("in", false);
        stats.settled("in", false);
        stats.settled("in", true);
        stats.error("node f (test/Fail) failed: boom");
        let health = stats.health(BrokerState::default());
        assert_eq!(health.in_flight, 1);
        assert_eq!(
            health.ports["in"],
            PortCounts {
                processed: 2,
                failed: 1
            }
        );
        assert_eq!(health.ports["other"], PortCounts::default());
        let last = health.last_error.expect("an error");
        assert_eq!(last.message, "node f (test/Fail) failed: boom");
        assert_eq!((health.prefetch, health.draining), (8, false));
        stats.left();
        stats.left(); // never below zero
        assert_eq!(stats.health(BrokerState::default()).in_flight, 0);
    }

    #[test]
    fn health_tells_the_state_of_each_remote_link() {
        let stats = Stats::new(["in"], 8);
        assert!(stats.health(BrokerState::default()).links.is_empty());
        let links = Statuses::default();
        stats.set_links(links.clone());
        links.set("gpu", "connecting to ws://gpu:3569 again in 400ms: refused");
        let health = stats.health(BrokerState::default());
        assert_eq!(
            health.links["gpu"],
            "connecting to ws://gpu:3569 again in 400ms: refused"
        );
    }
}
