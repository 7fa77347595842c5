//! `msgflo-bench`: msgflo-rs measured side by side with the raw broker in one
//! run (this machine is noisy: ratios hold, absolute numbers drift).
//!
//! ```text
//! cargo build --release && target/release/msgflo-bench
//! ```
//!
//! Prints progress on stderr and a Markdown table on stdout (BENCHMARKS.md
//! keeps them). Layout:
//! - `settings.rs` — the command line;
//! - `drive.rs` — a flow: windowed throughput, fixed-rate latency;
//! - `amqp.rs`, `mqtt.rs` — the raw clients (lapin, rumqttc) every flow is
//!   driven with, baseline and participants alike; `mqtt_edge.rs` — a
//!   participant told to take a feed through a transient (QoS 0) edge;
//! - `processes.rs` — `msgflo-participant` and `msgflo` as processes, their
//!   memory;
//! - `suite_amqp.rs`, `suite_mqtt.rs`, `coordinator.rs`, `coordinated.rs` —
//!   the parts (`coordinated`, one hop with and without the coordinator, runs
//!   only when asked for: `--only coordinated`); `calls.rs` — `health`
//!   called on 200 participant processes at once (`--only calls`);
//! - `payload.rs`, `stats.rs`, `report.rs` — messages, percentiles, the table.
//!
//! Beside this program, `bench/outside/` measures from outside with Node.js
//! amqplib, as hand-written workers publish (`bench/outside/run`; its
//! script installs amqplib into `.cache/npm`).

mod amqp;
mod calls;
mod coordinated;
mod coordinator;
mod drive;
mod mqtt;
mod mqtt_edge;
mod payload;
mod processes;
mod report;
mod settings;
mod stats;
mod suite_amqp;
mod suite_mqtt;

use anyhow::{Context, Result};
use clap::Parser;
use report::{Row, Target};
use settings::{Part, Settings};

#[tokio::main]
async fn main() {
    payload::start_clock();
    let settings = Settings::parse().effective();
    match run(&settings).await {
        Ok(table) => print!("{table}"),
        Err(error) => {
            eprintln!("msgflo-bench: {error:#}");
            std::process::exit(1);
        }
    }
}

/// A short id for the queues and roles of one run, unique enough to run
/// beside anything else on the broker.
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

async fn run(s: &Settings) -> Result<String> {
    let mut rows = Vec::new();
    if s.runs(Part::Amqp) {
        rows.extend(suite_amqp::run(s).await.context("AMQP")?);
    }
    if s.runs(Part::Mqtt) {
        rows.extend(suite_mqtt::run(s).await.context("MQTT")?);
    }
    if s.runs(Part::Coordinator) {
        rows.extend(coordinator_rows(s).await.context("coordinator")?);
    }
    if s.runs(Part::Coordinated) {
        rows.extend(coordinated::run(s).await.context("coordinated")?);
    }
    if s.runs(Part::Calls) {
        rows.extend(calls::run(s).await.context("calls")?);
    }
    Ok(report::table(&rows))
}

async fn coordinator_rows(s: &Settings) -> Result<Vec<Row>> {
    let broker = s.coordinator_broker.as_deref().unwrap_or(&s.amqp);
    let (mut rates, mut lists, mut rss) = (vec![], vec![], vec![]);
    let mut described = String::new();
    for run in 1..=s.runs {
        let scale = coordinator::measure(broker, s.participants, s.rounds, 20).await?;
        let list = stats::median(
            &scale
                .list
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect::<Vec<_>>(),
        )
        .unwrap_or(f64::NAN);
        eprintln!(
            "coordinator run {run}: {} discovery messages from {} participants in {:?}; component:list {list:.1} ms ({} components); RSS {:.1} MB",
            scale.messages, scale.participants, scale.processing, scale.listed, scale.memory.rss_mib()
        );
        rates.push(scale.messages as f64 / scale.processing.as_secs_f64());
        lists.push(list);
        rss.push(scale.memory.rss_mib());
        described = format!(
            "{} msgs, {} participants",
            scale.messages, scale.participants
        );
    }
    Ok(vec![
        Row::new(
            format!("coordinator: discovery ({described})"),
            "msg/s",
            rates,
        ),
        Row::new("coordinator: component:list (median of 20)", "ms", lists)
            .target(Target::AtMost(200.0)),
        Row::new("coordinator RSS", "MB", rss).target(Target::AtMost(50.0)),
    ])
}
