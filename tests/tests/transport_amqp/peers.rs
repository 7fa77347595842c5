//! Binding to what a peer declared: `bind` declares an end only if it is
//! missing, so a queue or exchange that a peer declared its own way
//! (msgflo-python 0.4.1: not durable, auto-delete, no dead-letter argument;
//! or other arguments) is bound as it is and keeps its shape — also after
//! our connection is lost and comes back, and a peer's queue that is gone
//! by then is not declared again by us. In a vhost of the test's own.

use super::{rabbitmqctl, Amqp, Harness};
use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use lapin::options::{BasicPublishOptions, ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::Consumer;
use msgflo_tests::vhost::Vhost;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
/// Messages sent each way.
const MESSAGES: usize = 100;

fn q(name: &str) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// `name -> {durable, auto_delete, arguments}` of the vhost's queues, the
/// arguments as an object `{name: value}` (rabbitmqctl lists them as
/// `[name, type, value]` triples).
async fn queues(vhost: &str) -> Result<BTreeMap<String, Value>> {
    let fields = ["name", "durable", "auto_delete", "arguments"];
    let mut args = vec!["list_queues", "-p", vhost];
    args.extend(fields);
    args.extend(["--formatter", "json"]);
    let listing: Value = serde_json::from_str(&rabbitmqctl(&args).await?)?;
    let mut out = BTreeMap::new();
    for queue in listing.as_array().context("a JSON list of queues")? {
        let arguments: serde_json::Map<String, Value> = queue["arguments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|triple| Some((triple[0].as_str()?.to_owned(), triple[2].clone())))
            .collect();
        out.insert(
            queue["name"].as_str().context("a queue name")?.to_owned(),
            json!({"durable": queue["durable"], "auto_delete": queue["auto_delete"], "arguments": arguments}),
        );
    }
    Ok(out)
}

/// `name -> durable` of the vhost's exchanges.
async fn exchanges(vhost: &str) -> Result<BTreeMap<String, bool>> {
    let args = [
        "list_exchanges",
        "-p",
        vhost,
        "name",
        "durable",
        "--formatter",
        "json",
    ];
    let listing: Value = serde_json::from_str(&rabbitmqctl(&args).await?)?;
    let mut out = BTreeMap::new();
    for exchange in listing.as_array().context("a JSON list of exchanges")? {
        let name = exchange["name"].as_str().context("an exchange name")?;
        out.insert(name.to_owned(), exchange["durable"] == json!(true));
    }
    Ok(out)
}

/// Takes `n` messages and checks they are `prefix-0 ..`, in order.
async fn expect(consumer: &mut Consumer, prefix: &str, n: usize) -> Result<()> {
    for i in 0..n {
        let delivery = tokio::time::timeout(WAIT, consumer.next())
            .await
            .with_context(|| format!("{prefix}-{i} not on {} in time", consumer.queue()))?
            .context("consumer ended")?;
        ensure!(
            delivery.payload == format!("\"{prefix}-{i}\""),
            "{prefix}-{i}: got {:?}",
            delivery.payload
        );
        delivery.ack().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_leaves_a_peers_queue_and_exchange_as_declared_also_after_reconnecting() -> Result<()>
{
    let vhost = Vhost::new("peers")?;
    let name = vhost.name().to_owned();
    let h = Amqp::on(vhost.url());

    // The peer: msgflo-python's shapes (haigha defaults), and a queue with
    // arguments of its own and no dead-letter exchange.
    let peer = Connection::connect(vhost.url(), ConnectionProperties::default()).await?;
    let ch = peer.create_channel().await?;
    let haigha_queue = QueueDeclareOptions {
        durable: false,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    ch.queue_declare("py/in".into(), haigha_queue, FieldTable::default())
        .await?;
    let mut limited = FieldTable::default();
    limited.insert("x-max-length".into(), AMQPValue::LongInt(10_000));
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    ch.queue_declare("other.IN".into(), durable, limited)
        .await?;
    ch.exchange_declare(
        "py/out".into(),
        ExchangeKind::Fanout,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let peers_queues = queues(&name).await?;

    // Ours: an outport nobody declared yet bound to both peer queues, and
    // the peer's outport bound to an inport nobody declared yet.
    let t = h.connect("binder").await?;
    let (ours_out, ours_in) = (q("rust.OUT")?, q("rust.IN")?);
    let (py_in, py_out, other_in) = (q("py/in")?, q("py/out")?, q("other.IN")?);
    t.bind(&ours_out, &py_in).await?;
    t.bind(&ours_out, &other_in).await?;
    t.bind(&py_out, &ours_in).await?;
    // A tap of the peer's outport (a client watching its edge) too.
    let mut watching = t.tap(&py_out).await?;

    let listed = queues(&name).await?;
    for peers in ["py/in", "other.IN"] {
        ensure!(
            listed.get(peers) == peers_queues.get(peers),
            "{peers} changed: {:?} -> {:?}",
            peers_queues.get(peers),
            listed.get(peers)
        );
    }
    ensure!(
        listed.get("rust.IN")
            == Some(&json!({"durable": true, "auto_delete": false,
                "arguments": {"x-dead-letter-exchange": "dead-rust.IN"}})),
        "the missing inport is declared msgflo's way: {listed:?}"
    );
    ensure!(listed.contains_key("dead-rust.IN"), "{listed:?}");
    let listed = exchanges(&name).await?;
    ensure!(listed.get("py/out") == Some(&false), "{listed:?}");
    ensure!(listed.get("rust.OUT") == Some(&true), "{listed:?}");

    // Messages flow both ways.
    let reader = h.connect("reader").await?;
    let mut at_py = reader.consume(&py_in, 200).await?;
    let mut at_other = reader.consume(&other_in, 200).await?;
    let mut at_ours = reader.consume(&ours_in, 200).await?;
    for i in 0..MESSAGES {
        t.publish(&ours_out, Bytes::from(format!("\"to-py-{i}\"")))
            .await?;
        ch.basic_publish(
            "py/out".into(),
            "".into(),
            BasicPublishOptions::default(),
            format!("\"from-py-{i}\"").as_bytes(),
            BasicProperties::default(),
        )
        .await?;
    }
    expect(&mut at_py, "to-py", MESSAGES).await?;
    expect(&mut at_other, "to-py", MESSAGES).await?;
    expect(&mut at_ours, "from-py", MESSAGES).await?;
    expect(&mut watching.consumer, "from-py", MESSAGES).await?;

    // Our connection is lost and comes back: the bindings are made again,
    // the peer's queues are not declared again.
    h.kill_connections(&["binder"]).await?;
    t.publish(&ours_out, Bytes::from_static(b"\"after-0\""))
        .await?; // waits for the reconnection, which replays first
    expect(&mut at_py, "after", 1).await?;
    expect(&mut at_other, "after", 1).await?;
    let listed = queues(&name).await?;
    ensure!(
        listed.get("py/in") == peers_queues.get("py/in")
            && listed.get("other.IN") == peers_queues.get("other.IN"),
        "after reconnecting: {listed:?}"
    );

    // The peer goes away (its auto-delete queue with its last consumer);
    // our next reconnection does not bring its queue back.
    reader.close().await?;
    let deadline = Instant::now() + WAIT;
    while queues(&name).await?.contains_key("py/in") {
        ensure!(Instant::now() < deadline, "py/in was not auto-deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.kill_connections(&["binder"]).await?;
    t.publish(&ours_out, Bytes::from_static(b"\"after-1\""))
        .await?;
    let listed = queues(&name).await?;
    ensure!(
        !listed.contains_key("py/in"),
        "the peer's queue was declared again by us: {listed:?}"
    );
    ensure!(
        listed.get("other.IN") == peers_queues.get("other.IN") && listed.contains_key("rust.IN"),
        "{listed:?}"
    );
    t.close().await?;
    peer.close(200, "OK".into()).await?;
    Ok(())
}
