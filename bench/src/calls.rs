//! Calls at scale (`--only calls`): `--call-participants` (200)
//! `msgflo-participant` processes of one role on one machine, each its own
//! process; a caller (`msgflo_coordinator::calls::Caller`) calls `health`
//! on all of them at once, `--call-rounds` times, and the time until the
//! last answer is taken per round. Baseline in the same run: the same call
//! to one participant. Then one participant is SIGSTOPped and the call to
//! all must end at its deadline naming that one (and only it).

use crate::processes;
use crate::report::{Row, Target};
use crate::settings::Settings;
use crate::stats::Percentiles;
use anyhow::{ensure, Context, Result};
use msgflo_coordinator::calls::Caller;
use msgflo_participant::protocol::ids::ParticipantId;
use msgflo_participant::transport::{self as transport, ConnectOptions};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a round may take before it counts as failed.
const ROUND: Duration = Duration::from_secs(5);
/// The deadline of the call with one participant stopped.
const STOPPED_DEADLINE: Duration = Duration::from_secs(2);

pub async fn run(s: &Settings) -> Result<Vec<Row>> {
    let broker = s.calls_broker.as_deref().unwrap_or(&s.amqp);
    let run = crate::run_id();
    let role = format!("bench-calls-{run}");
    eprintln!(
        "calls: starting {} participants on {broker}",
        s.call_participants
    );
    let mut participants = Vec::new();
    let mut ids = Vec::new();
    for n in 0..s.call_participants {
        let id = format!("{role}-{n}");
        participants.push(processes::repeat_with_id(&role, &id, broker).await?);
        ids.push(ParticipantId::new(id)?);
    }
    let options = ConnectOptions {
        client_id: format!("bench-caller-{run}"),
        ..ConnectOptions::default()
    };
    let t = transport::connect(broker, options).await?;
    let caller = Caller::new(t.clone(), &format!("bench-caller-{run}")).await?;

    let mut one = Vec::new();
    let mut all = Vec::new();
    for round in 0..=s.call_rounds {
        let started = Instant::now();
        caller
            .call(&ids[0], "health", Value::Null, ROUND)
            .await
            .context("health of one participant")?;
        let single = started.elapsed();
        let started = Instant::now();
        let mut calls = caller.call_all(&ids, "health", Value::Null, ROUND).await;
        let mut answered = 0;
        while let Some((participant, outcome)) = calls.next().await {
            outcome.with_context(|| format!("health of {participant}"))?;
            answered += 1;
        }
        let took = started.elapsed();
        ensure!(
            answered == ids.len(),
            "round {round}: {answered} of {} answered; missing {:?}",
            ids.len(),
            calls.missing()
        );
        if round > 0 {
            // Round 0 warms the connections up.
            one.push(single);
            all.push(took);
        }
    }
    let one = Percentiles::of(&mut one).context("no rounds")?;
    let all = Percentiles::of(&mut all).context("no rounds")?;
    eprintln!(
        "calls: health of 1: p50 {:?} p99 {:?}; of {}: p50 {:?} p99 {:?} max {:?}",
        one.p50,
        one.p99,
        ids.len(),
        all.p50,
        all.p99,
        all.max
    );

    let stopped = participants[ids.len() / 2].pid().context("a pid")?;
    signal("-STOP", stopped)?;
    let started = Instant::now();
    let mut calls = caller
        .call_all(&ids, "health", Value::Null, STOPPED_DEADLINE)
        .await;
    let mut answered = 0;
    while calls.next().await.is_some() {
        answered += 1;
    }
    let ended = started.elapsed();
    let missing = calls.missing();
    signal("-CONT", stopped)?;
    eprintln!(
        "calls: one of {} stopped: {answered} answered, missing {missing:?}, ended after {ended:?} (deadline {STOPPED_DEADLINE:?})",
        ids.len()
    );
    ensure!(
        missing == [ids[ids.len() / 2].clone()],
        "the stopped participant not named alone: {missing:?}"
    );
    for p in participants {
        p.stop().await?;
    }
    let _ = t.close().await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = ids.len();
    Ok(vec![
        Row::new(
            "calls: health of 1 participant, p50",
            "ms",
            vec![ms(one.p50)],
        ),
        Row::new(
            format!("calls: health of all {n}, p50"),
            "ms",
            vec![ms(all.p50)],
        ),
        Row::new(
            format!("calls: health of all {n}, p99"),
            "ms",
            vec![ms(all.p99)],
        )
        .target(Target::AtMost(500.0)),
        Row::new(
            format!("calls: all {n}, one SIGSTOPped: ended (deadline 2000 ms)"),
            "ms",
            vec![ms(ended)],
        )
        .target(Target::AtMost(2100.0)),
    ])
}

fn signal(name: &str, pid: u32) -> Result<()> {
    let status = std::process::Command::new("kill")
        .args([name, &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill {name} {pid} failed");
    Ok(())
}
