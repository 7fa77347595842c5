//! [`Hop`]: one taken message's place in its trace — the span it is
//! handled in, and the `traceparent` what it causes to be sent carries.

use crate::transport::Headers;
use msgflo_protocol::ids::{PortName, QueueName, Role};
use msgflo_protocol::traceparent::{TraceParent, TRACEPARENT, TRACESTATE};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Where messages are taken: an inport of a participant (the span's
/// fields).
#[derive(Debug, Clone)]
pub struct Place {
    /// The participant's role.
    pub role: Role,
    /// The inport.
    pub port: PortName,
    /// Its queue.
    pub queue: QueueName,
}

/// One message's place in its trace, from when it is taken until it is
/// settled (the span ends when this is dropped).
#[derive(Debug)]
pub struct Hop {
    /// What the message's outputs carry: this hop's span as the parent, or
    /// (tracing off) the incoming value unchanged.
    traceparent: String,
    /// The incoming `tracestate`, passed on unchanged.
    tracestate: Option<String>,
    /// The message's span (`Span::none()` with tracing off).
    span: tracing::Span,
}

impl Hop {
    /// The hop of a message taken at `place` with `headers` (and the
    /// publisher's `message_id`): with tracing on, a new span (a child of
    /// a valid incoming `traceparent`, else a new trace); with tracing off,
    /// the incoming trace context to pass on, or `None` without one.
    pub fn take(place: &Place, headers: &Headers, message_id: Option<&str>) -> Option<Hop> {
        if !super::enabled() {
            return Self::forward(headers);
        }
        let incoming = headers.get(TRACEPARENT);
        let parent = incoming.and_then(|value| match TraceParent::parse(value) {
            Ok(parent) => Some(parent),
            Err(reason) => {
                tracing::debug!(port = %place.port, %reason, value, "traceparent ignored: a new trace starts");
                None
            }
        });
        let span = tracing::info_span!(
            target: super::TARGET,
            "message",
            otel.kind = "consumer",
            role = %place.role,
            port = %place.port,
            queue = %place.queue,
            message_id = tracing::field::Empty,
        );
        if let Some(id) = message_id {
            span.record("message_id", id);
        }
        if let Some(parent) = parent {
            let _ = span.set_parent(remote(parent));
        }
        let context = span.context();
        let own = context.span().span_context().clone();
        if !own.is_valid() {
            // The OpenTelemetry layer is not installed (a program that
            // turned tracing on without it): no ids to give.
            return Self::forward(headers);
        }
        let traceparent = TraceParent {
            trace_id: own.trace_id().to_bytes(),
            parent_id: own.span_id().to_bytes(),
            flags: own.trace_flags().to_u8(),
        };
        Some(Hop {
            traceparent: traceparent.to_string(),
            tracestate: parent.and(headers.get(TRACESTATE)).map(str::to_owned),
            span,
        })
    }

    /// The incoming trace context, to pass on unchanged.
    fn forward(headers: &Headers) -> Option<Hop> {
        let traceparent = headers.get(TRACEPARENT)?;
        Some(Hop {
            traceparent: traceparent.to_owned(),
            tracestate: headers.get(TRACESTATE).map(str::to_owned),
            span: tracing::Span::none(),
        })
    }

    /// The `traceparent` that what this message causes to be sent carries.
    pub fn traceparent(&self) -> &str {
        &self.traceparent
    }

    /// The message's span (disabled with tracing off).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Sets `traceparent` (and `tracestate`) in the headers of an output.
    pub fn stamp(&self, headers: &mut Headers) {
        headers.insert(TRACEPARENT, self.traceparent.as_str());
        if let Some(state) = &self.tracestate {
            headers.insert(TRACESTATE, state.as_str());
        }
    }
}

/// The OpenTelemetry context of a remote parent span.
fn remote(parent: TraceParent) -> opentelemetry::Context {
    let span = SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.parent_id),
        TraceFlags::new(parent.flags),
        true,
        TraceState::default(),
    );
    opentelemetry::Context::new().with_remote_span_context(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn place() -> Place {
        Place {
            role: Role::new("r").expect("role"),
            port: PortName::new("in").expect("port"),
            queue: QueueName::new("r.IN").expect("queue"),
        }
    }

    #[test]
    fn tracing_off_passes_the_trace_context_on_unchanged_and_invents_none() {
        assert!(!crate::trace::enabled());
        assert!(Hop::take(&place(), &Headers::new(), None).is_none());
        let headers: Headers = [(TRACEPARENT, SENT), (TRACESTATE, "k=v")]
            .into_iter()
            .collect();
        let hop = Hop::take(&place(), &headers, Some("m-1")).expect("forwarded");
        assert_eq!(hop.traceparent(), SENT);
        assert!(hop.span().is_none());
        let mut out: Headers = [("msgflo-brackets", "[]")].into_iter().collect();
        hop.stamp(&mut out);
        assert_eq!(out.get(TRACEPARENT), Some(SENT));
        assert_eq!(out.get(TRACESTATE), Some("k=v"));
        assert_eq!(out.get("msgflo-brackets"), Some("[]"));
    }
}
