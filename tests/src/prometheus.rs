//! Reading a scrape as Prometheus does: with a Prometheus text-format
//! parser (`prometheus-parse`), every sample as `name{label="value",...}`;
//! scraping an endpoint until it shows something.

use anyhow::{ensure, Context, Result};
use std::collections::BTreeMap;
use std::time::Duration;

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

/// One scrape of `url` (no credentials), as [`samples`].
pub async fn scrape(url: &str) -> Result<BTreeMap<String, f64>> {
    // reqwest's rustls wants a process-wide provider (ring, as the rest).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::get(url).await?;
    ensure!(response.status() == 200, "{url}: {}", response.status());
    samples(&response.text().await?)
}

/// Scrapes `url` until `done` holds (within `wait`): that scrape.
pub async fn scrape_until(
    url: &str,
    what: &str,
    wait: Duration,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> Result<BTreeMap<String, f64>> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let found = scrape(url).await?;
        if done(&found) {
            return Ok(found);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "not {what}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
