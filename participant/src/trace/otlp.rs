//! [`Telemetry`]: the OpenTelemetry tracer that gives the message spans
//! their ids, and, with an endpoint, exports them over OTLP/HTTP
//! (protobuf) from a batch processor on its own thread. The service name
//! is the participant's role.

use super::TARGET;
use msgflo_cli::logging::BoxedLayer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::Layer;

/// Where OTLP/HTTP takes traces, below the collector's address.
const TRACES_PATH: &str = "/v1/traces";

/// Tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("otlp_endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// The exporter could not be built.
    #[error("the OTLP exporter: {0}")]
    Exporter(#[from] ExporterBuildError),
}

/// The tracer of a participant's message spans.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Spans of service `service` (the role), exported to the OTLP/HTTP
    /// collector at `endpoint` (`http://HOST:4318`: `/v1/traces` is
    /// added unless the URL ends with it), or not at all without one.
    pub fn new(service: &str, endpoint: Option<&str>) -> Result<Self, TelemetryError> {
        let resource = Resource::builder()
            .with_service_name(service.to_owned())
            .build();
        let mut builder = SdkTracerProvider::builder().with_resource(resource);
        if let Some(endpoint) = endpoint {
            // reqwest's rustls takes the process's provider: ours is ring.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let exporter = SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(traces_url(endpoint)?)
                .build()?;
            builder = builder.with_batch_exporter(exporter);
        }
        Ok(Self {
            provider: builder.build(),
        })
    }

    /// The `tracing` layer that gives spans of [`TARGET`] their
    /// OpenTelemetry context (and nothing else: no source locations,
    /// threads or idle times, which cost on every message).
    pub(super) fn layer(&self) -> BoxedLayer {
        let tracer = self.provider.tracer("msgflo-participant");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_filter(Targets::new().with_target(TARGET, tracing::Level::TRACE))
            .boxed()
    }

    /// Exports the spans not sent yet and stops the exporter (blocks:
    /// call it outside the async runtime, as the program ends).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

/// The traces URL of a collector at `endpoint`.
fn traces_url(endpoint: &str) -> Result<String, TelemetryError> {
    let bad = |reason: &str| TelemetryError::Endpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("OTLP/HTTP needs an http:// or https:// URL"));
    }
    let base = endpoint.trim_end_matches('/');
    Ok(if base.ends_with(TRACES_PATH) {
        base.to_owned()
    } else {
        format!("{base}{TRACES_PATH}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_a_collector_address_once() {
        let url = |e| traces_url(e).expect("valid");
        assert_eq!(url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(url("https://c/otel/v1/traces"), "https://c/otel/v1/traces");
        assert!(traces_url("grpc://c:4317").is_err());
        assert!(traces_url("not a url").is_err());
    }
}
