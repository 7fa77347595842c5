//! What `health` reports ([`msgflo_protocol::calls::Health`]): counted as
//! messages are taken and settled, by the inport loops (`inport.rs`) and the
//! graph's delivery tokens (`graph.rs`), and as they are sent on an outport
//! (the counters [`Stats::outport_counters`] hands to `Outputs`). Atomics
//! only on the message path.
//! With `--metrics-addr` the same atomics are the Prometheus series
//! (`crate::metrics`), and the time from taken to settled is measured too.

use crate::metrics::{InportMetrics, Metrics};
use crate::runtime::Statuses;
use msgflo_protocol::calls::{BrokerState, Health, LastError, PortCounts};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// When a message was taken: known only while processing time is measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taken(Option<Instant>);

/// A participant's counters.
pub(crate) struct Stats {
    started: Instant,
    ports: BTreeMap<String, InportMetrics>,
    /// Messages sent, per outport.
    sent: BTreeMap<String, Counter>,
    in_flight: Gauge<u64, AtomicU64>,
    /// Processing time is measured (metrics are served).
    timed: bool,
    last_error: Mutex<Option<(String, Instant)>>,
    prefetch: AtomicU16,
    draining: AtomicBool,
    /// The graph's links to the outside (`core/Remote`), once it runs.
    links: Mutex<Option<Statuses>>,
}

impl Stats {
    /// Counters for `inports` and `outports`, from now (no metrics).
    #[cfg(test)]
    pub(crate) fn new<'a>(
        inports: impl IntoIterator<Item = &'a str>,
        outports: impl IntoIterator<Item = &'a str>,
        prefetch: u16,
    ) -> Self {
        Self::with(inports, outports, None, prefetch)
    }

    /// [`Stats::new`], counting into `metrics` (if any) too.
    pub(crate) fn with<'a>(
        inports: impl IntoIterator<Item = &'a str>,
        outports: impl IntoIterator<Item = &'a str>,
        metrics: Option<&Metrics>,
        prefetch: u16,
    ) -> Self {
        let handles = |port: &str| metrics.map(|m| m.inport(port)).unwrap_or_default();
        let sent = |port: &str| metrics.map(|m| m.outport(port)).unwrap_or_default();
        Self {
            started: Instant::now(),
            ports: inports
                .into_iter()
                .map(|p| (p.to_owned(), handles(p)))
                .collect(),
            sent: outports
                .into_iter()
                .map(|p| (p.to_owned(), sent(p)))
                .collect(),
            in_flight: metrics.map(|m| m.in_flight.clone()).unwrap_or_default(),
            timed: metrics.is_some(),
            last_error: Mutex::new(None),
            prefetch: AtomicU16::new(prefetch),
            draining: AtomicBool::new(false),
            links: Mutex::new(None),
        }
    }

    /// The counter of each outport, for `Outputs` to count each message
    /// sent into (the same atomics `health` and `/metrics` read).
    pub(crate) fn outport_counters(&self) -> HashMap<String, Counter> {
        self.sent
            .iter()
            .map(|(port, counter)| (port.clone(), counter.clone()))
            .collect()
    }

    /// Reports the links of the graph's `core/Remote` nodes from now on.
    pub(crate) fn set_links(&self, links: Statuses) {
        *self.links.lock().unwrap_or_else(PoisonError::into_inner) = Some(links);
    }

    /// A message was taken from the broker.
    pub(crate) fn taken(&self) -> Taken {
        self.in_flight.inc();
        Taken(self.timed.then(Instant::now))
    }

    /// A message taken from `port` was acked (`failed`: dead-lettered).
    pub(crate) fn settled(&self, port: &str, failed: bool, taken: Taken) {
        self.left();
        if let Some(counts) = self.ports.get(port) {
            let counter = if failed {
                &counts.failed
            } else {
                &counts.processed
            };
            counter.inc();
            if let (Some(seconds), Taken(Some(at))) = (&counts.seconds, taken) {
                seconds.observe(at.elapsed());
            }
        }
    }

    /// A message taken was left unacked (the broker delivers it again).
    pub(crate) fn left(&self) {
        let _ = self
            .in_flight
            .inner()
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
            in_flight: self.in_flight.get(),
            ports: self
                .ports
                .iter()
                .map(|(port, c)| {
                    let counts = PortCounts {
                        processed: c.processed.get(),
                        failed: c.failed.get(),
                    };
                    (port.clone(), counts)
                })
                .collect(),
            sent: self
                .sent
                .iter()
                .map(|(port, counter)| (port.clone(), counter.get()))
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
        let stats = Stats::new(["in", "other"], ["out"], 8);
        let taken: Vec<Taken> = (0..4).map(|_| stats.taken()).collect();
        assert!(taken[0].0.is_none(), "not timed without metrics");
        stats.settled("in", false, taken[0]);
        stats.settled("in", false, taken[1]);
        stats.settled("in", true, taken[2]);
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
        assert_eq!(health.sent["out"], 0, "an outport is listed before it sent");
        let last = health.last_error.expect("an error");
        assert_eq!(last.message, "node f (test/Fail) failed: boom");
        assert_eq!((health.prefetch, health.draining), (8, false));
        stats.left();
        stats.left(); // never below zero
        assert_eq!(stats.health(BrokerState::default()).in_flight, 0);
    }

    #[tokio::test]
    async fn with_metrics_the_same_counts_are_the_series_and_time_is_measured() {
        let broker = format!("memory://stats-unit-{}", uuid::Uuid::new_v4().simple());
        let options = crate::transport::ConnectOptions::default();
        let transport = crate::transport::connect(&broker, options)
            .await
            .expect("connects");
        let metrics = Metrics::new("r", transport);
        let stats = Stats::with(["in"], ["out"], Some(&metrics), 8);
        let (a, b) = (stats.taken(), stats.taken());
        assert!(a.0.is_some(), "timed when metrics are served");
        stats.settled("in", false, a);
        assert_eq!(metrics.in_flight.get(), 1);
        stats.settled("in", true, b);
        let health = stats.health(BrokerState::default());
        assert_eq!(
            (health.ports["in"].processed, health.ports["in"].failed),
            (1, 1)
        );
        stats.outport_counters()["out"].inc_by(2);
        assert_eq!(stats.health(BrokerState::default()).sent["out"], 2);
        let text = metrics.encode().expect("encodes");
        assert!(text.contains("msgflo_participant_messages_in_total{role=\"r\",port=\"in\"} 1\n"));
        assert!(text.contains("msgflo_participant_messages_out_total{role=\"r\",port=\"out\"} 2\n"));
        assert!(text
            .contains("msgflo_participant_processing_seconds_count{role=\"r\",port=\"in\"} 2\n"));
        assert!(
            text.contains("msgflo_participant_in_flight{role=\"r\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn health_tells_the_state_of_each_remote_link() {
        let stats = Stats::new(["in"], ["out"], 8);
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
