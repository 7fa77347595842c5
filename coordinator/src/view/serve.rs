//! Serving the live view over plain HTTP (`crate::http` routes here): the
//! page and its assets, [`STATE`] once, and the
//! [`EVENTS`] stream — `layout` when the graph's shape
//! changes (and first), then `state` every second, as server-sent events.

use super::layout::{layout, Layout};
use super::{Seen, EVENTS, SCRIPT, STATE, STYLE};
use crate::http::{self, Answer, Ask};
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How often the stream sends the state.
pub const EVERY: Duration = Duration::from_secs(1);

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT_TEXT: &str = include_str!("assets/view.js");
const STYLE_TEXT: &str = include_str!("assets/view.css");

/// The answer to a GET of the view's `path` (not the stream).
pub async fn respond(path: &str, ask: &impl Ask, shown: Option<String>) -> Answer {
    match path {
        SCRIPT => {
            return (
                "200 OK",
                "text/javascript; charset=utf-8",
                SCRIPT_TEXT.into(),
            )
        }
        STYLE => return ("200 OK", "text/css; charset=utf-8", STYLE_TEXT.into()),
        _ => {}
    }
    let seen = match ask.view(shown).await {
        Some(Some(seen)) => seen,
        Some(None) => return http::unauthorized(),
        None => return http::stopping(),
    };
    match path {
        // A HEAD of the stream: its head only.
        EVENTS => return ("200 OK", "text/event-stream", String::new()),
        STATE => {}
        _ => return ("200 OK", "text/html; charset=utf-8", PAGE.into()),
    }
    let placed = laid_out(&seen).await;
    let body = serde_json::json!({
        "topology": seen.topology,
        "numbers": seen.numbers,
        "layout": placed,
    });
    ("200 OK", "application/json", body.to_string())
}

/// Streams the view to `stream` until the client goes or the coordinator
/// stops.
pub async fn events<S: AsyncWrite + Unpin>(stream: &mut S, ask: &impl Ask, shown: Option<String>) {
    let first = match ask.view(shown.clone()).await {
        Some(Some(seen)) => seen,
        Some(None) => {
            let (status, kind, body) = http::unauthorized();
            return http::write(stream, status, kind, &body).await;
        }
        None => {
            let (status, kind, body) = http::stopping();
            return http::write(stream, status, kind, &body).await;
        }
    };
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nretry: 2000\n\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut shape = None;
    let mut seen = Some(first);
    while let Some(now) = seen {
        let this = shape_of(&now);
        if shape != Some(this) {
            let placed = laid_out(&now).await;
            if !send(stream, "layout", &placed).await {
                return;
            }
            shape = Some(this);
        }
        if !send(stream, "state", &now).await {
            return;
        }
        tick.tick().await;
        seen = ask.view(shown.clone()).await.flatten();
    }
    let _ = stream.shutdown().await;
}

/// Writes one event; `false` once the client is gone.
async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    event: &str,
    data: &impl serde::Serialize,
) -> bool {
    let Ok(json) = serde_json::to_string(data) else {
        return false;
    };
    let text = format!("event: {event}\ndata: {json}\n\n");
    stream.write_all(text.as_bytes()).await.is_ok() && stream.flush().await.is_ok()
}

/// The layout of what `seen` shows, computed off the async threads (a
/// large graph takes milliseconds).
async fn laid_out(seen: &Seen) -> Layout {
    let topology = seen.topology.clone();
    tokio::task::spawn_blocking(move || layout(&topology))
        .await
        .unwrap_or_default()
}

/// What the layout depends on: which nodes there are and how they are
/// connected.
fn shape_of(seen: &Seen) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for node in &seen.topology.nodes {
        (&node.id, node.in_graph).hash(&mut hasher);
    }
    for edge in &seen.topology.edges {
        (&edge.src.node, &edge.tgt.node).hash(&mut hasher);
    }
    hasher.finish()
}
