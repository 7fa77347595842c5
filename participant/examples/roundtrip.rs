//! Round-trip throughput through one Repeat participant, side by side with the
//! raw broker (the same messages sent straight to the sink queue), for several
//! prefetch values.
//!
//! ```text
//! cargo run --release -p msgflo-participant --example roundtrip -- amqp://127.0.0.1 10000 1,8,64,256 [graph|async]
//! ```
//!
//! `graph` (the default) runs the in-process `core/Repeat` as a one-node graph,
//! as `msgflo-participant --component core/Repeat` does; `async` runs a Repeat
//! written with the async [`Component`] API instead.

use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use msgflo_participant::component::Component;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::runner::{self, Options, Running};
use msgflo_participant::runtime::builtins;
use msgflo_participant::transport::{connect, ConnectOptions, Consumer, Transport};
use std::sync::Arc;
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// Sends `n` messages to `target` (pipelined) and returns messages/s until all
/// `n` came out of `sink`.
async fn measure(
    t: &Arc<dyn Transport>,
    target: &QueueName,
    sink: &mut Consumer,
    n: usize,
) -> Result<f64, Error> {
    let started = Instant::now();
    let (sender, target) = (t.clone(), target.clone());
    let send = tokio::spawn(async move {
        stream::iter(0..n)
            .map(|i| {
                let (t, q) = (sender.clone(), target.clone());
                async move {
                    t.send_to_inport(&q, Bytes::from(format!("{{\"n\":{i}}}")))
                        .await
                }
            })
            .buffer_unordered(256)
            .try_collect::<Vec<()>>()
            .await
    });
    let mut seen = std::collections::HashSet::with_capacity(n);
    while seen.len() < n {
        let delivery = sink.next().await.ok_or("sink closed")?;
        if !seen.insert(delivery.payload.clone()) {
            eprintln!("duplicate: {:?}", delivery.payload);
        }
        delivery.ack().await?;
    }
    send.await??;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Repeat with the async component API.
fn async_repeat() -> Component {
    Component::new("example/Repeat")
        .inport("in", "any", "")
        .outport("out", "any", "")
        .process(|input, out| async move { out.send("out", input.payload).await })
}

async fn start(mode: &str, options: Options) -> Result<Running, Error> {
    Ok(match mode {
        "async" => runner::start(async_repeat(), options).await?,
        "graph" => runner::start_component(builtins::repeat(), options).await?,
        other => return Err(format!("mode is graph or async, not {other:?}").into()),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let broker = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "amqp://127.0.0.1".into());
    let n: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let prefetches: Vec<u16> = args
        .get(3)
        .map(String::as_str)
        .unwrap_or("1,8,64,256")
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let mode = args.get(4).map_or("graph", String::as_str);

    let t = connect(&broker, ConnectOptions::default()).await?;
    for prefetch in prefetches {
        let role = unique("bench");
        let mut options = Options::new(role.as_str().try_into()?, broker.clone());
        options.prefetch = prefetch;
        let running = start(mode, options).await?;
        let (inq, outq) = (
            QueueName::new(format!("{role}.IN"))?,
            QueueName::new(format!("{role}.OUT"))?,
        );
        let sink_q = QueueName::new(unique("bench.sink"))?;
        t.declare_inport(&sink_q).await?;
        let mut sink = t.consume(&sink_q, 1000).await?;

        let raw = measure(&t, &sink_q, &mut sink, n).await?;
        t.bind(&outq, &sink_q).await?;
        let through = measure(&t, &inq, &mut sink, n).await?;
        println!(
            "roundtrip: mode={mode} broker={broker} n={n} prefetch={prefetch} participant={through:.0} msg/s raw={raw:.0} msg/s ratio={:.2}",
            through / raw
        );
        running.stop().await?;
    }
    t.close().await?;
    Ok(())
}
