//! One message traced across participants: W3C Trace Context
//! (`traceparent`, [`msgflo_protocol::traceparent`]) carried in message
//! headers, a `tracing` span per message taken, and those spans exported
//! over OTLP when configured.
//!
//! - **Tracing on** ([`install`]: `--trace`, or an `otlp_endpoint`): each
//!   message taken from an inport gets a span (target [`TARGET`], fields
//!   `role`, `port`, `queue`, `message_id`), a child of the message's
//!   `traceparent` when it has a valid one (same trace id, a new span id),
//!   else the root of a new trace. What the participant sends while handling
//!   it carries a `traceparent` naming that span as its parent (and the
//!   incoming `tracestate`, unchanged). The span ends when the message is
//!   acked or nacked.
//! - **Tracing off** (the default): no span, no id; a message's
//!   `traceparent` and `tracestate` are passed on unchanged to what is sent
//!   while handling it (W3C's advice for a hop that does not trace), so a
//!   trace stays whole across it. A message without them costs one look at
//!   its headers.
//!
//! Where a message's outputs come from several inputs (a join), the first
//! input's trace is the parent. The ids are OpenTelemetry's (the
//! `tracing-opentelemetry` layer gives each span its span context), so the
//! exported spans and the headers name the same spans.
//!
//! Headers exist on AMQP, the memory broker and MQTT 5, where they are user
//! properties (Mosquitto 2): a participant on MQTT continues a trace sent
//! by any MQTT 5 client and sends its own `traceparent` on. On a broker
//! that speaks only MQTT 3.1.1 (the embedded one) there are no headers: no
//! `traceparent` comes in, and each participant starts a new trace.
//!
//! # Layout
//! - this file — the on/off switch ([`enabled`], [`install`]).
//! - `hop.rs` — [`Hop`]: one message's place in its trace, from the
//!   delivery's headers to the headers of what is sent.
//! - `otlp.rs` — [`Telemetry`]: the OpenTelemetry tracer (and OTLP
//!   exporter) behind the `tracing` layer.

mod hop;
mod otlp;

pub use hop::{Hop, Place};
pub use otlp::{Telemetry, TelemetryError};

use std::sync::atomic::{AtomicBool, Ordering};

/// The `tracing` target of the per-message spans: the OpenTelemetry layer
/// takes these and nothing else.
pub const TARGET: &str = "msgflo::message";

static ON: AtomicBool = AtomicBool::new(false);

/// Whether this process traces messages (spans, new ids); off until
/// [`install`] turns it on.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Turns tracing on for this process with `telemetry`'s layer: returns the
/// layer to give the global subscriber ([`msgflo_cli::main_with`] does;
/// [`crate::cli::start_participant`] calls both). Spans get ids only once
/// that subscriber is installed.
pub fn install(telemetry: &Telemetry) -> msgflo_cli::logging::BoxedLayer {
    ON.store(true, Ordering::Relaxed);
    telemetry.layer()
}
