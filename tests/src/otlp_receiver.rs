//! An OTLP/HTTP trace receiver on a port of its own: takes `POST
//! /v1/traces` with a protobuf `ExportTraceServiceRequest`, answers 200 and
//! hands each decoded request to the test. There is no OpenTelemetry
//! collector on the test machines; this is the smallest stand-in that
//! speaks the same protocol (what a real collector would refuse, it
//! refuses too: another path or an undecodable body).

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::sync::mpsc;

/// A running receiver: where it listens and what it received.
pub struct OtlpReceiver {
    /// `http://127.0.0.1:PORT`: give it as the OTLP endpoint.
    pub endpoint: String,
    /// The export requests, as they come.
    pub requests: mpsc::UnboundedReceiver<ExportTraceServiceRequest>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let (tx, requests) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/v1/traces", post(export))
            .with_state(tx);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            endpoint,
            requests,
            server,
        })
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn export(
    State(tx): State<mpsc::UnboundedSender<ExportTraceServiceRequest>>,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>) {
    let protobuf = [(header::CONTENT_TYPE, "application/x-protobuf")];
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            let _ = tx.send(request);
            // An empty ExportTraceServiceResponse: everything accepted.
            (StatusCode::OK, protobuf, Vec::new())
        }
        Err(_) => (StatusCode::BAD_REQUEST, protobuf, Vec::new()),
    }
}
