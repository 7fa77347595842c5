//! The broker connection as the transport tells it, read at scrape time:
//! nothing is counted here, so the message path pays nothing for them.

use crate::transport::Transport;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::sync::Arc;

/// Whether the connection is up, as a gauge (1 or 0).
pub(super) struct Connected(pub(super) Arc<dyn Transport>);

/// How many times the connection was made again after it was lost, as a
/// counter (`Transport::reconnects`).
pub(super) struct Reconnects(pub(super) Arc<dyn Transport>);

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Connected").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Reconnects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Reconnects").finish_non_exhaustive()
    }
}

impl EncodeMetric for Connected {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&i64::from(self.0.is_connected()))
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}

impl EncodeMetric for Reconnects {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.0.reconnects(), None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}
