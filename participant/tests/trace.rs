//! Tracing on, in process (the in-memory broker, which keeps headers): a
//! message's `traceparent` is continued by a child span (same trace, a new
//! span id) in graph participants and in the component API alike; a
//! message without one, or with a malformed one, starts a new trace.
//! Tracing off is the default of every other test program; the end-to-end
//! tests over RabbitMQ and Mosquitto are in the `tests` crate (`trace_*`).

use anyhow::{Context, Result};
use bytes::Bytes;
use msgflo_participant::component::Component;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::protocol::traceparent::{TraceParent, TRACEPARENT, TRACESTATE};
use msgflo_participant::runner::{self, Options};
use msgflo_participant::runtime::builtins;
use msgflo_participant::trace::{self, Telemetry};
use msgflo_participant::transport::{connect, ConnectOptions, Consumer, Headers, Transport};
use std::sync::{Arc, OnceLock};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How long a test waits for an output that must come.
const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

const SENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Tracing on for this test program (no exporter).
fn tracing_on() {
    static ON: OnceLock<Telemetry> = OnceLock::new();
    let telemetry = ON.get_or_init(|| Telemetry::new("trace-test", None).expect("a tracer"));
    let _ = tracing_subscriber::registry()
        .with(vec![trace::install(telemetry)])
        .try_init();
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("valid queue name")
}

struct Broker {
    url: String,
    t: Arc<dyn Transport>,
}

impl Broker {
    async fn new() -> Result<Self> {
        tracing_on();
        let url = format!("memory://trace-{}", uuid::Uuid::new_v4().simple());
        let t = connect(&url, ConnectOptions::default()).await?;
        t.declare_inport(&msgflo_participant::transport::discovery_queue())
            .await?;
        Ok(Self { url, t })
    }

    fn options(&self, role: &str) -> Options {
        Options::new(role.try_into().expect("valid role"), self.url.clone())
    }

    async fn watch(&self, outport: &str) -> Result<Consumer> {
        let sink = q(&format!("sink-{}", uuid::Uuid::new_v4().simple()));
        self.t.declare_outport(&q(outport)).await?;
        self.t.declare_inport(&sink).await?;
        let consumer = self.t.consume(&sink, 10).await?;
        self.t.bind(&q(outport), &sink).await?;
        Ok(consumer)
    }

    async fn send(&self, inport: &str, headers: &Headers) -> Result<()> {
        let payload = Bytes::from_static(b"\"hello\"");
        Ok(self
            .t
            .send_to_inport_with(&q(inport), payload, headers)
            .await?)
    }
}

/// The headers of the next message of `consumer` (acked).
async fn next_headers(consumer: &mut Consumer) -> Result<Headers> {
    let delivery = tokio::time::timeout(WAIT, consumer.next())
        .await
        .context("no output in time")?
        .context("consumer ended")?;
    let headers = delivery.headers.clone();
    delivery.ack().await?;
    Ok(headers)
}

fn traceparent(headers: &Headers) -> Result<TraceParent> {
    let value = headers.get(TRACEPARENT).context("no traceparent")?;
    Ok(TraceParent::parse(value)?)
}

fn repeat() -> Component {
    Component::new("test/Repeat")
        .inport("in", "any", "")
        .outport("out", "any", "")
        .process(|input, out| async move { out.send("out", input.payload).await })
}

/// The output continues `SENT`'s trace as a child of a new span.
fn assert_child_of_sent(out: &Headers) -> Result<()> {
    let sent = TraceParent::parse(SENT)?;
    let got = traceparent(out)?;
    assert_eq!(got.trace_id, sent.trace_id, "same trace");
    assert_ne!(got.parent_id, sent.parent_id, "the hop's own span");
    assert_eq!(got.flags, sent.flags, "sampled stays sampled");
    assert_eq!(
        out.get(TRACESTATE),
        Some("msgflo=1"),
        "tracestate passed on"
    );
    Ok(())
}

#[tokio::test]
async fn a_graph_participant_continues_the_trace_in_a_span_of_its_own() -> Result<()> {
    let b = Broker::new().await?;
    let mut out = b.watch("grep.OUT").await?;
    let repeat = builtins::builtin("core/Repeat").context("built in")?;
    let running = runner::start_component(repeat, b.options("grep")).await?;
    let headers: Headers = [(TRACEPARENT, SENT), (TRACESTATE, "msgflo=1")]
        .into_iter()
        .collect();
    b.send("grep.IN", &headers).await?;
    assert_child_of_sent(&next_headers(&mut out).await?)?;
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_component_continues_the_trace_in_a_span_of_its_own() -> Result<()> {
    let b = Broker::new().await?;
    let mut out = b.watch("crep.OUT").await?;
    let running = runner::start(repeat(), b.options("crep")).await?;
    let headers: Headers = [(TRACEPARENT, SENT), (TRACESTATE, "msgflo=1")]
        .into_iter()
        .collect();
    b.send("crep.IN", &headers).await?;
    assert_child_of_sent(&next_headers(&mut out).await?)?;
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn without_a_valid_traceparent_a_new_trace_starts() -> Result<()> {
    let b = Broker::new().await?;
    let mut out = b.watch("new.OUT").await?;
    let repeat = builtins::builtin("core/Repeat").context("built in")?;
    let running = runner::start_component(repeat, b.options("new")).await?;
    b.send("new.IN", &Headers::new()).await?;
    let first = traceparent(&next_headers(&mut out).await?)?;
    let malformed = "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let headers: Headers = [(TRACEPARENT, malformed), (TRACESTATE, "dropped=1")]
        .into_iter()
        .collect();
    b.send("new.IN", &headers).await?;
    let second_headers = next_headers(&mut out).await?;
    let second = traceparent(&second_headers)?;
    assert_ne!(first.trace_id, second.trace_id, "a trace per message");
    assert_ne!(second.trace_id, TraceParent::parse(SENT)?.trace_id);
    assert_eq!(
        second_headers.get(TRACESTATE),
        None,
        "no tracestate without its traceparent"
    );
    running.stop().await?;
    Ok(())
}
