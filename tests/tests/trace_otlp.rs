//! A participant's message spans exported over OTLP/HTTP: a real
//! `msgflo-participant` (core/Repeat on RabbitMQ) with the collector named
//! by the standard `OTEL_EXPORTER_OTLP_ENDPOINT` exports, for one message
//! with a known `traceparent`, a consumer span of service = its role with
//! the attributes role, port and queue; the span continues the sent trace,
//! and its id is the parent the output's `traceparent` names. The
//! collector is `msgflo_tests::otlp_receiver` (none can be installed here).
//! An endpoint that is not an OTLP/HTTP URL is one line and exit code 1.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::protocol::traceparent::{TraceParent, TRACEPARENT};
use msgflo_participant::transport::Headers;
use msgflo_tests::otlp_receiver::OtlpReceiver;
use msgflo_tests::process::{participant, run_to_end, spawn_ready};
use msgflo_tests::{amqp_url, client, unique};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::time::Duration;

const SENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const WAIT: Duration = Duration::from_secs(30);

/// The text value of attribute `key`.
fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        any_value::Value::StringValue(text) => Some(text),
        _ => None,
    }
}

/// The first span of trace `trace_id` in `request`, with its service name.
fn span_of(request: &ExportTraceServiceRequest, trace_id: &[u8]) -> Option<(String, Span)> {
    request.resource_spans.iter().find_map(|resource| {
        let attributes = resource
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        let service = text(attributes, "service.name").unwrap_or_default();
        resource
            .scope_spans
            .iter()
            .flat_map(|scope| &scope.spans)
            .find(|span| span.trace_id == trace_id)
            .map(|span| (service.to_owned(), span.clone()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_yields_an_exported_span_with_role_and_port() -> Result<()> {
    let mut collector = OtlpReceiver::start().await?;
    let broker = amqp_url();
    let role = unique("trace-otlp");
    let mut command = participant(&broker, &role, "core/Repeat", &[])?;
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint)
        // Export within 100 ms of a span's end, not the default 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100");
    let (child, line) = spawn_ready(command, WAIT).await?;
    ensure!(line.starts_with(&format!("{role} connected")), "{line:?}");

    let t = client(&broker, "trace-otlp").await?;
    let (inq, outq) = (
        QueueName::new(format!("{role}.IN"))?,
        QueueName::new(format!("{role}.OUT"))?,
    );
    let sink = QueueName::new(unique("trace-otlp.sink"))?;
    t.declare_outport(&outq).await?;
    t.declare_inport(&sink).await?;
    let mut out = t.consume(&sink, 10).await?;
    t.bind(&outq, &sink).await?;
    let headers: Headers = [(TRACEPARENT, SENT)].into_iter().collect();
    t.send_to_inport_with(&inq, Bytes::from_static(b"{\"n\":1}"), &headers)
        .await?;
    let delivery = tokio::time::timeout(WAIT, out.next())
        .await
        .context("no output")?
        .context("consumer ended")?;
    let hop = TraceParent::parse(
        delivery
            .headers
            .get(TRACEPARENT)
            .context("no traceparent")?,
    )?;
    delivery.ack().await?;

    let sent = TraceParent::parse(SENT)?;
    let (service, span) = tokio::time::timeout(WAIT, async {
        while let Some(request) = collector.requests.recv().await {
            if let Some(found) = span_of(&request, &sent.trace_id) {
                return Some(found);
            }
        }
        None
    })
    .await
    .context("no span exported in time")?
    .context("the receiver stopped")?;
    assert_eq!(service, role, "service name = role");
    assert_eq!(text(&span.attributes, "role"), Some(role.as_str()));
    assert_eq!(text(&span.attributes, "port"), Some("in"));
    assert_eq!(
        text(&span.attributes, "queue"),
        Some(format!("{role}.IN").as_str())
    );
    assert_eq!(span.kind, SpanKind::Consumer as i32);
    assert_eq!(
        span.parent_span_id, sent.parent_id,
        "child of what was sent"
    );
    assert_eq!(span.span_id, hop.parent_id, "the output's parent");

    child.stop_cleanly(WAIT).await?;
    t.close().await?;
    Ok(())
}

#[tokio::test]
async fn an_endpoint_that_is_not_http_is_one_line_and_exit_code_1() -> Result<()> {
    for (endpoint, expected) in [
        ("grpc://127.0.0.1:4317", "needs an http:// or https:// URL"),
        ("not a url", "otlp_endpoint"),
    ] {
        let command = participant(
            "amqp://127.0.0.1:1",
            "bad",
            "core/Repeat",
            &["--otlp-endpoint", endpoint],
        )?;
        let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
        ensure!(
            code == Some(1),
            "{endpoint}: exit {code:?}, stderr {stderr}"
        );
        ensure!(stdout.is_empty(), "{endpoint}: stdout {stdout:?}");
        ensure!(
            stderr.trim().lines().count() == 1 && stderr.contains(expected),
            "{endpoint}: stderr {stderr:?}"
        );
    }
    Ok(())
}
