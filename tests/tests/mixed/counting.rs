//! Counting numbered messages through the mixed pipeline: the sender with
//! its window, the end consumer checking each message's bytes, and the taps
//! that say how far messages got when some stop.

use super::{q, MESSAGES, WINDOW};
use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Transport};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How a run went.
pub(crate) struct Counted {
    /// From the first numbered message sent to the last one out.
    pub(crate) took: Duration,
    /// Copies that came out more than once.
    pub(crate) duplicates: usize,
}

/// Counts the distinct numbered messages on each of `queues` (copies
/// taken with taps, in the background): where messages stop when some do
/// not come out.
pub(crate) struct Checkpoints {
    counts: Vec<(String, Arc<Mutex<BTreeSet<Bytes>>>)>,
    _taps: Vec<tokio::task::JoinHandle<()>>,
}

impl Checkpoints {
    pub(crate) async fn watch(t: &Arc<dyn Transport>, queues: &[String]) -> Result<Self> {
        let (mut counts, mut taps) = (Vec::new(), Vec::new());
        for queue in queues {
            let mut tap = t.tap(&q(queue)?).await?;
            let seen = Arc::new(Mutex::new(BTreeSet::new()));
            counts.push((queue.clone(), seen.clone()));
            taps.push(tokio::spawn(async move {
                while let Some(delivery) = tap.consumer.next().await {
                    if delivery.payload.starts_with(b"\"m") {
                        if let Ok(mut seen) = seen.lock() {
                            seen.insert(delivery.payload.clone());
                        }
                    }
                    let _ = delivery.ack().await;
                }
            }));
        }
        Ok(Self {
            counts,
            _taps: taps,
        })
    }

    /// `queue: count (missing ...)` for each.
    fn report(&self) -> String {
        self.counts
            .iter()
            .map(|(queue, seen)| {
                let (n, missing) = seen.lock().map_or((0, Vec::new()), |s| {
                    let missing: Vec<usize> = (0..MESSAGES)
                        .filter(|i| !s.contains(format!("\"m{i}\"").as_bytes()))
                        .take(10)
                        .collect();
                    (s.len(), missing)
                });
                format!("{queue}: {n} (missing {missing:?}...)")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Sends `"probe"` into `inport` until one comes out of `out`: every edge
/// is in place.
pub(crate) async fn until_through(
    t: &Arc<dyn Transport>,
    inport: &QueueName,
    out: &mut Consumer,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        t.send_to_inport(inport, Bytes::from_static(b"\"probe\""))
            .await?;
        if let Ok(Some(delivery)) = tokio::time::timeout(Duration::from_secs(1), out.next()).await {
            delivery.ack().await?;
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "nothing came through within 60 s"
        );
    }
}

/// Sends `MESSAGES` numbered messages into `inport`, at most `WINDOW`
/// ahead; waits until each came out of `out` byte for byte, each within
/// 30 s of the one before (probes still on their way are skipped).
pub(crate) async fn count_through(
    t: &Arc<dyn Transport>,
    inport: &QueueName,
    out: &mut Consumer,
    checkpoints: &Checkpoints,
) -> Result<Counted> {
    let started = Instant::now();
    let credit = Arc::new(Semaphore::new(WINDOW));
    let sender = {
        let (t, inport, credit) = (t.clone(), inport.clone(), credit.clone());
        tokio::spawn(async move {
            for i in 0..MESSAGES {
                credit.acquire().await?.forget();
                t.send_to_inport(&inport, Bytes::from(format!("\"m{i}\"")))
                    .await?;
            }
            anyhow::Ok(())
        })
    };
    let mut seen: BTreeMap<Bytes, usize> = BTreeMap::new();
    let mut firsts = 0;
    while firsts < MESSAGES {
        let delivery = tokio::time::timeout(Duration::from_secs(30), out.next())
            .await
            .with_context(|| {
                format!(
                    "{firsts} of {MESSAGES} came out, then nothing for 30 s; \
                     distinct ones seen on the way: {}",
                    checkpoints.report()
                )
            })?
            .context("consumer ended")?;
        let payload = delivery.payload.clone();
        delivery.ack().await?;
        if payload.as_ref() == b"\"probe\"" {
            continue;
        }
        let number = std::str::from_utf8(&payload).ok().and_then(|t| {
            t.strip_prefix("\"m")?
                .strip_suffix('"')?
                .parse::<usize>()
                .ok()
        });
        match number {
            Some(i) if i < MESSAGES && payload == format!("\"m{i}\"").as_bytes() => {}
            _ => bail!("came out changed or made up: {payload:?}"),
        }
        let count = seen.entry(payload).or_default();
        *count += 1;
        if *count == 1 {
            firsts += 1;
            credit.add_permits(1);
        }
    }
    let took = started.elapsed();
    sender.await.context("sender task")??;
    Ok(Counted {
        took,
        duplicates: seen.values().map(|n| n - 1).sum(),
    })
}
