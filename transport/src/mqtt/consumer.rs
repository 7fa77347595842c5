//! Acking and nacking a received message.
//!
//! An ack goes to the driver, which sends the PUBACK and frees a slot of the
//! consumer's prefetch window. MQTT has no reject, so a nack publishes the
//! same bytes (and headers) QoS 1 to `dead-<inport>`, waits for that PUBACK,
//! then acks.
//! Acks carry the connection generation they belong to: a PUBACK from an
//! older connection would name a packet id of that connection, so the driver
//! drops it (the broker sends the message again anyway).

use super::super::{dead_letter_queue, Acker, Headers, Result, Signal};
use super::handle::{Command, Handle};
use async_trait::async_trait;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;

/// The acker of one delivery.
pub(super) struct MqttAcker {
    pub handle: Handle,
    /// Where the dead letter of a nack is published.
    pub publisher: Handle,
    pub inport: QueueName,
    pub consumer: u64,
    pub generation: u64,
    /// 0 for a QoS 0 message (nothing to acknowledge to the broker).
    pub pkid: u16,
    /// The message, for dead-lettering.
    pub payload: Bytes,
    /// Its headers (MQTT 5 user properties), for dead-lettering.
    pub headers: Headers,
}

#[async_trait]
impl Acker for MqttAcker {
    async fn ack(self: Box<Self>) -> Result<()> {
        self.handle
            .send(Command::Ack {
                consumer: self.consumer,
                generation: self.generation,
                pkid: self.pkid,
            })
            .await
    }

    async fn nack(self: Box<Self>) -> Result<()> {
        let dead = dead_letter_queue(&self.inport);
        self.publisher
            .publish_with(&dead, self.payload.clone(), &self.headers)
            .await?;
        self.ack().await
    }

    /// Its connection was lost: the broker sends an unacked QoS 1 message
    /// of the session again (MQTT 3.1.1, 4.4; the session is persistent),
    /// and this copy's PUBACK would name a packet id of a dead connection.
    fn superseded(&self) -> bool {
        self.pkid != 0 && self.generation < *self.handle.shared.generation.borrow()
    }

    fn superseded_signal(&self) -> Option<Signal> {
        if self.pkid == 0 {
            return None;
        }
        let (mut generation, mine) = (self.handle.shared.generation.subscribe(), self.generation);
        Some(Box::pin(async move {
            let _ = generation.wait_for(|now| *now > mine).await;
        }))
    }
}
