//! Plain HTTP on the FBP protocol's port: a connection whose request is not
//! a WebSocket upgrade is answered here — `GET /metrics` with the
//! coordinator's metrics ([`Snapshot`], asked of the running coordinator
//! through a [`Scrape`]), anything else with a one-line error. The secret
//! and token rules of the FBP endpoint apply: with `--secret` or
//! `--tokens`, a scrape must show one as `Authorization: Bearer ...` (401
//! otherwise).
//!
//! # Layout
//! - `head.rs` — [`head`]: reading a request head, telling an upgrade apart;
//! - `prefixed.rs` — [`Prefixed`]: the head handed on to the WebSocket
//!   handshake as if unread;
//! - `exposition.rs` — [`exposition`]: metrics in Prometheus' text format;
//!   `histograms.rs` — histograms filled from a snapshot's counts.

pub mod exposition;
pub mod head;
mod histograms;
mod prefixed;

pub use prefixed::Prefixed;

use crate::snapshot::Snapshot;
use head::Head;
use std::future::Future;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// An answer: status line, content type, body.
type Answer = (&'static str, &'static str, String);

/// Asks the running coordinator for its metrics, given what the request
/// showed: `None` when the coordinator is gone, `Some(None)` when what was
/// shown lets nobody in.
pub trait Scrape: FnOnce(Option<String>) -> Self::Asking {
    /// The asking.
    type Asking: Future<Output = Option<Option<Snapshot>>>;
}

impl<F, A> Scrape for F
where
    F: FnOnce(Option<String>) -> A,
    A: Future<Output = Option<Option<Snapshot>>>,
{
    type Asking = A;
}

/// Answers the plain request `head` on `stream` (asking `scrape` for
/// `/metrics`), then closes it.
pub async fn answer<S: AsyncWrite + Unpin>(head: Head, stream: &mut S, scrape: impl Scrape) {
    let (status, content_type, body) = respond(&head, scrape).await;
    write(stream, status, content_type, &body).await;
}

/// Writes a whole answer and closes `stream`.
pub async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
) {
    let challenge = match status.starts_with("401") {
        true => "WWW-Authenticate: Bearer\r\n",
        false => "",
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{challenge}\r\n{body}",
        body.len(),
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A one-line error answer.
pub fn error_answer(status: &'static str, message: &str) -> Answer {
    (status, "text/plain; charset=utf-8", format!("{message}\n"))
}

async fn respond(head: &Head, scrape: impl Scrape) -> Answer {
    if head.path != "/metrics" {
        let message = format!(
            "no {}: this is an FBP protocol endpoint (WebSocket), with /metrics",
            head.path
        );
        return error_answer("404 Not Found", &message);
    }
    if head.method != "GET" && head.method != "HEAD" {
        return error_answer("405 Method Not Allowed", "/metrics takes GET");
    }
    match scrape(head.bearer.clone()).await {
        Some(Some(snapshot)) => (
            "200 OK",
            exposition::CONTENT_TYPE,
            exposition::render(&snapshot),
        ),
        Some(None) => error_answer(
            "401 Unauthorized",
            "Invalid or missing secret: send it as Authorization: Bearer SECRET",
        ),
        None => error_answer("503 Service Unavailable", "the coordinator is stopping"),
    }
}
