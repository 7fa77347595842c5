//! [`ByLabel`]: [`Histogram`]s under one name, one per value of a label, in
//! the text format (prometheus-client's own `Histogram` cannot be filled
//! from counts taken elsewhere).

use crate::latency::Histogram;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::collections::BTreeMap;

/// One histogram per value of label `label`.
#[derive(Debug)]
pub struct ByLabel {
    /// The label's name (`protocol`).
    pub label: &'static str,
    /// The histograms, by the label's value.
    pub histograms: BTreeMap<&'static str, Histogram>,
}

impl EncodeMetric for ByLabel {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (value, histogram) in &self.histograms {
            let labels = [(self.label, *value)];
            encoder
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(
                    histogram.sum_seconds(),
                    histogram.count(),
                    &histogram.buckets(),
                    None,
                )?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
