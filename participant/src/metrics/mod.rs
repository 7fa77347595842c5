//! A participant's own Prometheus metrics (`--metrics-addr ADDR`): what it
//! took, processed, failed and sent per port, how long processing took, what
//! is in flight, whether the broker connection is up and how often it was
//! made again, when it started.
//!
//! Every series is named `msgflo_participant_…` and labelled with the
//! participant's `role` (and `port` where one applies). The counters are the
//! very atomics the `health` call reports (`runner/stats.rs`): registering
//! them costs the message path nothing; only the processing-time histogram
//! adds work per message, and only when metrics are served.
//!
//! # Layout
//! - this file — `Metrics`: the registry and the per-port handles, made
//!   once before the first message; `Metrics::encode` for a scrape.
//! - `seconds.rs` — the processing-time histogram, on atomics only.
//! - `broker.rs` — the broker connection's gauge and reconnect counter,
//!   read from the transport at scrape time.
//! - `serve.rs` — the HTTP endpoint: `GET /metrics`, everything else 404.

mod broker;
mod seconds;
mod serve;

pub(crate) use seconds::Seconds;
pub use serve::BindError;
pub(crate) use serve::{bind, serve};

use crate::transport::Transport;
use broker::{Connected, Reconnects};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The name prefix of every series.
pub const PREFIX: &str = "msgflo_participant";

/// The `port` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortLabel {
    port: String,
}

fn port(name: &str) -> PortLabel {
    PortLabel {
        port: name.to_owned(),
    }
}

/// The handles of one inport. Unregistered ones (the default) count for
/// `health` alone and time nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct InportMetrics {
    pub(crate) processed: Counter,
    pub(crate) failed: Counter,
    /// From taken to settled; `None`: not timed.
    pub(crate) seconds: Option<Seconds>,
}

/// A participant's registry and the families its handles come from.
pub(crate) struct Metrics {
    registry: Registry,
    processed: Family<PortLabel, Counter>,
    failed: Family<PortLabel, Counter>,
    seconds: Family<PortLabel, Seconds>,
    sent: Family<PortLabel, Counter>,
    /// Messages taken and not settled yet.
    pub(crate) in_flight: Gauge<u64, AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of `role`, whose connection is `transport`.
    pub(crate) fn new(role: &str, transport: Arc<dyn Transport>) -> Self {
        let role = [("role".into(), role.to_owned().into())];
        let mut registry = Registry::with_prefix_and_labels(PREFIX, role.into_iter());
        let metrics = Self {
            processed: Family::default(),
            failed: Family::default(),
            seconds: Family::default(),
            sent: Family::default(),
            in_flight: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "messages_in",
            "Messages taken from an inport and processed (acked)",
            metrics.processed.clone(),
        );
        registry.register(
            "messages_failed",
            "Messages taken from an inport whose processing failed (dead-lettered)",
            metrics.failed.clone(),
        );
        registry.register(
            "messages_out",
            "Messages sent on an outport (confirmed by the broker)",
            metrics.sent.clone(),
        );
        registry.register(
            "processing_seconds",
            "Time from taking a message to settling it",
            metrics.seconds.clone(),
        );
        registry.register(
            "in_flight",
            "Messages taken and not settled yet",
            metrics.in_flight.clone(),
        );
        registry.register(
            "broker_connected",
            "1 while the connection to the broker is up",
            Connected(transport.clone()),
        );
        registry.register(
            "broker_reconnects",
            "Times the connection to the broker was made again after it was lost (MQTT: of its two connections, the session's and the publisher's)",
            Reconnects(transport),
        );
        let started = Gauge::<f64, AtomicU64>::default();
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        started.set(since_epoch.as_secs_f64());
        registry.register(
            "start_time_seconds",
            "When the participant started, in seconds since the Unix epoch",
            started,
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// The registered handles of inport `name`.
    pub(crate) fn inport(&self, name: &str) -> InportMetrics {
        let label = port(name);
        InportMetrics {
            processed: self.processed.get_or_create(&label).clone(),
            failed: self.failed.get_or_create(&label).clone(),
            seconds: Some(self.seconds.get_or_create(&label).clone()),
        }
    }

    /// The registered counter of messages sent on outport `name`.
    pub(crate) fn outport(&self, name: &str) -> Counter {
        self.sent.get_or_create(&port(name)).clone()
    }

    /// Everything in the Prometheus text format (version 0.0.4), for a scrape.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
