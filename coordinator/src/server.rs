//! The WebSocket side of the FBP protocol server: accepts clients (echoing
//! the `noflo` subprotocol when asked), hands every frame to the coordinator
//! as an [`Event`], and writes back what the coordinator sends a client.
//! Nothing here understands the protocol; a binary or non-UTF-8 frame is
//! handed on as text so the coordinator answers it with an error like any
//! other malformed message.

use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Identifies one connected client.
pub type ClientId = u64;

/// How many messages may wait for a slow client before it is disconnected.
pub const CLIENT_BACKLOG: usize = 4096;

/// What the server tells the coordinator.
#[derive(Debug)]
pub enum Event {
    /// A client connected; send it messages through the sender.
    Connected(ClientId, mpsc::Sender<String>),
    /// A client sent a frame.
    Frame(ClientId, String),
    /// A client went away.
    Disconnected(ClientId),
}

/// Accepts clients on `listener` until `events` is closed.
pub async fn serve(listener: TcpListener, events: mpsc::Sender<Event>) {
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
        tokio::spawn(connection(id, stream, events.clone()));
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

async fn connection(id: ClientId, stream: TcpStream, events: mpsc::Sender<Event>) {
    let ws = match tokio_tungstenite::accept_hdr_async(stream, subprotocol).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(client = id, %error, "WebSocket handshake failed");
            return;
        }
    };
    let (mut sink, mut frames) = ws.split();
    let (tx, mut outgoing) = mpsc::channel::<String>(CLIENT_BACKLOG);
    if events.send(Event::Connected(id, tx)).await.is_err() {
        return;
    }
    // Writes what is queued, then flushes once: a burst (a component list,
    // a flood of discovery) goes out in few writes.
    let writer = tokio::spawn(async move {
        'writing: while let Some(text) = outgoing.recv().await {
            if sink.feed(Message::text(text)).await.is_err() {
                break;
            }
            while let Ok(text) = outgoing.try_recv() {
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
        if events.send(Event::Frame(id, text)).await.is_err() {
            break;
        }
    }
    let _ = events.send(Event::Disconnected(id)).await;
    writer.abort();
    tracing::debug!(client = id, "client disconnected");
}
