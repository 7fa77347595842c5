//! [`Seconds`]: a histogram of durations on atomics only. prometheus-client's
//! own `Histogram` takes a mutex per observation; this one is a handful of
//! relaxed `fetch_add`s, so the message path never waits on a lock.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: 100µs to 60s, roughly ×2.5 per
/// step (a `core/Repeat` takes well under a millisecond, a slow component
/// seconds). `+Inf` is implicit.
pub(crate) const BOUNDS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0, 60.0,
];

/// A histogram of durations in seconds. Cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Seconds(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// [`BOUNDS`] in nanoseconds, for integer comparisons.
    bounds: [u64; BOUNDS.len()],
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: [AtomicU64; BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            bounds: BOUNDS.map(|s| Duration::from_secs_f64(s).as_nanos() as u64),
            counts: Default::default(),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Seconds {
    /// Counts one duration.
    pub(crate) fn observe(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = self.0.bounds.partition_point(|&bound| bound < nanos);
        self.0.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.0.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// `(upper bound, observations in that bucket)`, `+Inf` last.
    fn buckets(&self) -> Vec<(f64, u64)> {
        BOUNDS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.0.counts.iter().map(|c| c.load(Ordering::Relaxed)))
            .collect()
    }
}

impl TypedMetric for Seconds {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Seconds {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let buckets = self.buckets();
        // The count is the buckets' sum, so the two always agree.
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = self.0.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_duration_lands_in_the_first_bucket_that_holds_it() {
        let seconds = Seconds::default();
        seconds.observe(Duration::from_micros(50)); // <= 100µs
        seconds.observe(Duration::from_micros(100)); // on the bound: <= 100µs
        seconds.observe(Duration::from_millis(3)); // <= 5ms
        seconds.observe(Duration::from_secs(3600)); // +Inf
        let buckets = seconds.buckets();
        assert_eq!(buckets[0], (0.0001, 2));
        assert_eq!(buckets[5], (0.005, 1));
        assert_eq!(buckets[BOUNDS.len()], (f64::INFINITY, 1));
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 4);
        let sum = seconds.0.sum_nanos.load(Ordering::Relaxed);
        assert_eq!(sum, 3_600_003_150_000);
    }

    #[test]
    fn the_bounds_ascend() {
        assert!(BOUNDS.windows(2).all(|w| w[0] < w[1]));
    }
}
