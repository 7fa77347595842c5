//! Plain HTTP on the FBP protocol's port: a connection whose request is not
//! a WebSocket upgrade is answered here — `GET /metrics` with the
//! coordinator's metrics ([`crate::core::Snapshot`], asked of the running
//! coordinator), anything else with a one-line error. The secret and token
//! rules of the FBP endpoint apply: with `--secret` or `--tokens`, a scrape
//! must show one as `Authorization: Bearer ...` (401 otherwise).
//!
//! # Layout
//! - `head.rs` — [`head`]: reading a request head, telling an upgrade apart;
//! - `prefixed.rs` — [`Prefixed`]: the head handed on to the WebSocket
//!   handshake as if unread;
//! - `exposition.rs` — [`exposition`]: metrics in Prometheus' text format.

pub mod exposition;
pub mod head;
mod prefixed;

pub use prefixed::Prefixed;

use crate::server::Event;
use head::Head;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Answers the plain request `head` on `stream`, then closes it.
pub async fn answer<S: AsyncWrite + Unpin>(
    head: Head,
    stream: &mut S,
    events: &mpsc::Sender<Event>,
) {
    let (status, content_type, body) = respond(&head, events).await;
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{body}",
        body.len(),
        if status.starts_with("401") { "WWW-Authenticate: Bearer\r\n" } else { "" },
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A one-line error answer.
pub fn error_answer(status: &'static str, message: &str) -> (&'static str, &'static str, String) {
    (status, "text/plain; charset=utf-8", format!("{message}\n"))
}

async fn respond(
    head: &Head,
    events: &mpsc::Sender<Event>,
) -> (&'static str, &'static str, String) {
    if head.path != "/metrics" {
        return error_answer(
            "404 Not Found",
            &format!(
                "no {}: this is an FBP protocol endpoint (WebSocket), with /metrics",
                head.path
            ),
        );
    }
    if head.method != "GET" && head.method != "HEAD" {
        return error_answer("405 Method Not Allowed", "/metrics takes GET");
    }
    let (reply, answer) = oneshot::channel();
    let scrape = Event::Scrape {
        shown: head.bearer.clone(),
        reply,
    };
    if events.send(scrape).await.is_err() {
        return error_answer("503 Service Unavailable", "the coordinator is stopping");
    }
    match answer.await {
        Ok(Some(snapshot)) => (
            "200 OK",
            exposition::CONTENT_TYPE,
            exposition::render(&snapshot),
        ),
        Ok(None) => error_answer(
            "401 Unauthorized",
            "Invalid or missing secret: send it as Authorization: Bearer SECRET",
        ),
        Err(_) => error_answer("503 Service Unavailable", "the coordinator is stopping"),
    }
}
