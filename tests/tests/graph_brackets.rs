//! Brackets between two graph participants over real RabbitMQ: the first
//! wraps each message in a named group, the second sees the group around the
//! same data; a plain consumer of the first's outport (as a msgflo
//! participant in another language is) gets only the data, with the
//! `msgflo-brackets` header it can ignore. The same over Mosquitto, where
//! the header is an MQTT 5 user property (on an MQTT 3.1.1 broker, which has
//! no headers, the data would cross and the brackets would not).

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::{dsl, ids::QueueName};
use msgflo_participant::runner::{self, brackets, Options, Running};
use msgflo_participant::runtime::{Body, ComponentDecl, Input, Outputs};
use msgflo_participant::transport::{Consumer, Delivery, Transport};
use msgflo_tests::{amqp_url, mqtt_url, unique};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// Wraps each data packet in a group named `batch`.
fn wrap() -> ComponentDecl {
    ComponentDecl::from_fn("test/Wrap", || {
        |input: Input, out: &mut Outputs| {
            let open = input.packet.derive(Body::Open(Some(Arc::from("batch"))));
            let close = input.packet.derive(Body::Close(Some(Arc::from("batch"))));
            out.send(0, open);
            out.send(0, input.packet);
            out.send(0, close);
            Ok(())
        }
    })
    .inport("in", "any", "")
    .outport("out", "any", "")
}

/// Turns every packet into data saying what it was.
fn show() -> ComponentDecl {
    ComponentDecl::from_fn("test/Show", || {
        |input: Input, out: &mut Outputs| {
            let text = match &input.packet.body {
                Body::Open(name) => format!("open:{}", name.as_deref().unwrap_or("")),
                Body::Close(name) => format!("close:{}", name.as_deref().unwrap_or("")),
                Body::Data(data) => String::from_utf8_lossy(data).into_owned(),
                Body::Json(json) => String::from_utf8_lossy(json.text()).into_owned(),
            };
            out.send(0, input.packet.derive(Body::Data(Bytes::from(text))));
            Ok(())
        }
    })
    .inport("in", "any", "")
    .outport("out", "any", "")
}

fn lookup(name: &str) -> Option<ComponentDecl> {
    match name {
        "test/Wrap" => Some(wrap()),
        "test/Show" => Some(show()),
        _ => None,
    }
}

fn q(name: String) -> Result<QueueName> {
    QueueName::new(name).context("queue name")
}

async fn start(broker: &str, role: &str, graph: &str) -> Result<Running> {
    let graph = dsl::parse(graph)?;
    let options = Options::new(role.try_into()?, broker);
    Ok(runner::start_graph(&graph, role, lookup, options).await?)
}

async fn next(consumer: &mut Consumer) -> Result<Delivery> {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("nothing on {} within {WAIT:?}", consumer.queue()))?
        .context("consumer ended")
}

/// How the first graph's outport reaches the second graph's inport.
#[derive(Clone, Copy, PartialEq)]
enum Link {
    /// A broker binding (AMQP: the inport queue bound to the outport exchange).
    Bind,
    /// The test forwards each message with its headers (MQTT, where a binding
    /// is a subscription of the inport's consumer, made on a coordinator's
    /// `connectinport`).
    Forward,
}

/// Sends three messages through `wrapper -> shower`; returns the `expected`
/// number of messages the second graph put out, and the deliveries a plain
/// consumer of the first's outport got.
async fn through_two_graphs(
    broker: &str,
    link: Link,
    expected: usize,
) -> Result<(Vec<String>, Vec<Delivery>)> {
    let (a, b) = (unique("brk-a"), unique("brk-b"));
    let first = start(
        broker,
        &a,
        "INPORT=w.IN:IN\nOUTPORT=w.OUT:OUT\nw(test/Wrap)",
    )
    .await?;
    let second = start(
        broker,
        &b,
        "INPORT=s.IN:IN\nOUTPORT=s.OUT:OUT\ns(test/Show)",
    )
    .await?;
    let t: Arc<dyn Transport> = msgflo_tests::client(broker, "brk-client").await?;
    let (a_in, a_out) = (q(format!("{a}.IN"))?, q(format!("{a}.OUT"))?);
    let (b_in, b_out) = (q(format!("{b}.IN"))?, q(format!("{b}.OUT"))?);
    let (plain, sink) = (q(unique("brk-plain"))?, q(unique("brk-sink"))?);
    t.declare_inport(&plain).await?;
    t.declare_inport(&sink).await?;
    let mut plain_c = t.consume(&plain, 10).await?;
    let mut sink_c = t.consume(&sink, 100).await?;
    t.bind(&a_out, &plain).await?;
    t.bind(&b_out, &sink).await?;
    if link == Link::Bind {
        t.bind(&a_out, &b_in).await?;
    }

    for i in 0..3 {
        t.send_to_inport(&a_in, Bytes::from(format!("\"m{i}\"")))
            .await?;
    }
    let mut plain_seen = Vec::new();
    for _ in 0..3 {
        let delivery = next(&mut plain_c).await?;
        if link == Link::Forward {
            // b.IN is reachable under its own name (AMQP: the same-named
            // exchange of msgflo's topology; MQTT: its topic).
            t.publish_with(&b_in, delivery.payload.clone(), &delivery.headers)
                .await?;
        }
        plain_seen.push(delivery);
    }
    let mut shown = Vec::new();
    while shown.len() < expected {
        let delivery = next(&mut sink_c).await?;
        shown.push(String::from_utf8_lossy(&delivery.payload).into_owned());
        delivery.ack().await?;
    }
    let extra = tokio::time::timeout(Duration::from_millis(300), sink_c.next()).await;
    ensure!(extra.is_err(), "more than {expected} messages came out");
    first.stop().await?;
    second.stop().await?;
    Ok((shown, plain_seen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brackets_cross_rabbitmq_between_graph_participants() -> Result<()> {
    let (shown, plain) = through_two_graphs(&amqp_url(), Link::Bind, 9).await?;
    crossed_with_brackets(shown, plain).await
}

/// Over Mosquitto both connections speak MQTT 5: the `msgflo-brackets`
/// header travels as a user property, so the brackets cross as on AMQP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brackets_cross_mosquitto_as_user_properties() -> Result<()> {
    let (shown, plain) = through_two_graphs(&mqtt_url(), Link::Forward, 9).await?;
    crossed_with_brackets(shown, plain).await
}

/// The second graph saw each of the three messages in its group, and a
/// plain consumer got the data with the header.
async fn crossed_with_brackets(shown: Vec<String>, plain: Vec<Delivery>) -> Result<()> {
    let expected: Vec<String> = (0..3)
        .flat_map(|i| {
            [
                "open:batch".to_owned(),
                format!("\"m{i}\""),
                "close:batch".to_owned(),
            ]
        })
        .collect();
    ensure!(shown == expected, "the second graph saw {shown:?}");
    for delivery in plain {
        ensure!(
            delivery.payload.starts_with(b"\"m"),
            "a plain consumer gets only data: {:?}",
            delivery.payload
        );
        ensure!(
            delivery.headers.get(brackets::HEADER)
                == Some(r#"{"before":[{"open":"batch"}],"after":[{"close":"batch"}]}"#),
            "header: {:?}",
            delivery.headers
        );
        delivery.ack().await?;
    }
    Ok(())
}
