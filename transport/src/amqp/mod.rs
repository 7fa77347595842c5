//! The AMQP transport (RabbitMQ), on lapin, with msgflo-nodejs' topology so
//! Node.js, Python and Rust participants can share a broker.
//!
//! - outport `q`: durable fanout exchange `q`; publish = exchange `q`, routing
//!   key `""`.
//! - inport `q`: durable queue `q` with `x-dead-letter-exchange: dead-q`, a
//!   durable fanout exchange `q` bound to it; plus a durable fanout exchange
//!   `dead-q` bound to a durable queue `dead-q`, so nacked messages are kept.
//!   A queue named `dead-…` is declared the plain way (no `dead-dead-…`).
//! - send to inport `q`: default exchange, routing key `q`.
//! - `fbp` (discovery) is a plain durable queue, as msgflo-nodejs' `assertQueue
//!   'fbp'`: `declare_inport`, `send_to_inport` and `consume` of `fbp` all
//!   declare it that way (idempotent), never with a dead-letter argument.
//! - bind = queue bind of the inport to the outport's exchange, key `""`;
//!   each end is first looked for (a passive declare on the control channel)
//!   and declared with the shapes above only if it is missing. An end that
//!   exists is a peer's to shape: msgflo-python 0.4.1 declares its inport
//!   `role/in` not durable, auto-delete, without dead-letter argument, and
//!   its outport exchange not durable; declaring those again our way would
//!   be a PRECONDITION_FAILED (`inequivalent arg 'durable'`) for us, or for
//!   the peer if we came first. What a bind did not declare is not declared
//!   on reconnection either (`topology.rs`, "Ours and theirs").
//!   `declare_inport` / `declare_outport` (a participant's own ports) declare
//!   whatever is there, as msgflo-nodejs' `assertQueue` / `assertExchange`.
//!
//! Publishing uses publisher confirms on one channel per connection shared by
//! every task; confirms are awaited concurrently (pipelined), messages are
//! persistent (delivery mode 2) and stamped with the time they were sent
//! (`timestamp`, seconds; a delivery's [`crate::Delivery::sent_at`]).
//! Transient messages ([`crate::DeliveryMode`], delivery mode 1) go on a
//! second channel without confirms, done once written to the connection. Each
//! consumer has its own channel with its prefetch and manual acks; nack =
//! reject without requeue (dead-letters).
//! The connection is named after [`ConnectOptions::client_id`].
//!
//! `amqps://` is AMQP over TLS: lapin opens the TCP connection and we do the
//! rustls handshake (the configuration of `transport/tls.rs`, shared with
//! MQTT), checking the certificate against the URL's host.
//!
//! # Connection loss
//! A driver task owns the connection (`driver.rs`). When the broker closes it
//! or the network fails (a silent cut is noticed by missed heartbeats: 10 s
//! heartbeat, so within about 20 s, unless the URL sets `heartbeat`), it
//! reconnects with back-off (100 ms doubling to
//! [`ConnectOptions::max_backoff`], forever), declares again everything
//! it declared so far (minus unbound bindings; the ends a bind declared
//! only if missing again), and only then publishes the new
//! session. Consumers subscribe again and keep feeding the same [`Consumer`];
//! acks of deliveries from the dead channel are ignored (the broker delivers
//! those again, marked redelivered), and persistent ones still waiting in the
//! [`Consumer`] are not handed out at all ([`Acker::superseded`](crate::Acker::superseded)): handled,
//! they would each be a duplicate of the copy to come (a consumer with
//! prefetch 500 made 500 duplicates per broker restart; now 0 when the broker
//! stops cleanly). Publishes and declarations wait up to
//! [`ConnectOptions::publish_timeout`] for the connection, and a publish whose
//! confirm was lost with the connection is published again: at-least-once.
//! lapin's own recovery is not used: its one back-off setting governs the
//! first connection too, so an unreachable broker would hang `connect` instead
//! of failing fast.
//!
//! # Several nodes
//! Given a list of URLs ([`Brokers`], the nodes of one cluster), `connect`
//! takes the first node that answers, and a reconnection tries the next node
//! at once, each in turn, backing off only after a round in which all failed.
//! Everything declared so far is declared again on the node reached, which
//! for durable queues is a no-op: they are the cluster's. Messages in a
//! classic queue live on one node and are away while it is; declare inports
//! as quorum queues ([`QueueType::Quorum`](super::QueueType)) to keep them
//! through the loss of a node.
//!
//! # Layout
//! - this file — [`connect`].
//! - `handle.rs` — the [`Transport`] implementation.
//! - `driver.rs` — the task owning the connection: declarations, reconnection.
//! - `state.rs` — the `watch` of the current session; waiting for one.
//! - `connection.rs` — opening a connection (TLS too); the control channel;
//!   the session.
//! - `confirmed.rs` — the publishing channels of a connection (confirmed, plain).
//! - `publish.rs` — publishing through it, waiting out reconnections.
//! - `headers.rs` — message headers to and from AMQP field tables.
//! - `consumer.rs` — subscriptions, the task feeding a [`Consumer`], acks.
//! - `topology.rs` — what to declare, and the record replayed (pure).
//! - `errors.rs` — lapin errors to one-line [`TransportError`](super::TransportError)s.
//!
//! [`Consumer`]: super::Consumer

mod confirmed;
mod connection;
mod consumer;
mod driver;
mod errors;
mod handle;
mod headers;
mod publish;
mod state;
mod topology;

use super::{Brokers, ConnectOptions, Result, Transport};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Connects to `url`; fails fast (with the cause, never the password) if the
/// broker cannot be reached or refuses us.
pub async fn connect(brokers: Brokers, options: ConnectOptions) -> Result<Arc<dyn Transport>> {
    let targets = brokers
        .urls()
        .iter()
        .map(|url| Ok((url.clone(), connection::Target::new(url, &options)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut failures = Vec::new();
    for (index, (url, target)) in targets.iter().enumerate() {
        match target.open().await {
            Ok((link, session)) => {
                tracing::info!(broker = %url, client_id = %options.client_id, "connected");
                let driver =
                    driver::spawn(targets.clone(), index, link, session, options.max_backoff);
                let url = url.clone();
                return Ok(Arc::new(handle::AmqpTransport::new(url, options, driver)));
            }
            Err(error) => failures.push((url.to_string(), errors::reason(&error))),
        }
    }
    Err(super::brokers::unreachable(failures))
}

/// Locks `mutex`, ignoring poisoning (no invariant spans a panic here).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::super::BrokerUrl;
    use super::*;
    use std::time::{Duration, Instant};

    fn options() -> ConnectOptions {
        ConnectOptions {
            client_id: "amqp-unit-test".into(),
            ..ConnectOptions::default()
        }
    }

    #[tokio::test]
    async fn a_closed_port_fails_fast_naming_the_broker_not_the_password() {
        let url = BrokerUrl::parse("amqp://guest:secret@127.0.0.1:1/%2f").unwrap();
        let started = Instant::now();
        let err = connect(url.into(), options()).await.err().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        let text = err.to_string();
        assert!(
            text.starts_with("cannot connect to amqp://guest@127.0.0.1:1: "),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[tokio::test]
    async fn amqps_to_a_plain_amqp_port_fails_fast_in_one_line() {
        // Answers like RabbitMQ's plain port answers a TLS ClientHello: with
        // its protocol header, then it closes.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut socket, b"AMQP\0\0\x09\x01").await;
            }
        });
        let url = BrokerUrl::parse(&format!("amqps://guest:secret@127.0.0.1:{port}/%2f")).unwrap();
        let started = Instant::now();
        let err = connect(url.into(), options())
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            err.starts_with(&format!(
                "cannot connect to amqps://guest@127.0.0.1:{port}: TLS handshake failed: "
            )),
            "{err}"
        );
        assert!(!err.contains("secret") && !err.contains('\n'), "{err}");
    }

    #[tokio::test]
    async fn amqps_with_an_unreadable_root_file_says_which() {
        let url = BrokerUrl::parse("amqps://guest:secret@127.0.0.1:1/%2f").unwrap();
        let options = ConnectOptions {
            extra_root_certs: vec!["/nonexistent/ca.pem".into()],
            ..options()
        };
        let err = connect(url.into(), options)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
