//! msgflo-rs participants: the worker processes of a msgflo network.
//!
//! A participant consumes its inport queues, processes each message, publishes
//! to its outports, acks, and announces itself on the `fbp` queue so a
//! coordinator can find it. Build one from a [`Component`](component::Component)
//! and [`runner::start`] it, or run a built-in one with the
//! `msgflo-participant` binary.
//!
//! # Layout
//! - [`transport`] — the crate `msgflo-transport`, re-exported: one
//!   [`Transport`](transport::Transport) trait for AMQP (lapin), MQTT
//!   (rumqttc) and an in-memory broker; [`transport::connect`] picks one by
//!   URL.
//! - [`component`] — declaring a component: ports and a process function.
//! - [`outputs`] — sending from a process function.
//! - [`calls`] — the calls a participant answers besides the built-in
//!   `health`, `drain` and `set-prefetch` (typed handlers).
//! - [`runner`] — running a component, or a graph of in-process components
//!   ([`runner::start_graph`]), as a participant: queues, discovery,
//!   control messages, at-least-once processing, clean shutdown.
//! - [`runtime`] — the in-process runtime: a graph of components joined by
//!   bounded SPSC edges, run by one cooperative task; the built-in components
//!   ([`runtime::builtins`]: `core/Repeat`, ...), which run alone as a
//!   one-node graph ([`runner::start_component`]).
//! - [`metrics`] — the participant's own Prometheus metrics, served on
//!   `--metrics-addr` (`GET /metrics`).
//! - [`trace`] — one message traced across participants: the W3C
//!   `traceparent` header continued in a span per message (`--trace`), and
//!   those spans exported over OTLP (`--otlp-endpoint`).
//! - [`slot`] — the stable id of an MQTT participant started without
//!   `--id`, so that a process started after a crash resumes its session.
//! - [`cli`] — what the command-line programs share (runtime, signals,
//!   broker from the environment); [`logging`] — their logs (`--log-format`,
//!   colour only on a terminal).
//! - `src/bin/msgflo-participant.rs` — the command-line participant.

pub use msgflo_cli::logging;
pub use msgflo_protocol as protocol;
pub use msgflo_transport as transport;

pub mod calls;
pub mod cli;
pub mod component;
pub mod errors;
pub mod metrics;
pub mod outputs;
pub mod runner;
pub mod runtime;
pub mod slot;
pub mod trace;
