//! The msgflo command-line tools: put messages into a queue, read them out,
//! see who is on the broker, set a graph up on the broker, write a Procfile,
//! register foreign participants. Each tool is a `run(args)` here that its binary in
//! `src/bin/` calls through [`msgflo_cli::main`], so errors are
//! one line `NAME: message` and exit code 1.
//!
//! # Layout
//! - this file — what the tools share: connecting with a time limit, queue
//!   names, the "no such queue" check.
//! - [`send`] — `msgflo-send-message`: JSON into an inport queue, many at
//!   once with confirms in flight.
//! - [`progress`] — its progress bar.
//! - [`input`] — the messages `msgflo-send-message` sends (`--json`,
//!   `--file`), validated as JSON.
//! - [`dump`] — `msgflo-dump-message`: messages out of a queue (or a copy of
//!   an outport's) as JSON on stdout.
//! - [`participants`] — `msgflo-participants`: the live participants, from a
//!   running coordinator or from discovery on the broker.
//! - [`runtimes`] — `msgflo-participants --registry`: the runtimes a
//!   runtime registry lists, as a table.
//! - [`listed`] — one participant as listed, to and from JSON; [`table`] —
//!   printing them as a table.
//! - [`call`] — `msgflo-participants --call`: calling them all over the
//!   broker, one row per answer.
//! - [`procfile`] — `msgflo-procfile`: a Procfile from a graph and the library.
//! - [`setup`] — `msgflo-setup`: a graph's bindings on the broker, optionally
//!   with its participants; [`setup_plan`] — the coordinator's links for a
//!   graph with discovered participants or msgflo's default queue names, and
//!   how msgflo lists them.
//! - [`register`] — `msgflo-register`: discovery messages for participants
//!   described in YAML files (foreign participants).

pub mod call;
pub mod dump;
pub mod input;
pub mod listed;
pub mod participants;
pub mod procfile;
pub mod progress;
pub mod register;
pub mod runtimes;
pub mod send;
pub mod setup;
pub mod setup_plan;
pub mod table;

use msgflo_protocol::ids::QueueName;
use msgflo_transport::{self as transport, ConnectOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// How long a tool waits for the broker to accept its connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `broker` as `tool-<uuid>`, giving up after `wait`.
pub async fn connect(
    broker: &str,
    tool: &str,
    wait: Duration,
) -> Result<Arc<dyn Transport>, String> {
    let options = ConnectOptions {
        client_id: format!("{tool}-{}", uuid::Uuid::new_v4().simple()),
        ..ConnectOptions::default()
    };
    match tokio::time::timeout(wait, transport::connect(broker, options)).await {
        Ok(connected) => connected.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "cannot connect to {}: no answer within {} s",
            printable(broker),
            wait.as_secs()
        )),
    }
}

/// `broker` (one URL or a list) without passwords, as far as it parses.
fn printable(broker: &str) -> String {
    transport::Brokers::parse(broker)
        .map(|url| url.to_string())
        .unwrap_or_else(|_| broker.to_owned())
}

/// `name` as a queue name, or an error naming the option.
pub fn queue_name(name: &str, option: &str) -> Result<QueueName, String> {
    if name.is_empty() {
        return Err(format!("missing queue ({option})"));
    }
    QueueName::new(name).map_err(|e| format!("invalid {option} {name:?}: {e}"))
}

/// Makes sure inport `queue` is there: declared when `declare`, else an
/// error `no queue Q on the broker` if it is missing (on AMQP a message to a
/// missing queue would be dropped without a word; MQTT topics always exist).
pub async fn ensure_inport(
    transport: &dyn Transport,
    queue: &QueueName,
    declare: bool,
) -> Result<(), String> {
    if declare {
        return transport
            .declare_inport(queue)
            .await
            .map_err(|e| e.to_string());
    }
    match transport.inport_exists(queue).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "no queue {queue} on the broker (--declare creates it as an inport)"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Closes `transport`, logging (not failing on) an error: the work is done.
pub async fn close(transport: &dyn Transport) {
    if let Err(error) = transport.close().await {
        tracing::debug!(%error, "closing the broker connection");
    }
}
