//! Control messages from a coordinator: `connectinport` makes an inport also
//! take the messages of another queue (the binding is made by this participant,
//! so on MQTT data flows straight from the broker); `connectoutport` makes an
//! outport also publish to another queue; `setoutportdelivery` /
//! `unsetoutportdelivery` give an outport a delivery mode of its own and take
//! it back, `setinportdelivery` / `unsetinportdelivery` the edge into an
//! inport (MQTT: its subscription's QoS). Every request gets a reply on the
//! participant's `.fbp.<id>.send` queue: the request echoed, or an error.
//! A `call` is answered to its own `reply_to` instead (`answer.rs`).

use super::answer::Answering;
use crate::errors::NoPort;
use crate::outputs::Outputs;
use crate::transport::{Consumer, DeliveryMode, Transport, TransportError};
use bytes::Bytes;
use msgflo_protocol::control::{self, Control};
use msgflo_protocol::ids::{InvalidId, QueueName};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

/// Why a control request was refused; its text is the error reply.
#[derive(Debug, thiserror::Error)]
enum ControlError {
    #[error(transparent)]
    NoPort(#[from] NoPort),
    #[error(transparent)]
    Queue(#[from] InvalidId),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Mode(String),
}

/// What a control message can change.
pub(crate) struct Rewiring {
    pub transport: Arc<dyn Transport>,
    /// Where replies go out: the control connection (`mod.rs`).
    pub replies: Arc<dyn Transport>,
    /// Inport name -> its queue.
    pub inports: HashMap<String, QueueName>,
    pub outputs: Outputs,
    pub reply_to: QueueName,
    /// Answers calls.
    pub answering: Arc<Answering>,
    /// Answers FBP protocol messages, in a graph participant.
    pub runtime: Option<Arc<super::fbp::Runtime>>,
}

pub(crate) async fn serve(
    rewiring: Rewiring,
    mut consumer: Consumer,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(delivery) = super::next_delivery(&mut consumer, &mut stop).await {
        let replies = match Control::decode(&delivery.payload) {
            Ok(Control::Call(request)) => {
                // Answered to the call's own reply queue, in a task.
                rewiring.answering.answer(request);
                Vec::new()
            }
            Ok(request) => vec![match rewiring.apply(&request).await {
                Ok(()) => request.reply_ok(),
                Err(error) => control::reply_error(&error.to_string(), &delivery.payload),
            }],
            Err(control::ControlError::WrongProtocol(Some(_))) if rewiring.runtime.is_some() => {
                rewiring.fbp_answers(&delivery.payload).await
            }
            Err(e) => vec![control::reply_error(&e.to_string(), &delivery.payload)],
        };
        for reply in replies {
            if let Err(e) = rewiring
                .replies
                .send_to_inport(&rewiring.reply_to, Bytes::from(reply))
                .await
            {
                // Nobody declared the reply queue: nobody waits for the reply.
                tracing::debug!(error = %e, "cannot send control reply");
            }
        }
        if let Err(e) = delivery.ack().await {
            tracing::debug!(error = %e, "control ack failed; the broker will redeliver");
        }
    }
}

fn queue(name: &str) -> Result<QueueName, InvalidId> {
    QueueName::new(name)
}

fn mode(name: &str) -> Result<DeliveryMode, ControlError> {
    name.parse().map_err(ControlError::Mode)
}

impl Rewiring {
    /// The answer frames to an FBP protocol message (for `.fbp.<id>.send`,
    /// where its events go too); none for what is not JSON.
    async fn fbp_answers(&self, payload: &[u8]) -> Vec<Vec<u8>> {
        let (Some(runtime), Ok(message)) = (
            &self.runtime,
            serde_json::from_slice::<serde_json::Value>(payload),
        ) else {
            return Vec::new();
        };
        runtime
            .answer(&message, &self.reply_to)
            .await
            .iter()
            .map(|frame| frame.to_string().into_bytes())
            .collect()
    }

    fn inport(&self, port: &str) -> Result<&QueueName, NoPort> {
        self.inports.get(port).ok_or_else(|| NoPort::inport(port))
    }

    async fn apply(&self, request: &Control) -> Result<(), ControlError> {
        match request {
            Control::ConnectInport(c) => {
                let (src, tgt) = (queue(&c.src.queue)?, self.inport(&c.tgt.port)?);
                // Declares the source only if it is missing: it may be a
                // peer's, declared its own way.
                Ok(self.transport.bind(&src, tgt).await?)
            }
            Control::DisconnectInport(c) => {
                let (src, tgt) = (queue(&c.src.queue)?, self.inport(&c.tgt.port)?);
                Ok(self.transport.unbind(&src, tgt).await?)
            }
            Control::ConnectOutport(c) => {
                if !self.outputs.has_port(&c.src.port) {
                    return Err(NoPort::outport(&c.src.port).into());
                }
                // Publishing to an exchange that does not exist would close
                // the shared publishing channel: make sure it is there.
                let tgt = queue(&c.tgt.queue)?;
                self.transport.declare_outport(&tgt).await?;
                Ok(self.outputs.add_route(&c.src.port, tgt)?)
            }
            Control::DisconnectOutport(c) => Ok(self
                .outputs
                .remove_route(&c.src.port, &queue(&c.tgt.queue)?)?),
            Control::SetOutportDelivery(c) => {
                Ok(self.outputs.set_delivery(&c.src.port, mode(&c.delivery)?)?)
            }
            Control::UnsetOutportDelivery(c) => Ok(self
                .outputs
                .unset_delivery(&c.src.port, mode(&c.delivery)?)?),
            Control::SetInportDelivery(c) => {
                let (src, tgt) = (queue(&c.src.queue)?, self.inport(&c.tgt.port)?);
                let mode = mode(&c.delivery)?;
                Ok(self.transport.set_binding_delivery(&src, tgt, mode).await?)
            }
            Control::UnsetInportDelivery(c) => {
                let (src, tgt) = (queue(&c.src.queue)?, self.inport(&c.tgt.port)?);
                let mode = mode(&c.delivery)?;
                Ok(self
                    .transport
                    .unset_binding_delivery(&src, tgt, mode)
                    .await?)
            }
            // Answered by `serve` before it gets here.
            Control::Call(_) => Ok(()),
        }
    }
}
