//! MQTT: raw publish -> subscribe against one `core/Repeat` participant, in
//! one run, alternating; and against another whose input comes through a
//! transient edge (a QoS 0 subscription, `mqtt_edge.rs`).

use crate::mqtt;
use crate::processes;
use crate::report::{Row, Target};
use crate::settings::Settings;
use anyhow::{Context, Result};

pub async fn run(s: &Settings) -> Result<Vec<Row>> {
    let id = crate::run_id();
    let role = format!("bench{id}m");
    let participant = processes::repeat(&role, &s.mqtt).await?;
    let edge_role = format!("bench{id}e");
    let edge_id = format!("{edge_role}-1");
    let edge_participant = processes::repeat_with_id(&edge_role, &edge_id, &s.mqtt).await?;
    let result = measure(s, &id, &role, (&edge_role, &edge_id)).await;
    let peak = participant.memory().map(|m| m.peak_mib());
    participant.stop().await?;
    edge_participant.stop().await?;
    let mut rows = result?;
    rows.push(
        Row::new("participant peak RSS (MQTT)", "MB", vec![peak?]).target(Target::AtMost(20.0)),
    );
    Ok(rows)
}

async fn measure(
    s: &Settings,
    id: &str,
    role: &str,
    (edge_role, edge_id): (&str, &str),
) -> Result<Vec<Row>> {
    let raw_topic = format!("bench.{id}.raw");
    let mut raw_flow = mqtt::flow(&s.mqtt, &raw_topic, &raw_topic).await?;
    let mut hop_flow = mqtt::flow(&s.mqtt, &format!("{role}.IN"), &format!("{role}.OUT")).await?;
    let feed = format!("bench.{id}.feed");
    crate::mqtt_edge::transient(&s.mqtt, edge_id, &feed).await?;
    let mut edge_flow = mqtt::flow(&s.mqtt, &feed, &format!("{edge_role}.OUT")).await?;
    let (mut raw_rate, mut hop_rate, mut edge_rate) = (vec![], vec![], vec![]);
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
        edge_rate.push(
            edge_flow
                .throughput(n, size, window)
                .await
                .context("MQTT one hop through a transient edge")?,
        );
        eprintln!(
            "mqtt run {run}: raw {:.0} msg/s, one hop {:.0}, through a transient edge {:.0}",
            raw_rate[run - 1],
            hop_rate[run - 1],
            edge_rate[run - 1]
        );
    }
    Ok(vec![
        Row::new("MQTT raw: publish -> subscribe", "msg/s", raw_rate.clone()),
        Row::new("MQTT one hop (core/Repeat)", "msg/s", hop_rate).against(&raw_rate),
        Row::new(
            "MQTT one hop, transient edge in (QoS 0)",
            "msg/s",
            edge_rate,
        )
        .against(&raw_rate),
    ])
}
