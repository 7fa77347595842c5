//! Driving a flow: a [`Sender`] puts benchmark messages in, a sink channel
//! gives them back wherever they come out (straight from the queue they were
//! sent to, or after one or more participants). The same client code drives
//! the raw baseline and the flows through participants, so the ratio between
//! them is the cost of msgflo-rs.

use crate::payload;
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// How long a flow may stay silent before the run is declared stalled.
pub const STALL: Duration = Duration::from_secs(30);

/// A boxed future, for the object-safe [`Sender`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Puts messages into the system under test.
pub trait Sender: Send {
    /// Hands one message to the broker client; may return before the broker
    /// confirmed it (publishes are pipelined).
    fn send(&mut self, payload: Vec<u8>) -> BoxFuture<'_, Result<()>>;
    /// Waits until the broker confirmed every message sent so far; fails if
    /// it refused one.
    fn confirmed(&mut self) -> BoxFuture<'_, Result<()>>;
}

/// Messages as they come out at the end of the flow (already acked).
pub type Sink = mpsc::Receiver<Bytes>;

/// One flow: where messages go in, where they come out.
pub struct Flow {
    pub sender: Box<dyn Sender>,
    pub sink: Sink,
}

/// Receives the next message, or fails after [`STALL`] of silence.
async fn next(sink: &mut Sink, got: u64, of: u64) -> Result<Bytes> {
    tokio::time::timeout(STALL, sink.recv())
        .await
        .with_context(|| {
            format!("stalled: {got} of {of} messages came out, then none for {STALL:?}")
        })?
        .context("the sink closed")
}

impl Flow {
    /// Sends `n` messages of `size` bytes as fast as the flow takes them,
    /// with at most `window` sent but not yet out; returns messages/s from
    /// the first send until the last message came out.
    pub async fn throughput(&mut self, n: u64, size: usize, window: usize) -> Result<f64> {
        let window = Arc::new(Semaphore::new(window.max(1)));
        let started = Instant::now();
        let sender = &mut self.sender;
        let sink = &mut self.sink;
        let send = async {
            for seq in 0..n {
                window.acquire().await.context("window closed")?.forget();
                sender
                    .send(payload::make(seq, Instant::now(), size))
                    .await?;
            }
            sender.confirmed().await
        };
        let receive = async {
            for got in 0..n {
                next(sink, got, n).await?;
                window.add_permits(1);
            }
            anyhow::Ok(())
        };
        tokio::try_join!(send, receive)?;
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }

    /// Sends `count` messages of `size` bytes at `rate` per second (each at
    /// its scheduled time, or at once when late) and returns each message's
    /// latency from when it was handed to the client to when it came out.
    pub async fn latency(&mut self, rate: u32, count: u64, size: usize) -> Result<Vec<Duration>> {
        if rate == 0 {
            bail!("the rate must be at least 1 message/s");
        }
        let period = Duration::from_secs(1) / rate;
        let start = tokio::time::Instant::now() + Duration::from_millis(10);
        let sender = &mut self.sender;
        let sink = &mut self.sink;
        let send = async {
            for seq in 0..count {
                let due = start + period * u32::try_from(seq).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due).await;
                sender
                    .send(payload::make(seq, due.into_std(), size))
                    .await?;
            }
            sender.confirmed().await
        };
        let receive = async {
            let mut samples = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
            for got in 0..count {
                let message = next(sink, got, count).await?;
                let age = payload::age(&message, Instant::now())
                    .context("a message that is not the benchmark's came out")?;
                samples.push(age);
            }
            anyhow::Ok(samples)
        };
        let ((), samples) = tokio::try_join!(send, receive)?;
        Ok(samples)
    }
}
