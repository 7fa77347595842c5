//! W3C trace context across real `msgflo-participant` processes.
//! - RabbitMQ: a message with a known `traceparent` through two `core/Repeat`
//!   participants with `--trace` (A.OUT bound to B.IN on the broker): each
//!   hop's output keeps the trace id and names a span of its own, a child
//!   of the one before. Tracing off: nothing is invented, and a
//!   `traceparent` is passed on unchanged.
//! - Mosquitto: both of a participant's connections speak MQTT 5, so a
//!   `traceparent` user property sent by an MQTT 5 client reaches it, and the
//!   hop's own goes out as a user property, read here by an MQTT 5
//!   subscriber. Tracing off: nothing invented, passed on unchanged.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::protocol::traceparent::{TraceParent, TRACEPARENT};
use msgflo_participant::transport::{Consumer, Headers, Transport};
use msgflo_tests::flow::sink;
use msgflo_tests::process::{participant, spawn_ready, Spawned};
use msgflo_tests::{amqp_url, client, mqtt_address, mqtt_url, unique};
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use std::sync::Arc;
use std::time::Duration;

const SENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const WAIT: Duration = Duration::from_secs(20);

fn q(name: String) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// A `core/Repeat` participant of `role` on `broker`, ready.
async fn repeat(broker: &str, role: &str, extra: &[&str]) -> Result<Spawned> {
    let command = participant(broker, role, "core/Repeat", extra)?;
    let (child, line) = spawn_ready(command, WAIT).await?;
    ensure!(line.starts_with(&format!("{role} connected")), "{line:?}");
    Ok(child)
}

/// A consumer of a queue of its own bound to `outport`.
async fn watch(t: &Arc<dyn Transport>, outport: &QueueName) -> Result<Consumer> {
    sink(t, outport, "trace.sink").await
}

/// The headers of the next message of `consumer` (acked).
async fn next_headers(consumer: &mut Consumer) -> Result<Headers> {
    let delivery = tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("nothing on {}", consumer.queue()))?
        .context("consumer ended")?;
    let headers = delivery.headers.clone();
    delivery.ack().await?;
    Ok(headers)
}

fn traceparent(headers: &Headers) -> Result<TraceParent> {
    let value = headers.get(TRACEPARENT).context("no traceparent")?;
    Ok(TraceParent::parse(value)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_each_hop_continues_the_trace_in_a_span_of_its_own() -> Result<()> {
    let broker = amqp_url();
    let (a, b) = (unique("trace-a"), unique("trace-b"));
    let t = client(&broker, "trace-amqp").await?;
    let (a_in, a_out, b_in, b_out) = (
        q(format!("{a}.IN"))?,
        q(format!("{a}.OUT"))?,
        q(format!("{b}.IN"))?,
        q(format!("{b}.OUT"))?,
    );
    let first = repeat(&broker, &a, &["--trace"]).await?;
    let second = repeat(&broker, &b, &["--trace"]).await?;
    t.bind(&a_out, &b_in).await?;
    let mut after_a = watch(&t, &a_out).await?;
    let mut after_b = watch(&t, &b_out).await?;

    let headers: Headers = [(TRACEPARENT, SENT)].into_iter().collect();
    t.send_to_inport_with(&a_in, Bytes::from_static(b"{\"n\":1}"), &headers)
        .await?;
    let sent = TraceParent::parse(SENT)?;
    let hop_a = traceparent(&next_headers(&mut after_a).await?)?;
    let hop_b = traceparent(&next_headers(&mut after_b).await?)?;
    assert_eq!(hop_a.trace_id, sent.trace_id, "A keeps the trace");
    assert_eq!(hop_b.trace_id, sent.trace_id, "B keeps the trace");
    assert_ne!(hop_a.parent_id, sent.parent_id, "A's own span");
    assert_ne!(hop_b.parent_id, hop_a.parent_id, "B's own span");
    assert_ne!(hop_b.parent_id, sent.parent_id);
    assert_eq!((hop_a.flags, hop_b.flags), (sent.flags, sent.flags));

    first.stop_cleanly(WAIT).await?;
    second.stop_cleanly(WAIT).await?;
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_tracing_off_invents_nothing_and_passes_a_trace_on_unchanged() -> Result<()> {
    let broker = amqp_url();
    let role = unique("trace-off");
    let t = client(&broker, "trace-off").await?;
    let (inq, outq) = (q(format!("{role}.IN"))?, q(format!("{role}.OUT"))?);
    let child = repeat(&broker, &role, &[]).await?;
    let mut out = watch(&t, &outq).await?;

    t.send_to_inport(&inq, Bytes::from_static(b"1")).await?;
    let plain = next_headers(&mut out).await?;
    ensure!(plain.get(TRACEPARENT).is_none(), "invented: {plain:?}");

    let headers: Headers = [(TRACEPARENT, SENT)].into_iter().collect();
    t.send_to_inport_with(&inq, Bytes::from_static(b"2"), &headers)
        .await?;
    let passed = next_headers(&mut out).await?;
    assert_eq!(passed.get(TRACEPARENT), Some(SENT), "passed on unchanged");

    child.stop_cleanly(WAIT).await?;
    t.close().await?;
    Ok(())
}

/// An MQTT 5 client subscribed to `topic`, its SUBACK received.
async fn subscribe_v5(topic: &str) -> Result<(AsyncClient, EventLoop)> {
    let (host, port) = mqtt_address();
    let mut options = MqttOptions::new(unique("trace-v5"), host, port);
    options.set_keep_alive(Duration::from_secs(5));
    let (v5, mut events) = AsyncClient::new(options, 10);
    v5.subscribe(topic, QoS::AtLeastOnce).await?;
    tokio::time::timeout(WAIT, async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = events.poll().await? {
                return anyhow::Ok(());
            }
        }
    })
    .await
    .context("no SUBACK")??;
    Ok((v5, events))
}

/// The next PUBLISH `events` receive.
async fn next_publish(events: &mut EventLoop) -> Result<Publish> {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Event::Incoming(Packet::Publish(publish)) = events.poll().await? {
                return anyhow::Ok(publish);
            }
        }
    })
    .await
    .context("no message")?
}

/// The `traceparent` user property of `publish`.
fn user_traceparent(publish: &Publish) -> Option<&str> {
    let properties = publish.properties.as_ref()?;
    properties
        .user_properties
        .iter()
        .find(|(name, _)| name == TRACEPARENT)
        .map(|(_, value)| value.as_str())
}

/// Publishes `payload` to `topic` over MQTT 5 with [`SENT`] as its
/// `traceparent` user property.
async fn send_traced(v5: &AsyncClient, topic: &str, payload: &'static str) -> Result<()> {
    let properties = rumqttc::v5::mqttbytes::v5::PublishProperties {
        user_properties: vec![(TRACEPARENT.into(), SENT.into())],
        ..Default::default()
    };
    v5.publish_with_properties(topic, QoS::AtLeastOnce, false, payload, properties)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_the_hop_continues_a_trace_sent_as_a_user_property() -> Result<()> {
    let broker = mqtt_url();
    let role = unique("trace-mqtt");
    let (inq, outq) = (format!("{role}.IN"), format!("{role}.OUT"));
    let child = repeat(&broker, &role, &["--trace"]).await?;
    let (v5, mut events) = subscribe_v5(&outq).await?;

    // Sent by another MQTT 5 client with the traceparent as a user property.
    send_traced(&v5, &inq, "\"hi\"").await?;
    let publish = next_publish(&mut events).await?;
    let value = user_traceparent(&publish).context("no traceparent user property")?;
    let hop = TraceParent::parse(value)?;
    let sent = TraceParent::parse(SENT)?;
    assert_eq!(hop.trace_id, sent.trace_id, "the hop keeps the trace");
    assert_ne!(hop.parent_id, sent.parent_id, "in a span of its own");
    assert_eq!(hop.flags, sent.flags);
    assert_eq!(&publish.payload[..], b"\"hi\"");

    v5.disconnect().await?;
    child.stop_cleanly(WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_tracing_off_invents_nothing_and_passes_a_trace_on_unchanged() -> Result<()> {
    let broker = mqtt_url();
    let role = unique("trace-mqtt-off");
    let (inq, outq) = (format!("{role}.IN"), format!("{role}.OUT"));
    let child = repeat(&broker, &role, &[]).await?;
    let (v5, mut events) = subscribe_v5(&outq).await?;
    v5.publish(&inq, QoS::AtLeastOnce, false, "1").await?;
    let publish = next_publish(&mut events).await?;
    ensure!(
        user_traceparent(&publish).is_none(),
        "invented: {publish:?}"
    );
    send_traced(&v5, &inq, "2").await?;
    let passed = next_publish(&mut events).await?;
    assert_eq!(user_traceparent(&passed), Some(SENT), "passed on unchanged");
    v5.disconnect().await?;
    child.stop_cleanly(WAIT).await?;
    Ok(())
}
