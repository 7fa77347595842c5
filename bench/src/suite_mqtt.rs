//! MQTT: raw publish -> subscribe against one `core/Repeat` participant, in
//! one run, alternating.

use crate::mqtt;
use crate::processes;
use crate::report::{Row, Target};
use crate::settings::Settings;
use anyhow::{Context, Result};

pub async fn run(s: &Settings) -> Result<Vec<Row>> {
    let id = crate::run_id();
    let role = format!("bench{id}m");
    let participant = processes::repeat(&role, &s.mqtt).await?;
    let result = measure(s, &id, &role).await;
    let peak = participant.memory().map(|m| m.peak_mib());
    participant.stop().await?;
    let mut rows = result?;
    rows.push(
        Row::new("participant peak RSS (MQTT)", "MB", vec![peak?]).target(Target::AtMost(20.0)),
    );
    Ok(rows)
}

async fn measure(s: &Settings, id: &str, role: &str) -> Result<Vec<Row>> {
    let raw_topic = format!("bench.{id}.raw");
    let mut raw_flow = mqtt::flow(&s.mqtt, &raw_topic, &raw_topic).await?;
    let mut hop_flow = mqtt::flow(&s.mqtt, &format!("{role}.IN"), &format!("{role}.OUT")).await?;
    let (mut raw_rate, mut hop_rate) = (vec![], vec![]);
    for run in 1..=s.runs {
        let (n, size, window) = (s.messages, s.size, s.mqtt_window);
        raw_rate.push(
            raw_flow
                .throughput(n, size, window)
                .await
                .context("raw MQTT")?,
        );
        hop_rate.push(
            hop_flow
                .throughput(n, size, window)
                .await
                .context("MQTT one hop")?,
        );
        eprintln!(
            "mqtt run {run}: raw {:.0} msg/s, one hop {:.0}",
            raw_rate[run - 1],
            hop_rate[run - 1]
        );
    }
    Ok(vec![
        Row::new("MQTT raw: publish -> subscribe", "msg/s", raw_rate.clone()),
        Row::new("MQTT one hop (core/Repeat)", "msg/s", hop_rate).against(&raw_rate),
    ])
}
