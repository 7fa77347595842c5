//! Delivery modes (issue 20) over real RabbitMQ: a transient message arrives
//! transient and a persistent one persistent (AMQP `delivery_mode`), and a
//! `core/Repeat` participant process sends each output in the mode of the
//! message it answers, unless `--delivery` (or `MSGFLO_DELIVERY`) gives it a
//! mode of its own.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Delivery, DeliveryMode, Headers, Transport};
use msgflo_tests::flow::sink;
use msgflo_tests::process::{participant, spawn_ready, Spawned};
use msgflo_tests::{amqp_url, client, unique};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const MODES: [DeliveryMode; 2] = [DeliveryMode::Persistent, DeliveryMode::Transient];

fn q(name: String) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// A consumer of a queue of its own bound to `outport`.
async fn watch(t: &Arc<dyn Transport>, outport: &QueueName) -> Result<Consumer> {
    sink(t, outport, "mode.sink").await
}

/// The next delivery of `consumer`.
async fn next(consumer: &mut Consumer) -> Result<Delivery> {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("nothing on {}", consumer.queue()))?
        .context("consumer ended")
}

/// Publishes `payload` in `mode` to `outport` and returns the mode it
/// arrived in at `consumer` (which `outport` feeds, maybe through others).
async fn round(
    t: &Arc<dyn Transport>,
    outport: &QueueName,
    consumer: &mut Consumer,
    mode: DeliveryMode,
) -> Result<DeliveryMode> {
    let payload = Bytes::from(format!("\"{mode}\""));
    t.publish_as(outport, payload.clone(), &Headers::new(), mode)
        .await?;
    let delivery = next(consumer).await?;
    ensure!(delivery.payload == payload, "{:?}", delivery.payload);
    let arrived = delivery.mode;
    delivery.ack().await?;
    Ok(arrived)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arrives_in_the_mode_it_was_published_in() -> Result<()> {
    let t = client(&amqp_url(), "mode-transport").await?;
    let source = q(unique("mode.src"))?;
    let mut c = watch(&t, &source).await?;
    for mode in MODES {
        assert_eq!(round(&t, &source, &mut c, mode).await?, mode);
    }
    t.close().await?;
    Ok(())
}

/// A `core/Repeat` of its own with `extra` arguments; a source outport bound
/// to its inport; a consumer of its outport.
async fn repeat(t: &Arc<dyn Transport>, extra: &[&str]) -> Result<(Spawned, QueueName, Consumer)> {
    let role = unique("mode-repeat");
    let command = participant(&amqp_url(), &role, "core/Repeat", extra)?;
    let (child, line) = spawn_ready(command, WAIT).await?;
    ensure!(line.starts_with(&format!("{role} connected")), "{line:?}");
    let source = q(unique("mode.feed"))?;
    t.declare_outport(&source).await?;
    t.bind(&source, &q(format!("{role}.IN"))?).await?;
    let out = watch(t, &q(format!("{role}.OUT"))?).await?;
    Ok((child, source, out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_keeps_the_mode_of_its_input_unless_the_participant_has_one() -> Result<()> {
    let t = client(&amqp_url(), "mode-participant").await?;
    let (keeps, source, mut out) = repeat(&t, &[]).await?;
    for mode in MODES {
        let arrived = round(&t, &source, &mut out, mode).await?;
        assert_eq!(arrived, mode, "kept the input's mode");
    }
    keeps.stop_cleanly(WAIT).await?;

    for fixed in MODES {
        let (child, source, mut out) = repeat(&t, &["--delivery", fixed.as_str()]).await?;
        for mode in MODES {
            let arrived = round(&t, &source, &mut out, mode).await?;
            assert_eq!(arrived, fixed, "--delivery {fixed}, input {mode}");
        }
        child.stop_cleanly(WAIT).await?;
    }
    t.close().await?;
    Ok(())
}

/// RabbitMQ keeps no mode per binding (a message's is set when it is
/// published): asking for one is refused, in one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mode_per_binding_is_refused_on_amqp() -> Result<()> {
    let t = client(&amqp_url(), "mode-binding").await?;
    let (outport, inport) = (q(unique("mode.b.OUT"))?, q(unique("mode.b.IN"))?);
    let refused = t
        .set_binding_delivery(&outport, &inport, DeliveryMode::Transient)
        .await
        .err()
        .context("a mode per binding was taken")?
        .to_string();
    ensure!(
        refused
            == format!(
                "set the delivery mode of {outport} -> {inport} failed: this broker keeps no \
                 delivery mode per binding: a message's is set when it is published"
            ),
        "{refused}"
    );
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_mode_is_refused_in_one_line() -> Result<()> {
    let role = unique("mode-bad");
    let mut command = participant(&amqp_url(), &role, "core/Repeat", &["--delivery", "fast"])?;
    let output = tokio::time::timeout(WAIT, command.output())
        .await
        .context("the participant did not stop")??;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(!output.status.success(), "it ran: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(lines.len() == 1, "one line: {stderr}");
    ensure!(
        lines[0].contains("--delivery") && lines[0].contains("\"fast\""),
        "{stderr}"
    );
    Ok(())
}

/// Transient messages are not confirmed: one the broker refuses (its
/// exchange is missing) is lost, and the broker closes the channel it came
/// on; the transport opens another, and transient messages flow again.
/// Persistent ones are confirmed: the refusal is the publisher's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_transient_message_costs_its_channel_not_the_flow() -> Result<()> {
    let t = client(&amqp_url(), "mode-refused").await?;
    let missing = q(unique("mode.missing"))?;
    let none = Headers::new();
    let refused = t
        .publish_as(
            &missing,
            Bytes::from_static(b"1"),
            &none,
            DeliveryMode::Persistent,
        )
        .await;
    ensure!(
        refused.is_err(),
        "a persistent publish to {missing} was confirmed"
    );
    t.publish_as(
        &missing,
        Bytes::from_static(b"2"),
        &none,
        DeliveryMode::Transient,
    )
    .await
    .context("a transient publish waits for no confirm")?;

    let source = q(unique("mode.src"))?;
    let mut c = watch(&t, &source).await?;
    // Until the broker's close of the refused channel has come back, what
    // follows on that channel is dropped too: publish until one arrives.
    let started = tokio::time::Instant::now();
    let first = loop {
        ensure!(
            started.elapsed() < WAIT,
            "no transient message came through after the refusal"
        );
        let payload = Bytes::from(format!("\"probe {}\"", started.elapsed().as_nanos()));
        t.publish_as(&source, payload.clone(), &none, DeliveryMode::Transient)
            .await?;
        match tokio::time::timeout(Duration::from_millis(200), c.next()).await {
            Ok(Some(delivery)) => break delivery,
            Ok(None) => anyhow::bail!("consumer ended"),
            Err(_) => continue,
        }
    };
    first.ack().await?;
    for n in 0..10 {
        let payload = Bytes::from(n.to_string());
        t.publish_as(&source, payload.clone(), &none, DeliveryMode::Transient)
            .await?;
        let delivery = loop {
            let delivery = next(&mut c).await?;
            if !delivery.payload.starts_with(b"\"probe") {
                break delivery;
            }
            delivery.ack().await?;
        };
        ensure!(
            delivery.payload == payload,
            "{:?}, not {n}",
            delivery.payload
        );
        ensure!(
            delivery.mode == DeliveryMode::Transient,
            "{:?}",
            delivery.mode
        );
        delivery.ack().await?;
    }
    t.close().await?;
    Ok(())
}
