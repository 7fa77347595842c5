//! Numbered messages through a participant with one fault on the way: the
//! sink that reads its outport, and the loop that counts what comes out
//! (a [`Tally`]) and plays the fault once enough did. The fault scenarios
//! (participant kills, failover, workers, broker and cluster node kills)
//! differ only in their fault.

use crate::chaos::Tally;
use crate::numbered::{number_of, NumberedSender};
use crate::{next_payload, unique};
use anyhow::{Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Transport};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A queue of its own (`<prefix>.<uuid>`) bound to `outport`, consumed by
/// `t` 500 at a time.
pub async fn sink(t: &Arc<dyn Transport>, outport: &QueueName, prefix: &str) -> Result<Consumer> {
    let sink = QueueName::new(unique(prefix))?;
    t.declare_outport(outport).await?;
    t.declare_inport(&sink).await?;
    let consumer = t.consume(&sink, 500).await?;
    t.bind(outport, &sink).await?;
    Ok(consumer)
}

/// From when the fault's recovery counts ([`Tally::recovery`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// From the fault.
    FromFault,
    /// From when the fault was over (a broker started again).
    FromItsEnd,
}

/// Reads `received` until all `n` numbered messages came out (each at most
/// `wait` after the one before), crediting `sender` for each first copy;
/// once `fault_at` came out, plays `fault` (the tally marks it first).
/// Returns the tally and what `fault` returned, if it was played.
pub async fn through_fault<T, F, Fut>(
    received: &mut Consumer,
    sender: &NumberedSender,
    n: usize,
    wait: Duration,
    fault_at: usize,
    fault: F,
) -> Result<(Tally, Option<T>)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(T, Recovery)>>,
{
    let mut fault = Some(fault);
    let (tally, mut made) = through_faults(received, sender, n, wait, &[fault_at], || {
        let fault = fault.take();
        async move {
            match fault {
                Some(fault) => fault().await,
                None => anyhow::bail!("the fault was played once already"),
            }
        }
    })
    .await?;
    Ok((tally, made.pop().map(|faulted| faulted.value)))
}

/// What one fault of [`through_faults`] came to.
#[derive(Debug)]
pub struct Faulted<T> {
    /// What the fault returned.
    pub value: T,
    /// How long the flow took to recover ([`Tally::recovery`] until the
    /// next fault).
    pub recovery: Duration,
    /// Copies seen again from the fault until the next one.
    pub duplicates: u64,
}

/// [`through_fault`] with a fault each time `faults_at[i]` messages came out
/// (in increasing order); returns the tally and what each fault played came
/// to.
pub async fn through_faults<T, F, Fut>(
    received: &mut Consumer,
    sender: &NumberedSender,
    n: usize,
    wait: Duration,
    faults_at: &[usize],
    mut fault: F,
) -> Result<(Tally, Vec<Faulted<T>>)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(T, Recovery)>>,
{
    let mut tally = Tally::new();
    let mut next = faults_at.iter().copied().peekable();
    let mut made: Vec<Faulted<T>> = Vec::new();
    // Copies seen again before the last fault.
    let mut duplicates_before = 0;
    // Sets the last fault's figures from the tally, before the next one.
    let close = |made: &mut Vec<Faulted<T>>, tally: &Tally, before: u64| {
        if let Some(last) = made.last_mut() {
            last.recovery = tally.recovery();
            last.duplicates = tally.duplicates() - before;
        }
    };
    while tally.distinct() < n {
        let payload = next_payload(received, wait)
            .await
            .with_context(|| format!("after {} of {n} messages", tally.distinct()))?;
        if tally.count(number_of(&payload)?) {
            sender.came_out();
        }
        if next.next_if(|at| tally.distinct() >= *at).is_some() {
            close(&mut made, &tally, duplicates_before);
            duplicates_before = tally.duplicates();
            tally.fault();
            let (value, recovery) = fault().await?;
            if recovery == Recovery::FromItsEnd {
                tally.back();
            }
            made.push(Faulted {
                value,
                recovery: Duration::ZERO,
                duplicates: 0,
            });
        }
    }
    close(&mut made, &tally, duplicates_before);
    Ok((tally, made))
}

/// No fault: for [`through_fault`] runs that need none.
pub async fn no_fault() -> Result<((), Recovery)> {
    Ok(((), Recovery::FromFault))
}
