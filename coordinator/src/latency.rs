//! [`Histogram`]: how long something took, counted into fixed buckets on
//! plain integers. Pure: it takes durations measured elsewhere (the event
//! loop times FBP answers, `live/replies.rs`) and is copied into a
//! [`Snapshot`](crate::snapshot::Snapshot) for `/metrics` to show.

use std::time::Duration;

/// Upper bounds of the buckets, in seconds: 0.5 ms to 10 s (an answer from
/// the core alone takes well under a millisecond; noflo-ui gives up after
/// about a second). `+Inf` is implicit.
pub const BOUNDS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Durations counted per bucket, with their sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: [u64; BOUNDS.len() + 1],
    sum_nanos: u64,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BOUNDS.partition_point(|&bound| bound < seconds);
        self.counts[bucket] += 1;
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos = self.sum_nanos.saturating_add(nanos);
    }

    /// `(upper bound, observations in that bucket)`, not cumulative,
    /// `+Inf` last.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        BOUNDS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.counts.iter().copied())
            .collect()
    }

    /// How many durations were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Their sum, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_duration_lands_in_the_first_bucket_that_holds_it() {
        let mut histogram = Histogram::default();
        histogram.observe(Duration::from_micros(200)); // <= 0.5ms
        histogram.observe(Duration::from_micros(500)); // on the bound
        histogram.observe(Duration::from_millis(30)); // <= 50ms
        histogram.observe(Duration::from_secs(60)); // +Inf
        let buckets = histogram.buckets();
        assert_eq!(buckets.len(), BOUNDS.len() + 1);
        assert_eq!(buckets[0], (0.0005, 2));
        assert_eq!(buckets[6], (0.05, 1));
        assert_eq!(buckets[BOUNDS.len()], (f64::INFINITY, 1));
        assert_eq!(histogram.count(), 4);
        assert!((histogram.sum_seconds() - 60.0307).abs() < 1e-9);
    }

    #[test]
    fn the_bounds_ascend() {
        assert!(BOUNDS.windows(2).all(|w| w[0] < w[1]));
    }
}
