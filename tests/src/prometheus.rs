//! Reading a scrape as Prometheus does: with a Prometheus text-format
//! parser (`prometheus-parse`), every sample as `name{label="value",...}`.

use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// Every sample of a scrape, as `name{label="value",...}` -> value (labels
/// sorted by name).
pub fn samples(text: &str) -> Result<BTreeMap<String, f64>> {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).context("not Prometheus text")?;
    let mut samples = BTreeMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        labels.sort();
        let name = match labels.is_empty() {
            true => sample.metric.clone(),
            false => format!("{}{{{}}}", sample.metric, labels.join(",")),
        };
        let value = match sample.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => continue,
        };
        samples.insert(name, value);
    }
    Ok(samples)
}
