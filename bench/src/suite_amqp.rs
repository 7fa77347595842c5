//! AMQP: the raw queue, one `core/Repeat` participant, a chain of three, and
//! latency at a fixed rate through the chain, all in one run, alternating.

use crate::amqp::Raw;
use crate::processes::{self, Process};
use crate::report::{Row, Target};
use crate::settings::Settings;
use crate::stats::Percentiles;
use anyhow::{Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{connect, ConnectOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// What the run declared, to delete afterwards.
#[derive(Default)]
struct Made {
    inports: Vec<String>,
    outports: Vec<String>,
}

pub async fn run(s: &Settings) -> Result<Vec<Row>> {
    let transport = connect(&s.amqp, ConnectOptions::default())
        .await
        .with_context(|| format!("cannot connect to {}", s.amqp))?;
    let raw = Raw::connect(&s.amqp)
        .await?
        .with_traceparent(s.traceparent.as_deref())
        .with_delivery(s.delivery)
        .without_confirms(s.no_confirms);
    let mut made = Made::default();
    let mut participants = Vec::new();
    let result = measure(s, &transport, &raw, &mut made, &mut participants).await;
    for participant in participants {
        participant.stop().await?;
    }
    let dead = |q: &String| format!("dead-{q}");
    let queues: Vec<String> = made
        .inports
        .iter()
        .flat_map(|q| [q.clone(), dead(q)])
        .collect();
    let exchanges: Vec<String> = queues.iter().chain(&made.outports).cloned().collect();
    raw.delete(&queues, &exchanges).await?;
    raw.close().await;
    transport.close().await?;
    result
}

async fn inport(t: &Arc<dyn Transport>, made: &mut Made, name: String) -> Result<QueueName> {
    let queue = QueueName::new(name)?;
    t.declare_inport(&queue).await?;
    made.inports.push(queue.to_string());
    Ok(queue)
}

async fn measure(
    s: &Settings,
    t: &Arc<dyn Transport>,
    raw: &Raw,
    made: &mut Made,
    participants: &mut Vec<Process>,
) -> Result<Vec<Row>> {
    let id = crate::run_id();
    let roles: Vec<String> = ["one", "a", "b", "c"]
        .iter()
        .map(|r| format!("bench{id}{r}"))
        .collect();
    for role in &roles {
        participants.push(processes::repeat(role, &s.amqp).await?);
        made.inports.push(format!("{role}.IN"));
        made.outports.push(format!("{role}.OUT"));
    }
    let port = |role: &str, port: &str| QueueName::new(format!("{role}.{port}"));
    let (one, a, b, c) = (&roles[0], &roles[1], &roles[2], &roles[3]);
    t.bind(&port(a, "OUT")?, &port(b, "IN")?).await?;
    t.bind(&port(b, "OUT")?, &port(c, "IN")?).await?;

    let raw_q = inport(t, made, format!("bench.{id}.raw")).await?;
    let one_out = inport(t, made, format!("bench.{id}.out1")).await?;
    let three_out = inport(t, made, format!("bench.{id}.out3")).await?;
    t.bind(&port(one, "OUT")?, &one_out).await?;
    t.bind(&port(c, "OUT")?, &three_out).await?;

    let mut raw_flow = raw.flow(raw_q.as_str(), raw_q.as_str(), s.prefetch).await?;
    let mut one_flow = raw
        .flow(&format!("{one}.IN"), one_out.as_str(), s.prefetch)
        .await?;
    let mut three_flow = raw
        .flow(&format!("{a}.IN"), three_out.as_str(), s.prefetch)
        .await?;

    let (mut raw_rate, mut one_rate, mut three_rate) = (vec![], vec![], vec![]);
    let (mut raw_latency, mut one_latency, mut three_latency) = (vec![], vec![], vec![]);
    for run in 1..=s.runs {
        let (n, size, window) = (s.messages, s.size, s.window);
        raw_rate.push(
            raw_flow
                .throughput(n, size, window)
                .await
                .context("raw AMQP")?,
        );
        one_rate.push(
            one_flow
                .throughput(n, size, window)
                .await
                .context("one hop")?,
        );
        three_rate.push(
            three_flow
                .throughput(n, size, window)
                .await
                .context("three hops")?,
        );
        let (rate, n) = (s.rate, s.latency_messages);
        let raw = raw_flow
            .latency(rate, n, size)
            .await
            .context("raw latency")?;
        raw_latency.push(percentiles(raw)?);
        let one = one_flow
            .latency(rate, n, size)
            .await
            .context("one hop latency")?;
        one_latency.push(percentiles(one)?);
        let three = three_flow.latency(rate, n, size).await.context("latency")?;
        three_latency.push(percentiles(three)?);
        eprintln!(
            "amqp run {run}: raw {:.0} msg/s, one hop {:.0}, three hops {:.0}; p99 raw {:?}, one hop {:?}, three hops {:?}",
            raw_rate[run - 1], one_rate[run - 1], three_rate[run - 1],
            raw_latency[run - 1].p99, one_latency[run - 1].p99, three_latency[run - 1].p99
        );
    }
    let mut peak = 0f64;
    for participant in participants.iter() {
        peak = peak.max(participant.memory()?.peak_mib());
    }
    let at = format!("at {} msg/s", s.rate);
    let mut rows = vec![
        Row::new(
            "AMQP raw: publish -> queue -> consume",
            "msg/s",
            raw_rate.clone(),
        ),
        Row::new("AMQP one hop (core/Repeat)", "msg/s", one_rate)
            .against(&raw_rate)
            .target(Target::RatioAtLeast(0.35)),
        Row::new("AMQP three hops (A -> B -> C)", "msg/s", three_rate)
            .against(&raw_rate)
            .target(Target::RatioAtLeast(0.15)),
    ];
    let latency =
        |flow: &str, level: &str, ps: &[Percentiles], pick: fn(&Percentiles) -> Duration| {
            let ms = ps.iter().map(|p| pick(p).as_secs_f64() * 1000.0).collect();
            Row::new(format!("{flow} latency {level} {at}"), "ms", ms)
        };
    rows.extend([
        latency("AMQP raw", "p50", &raw_latency, |p| p.p50),
        latency("AMQP raw", "p99", &raw_latency, |p| p.p99),
        latency("one hop", "p50", &one_latency, |p| p.p50),
        latency("one hop", "p99", &one_latency, |p| p.p99),
        latency("three hops", "p50", &three_latency, |p| p.p50),
        latency("three hops", "p99", &three_latency, |p| p.p99).target(Target::AtMost(5.0)),
        latency("three hops", "p99.9", &three_latency, |p| p.p999),
        Row::new(
            "participant peak RSS (AMQP, 4 processes, max)",
            "MB",
            vec![peak],
        )
        .target(Target::AtMost(20.0)),
    ]);
    Ok(rows)
}

fn percentiles(mut samples: Vec<Duration>) -> Result<Percentiles> {
    Percentiles::of(&mut samples).context("no latency samples")
}
