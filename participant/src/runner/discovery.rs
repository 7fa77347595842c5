//! The discovery message of a running participant, and sending it again every
//! `period / 2.2` so the coordinator knows it is alive.

use super::Options;
use crate::component::{ComponentSpec, PortSpec};
use crate::transport::Transport;
use bytes::Bytes;
use msgflo_protocol::discovery::{Participant, Port};
use msgflo_protocol::ids::QueueName;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn port(spec: &PortSpec, queue: Option<&QueueName>) -> Port {
    let mut port = Port::new(spec.id.clone(), queue.cloned());
    port.datatype = spec.datatype.clone();
    port.description = spec.description.clone();
    port
}

/// The discovery message for `spec` running as `options.role` with these
/// queues: exactly the keys msgflo expects.
pub fn discovery_message(
    spec: &ComponentSpec,
    options: &Options,
    inports: &HashMap<String, QueueName>,
    outports: &[(String, QueueName)],
) -> Bytes {
    Bytes::from(participant(spec, options, inports, outports).encode())
}

/// What a graph participant adds, as msgflo's docs describe an FBP-capable
/// participant: `type`, `version`, and the queues of its FBP channel,
/// `inqueue` / `outqueue`; and `capabilities`, what its runtime answers.
pub(crate) fn as_runtime(participant: &mut Participant, options: &Options) {
    let id = options.id.as_str();
    participant.runtime_type = Some(super::fbp::TYPE.into());
    participant.version = Some(super::fbp::VERSION.into());
    participant.inqueue = Some(msgflo_protocol::control::receive_queue(id));
    participant.outqueue = Some(msgflo_protocol::control::send_queue(id));
    participant.extra.insert(
        "capabilities".into(),
        serde_json::json!(super::fbp::CAPABILITIES),
    );
}

/// [`discovery_message`] before encoding.
pub(crate) fn participant(
    spec: &ComponentSpec,
    options: &Options,
    inports: &HashMap<String, QueueName>,
    outports: &[(String, QueueName)],
) -> Participant {
    let outport_queue = |id: &str| outports.iter().find(|(p, _)| p == id).map(|(_, q)| q);
    let mut participant =
        Participant::new(options.id.clone(), options.role.clone(), spec.name.clone());
    participant.label = spec.label.clone();
    participant.icon = spec.icon.clone();
    participant.inports = spec
        .inports
        .iter()
        .map(|p| port(p, inports.get(p.id.as_str())))
        .collect();
    participant.outports = spec
        .outports
        .iter()
        .map(|p| port(p, outport_queue(p.id.as_str())))
        .collect();
    participant
}

/// Sends `message` every `period / 2.2` until `stop`.
pub(crate) async fn keep_announcing(
    transport: Arc<dyn Transport>,
    message: Bytes,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let every = period.div_f64(2.2).max(Duration::from_millis(100));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            biased;
            () = super::until_stopped(&mut stop) => break,
            _ = ticks.tick() => {
                if let Err(e) = transport.announce(message.clone()).await {
                    tracing::warn!(error = %e, "cannot send discovery message");
                }
            }
        }
    }
}
