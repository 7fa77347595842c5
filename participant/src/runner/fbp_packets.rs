//! `runtime:packet` out of a graph participant: once a client on its FBP
//! channel sends a packet in (`runtime:packet` to an exported inport), what
//! the participant publishes on its exported outports is also sent to that
//! client, as `runtime:packet` frames — the way a client of any FBP runtime
//! sees its outputs. Off (one atomic load per message) until then.

use crate::transport::Transport;
use msgflo_protocol::ids::QueueName;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Where copies of the outputs go, once someone asked.
#[derive(Default)]
pub(crate) struct PacketWatch {
    on: AtomicBool,
    to: Mutex<Option<Client>>,
}

/// The client's queue (through `transport`) and the graph id it uses.
#[derive(Clone)]
struct Client {
    transport: Arc<dyn Transport>,
    queue: QueueName,
    graph: String,
}

impl PacketWatch {
    /// From now on, outputs of graph `graph` go to `to` too.
    pub(crate) fn send_to(&self, transport: Arc<dyn Transport>, to: QueueName, graph: String) {
        let client = Client {
            transport,
            queue: to,
            graph,
        };
        *self.to.lock().unwrap_or_else(PoisonError::into_inner) = Some(client);
        self.on.store(true, Ordering::Release);
    }

    /// A message published on exported outport `port`.
    pub(crate) async fn published(&self, port: &str, payload: &[u8]) {
        if !self.on.load(Ordering::Acquire) {
            return;
        }
        let target = self
            .to
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(Client {
            transport,
            queue: to,
            graph,
        }) = target
        else {
            return;
        };
        let data: Value = serde_json::from_slice(payload)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(payload)));
        let frame = json!({"protocol": "runtime", "command": "packet", "payload": {
            "port": port, "event": "data", "payload": data, "graph": graph}});
        if let Err(e) = transport
            .send_to_inport(&to, frame.to_string().into())
            .await
        {
            tracing::debug!(%to, error = %e, "cannot send runtime:packet to the FBP client");
        }
    }
}
