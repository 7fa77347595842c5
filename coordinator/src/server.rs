//! The WebSocket side of the FBP protocol server: accepts clients (echoing
//! the `noflo` subprotocol when asked), hands every frame to the coordinator
//! as an [`Event`], and writes back what the coordinator sends a client.
//! Nothing here understands the protocol; a binary or non-UTF-8 frame is
//! handed on as text so the coordinator answers it with an error like any
//! other malformed message. A connection whose request is no WebSocket
//! upgrade is plain HTTP (`/metrics`), answered by [`crate::http`].

use crate::http;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Identifies one connected client.
pub type ClientId = u64;

/// How many messages may wait for a slow client before a message it did not
/// ask for (a broadcast) disconnects it. Answers to its own requests always
/// queue: a `component:list` of 10,000 components is 10,000 messages.
pub const CLIENT_BACKLOG: usize = 4096;

/// The way to one client: its messages wait here for the connection's
/// writer.
#[derive(Debug, Clone)]
pub struct Outbox {
    messages: mpsc::UnboundedSender<String>,
    waiting: Arc<AtomicUsize>,
}

/// Why a message did not reach a client's outbox.
#[derive(Debug, PartialEq, Eq)]
pub enum Undelivered {
    /// More than [`CLIENT_BACKLOG`] messages already wait for it.
    TooFarBehind,
    /// The connection is gone.
    Closed,
}

impl Outbox {
    /// Queues an answer to the client's own request.
    pub fn answer(&self, text: String) -> Result<(), Undelivered> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        self.messages.send(text).map_err(|_| Undelivered::Closed)
    }

    /// Queues a message the client did not ask for, unless it is too far
    /// behind.
    pub fn tell(&self, text: String) -> Result<(), Undelivered> {
        if self.waiting.load(Ordering::Acquire) >= CLIENT_BACKLOG {
            return Err(Undelivered::TooFarBehind);
        }
        self.answer(text)
    }
}

/// What the server tells the coordinator.
#[derive(Debug)]
pub enum Event {
    /// A client connected; send it messages through its outbox.
    Connected(ClientId, Outbox),
    /// A client sent a frame, read at that instant (the answer's time is
    /// measured from it: `msgflo_fbp_reply_seconds`).
    Frame(ClientId, String, std::time::Instant),
    /// A client went away.
    Disconnected(ClientId),
    /// `GET /metrics` showed `shown` (a bearer secret or token): the
    /// coordinator answers with its metrics, `None` if `shown` lets nobody in.
    Scrape {
        /// What the request showed.
        shown: Option<String>,
        /// Where the answer goes.
        reply: tokio::sync::oneshot::Sender<Option<crate::snapshot::Snapshot>>,
    },
    /// The live view asks what to show, for a request that showed `shown`:
    /// the coordinator answers, `None` if `shown` lets nobody in.
    View {
        /// What the request showed.
        shown: Option<String>,
        /// Where the answer goes.
        reply: tokio::sync::oneshot::Sender<Option<crate::view::Seen>>,
    },
}

/// Plain HTTP's questions, asked of the event loop.
struct Asker(mpsc::Sender<Event>);

impl Asker {
    /// Sends the event `asking` makes with a reply channel; the reply,
    /// `None` once the coordinator is gone.
    async fn ask<T>(
        &self,
        asking: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Event,
    ) -> Option<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.0.send(asking(reply)).await.ok()?;
        answer.await.ok()
    }
}

impl http::Ask for Asker {
    async fn metrics(&self, shown: Option<String>) -> Option<Option<crate::snapshot::Snapshot>> {
        self.ask(|reply| Event::Scrape { shown, reply }).await
    }

    async fn view(&self, shown: Option<String>) -> Option<Option<crate::view::Seen>> {
        self.ask(|reply| Event::View { shown, reply }).await
    }
}

/// Accepts clients on `listener` until `events` is closed; over TLS when
/// `tls` is given (`wss://`, see `tls.rs`).
pub async fn serve(
    listener: TcpListener,
    events: mpsc::Sender<Event>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                continue;
            }
        };
        if events.is_closed() {
            return;
        }
        // Replies are many small frames (one per component): without this,
        // Nagle holds each behind the client's delayed ACK (~40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, %peer, "cannot set TCP_NODELAY");
        }
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(client = id, %peer, "client connecting");
        match &tls {
            None => drop(tokio::spawn(connection(id, stream, events.clone()))),
            Some(tls) => {
                let (tls, events) = (tls.clone(), events.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(crate::tls::HANDSHAKE, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(id, stream, events).await,
                        Ok(Err(error)) => {
                            tracing::debug!(client = id, %peer, %error, "TLS handshake failed");
                        }
                        Err(_) => {
                            tracing::debug!(client = id, %peer, "TLS handshake timed out");
                        }
                    }
                });
            }
        }
    }
}

/// Echoes `noflo` when the client offers it (noflo-ui and fbp-protocol do).
#[allow(clippy::result_large_err)] // the signature tungstenite's callback has
fn subprotocol(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "noflo");
    if offered {
        response
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("noflo"));
    }
    Ok(response)
}

type ErrorResponse = tokio_tungstenite::tungstenite::handshake::server::ErrorResponse;

async fn connection<S>(id: ClientId, mut stream: S, events: mpsc::Sender<Event>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // A WebSocket upgrade is an FBP client; any other request is plain HTTP.
    let (head, read) = match http::head::read(&mut stream).await {
        Ok(head) => head,
        Err(http::head::HeadError::Gone) => return,
        Err(error) => {
            tracing::debug!(client = id, %error, "not a request");
            let status = match error {
                http::head::HeadError::TooLarge => "431 Request Header Fields Too Large",
                _ => "400 Bad Request",
            };
            let (status, kind, body) = http::error_answer(status, &error.to_string());
            http::write(&mut stream, status, kind, &body).await;
            return;
        }
    };
    if !head.websocket {
        http::answer(head, &mut stream, &Asker(events)).await;
        return;
    }
    let stream = http::Prefixed::new(read, stream);
    let ws = match tokio_tungstenite::accept_hdr_async(stream, subprotocol).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(client = id, %error, "WebSocket handshake failed");
            return;
        }
    };
    let (mut sink, mut frames) = ws.split();
    let (tx, mut outgoing) = mpsc::unbounded_channel::<String>();
    let waiting = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox {
        messages: tx,
        waiting: waiting.clone(),
    };
    if events.send(Event::Connected(id, outbox)).await.is_err() {
        return;
    }
    // Writes what is queued, then flushes once: a burst (a component list,
    // a flood of discovery) goes out in few writes.
    let writer = tokio::spawn(async move {
        'writing: while let Some(text) = outgoing.recv().await {
            waiting.fetch_sub(1, Ordering::AcqRel);
            tracing::trace!(client = id, frame = %text, "sent");
            if sink.feed(Message::text(text)).await.is_err() {
                break;
            }
            while let Ok(text) = outgoing.try_recv() {
                waiting.fetch_sub(1, Ordering::AcqRel);
                tracing::trace!(client = id, frame = %text, "sent");
                if sink.feed(Message::text(text)).await.is_err() {
                    break 'writing;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(frame) = frames.next().await {
        let text = match frame {
            Ok(Message::Text(text)) => text.as_str().to_owned(),
            Ok(Message::Binary(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Message::Close(_)) => break,
            Ok(_) => continue, // ping/pong: answered by tungstenite
            Err(error) => {
                tracing::debug!(client = id, %error, "client connection failed");
                break;
            }
        };
        tracing::trace!(client = id, frame = %text, "received");
        let arrived = std::time::Instant::now();
        if events.send(Event::Frame(id, text, arrived)).await.is_err() {
            break;
        }
    }
    let _ = events.send(Event::Disconnected(id)).await;
    writer.abort();
    tracing::debug!(client = id, "client disconnected");
}

#[cfg(test)]
mod outbox_tests {
    use super::*;

    #[test]
    fn answers_always_queue_and_broadcasts_stop_at_the_backlog() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let outbox = Outbox {
            messages: tx,
            waiting: Arc::new(AtomicUsize::new(0)),
        };
        for i in 0..CLIENT_BACKLOG + 10 {
            outbox.answer(i.to_string()).unwrap();
        }
        assert_eq!(outbox.tell("late".into()), Err(Undelivered::TooFarBehind));
        // The writer took them all: there is room again.
        while rx.try_recv().is_ok() {
            outbox.waiting.fetch_sub(1, Ordering::AcqRel);
        }
        assert_eq!(outbox.tell("now".into()), Ok(()));
        drop(rx);
        assert_eq!(outbox.answer("gone".into()), Err(Undelivered::Closed));
    }
}
