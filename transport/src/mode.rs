//! Delivery modes: what the broker is asked to promise about a message.
//!
//! - [`DeliveryMode::Persistent`]: the broker writes the message to disk
//!   (AMQP `delivery_mode` 2, into a durable queue), so it survives a broker
//!   restart; msgflo-rs's default.
//! - [`DeliveryMode::Transient`]: the broker keeps it in memory only (AMQP
//!   `delivery_mode` 1, msgflo-nodejs's choice): lost if the broker stops,
//!   much cheaper while it runs.
//!
//! What [`Transport::publish_as`] waits for on AMQP, and so when a
//! participant acks the input an output answers:
//! - persistent: the broker's confirm (publisher confirms), which RabbitMQ
//!   sends once the message is in every queue it goes to, on disk.
//! - transient: its frames written to the connection, without a confirm
//!   (as msgflo-nodejs publishes). The ack of the input goes out later on
//!   the same connection, and the broker reads a connection in order, so it
//!   never sees the ack without the output.
//!
//! What each promises:
//!
//! | fault | persistent | transient |
//! |---|---|---|
//! | the participant dies (SIGKILL) | nothing lost | nothing lost |
//! | the broker restarts | nothing lost | messages in queues and in flight lost |
//! | the connection is cut | nothing lost (unconfirmed outputs go again) | nothing lost but an output the broker read and had not routed yet |
//!
//! MQTT publishes QoS 1 into a persistent session whatever the mode, and
//! the memory broker keeps everything in memory: both take the mode and
//! publish as they always do. On MQTT a binding can be transient instead
//! ([`Transport::set_binding_delivery`]): a QoS 0 subscription, whose
//! messages arrive transient, are not kept while the consumer is away, and
//! are lost if it dies holding them.
//!
//! [`Transport::set_binding_delivery`]: crate::Transport::set_binding_delivery
//!
//! The coordinator can give an outport a mode from the `delivery` its graph
//! edges name (`setoutportdelivery`, `msgflo_coordinator::delivery`).
//!
//! [`Transport::publish_as`]: crate::Transport::publish_as

pub use msgflo_protocol::delivery::DeliveryMode;
