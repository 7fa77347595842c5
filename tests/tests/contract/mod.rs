//! The transport contract: every transport (AMQP, MQTT, memory) must pass these
//! cases against its real broker. Each case uses fresh, unique queue names, so
//! cases run in parallel; each connects as many clients as it needs, as separate
//! processes would.
//!
//! Bindings are made through the transport that consumes the inport: on MQTT a
//! binding is a subscription of the consuming client (see the transport docs).

mod consumers;
pub mod harness;

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
pub use consumers::{says_whether_it_is_connected, set_prefetch_changes_a_running_consumer};
pub use harness::Harness;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{dead_letter_queue, Consumer, Delivery, Headers, Transport};
use msgflo_tests::unique;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How long a case waits for a message that must come.
pub const WAIT: Duration = Duration::from_secs(15);

fn queue(prefix: &str) -> QueueName {
    QueueName::new(unique(prefix)).expect("unique names are valid")
}

async fn next(consumer: &mut Consumer) -> Result<Delivery> {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("no message on {} within {WAIT:?}", consumer.queue()))?
        .with_context(|| format!("consumer of {} ended", consumer.queue()))
}

/// Receives `n` messages, acking each, and returns their payloads.
async fn take(consumer: &mut Consumer, n: usize) -> Result<Vec<Bytes>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let delivery = next(consumer).await?;
        out.push(delivery.payload.clone());
        delivery.ack().await?;
    }
    Ok(out)
}

fn numbered(prefix: &str, n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| Bytes::from(format!("{{\"{prefix}\":{i}}}")))
        .collect()
}

async fn inport(t: &Arc<dyn Transport>, prefix: &str) -> Result<QueueName> {
    let q = queue(prefix);
    t.declare_inport(&q).await?;
    Ok(q)
}

async fn outport(t: &Arc<dyn Transport>, prefix: &str) -> Result<QueueName> {
    let q = queue(prefix);
    t.declare_outport(&q).await?;
    Ok(q)
}

/// A message sent straight to an inport arrives byte for byte, whatever it is.
pub async fn direct_send_arrives_byte_for_byte(h: &dyn Harness) -> Result<()> {
    let t = h.connect("direct").await?;
    let q = inport(&t, "contract.direct.IN").await?;
    let mut consumer = t.consume(&q, 10).await?;
    let payloads = [
        Bytes::from_static(br#"{ "bar" : "foo",  "n": 1.50 }"#),
        Bytes::from_static(b"plain text, not JSON"),
        Bytes::from_static(&[0, 159, 146, 150, 255]),
        Bytes::new(),
    ];
    for p in &payloads {
        t.send_to_inport(&q, p.clone()).await?;
    }
    let got = take(&mut consumer, payloads.len()).await?;
    ensure!(got == payloads, "payloads changed on the way: {got:?}");
    Ok(())
}

/// One outport bound to two inports: each inport gets every message.
pub async fn fan_out(h: &dyn Harness) -> Result<()> {
    let (pub_t, a_t, b_t) = (
        h.connect("fo-pub").await?,
        h.connect("fo-a").await?,
        h.connect("fo-b").await?,
    );
    let out = outport(&pub_t, "contract.fanout.OUT").await?;
    let (a, b) = (
        inport(&a_t, "contract.fanout.A").await?,
        inport(&b_t, "contract.fanout.B").await?,
    );
    let mut ca = a_t.consume(&a, 10).await?;
    let mut cb = b_t.consume(&b, 10).await?;
    a_t.bind(&out, &a).await?;
    b_t.bind(&out, &b).await?;
    let msgs = numbered("fanout", 20);
    for m in &msgs {
        pub_t.publish(&out, m.clone()).await?;
    }
    ensure!(
        take(&mut ca, 20).await? == msgs,
        "inport A did not get every message in order"
    );
    ensure!(
        take(&mut cb, 20).await? == msgs,
        "inport B did not get every message in order"
    );
    Ok(())
}

/// Two outports bound to one inport: it gets the messages of both.
pub async fn fan_in(h: &dyn Harness) -> Result<()> {
    let (pub_t, sub_t) = (h.connect("fi-pub").await?, h.connect("fi-sub").await?);
    let (o1, o2) = (
        outport(&pub_t, "contract.fanin.O1").await?,
        outport(&pub_t, "contract.fanin.O2").await?,
    );
    let i = inport(&sub_t, "contract.fanin.IN").await?;
    let mut c = sub_t.consume(&i, 10).await?;
    sub_t.bind(&o1, &i).await?;
    sub_t.bind(&o2, &i).await?;
    let (m1, m2) = (numbered("one", 10), numbered("two", 10));
    for (x, y) in m1.iter().zip(&m2) {
        pub_t.publish(&o1, x.clone()).await?;
        pub_t.publish(&o2, y.clone()).await?;
    }
    let got: BTreeSet<_> = take(&mut c, 20).await?.into_iter().collect();
    let want: BTreeSet<_> = m1.into_iter().chain(m2).collect();
    ensure!(got == want, "fan-in lost or changed messages");
    Ok(())
}

/// Two consumers of one inport share its messages: each message goes to
/// exactly one of them, and both get some.
pub async fn round_robin_between_consumers(h: &dyn Harness) -> Result<()> {
    let (t1, t2, sender) = (
        h.connect("rr-1").await?,
        h.connect("rr-2").await?,
        h.connect("rr-s").await?,
    );
    let q = inport(&t1, "contract.rr.IN").await?;
    t2.declare_inport(&q).await?;
    let mut c1 = t1.consume(&q, 1).await?;
    let mut c2 = t2.consume(&q, 1).await?;
    let msgs = numbered("rr", 40);
    for m in &msgs {
        sender.send_to_inport(&q, m.clone()).await?;
    }
    let (mut got1, mut got2) = (Vec::new(), Vec::new());
    while got1.len() + got2.len() < msgs.len() {
        tokio::select! {
            d = next(&mut c1) => { let d = d?; got1.push(d.payload.clone()); d.ack().await?; }
            d = next(&mut c2) => { let d = d?; got2.push(d.payload.clone()); d.ack().await?; }
        }
    }
    ensure!(
        !got1.is_empty() && !got2.is_empty(),
        "one consumer got everything: {} / {}",
        got1.len(),
        got2.len()
    );
    let all: BTreeSet<_> = got1.iter().chain(&got2).cloned().collect();
    ensure!(all.len() == msgs.len(), "duplicates between consumers");
    ensure!(
        all == msgs.iter().cloned().collect::<BTreeSet<_>>(),
        "messages lost"
    );
    Ok(())
}

/// `bind` declares an end nobody declared yet (with the transport's own
/// shape): the inport's consumer then gets what is published to the
/// outport; a second bind uses the inport as it is.
pub async fn bind_declares_the_ends_that_are_missing(h: &dyn Harness) -> Result<()> {
    let t = h.connect("bind-missing").await?;
    let (out, i) = (queue("contract.bindnew.OUT"), queue("contract.bindnew.IN"));
    t.bind(&out, &i).await?;
    let mut c = t.consume(&i, 10).await?;
    t.publish(&out, Bytes::from_static(b"\"through\"")).await?;
    ensure!(take(&mut c, 1).await? == ["\"through\""]);
    let other = queue("contract.bindnew2.OUT");
    t.bind(&other, &i).await?;
    t.publish(&other, Bytes::from_static(b"\"second\"")).await?;
    ensure!(take(&mut c, 1).await? == ["\"second\""]);
    t.close().await?;
    Ok(())
}

/// After unbind, messages published to the outport no longer reach the inport.
pub async fn unbind_stops_delivery(h: &dyn Harness) -> Result<()> {
    let (pub_t, sub_t) = (h.connect("ub-pub").await?, h.connect("ub-sub").await?);
    let out = outport(&pub_t, "contract.unbind.OUT").await?;
    let i = inport(&sub_t, "contract.unbind.IN").await?;
    let mut c = sub_t.consume(&i, 10).await?;
    sub_t.bind(&out, &i).await?;
    pub_t
        .publish(&out, Bytes::from_static(b"\"bound\""))
        .await?;
    ensure!(
        take(&mut c, 1).await? == [Bytes::from_static(b"\"bound\"")],
        "bound message missing"
    );

    sub_t.unbind(&out, &i).await?;
    pub_t
        .publish(&out, Bytes::from_static(b"\"after unbind\""))
        .await?;
    // A marker sent straight to the inport after the unbound publish: if the
    // unbound message arrived at all, it would come first.
    pub_t
        .send_to_inport(&i, Bytes::from_static(b"\"marker\""))
        .await?;
    let got = take(&mut c, 1).await?;
    ensure!(
        got == [Bytes::from_static(b"\"marker\"")],
        "message crossed a removed binding: {got:?}"
    );
    Ok(())
}

/// A nacked message goes to the inport's dead-letter queue, unchanged, and is
/// not delivered again.
pub async fn nack_dead_letters(h: &dyn Harness) -> Result<()> {
    let (t, watcher) = (h.connect("dl").await?, h.connect("dl-watch").await?);
    let q = inport(&t, "contract.dead.IN").await?;
    let dead = dead_letter_queue(&q);
    let mut dead_c = watcher.consume(&dead, 10).await?;
    let mut c = t.consume(&q, 10).await?;
    let payload = Bytes::from_static(br#"{"poison": true}"#);
    t.send_to_inport(&q, payload.clone()).await?;
    next(&mut c).await?.nack().await?;
    ensure!(
        take(&mut dead_c, 1).await? == [payload],
        "dead-lettered message changed"
    );
    t.send_to_inport(&q, Bytes::from_static(b"\"next\""))
        .await?;
    ensure!(
        take(&mut c, 1).await? == [Bytes::from_static(b"\"next\"")],
        "nacked message was delivered again"
    );
    Ok(())
}

/// A consumer that acks each message only once its own publish of the
/// result is confirmed, with many messages in hand at once (as a participant
/// does), keeps going past the broker's in-flight window per client (100 on
/// rumqttd, whose PUBACKs wait for room in that window).
pub async fn acks_after_own_publishes_keep_flowing(h: &dyn Harness) -> Result<()> {
    const MESSAGES: usize = 300;
    let (t, sink) = (h.connect("relay").await?, h.connect("relay-sink").await?);
    let q = inport(&t, "contract.relay.IN").await?;
    let results = inport(&sink, "contract.relay.OUT").await?;
    let mut out = sink.consume(&results, 1000).await?;
    let mut c = t.consume(&q, 1000).await?;
    let sent = numbered("r", MESSAGES);
    for p in &sent {
        t.send_to_inport(&q, p.clone()).await?;
    }
    let relay = {
        let (t, results) = (t.clone(), results.clone());
        tokio::spawn(async move {
            let mut handling = tokio::task::JoinSet::new();
            for _ in 0..MESSAGES {
                let delivery = next(&mut c).await?;
                let (t, results) = (t.clone(), results.clone());
                handling.spawn(async move {
                    t.send_to_inport(&results, delivery.payload.clone()).await?;
                    delivery.ack().await
                });
            }
            while let Some(handled) = handling.join_next().await {
                handled??;
            }
            anyhow::Ok(())
        })
    };
    let got: BTreeSet<Bytes> = take(&mut out, MESSAGES).await?.into_iter().collect();
    relay.await??;
    ensure!(
        got == sent.into_iter().collect(),
        "relayed messages differ from those sent"
    );
    Ok(())
}

/// A message taken but not acked when its consumer's connection goes away is
/// delivered again, marked as redelivered (where the broker marks them).
pub async fn unacked_message_comes_back(h: &dyn Harness) -> Result<()> {
    let client = "unacked";
    let first = h.connect_keeping_session(client).await?;
    let q = inport(&first, "contract.unacked.IN").await?;
    let mut c = first.consume(&q, 10).await?;
    let payload = Bytes::from_static(b"\"not acked\"");
    first.send_to_inport(&q, payload.clone()).await?;
    let delivery = next(&mut c).await?;
    ensure!(delivery.payload == payload && !delivery.redelivered);
    drop(delivery);
    first.close().await?;
    drop(c);

    let second = h.reconnect(client).await?;
    second.declare_inport(&q).await?;
    let mut c = second.consume(&q, 10).await?;
    let again = next(&mut c).await?;
    ensure!(
        again.payload == payload,
        "another message came back: {:?}",
        again.payload
    );
    ensure!(
        again.redelivered || !h.marks_redeliveries(),
        "redelivery is not marked"
    );
    again.ack().await?;
    Ok(())
}

/// The broker closes the connection: the transport reconnects (and counts
/// it), its consumer and bindings work again, and publishing resumes; every
/// message arrives.
pub async fn recovers_after_the_broker_closes_the_connection(h: &dyn Harness) -> Result<()> {
    let (pub_t, sub_t) = (h.connect("rec-pub").await?, h.connect("rec-sub").await?);
    let out = outport(&pub_t, "contract.recover.OUT").await?;
    let i = inport(&sub_t, "contract.recover.IN").await?;
    let mut c = sub_t.consume(&i, 50).await?;
    sub_t.bind(&out, &i).await?;
    let msgs = numbered("recover", 200);
    for m in &msgs[..100] {
        pub_t.publish(&out, m.clone()).await?;
    }
    let mut got = take(&mut c, 50).await?;
    ensure!(sub_t.reconnects() == 0, "reconnected before the close");
    h.kill_connections(&["rec-pub", "rec-sub"]).await?;
    // Publishing right after the close waits for the reconnection, then goes on.
    for m in &msgs[100..] {
        pub_t.publish(&out, m.clone()).await?;
    }
    while got.iter().collect::<BTreeSet<_>>().len() < msgs.len() {
        let d = next(&mut c).await?;
        got.push(d.payload.clone());
        d.ack().await?;
    }
    let unique: BTreeSet<_> = got.into_iter().collect();
    ensure!(
        unique == msgs.into_iter().collect::<BTreeSet<_>>(),
        "messages lost across the reconnection"
    );
    // Its consumer took messages after the close: it reconnected.
    ensure!(
        sub_t.reconnects() >= 1,
        "reconnects not counted: {}",
        sub_t.reconnects()
    );
    Ok(())
}

/// Headers sent straight to an inport (a coordinator passing a client's
/// brackets on) arrive with the message; where the transport has no headers
/// (MQTT 3.1.1) the payload still arrives, without them.
pub async fn headers_travel_with_a_direct_send(h: &dyn Harness) -> Result<()> {
    let t = h.connect("hdr-send").await?;
    let q = inport(&t, "contract.headers-send.IN").await?;
    let mut c = t.consume(&q, 10).await?;
    let headers: Headers = [("msgflo-brackets", r#"{"before":[{"open":"g"}]}"#)]
        .into_iter()
        .collect();
    let payload = Bytes::from_static(b"\"sent with headers\"");
    t.send_to_inport_with(&q, payload.clone(), &headers).await?;
    let delivery = next(&mut c).await?;
    ensure!(delivery.payload == payload, "payload changed");
    let expected = if h.carries_headers() {
        headers
    } else {
        Headers::new()
    };
    ensure!(
        delivery.headers == expected,
        "headers not as sent: {:?}",
        delivery.headers
    );
    delivery.ack().await?;
    Ok(())
}

/// Headers published with a message arrive with it, on every bound inport and
/// into the dead-letter queue; where the transport has no headers (MQTT 3.1.1)
/// the payload still arrives, without them.
pub async fn headers_travel_with_the_message(h: &dyn Harness) -> Result<()> {
    let (t, watcher) = (h.connect("hdr").await?, h.connect("hdr-watch").await?);
    ensure!(
        t.capabilities().headers == h.carries_headers(),
        "the transport says headers: {}, and the harness knows otherwise",
        t.capabilities().headers
    );
    let out = outport(&t, "contract.headers.OUT").await?;
    let q = inport(&t, "contract.headers.IN").await?;
    let dead = dead_letter_queue(&q);
    let mut dead_c = watcher.consume(&dead, 10).await?;
    let mut c = t.consume(&q, 10).await?;
    t.bind(&out, &q).await?;
    let headers: Headers = [("msgflo-test", "(a) [b] \"c\""), ("second", "")]
        .into_iter()
        .collect();
    let payload = Bytes::from_static(b"\"with headers\"");
    t.publish_with(&out, payload.clone(), &headers).await?;
    let expected = |d: &Delivery| {
        if h.carries_headers() {
            d.headers.get("msgflo-test") == Some("(a) [b] \"c\"")
                && d.headers.get("second") == Some("")
        } else {
            d.headers.is_empty()
        }
    };
    let delivery = next(&mut c).await?;
    ensure!(delivery.payload == payload, "payload changed");
    ensure!(
        expected(&delivery),
        "headers not as published: {:?}",
        delivery.headers
    );
    delivery.nack().await?;
    let dead_letter = next(&mut dead_c).await?;
    ensure!(
        dead_letter.payload == payload,
        "dead-lettered payload changed"
    );
    ensure!(
        expected(&dead_letter),
        "dead-lettered headers not kept: {:?}",
        dead_letter.headers
    );
    dead_letter.ack().await?;
    Ok(())
}

/// A tap gets a copy of every message published to an outport, while the
/// bound inport still gets all of them; unbinding the tap ends the copies.
pub async fn tap_copies_without_taking(h: &dyn Harness) -> Result<()> {
    let (t, watcher) = (h.connect("tap").await?, h.connect("tap-watch").await?);
    let out = outport(&t, "contract.tap.OUT").await?;
    let q = inport(&t, "contract.tap.IN").await?;
    let mut c = t.consume(&q, 10).await?;
    t.bind(&out, &q).await?;
    let mut tap = watcher.tap(&out).await?;
    let msgs = numbered("tap", 5);
    for m in &msgs {
        t.publish(&out, m.clone()).await?;
    }
    ensure!(
        take(&mut c, 5).await? == msgs,
        "the inport lost messages to the tap"
    );
    ensure!(
        take(&mut tap.consumer, 5).await? == msgs,
        "the tap missed messages"
    );
    watcher.unbind(&out, &tap.queue).await?;
    t.publish(&out, Bytes::from_static(b"\"after\"")).await?;
    ensure!(take(&mut c, 1).await? == [Bytes::from_static(b"\"after\"")]);
    let late = tokio::time::timeout(Duration::from_millis(300), tap.consumer.next()).await;
    ensure!(late.is_err(), "an unbound tap still got a copy");
    Ok(())
}

/// Ending a tap ends its consumer and its queue, and takes nothing from the
/// connection: the same connection's other consumer keeps getting every
/// message (on MQTT, copies nobody acks would hold the connection's
/// in-flight window). The other consumer takes another outport: on MQTT,
/// Mosquitto sends a client one copy of a message however many of its
/// subscriptions match.
pub async fn untap_ends_consumer_and_queue(h: &dyn Harness) -> Result<()> {
    let (t, watcher) = (h.connect("untap").await?, h.connect("untap-watch").await?);
    let out = outport(&t, "contract.untap.OUT").await?;
    let other = outport(&t, "contract.untap.OTHER").await?;
    let q = inport(&watcher, "contract.untap.IN").await?;
    let mut c = watcher.consume(&q, 200).await?;
    watcher.bind(&other, &q).await?;
    let mut tap = watcher.tap(&out).await?;
    let msgs = numbered("untap", 5);
    for m in &msgs {
        t.publish(&out, m.clone()).await?;
    }
    ensure!(
        take(&mut tap.consumer, 5).await? == msgs,
        "the tap missed messages"
    );
    // Copies on their way while the tap ends.
    for m in numbered("during", 30) {
        t.publish(&out, m).await?;
    }
    watcher.untap(&out, &tap.queue).await?;
    // The consumer yields what it held (acked: harmless), then ends.
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(delivery) = tap.consumer.next().await {
            delivery.ack().await?;
        }
        anyhow::Ok(())
    });
    ended
        .await
        .context("the tap's consumer did not end after untap")??;
    let after = numbered("after", 100);
    for m in &after {
        t.publish(&out, m.clone()).await?;
        t.publish(&other, m.clone()).await?;
    }
    let got = take(&mut c, 100).await?;
    ensure!(
        got == after,
        "the connection's other consumer got {:?}... after untap, not the 100 published",
        got.iter().take(3).collect::<Vec<_>>()
    );
    if h.lists_queues() {
        ensure!(
            !watcher.inport_exists(&tap.queue).await?,
            "the tap's queue {} is still on the broker",
            tap.queue
        );
    }
    Ok(())
}

/// `inport_depths` says what waits in each queue and who consumes it, and
/// `None` for a queue that is not there (on brokers that keep queues; MQTT
/// says `None` for all).
pub async fn inport_depths_count_what_waits(h: &dyn Harness) -> Result<()> {
    let t = h.connect("depths").await?;
    let (full, consumed) = (
        inport(&t, "contract.depth.IN").await?,
        inport(&t, "contract.depth2.IN").await?,
    );
    let missing = queue("contract.depth-missing.IN");
    for m in numbered("waiting", 3) {
        t.send_to_inport(&full, m).await?;
    }
    let _consumer = t.consume(&consumed, 1).await?;
    let depths = t
        .inport_depths(&[full.clone(), missing, consumed.clone()])
        .await?;
    ensure!(depths.len() == 3, "{} depths for 3 queues", depths.len());
    if !h.lists_queues() {
        ensure!(
            depths.iter().all(Option::is_none),
            "a depth without queues: {depths:?}"
        );
        return Ok(());
    }
    let (of_full, of_missing, of_consumed) = (depths[0], depths[1], depths[2]);
    ensure!(
        of_full.map(|d| (d.messages, d.consumers)) == Some((3, 0)),
        "{full}: {of_full:?}, not 3 messages and no consumer"
    );
    ensure!(
        of_missing.is_none(),
        "a missing queue has a depth: {of_missing:?}"
    );
    ensure!(
        of_consumed.map(|d| (d.messages, d.consumers)) == Some((0, 1)),
        "{consumed}: {of_consumed:?}, not empty with one consumer"
    );
    Ok(())
}

/// A discovery watcher sees what participants announce.
pub async fn discovery_watcher_sees_announcements(h: &dyn Harness) -> Result<()> {
    let (t, watcher) = (h.connect("ann").await?, h.connect("ann-watch").await?);
    let mut watching = watcher.watch_discovery().await?;
    let marker = Bytes::from(format!("{{\"marker\":\"{}\"}}", unique("ann")));
    t.announce(marker.clone()).await?;
    // Older announcements (other runs, other tests) may come first.
    loop {
        let delivery = next(&mut watching).await?;
        let mine = delivery.payload == marker;
        delivery.ack().await?;
        if mine {
            return Ok(());
        }
    }
}

/// Generates one `#[tokio::test]` per contract case for a harness.
#[macro_export]
macro_rules! contract_tests {
    ($harness:expr) => {
        $crate::contract_tests!(@cases $harness;
            direct_send_arrives_byte_for_byte, fan_out, fan_in, round_robin_between_consumers,
            unbind_stops_delivery, bind_declares_the_ends_that_are_missing,
            nack_dead_letters, acks_after_own_publishes_keep_flowing,
            unacked_message_comes_back,
            recovers_after_the_broker_closes_the_connection, headers_travel_with_the_message,
            headers_travel_with_a_direct_send,
            tap_copies_without_taking, untap_ends_consumer_and_queue,
            discovery_watcher_sees_announcements, says_whether_it_is_connected,
            set_prefetch_changes_a_running_consumer, inport_depths_count_what_waits);
    };
    (@cases $harness:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() -> anyhow::Result<()> {
                let harness = $harness;
                contract::$case(&harness).await
            }
        )+
    };
}
