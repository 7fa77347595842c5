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
    let mut tally = Tally::new();
    let mut fault = Some(fault);
    let mut made = None;
    while tally.distinct() < n {
        let payload = next_payload(received, wait)
            .await
            .with_context(|| format!("after {} of {n} messages", tally.distinct()))?;
        if tally.count(number_of(&payload)?) {
            sender.came_out();
        }
        if tally.distinct() >= fault_at {
            if let Some(fault) = fault.take() {
                tally.fault();
                let (value, recovery) = fault().await?;
                if recovery == Recovery::FromItsEnd {
                    tally.back();
                }
                made = Some(value);
            }
        }
    }
    Ok((tally, made))
}

/// No fault: for [`through_fault`] runs that need none.
pub async fn no_fault() -> Result<((), Recovery)> {
    Ok(((), Recovery::FromFault))
}
