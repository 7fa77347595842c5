//! The consume loop of one inport: up to `prefetch` messages are processed at
//! once; each is acked after its process function returned `Ok` (so after its
//! outputs were confirmed), or nacked if it returned an error or panicked.

use crate::component::{Component, Message};
use crate::outputs::Outputs;
use crate::transport::{Consumer, Delivery};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use msgflo_protocol::ids::PortName;
use std::panic::AssertUnwindSafe;
use tokio::sync::watch;

/// Serves `consumer` until `stop` turns true, then finishes what is in flight.
pub(crate) async fn serve(
    port: PortName,
    mut consumer: Consumer,
    component: Component,
    outputs: Outputs,
    concurrency: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut inflight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            () = super::until_stopped(&mut stop) => break,
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            delivery = consumer.next(), if inflight.len() < concurrency => match delivery {
                Some(delivery) => inflight.push(handle(port.clone(), delivery, &component, &outputs)),
                None => break,
            },
        }
    }
    while inflight.next().await.is_some() {}
    tracing::debug!(%port, "inport stopped");
}

async fn handle(port: PortName, delivery: Delivery, component: &Component, outputs: &Outputs) {
    let message = Message {
        port: port.clone(),
        payload: delivery.payload.clone(),
    };
    let outcome = AssertUnwindSafe(component.run(message, outputs.clone()))
        .catch_unwind()
        .await;
    let result = match outcome {
        Ok(Ok(())) => delivery.ack().await,
        Ok(Err(e)) => {
            tracing::warn!(%port, component = %component.spec().name, error = %e, "processing failed; message dead-lettered");
            delivery.nack().await
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(%port, component = %component.spec().name, %reason, "process function panicked; message dead-lettered");
            delivery.nack().await
        }
    };
    if let Err(e) = result {
        // The broker redelivers an unacked message: nothing is lost.
        tracing::debug!(%port, error = %e, "ack/nack failed; the broker will redeliver");
    }
}
