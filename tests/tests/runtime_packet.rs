//! `runtime:packet`, all five events, through the `msgflo` coordinator and a
//! graph participant (`core/Repeat`, which passes groups through) over real
//! RabbitMQ, in a vhost of the test's own: a client's `connect`,
//! `begingroup`, two `data`, `endgroup`, `disconnect` to the graph's
//! exported inport come back on its exported outport as `begingroup`, the
//! two `data`, `endgroup`. On the broker there are only the two data
//! messages, the group in their `msgflo-brackets` header: `connect`,
//! `disconnect` and the group's name never arrive as data.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Delivery};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start, Client, REPLY};
use msgflo_tests::process::spawn_ready;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, unique};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

async fn next(consumer: &mut Consumer) -> Result<Delivery> {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .with_context(|| format!("nothing on {} within {WAIT:?}", consumer.queue()))?
        .context("consumer ended")
}

/// Reads frames until `runtime:packet`s number `packets` and
/// `runtime:packetsent`s number `sent`; returns the packets as
/// `event payload`. A `runtime:error` fails.
async fn read_packets(c: &mut Client, packets: usize, sent: usize) -> Result<Vec<String>> {
    let (mut seen, mut answered) = (Vec::new(), 0);
    while seen.len() < packets || answered < sent {
        let frame = c.next(WAIT).await.with_context(|| {
            format!("packets so far: {seen:?}, {answered} of {sent} packetsent")
        })?;
        let p = &frame["payload"];
        match (frame["protocol"].as_str(), frame["command"].as_str()) {
            (Some("runtime"), Some("packet")) => {
                ensure!(p["port"] == "out", "{frame}");
                seen.push(format!("{} {}", p["event"], p["payload"]));
            }
            (Some("runtime"), Some("packetsent")) => answered += 1,
            (Some("runtime"), Some("error")) => anyhow::bail!("refused: {frame}"),
            _ => {}
        }
    }
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_group_crosses_the_broker_and_comes_back_around_its_data() -> Result<()> {
    let vhost = Vhost::new("runtime-packet")?;
    let broker = vhost.url().to_owned();
    let role = unique("pkt").replace('.', "_");
    let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
    command
        .args(["--name", &role, "--component", "core/Repeat", "--broker"])
        .arg(&broker)
        .env_remove("RUST_LOG");
    let (_participant, _) = spawn_ready(command, Duration::from_secs(30)).await?;

    // A plain consumer of the outport sees what crosses the broker.
    let t = client(&broker, "pkt-watch").await?;
    let out = QueueName::new(format!("{role}.OUT"))?;
    let sink = QueueName::new(unique("pkt.sink"))?;
    t.declare_outport(&out).await?;
    t.declare_inport(&sink).await?;
    let mut sink_c = t.consume(&sink, 10).await?;
    t.bind(&out, &sink).await?;

    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("packets.fbp");
    std::fs::write(
        &graph,
        format!("INPORT={role}.IN:IN\nOUTPORT={role}.OUT:OUT\n{role}(core/Repeat)\n"),
    )?;
    let coordinator = start(&broker, &["--graph", &graph.display().to_string()]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    c.send("runtime", "getruntime", json!({}), None).await?;
    let info = c.until("runtime", "runtime", REPLY).await?;
    let graph_id = info["payload"]["graph"].clone();
    ensure!(graph_id.is_string(), "{info}");
    // network:started comes once the exported outport is watched.
    c.send("network", "start", json!({"graph": graph_id}), None)
        .await?;
    c.until("network", "started", WAIT).await?;

    let send = |event: &str, payload: Option<Value>| {
        let mut body = json!({"port": "in", "event": event, "graph": graph_id});
        if let Some(payload) = payload {
            body["payload"] = payload;
        }
        body
    };
    let stream = [
        send("connect", None),
        send("begingroup", Some(json!("g"))),
        send("data", Some(json!({"n": 1}))),
        send("data", Some(json!({"n": 2}))),
        send("endgroup", Some(json!("g"))),
        send("disconnect", None),
    ];
    for body in &stream {
        c.send("runtime", "packet", body.clone(), None).await?;
    }
    let seen = read_packets(&mut c, 4, stream.len()).await?;
    ensure!(
        seen == [
            r#""begingroup" "g""#,
            r#""data" {"n":1}"#,
            r#""data" {"n":2}"#,
            r#""endgroup" "g""#,
        ],
        "the client got back {seen:?}"
    );

    let first = next(&mut sink_c).await?;
    let second = next(&mut sink_c).await?;
    let crossed = [&first, &second].map(|d| {
        (
            String::from_utf8_lossy(&d.payload).into_owned(),
            d.headers.get("msgflo-brackets").map(str::to_owned),
        )
    });
    ensure!(
        crossed
            == [
                (
                    r#"{"n":1}"#.to_owned(),
                    Some(r#"{"before":[{"open":"g"}]}"#.to_owned())
                ),
                (
                    r#"{"n":2}"#.to_owned(),
                    Some(r#"{"after":[{"close":"g"}]}"#.to_owned())
                ),
            ],
        "on the broker: {crossed:?}"
    );
    first.ack().await?;
    second.ack().await?;

    // Nothing else came between: the next message, on both sides, is the
    // next data sent.
    for body in [
        send("connect", None),
        send("data", Some(json!("after"))),
        send("disconnect", None),
    ] {
        c.send("runtime", "packet", body, None).await?;
    }
    let seen = read_packets(&mut c, 1, 3).await?;
    ensure!(seen == [r#""data" "after""#], "then {seen:?}");
    let third = next(&mut sink_c).await?;
    ensure!(
        third.payload.as_ref() == b"\"after\"" && third.headers.is_empty(),
        "then on the broker: {third:?}"
    );
    third.ack().await?;
    Ok(())
}
