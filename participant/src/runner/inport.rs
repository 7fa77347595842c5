//! The consume loop of one inport: up to `prefetch` messages are processed at
//! once; each is acked after its process function returned `Ok` (so after its
//! outputs were with the broker: confirmed, or written when transient), or
//! nacked if it returned an error or panicked.
//! Each message's outputs continue its trace (`crate::trace`) and keep its
//! delivery mode unless the participant has its own (`--delivery`).

use super::stats::{Stats, Taken};
use crate::component::{Component, Message};
use crate::outputs::Outputs;
use crate::trace::{Hop, Place};
use crate::transport::{Consumer, Delivery};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use msgflo_protocol::ids::PortName;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::watch;

/// One inport: where it is, its consumer and the counters it keeps.
pub(crate) struct Inport {
    pub place: Place,
    pub consumer: Consumer,
    pub stats: Arc<Stats>,
}

/// Serves `consumer` until `stop` turns true, then finishes what is in flight.
pub(crate) async fn serve(
    inport: Inport,
    component: Component,
    outputs: Outputs,
    mut concurrency: watch::Receiver<u16>,
    mut stop: watch::Receiver<bool>,
) {
    let Inport {
        place,
        mut consumer,
        stats,
    } = inport;
    let port = &place.port;
    let mut inflight = FuturesUnordered::new();
    loop {
        let limit = usize::from(*concurrency.borrow_and_update());
        tokio::select! {
            biased;
            () = super::until_stopped(&mut stop) => break,
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            Ok(()) = concurrency.changed() => {}
            delivery = consumer.next(), if inflight.len() < limit => match delivery {
                Some(delivery) => {
                    let taken = stats.taken();
                    let hop = Hop::take(&place, &delivery.headers, delivery.message_id.as_deref());
                    let outputs = outputs.clone().continuing(hop.map(Arc::new), delivery.mode);
                    inflight.push(handle(port.clone(), (delivery, taken), &component, outputs, &stats));
                }
                None => break,
            },
        }
    }
    while inflight.next().await.is_some() {}
    tracing::debug!(%port, "inport stopped");
}

async fn handle(
    port: PortName,
    (delivery, taken): (Delivery, Taken),
    component: &Component,
    outputs: Outputs,
    stats: &Stats,
) {
    let message = Message {
        port: port.clone(),
        payload: delivery.payload.clone(),
    };
    let outcome = AssertUnwindSafe(component.run(message, outputs))
        .catch_unwind()
        .await;
    stats.settled(port.as_str(), !matches!(outcome, Ok(Ok(()))), taken);
    let result = match outcome {
        Ok(Ok(())) => delivery.ack().await,
        Ok(Err(e)) => {
            stats.error(format_args!("processing a message from {port} failed: {e}"));
            tracing::warn!(%port, component = %component.spec().name, error = %e, "processing failed; message dead-lettered");
            delivery.nack().await
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            stats.error(format_args!(
                "processing a message from {port} panicked: {reason}"
            ));
            tracing::error!(%port, component = %component.spec().name, %reason, "process function panicked; message dead-lettered");
            delivery.nack().await
        }
    };
    if let Err(e) = result {
        // The broker redelivers an unacked message: nothing is lost.
        tracing::debug!(%port, error = %e, "ack/nack failed; the broker will redeliver");
    }
}
