//! Numbered messages through a fault that may lose some (transient
//! messages across a broker restart): [`through_lossy_fault`] reads until
//! the last came out; when output pauses after the fault, what was sent and
//! has not come out is taken as lost and its window given back to the
//! sender, so the flow goes on.

use crate::chaos::Tally;
use crate::flow::Recovery;
use crate::numbered::{number_of, NumberedSender};
use anyhow::{bail, Context, Result};
use msgflo_participant::transport::Consumer;
use std::future::Future;
use std::time::Duration;

/// Reads `received` until message `n - 1` came out (or all did), crediting
/// `sender` for each first copy; once `fault_at` came out, plays `fault`.
/// Before the fault, `wait` without output is an error; after it, a pause
/// of `quiet` gives the sender back the window of the messages sent and not
/// seen, and a pause with nothing new to give back is an error (the flow
/// did not come back).
pub async fn through_lossy_fault<F, Fut>(
    received: &mut Consumer,
    sender: &NumberedSender,
    n: usize,
    wait: Duration,
    quiet: Duration,
    fault_at: usize,
    fault: F,
) -> Result<Tally>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Recovery>>,
{
    let last = u64::try_from(n).context("n fits u64")?.saturating_sub(1);
    let mut tally = Tally::new();
    let mut fault = Some(fault);
    let mut given_back = 0u64;
    while tally.distinct() < n && tally.highest() != Some(last) {
        let limit = if tally.faulted() { quiet } else { wait };
        let Ok(next) = tokio::time::timeout(limit, received.next()).await else {
            let missing = sender.sent().saturating_sub(tally.distinct()) as u64;
            if !tally.faulted() || missing <= given_back {
                bail!(
                    "nothing came out for {limit:?} after {} of {n} messages (highest {:?})",
                    tally.distinct(),
                    tally.highest()
                );
            }
            for _ in given_back..missing {
                sender.came_out();
            }
            given_back = missing;
            continue;
        };
        let delivery = next.with_context(|| format!("consumer of {} ended", received.queue()))?;
        let number = number_of(&delivery.payload)?;
        delivery.ack().await?;
        if tally.count(number) {
            sender.came_out();
        }
        if tally.distinct() >= fault_at {
            if let Some(fault) = fault.take() {
                tally.fault();
                if fault().await? == Recovery::FromItsEnd {
                    tally.back();
                }
            }
        }
    }
    Ok(tally)
}
