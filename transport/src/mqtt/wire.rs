//! What the driver needs of an MQTT client, in its own terms, whichever
//! protocol version the client speaks: [`Wire`], implemented for rumqttc's
//! MQTT 3.1.1 client in `wire4.rs`; the [`Event`]s the driver handles and
//! the [`Message`]s it hands to consumers.

use super::super::{BrokerUrl, Headers, TransportError};
use super::outbox::Op;
use bytes::Bytes;
use std::future::Future;

/// A message the broker sent this session.
#[derive(Debug, Clone)]
pub(super) struct Message {
    pub topic: String,
    pub payload: Bytes,
    /// 0 for a QoS 0 message (nothing to acknowledge).
    pub pkid: u16,
    /// The broker sent it before (on an earlier connection of the session).
    pub dup: bool,
    /// Its MQTT 5 user properties, in order; none over MQTT 3.1.1.
    pub headers: Headers,
}

/// The kinds of request the broker acks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Publish,
    Subscribe,
    Unsubscribe,
}

/// What happened on the connection, as far as the driver cares.
#[derive(Debug)]
pub(super) enum Event {
    /// A message came.
    Message(Message),
    /// The broker confirmed our publish `pkid`.
    PubAck(u16),
    /// The broker answered our SUBSCRIBE `pkid`: per filter, in order,
    /// whether it refused it.
    SubAck { pkid: u16, refused: Vec<bool> },
    /// The broker answered our UNSUBSCRIBE `pkid`.
    UnsubAck(u16),
    /// The broker accepted the connection.
    ConnAck { session_present: bool },
    /// A request of ours went out as packet `pkid`.
    Sent(Kind, u16),
    /// Our DISCONNECT went out.
    SentDisconnect,
    /// Anything else (pings, our PUBACKs going out).
    Other,
}

/// The client's request channel is full: try again after the next event.
#[derive(Debug)]
pub(super) struct Full;

/// An MQTT client library as the driver uses it: a client that takes
/// requests without waiting, and an event loop the driver polls.
pub(super) trait Wire: Sized + Send + 'static {
    type Client: Send + Sync + 'static;
    type EventLoop: Send + 'static;
    type Options: Clone + Send + Sync + 'static;

    /// Connects a new client to the first of `brokers` that accepts it:
    /// the client, its event loop, which broker, and whether the broker
    /// still had the session. Fails naming each broker and why.
    fn connect(
        brokers: &[(BrokerUrl, Self::Options)],
    ) -> impl Future<Output = std::result::Result<Connection<Self>, ConnectFailed>> + Send;

    /// The client id the options connect under.
    fn client_id(options: &Self::Options) -> String;

    /// Polls the loop for the next event; an error (in one line) means the
    /// connection is gone, and the next poll connects again.
    fn poll(eventloop: &mut Self::EventLoop) -> impl Future<Output = Result<Event, String>> + Send;

    /// Drops the connection on purpose (the session stays on the broker).
    fn drop_connection(eventloop: &mut Self::EventLoop);

    /// Forgets what the client kept of a lost connection: its unacked
    /// requests (the driver sends its own again) and buffered events.
    fn forget(eventloop: &mut Self::EventLoop);

    /// The options the next connection attempt uses.
    fn options(eventloop: &mut Self::EventLoop) -> &mut Self::Options;

    /// Hands `op` to the client without waiting.
    fn send(client: &Self::Client, op: &Op) -> std::result::Result<(), Full>;
}

/// A client of wire `W` just connected.
pub(super) struct Connection<W: Wire> {
    pub client: W::Client,
    pub eventloop: W::EventLoop,
    /// Which of the brokers.
    pub current: usize,
    pub session_present: bool,
}

/// No broker took the connection.
#[derive(Debug)]
pub(super) struct ConnectFailed {
    /// Each broker and why.
    pub error: TransportError,
    /// Some broker answered (it may take another protocol version).
    pub answered: bool,
}
