//! The `trace` sub-protocol: recording and dumping flowtraces (fbp-protocol
//! `trace.yml`).

use serde::{Deserialize, Serialize};

use super::macros::command_enum;
use super::{ErrorPayload, Protocol, TargetGraph};

command_enum! {
    /// A `trace` message from a client.
    pub enum TraceInput for Protocol::Trace {
        /// `start`: start tracing a network.
        "start" => Start(TraceStart),
        /// `stop`: stop tracing.
        "stop" => Stop(TargetGraph),
        /// `dump`: ask for the trace buffer.
        "dump" => Dump(TraceDumpRequest),
        /// `clear`: empty the trace buffer.
        "clear" => Clear(TargetGraph),
    }
}

command_enum! {
    /// A `trace` message from a runtime.
    pub enum TraceOutput for Protocol::Trace {
        /// `start`: tracing was started.
        "start" => Start(TraceStart),
        /// `stop`: tracing was stopped.
        "stop" => Stop(TargetGraph),
        /// `dump`: the trace buffer.
        "dump" => Dump(TraceDump),
        /// `clear`: the trace buffer was emptied.
        "clear" => Clear(TargetGraph),
        /// `error`: a trace command failed.
        "error" => Error(ErrorPayload),
    }
}

/// Payload of `trace:start`, both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStart {
    /// Graph id.
    pub graph: String,
    /// Size of the trace buffer, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffersize: Option<u64>,
}

/// Payload of the `trace:dump` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceDumpRequest {
    /// Graph id.
    pub graph: String,
    /// Format wanted (`type`).
    #[serde(rename = "type")]
    pub kind: TraceType,
}

/// Payload of the `trace:dump` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceDump {
    /// Graph id.
    pub graph: String,
    /// Format of `flowtrace` (`type`).
    #[serde(rename = "type")]
    pub kind: TraceType,
    /// The trace, serialised in format `kind`.
    pub flowtrace: String,
}

/// A trace format; the schema knows only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TraceType {
    /// `flowtrace.json`.
    #[serde(rename = "flowtrace.json")]
    FlowtraceJson,
}
