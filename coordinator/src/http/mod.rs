//! Plain HTTP on the FBP protocol's port: a connection whose request is not
//! a WebSocket upgrade is answered here — `GET /metrics` with the
//! coordinator's metrics ([`Snapshot`]), `/` and `/view/*` with the live
//! web view ([`crate::view`]), each asked of the running coordinator
//! through [`Ask`]; anything else with a one-line error. The secret and
//! token rules of the FBP endpoint apply: with `--secret` or `--tokens`, a
//! request must show one as `Authorization: Bearer ...` or, from a
//! browser, as `?secret=...` (401 otherwise).
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
use crate::view::{self, Seen};
use head::Head;
use std::future::Future;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// An answer: status line, content type, body.
pub type Answer = (&'static str, &'static str, String);

/// What plain HTTP asks of the running coordinator (the server asks its
/// event loop), given what the request showed: `None` when the coordinator
/// is gone, `Some(None)` when what was shown lets nobody in.
pub trait Ask: Send + Sync + 'static {
    /// The metrics.
    fn metrics(
        &self,
        shown: Option<String>,
    ) -> impl Future<Output = Option<Option<Snapshot>>> + Send;
    /// What the live view shows.
    fn view(&self, shown: Option<String>) -> impl Future<Output = Option<Option<Seen>>> + Send;
}

/// Answers the plain request `head` on `stream` (asking `ask`), then
/// closes it; the live view's event stream stays open while the client
/// reads it.
pub async fn answer<S: AsyncWrite + Unpin>(head: Head, stream: &mut S, ask: &impl Ask) {
    if head.path == view::EVENTS && head.method == "GET" {
        return view::serve::events(stream, ask, head.shown()).await;
    }
    let (status, content_type, body) = respond(&head, ask).await;
    let body = match head.method.as_str() {
        "HEAD" => String::new(),
        _ => body,
    };
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
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n{challenge}\r\n{body}",
        body.len(),
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A one-line error answer.
pub fn error_answer(status: &'static str, message: &str) -> Answer {
    (status, "text/plain; charset=utf-8", format!("{message}\n"))
}

/// Nothing was shown that lets anyone in.
pub fn unauthorized() -> Answer {
    error_answer(
        "401 Unauthorized",
        "Invalid or missing secret: send it as Authorization: Bearer SECRET (or ?secret=SECRET in a browser)",
    )
}

/// The coordinator is shutting down.
pub fn stopping() -> Answer {
    error_answer("503 Service Unavailable", "the coordinator is stopping")
}

async fn respond(head: &Head, ask: &impl Ask) -> Answer {
    let path = head.path.as_str();
    let known = path == "/metrics" || view::serves(path);
    if !known {
        let message = format!(
            "no {path}: this is an FBP protocol endpoint (WebSocket), with the live view on / and /metrics"
        );
        return error_answer("404 Not Found", &message);
    }
    if head.method != "GET" && head.method != "HEAD" {
        return error_answer("405 Method Not Allowed", &format!("{path} takes GET"));
    }
    if path != "/metrics" {
        return view::serve::respond(path, ask, head.shown()).await;
    }
    match ask.metrics(head.shown()).await {
        Some(Some(snapshot)) => (
            "200 OK",
            exposition::CONTENT_TYPE,
            exposition::render(&snapshot),
        ),
        Some(None) => unauthorized(),
        None => stopping(),
    }
}
