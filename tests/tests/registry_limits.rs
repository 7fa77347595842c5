//! The coordinator's registry limits over real RabbitMQ (issue 15): a
//! backlog of announcements older than the participant timeout, left in the
//! durable `fbp` queue, is ignored; a full registry refuses newcomers and
//! says so once; a flood of announcements keeps the registry at its cap and
//! the coordinator answering. Each test has a vhost (and so an `fbp` queue)
//! of its own.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::BasicProperties;
use msgflo_tests::fbp_client::{start, Client, REPLY};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, unique};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(30);

fn announcement(id: &str, role: &str) -> Bytes {
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": id, "role": role, "component": "test/Limit", "label": "", "icon": "",
        "inports": [], "outports": []}});
    Bytes::from(message.to_string())
}

/// The ids the coordinator lists (`msgflo:participants`).
async fn listed(fbp: &mut Client) -> Result<Vec<String>> {
    listed_within(fbp, REPLY).await
}

/// [`listed`], answered within `wait` (a list of 50,000 takes a while).
async fn listed_within(fbp: &mut Client, wait: Duration) -> Result<Vec<String>> {
    fbp.send("msgflo", "participants", json!({}), None).await?;
    let reply = fbp.until("msgflo", "participants", wait).await?;
    let participants = reply["payload"]["participants"]
        .as_array()
        .with_context(|| format!("participants: {reply}"))?;
    Ok(participants
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect())
}

/// Asks until `id` is listed (each discovery is followed by a
/// `component:component` to clients, waited for between asks).
async fn until_listed(fbp: &mut Client, id: &str) -> Result<Vec<String>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ids = listed(fbp).await?;
        if ids.iter().any(|known| known == id) {
            return Ok(ids);
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        fbp.until("component", "component", left)
            .await
            .with_context(|| format!("{id} never listed; listed: {ids:?}"))?;
    }
}

/// Publishes `payload` to `fbp` as sent `age` ago (AMQP `timestamp`), as a
/// participant that announced itself while no coordinator ran would have.
async fn publish_old(url: &str, payload: &[u8], age: Duration) -> Result<()> {
    let connection =
        lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let sent = SystemTime::now().duration_since(UNIX_EPOCH)? - age;
    let confirm = channel
        .basic_publish(
            "".into(),
            "fbp".into(),
            BasicPublishOptions::default(),
            payload,
            BasicProperties::default()
                .with_delivery_mode(2)
                .with_timestamp(sent.as_secs()),
        )
        .await?
        .await?;
    ensure!(confirm.is_ack(), "not confirmed: {confirm:?}");
    connection.close(0, "done".into()).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_older_than_the_participant_timeout_is_ignored_at_start() -> Result<()> {
    let vhost = Vhost::new("stale")?;
    let broker = vhost.url().to_owned();
    let t = client(&broker, "stale").await?;
    let [before, old, after] = ["before", "old", "after"].map(|r| unique(r).replace('.', "-"));
    // In the queue before the coordinator starts, in this order.
    t.announce(announcement(&before, "before")).await?;
    publish_old(
        &broker,
        &announcement(&old, "old"),
        Duration::from_secs(3_600),
    )
    .await?;
    t.announce(announcement(&after, "after")).await?;

    let coordinator = start(&broker, &["--participant-timeout", "600"]).await?;
    let mut fbp = Client::connect(coordinator.port).await?;
    // `after` came last: once it is listed, all three were read.
    let ids = until_listed(&mut fbp, &after).await?;
    ensure!(ids.contains(&before), "{ids:?}");
    ensure!(
        !ids.contains(&old),
        "an hour-old announcement is not a live participant: {ids:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_registry_refuses_newcomers_and_says_so_once() -> Result<()> {
    let vhost = Vhost::new("full")?;
    let broker = vhost.url().to_owned();
    let coordinator = start(&broker, &["--max-participants", "3"]).await?;
    let mut fbp = Client::connect(coordinator.port).await?;
    let t = client(&broker, "full").await?;
    let ids: Vec<String> = (0..6)
        .map(|i| unique(&format!("p{i}")).replace('.', "-"))
        .collect();
    for id in &ids {
        t.announce(announcement(id, "full")).await?;
    }
    let told = fbp.until("network", "output", WAIT).await?;
    let message = told["payload"]["message"].as_str().unwrap_or_default();
    ensure!(
        message.contains("--max-participants") && message.contains("3 participants"),
        "{told}"
    );
    let mut known = until_listed(&mut fbp, &ids[2]).await?;
    known.sort_unstable();
    let mut first_three = ids[..3].to_vec();
    first_three.sort_unstable();
    ensure!(known == first_three, "{known:?}");
    // Said once: the other two refusals wait for the summary.
    let more = fbp
        .until("network", "output", Duration::from_millis(500))
        .await;
    ensure!(more.is_err(), "said again: {more:?}");
    Ok(())
}

/// 5,000 participants announce themselves at once to a coordinator that
/// takes 1,000: it keeps 1,000, and answers the FBP protocol within a
/// second all along. (The 50,000-participant measurement with memory is
/// `registry_flood_memory`, run outside the test command.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_announcements_stops_at_the_cap_and_the_coordinator_answers() -> Result<()> {
    let flood = flood(5_000, 1_000).await?;
    ensure!(flood.registered == 1_000, "{flood:?}");
    ensure!(flood.slowest_answer < Duration::from_secs(1), "{flood:?}");
    Ok(())
}

/// What a flood did.
#[derive(Debug)]
#[allow(dead_code)] // Read through Debug.
struct Flood {
    announced: usize,
    cap: usize,
    registered: usize,
    slowest_answer: Duration,
    announce_time: Duration,
    rss_before_kib: u64,
    rss_after_kib: u64,
}

/// Starts a coordinator with `--max-participants cap` and announces
/// `count` participants (with four roles, `--discovery-rate` high enough
/// not to matter), asking `runtime:getruntime` every 50 ms meanwhile.
async fn flood(count: usize, cap: usize) -> Result<Flood> {
    let vhost = Vhost::new("flood")?;
    let broker = vhost.url().to_owned();
    let cap_arg = cap.to_string();
    let coordinator = start(
        &broker,
        &[
            "--max-participants",
            &cap_arg,
            "--discovery-rate",
            "1000000",
        ],
    )
    .await?;
    let pid = coordinator.process.id().context("the coordinator's pid")?;
    let rss_before_kib = rss_kib(pid)?;
    let mut fbp = Client::connect(coordinator.port).await?;
    let t = client(&broker, "flood").await?;
    let tag = unique("flood").replace('.', "-");
    let started = Instant::now();
    let announcing = tokio::spawn(async move {
        for batch in 0..count.div_ceil(100) {
            let sends = (batch * 100..((batch + 1) * 100).min(count)).map(|i| {
                let t = t.clone();
                let message = announcement(&format!("{tag}-{i}"), &format!("flood{}", i % 4));
                async move { t.announce(message).await }
            });
            for sent in futures_util::future::join_all(sends).await {
                sent?;
            }
        }
        anyhow::Ok(())
    });
    let mut slowest_answer = Duration::ZERO;
    while !announcing.is_finished() {
        slowest_answer = slowest_answer.max(ask_runtime(&mut fbp).await?);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    announcing.await??;
    let announce_time = started.elapsed();
    // Drained once the registry holds its cap or all of them.
    let deadline = Instant::now() + Duration::from_secs(120);
    let registered = loop {
        slowest_answer = slowest_answer.max(ask_runtime(&mut fbp).await?);
        let ids = listed_within(&mut fbp, WAIT).await?;
        let mut count_now = ids.len();
        if count_now >= cap.min(count) || Instant::now() > deadline {
            // Read on a little: a full registry must stay full, not grow.
            tokio::time::sleep(Duration::from_millis(500)).await;
            count_now = listed_within(&mut fbp, WAIT).await?.len();
            break count_now;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    Ok(Flood {
        announced: count,
        cap,
        registered,
        slowest_answer,
        announce_time,
        rss_before_kib,
        rss_after_kib: rss_kib(pid)?,
    })
}

/// How long `runtime:getruntime` takes to be answered.
async fn ask_runtime(fbp: &mut Client) -> Result<Duration> {
    let asked = Instant::now();
    fbp.send("runtime", "getruntime", json!({}), None).await?;
    let reply: Value = fbp.until("runtime", "runtime", WAIT).await?;
    ensure!(reply["command"] == "runtime", "{reply}");
    Ok(asked.elapsed())
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc/PID/status")
}

/// The figures of RELIABILITY.md's registry table: 50,000 participants
/// announced to the default cap of 10,000, and to a cap above them (what
/// the coordinator did before it had one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (about a minute): cargo test -p msgflo-tests --test registry_limits -- --ignored --nocapture"]
async fn registry_flood_memory() -> Result<()> {
    for cap in [10_000, 100_000] {
        let flood = flood(50_000, cap).await?;
        println!("{flood:?}");
    }
    Ok(())
}
