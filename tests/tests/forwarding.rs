//! MQTT edges into a participant that takes no `connectinport` carry their
//! messages: the coordinator passes them on, byte for byte. Under our
//! coordinator on Mosquitto, a Rust `core/Repeat` feeds the Python
//! participant of `examples/polyglot/shout.py` (msgflo-python 0.4.1 from
//! PyPI, which answers no control message), which feeds a Rust
//! `core/Output`: 1,000 messages go in, every one reaches the Python
//! participant's inport byte for byte as the Rust one sent it, and the
//! Python participant's work comes out at the end of the chain (the first
//! 50: msgflo-python 0.4.1 handles about 10 messages a second).

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start_with, Client};
use msgflo_tests::tools::run;
use msgflo_tests::{client, mqtt_url, python, workspace_root};
use serde_json::json;
use std::time::Duration;

const MESSAGES: usize = 1000;
/// Messages read at the end of the chain.
const WORKED: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_participant_feeds_a_python_one_through_the_coordinator() -> Result<()> {
    let example = workspace_root().join("examples/polyglot");
    let python = python::venv("msgflo-0.4.1", &example.join("requirements.txt"))?;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let (src, shout, sink) = (
        format!("src_{suffix}"),
        format!("shout_{suffix}"),
        format!("sink_{suffix}"),
    );
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("forwarding.fbp");
    std::fs::write(
        &graph,
        format!(
            "{src}(core/Repeat) OUT -> IN {shout}(polyglot/Shout) OUT -> IN {sink}(core/Output)\n"
        ),
    )?;
    let library = dir.path().join("library.json");
    let participant = binary("msgflo-participant")?;
    let core = |c: &str| format!("{} --name #ROLE --component {c}", participant.display());
    std::fs::write(
        &library,
        serde_json::to_vec(&json!({"components": {
            "polyglot/Shout": format!("{} {} #ROLE", python.display(), example.join("shout.py").display()),
            "core/Repeat": core("core/Repeat"),
            "core/Output": core("core/Output"),
        }}))?,
    )?;

    // Copies of what the Rust source sends, what the Python participant is
    // given (its own inport topic), and what comes out at the end.
    // Each on a connection of its own: the broker's in-flight window is per
    // connection, and the copies are read one tap after the other.
    let broker = mqtt_url();
    let test = client(&broker, "forwarding-test").await?;
    let watch = |queue: String| {
        let broker = broker.clone();
        async move {
            let watcher = client(&broker, "forwarding-watch").await?;
            let tap = watcher.tap(&QueueName::new(queue)?).await?;
            anyhow::Ok((watcher, tap))
        }
    };
    let (_w1, mut sent) = watch(format!("{src}.OUT")).await?;
    let (_w2, mut given) = watch(format!("{shout}/in")).await?;
    let (_w3, mut out) = watch(format!("{sink}.OUT")).await?;

    let graph = graph.to_string_lossy().into_owned();
    let library = library.to_string_lossy().into_owned();
    // Its INFO line "forwarding through the coordinator" says when the
    // forward is in place.
    let log = ("RUST_LOG", "warn,msgflo_coordinator::live::executor=info");
    let args = ["--graph", &graph, "--library", &library];
    let coordinator = start_with(&broker, &args, &[log]).await?;
    let mut fbp = Client::connect(coordinator.port).await?;
    // The coordinator says so once the Python participant answered no
    // connectinport (within 5 s of being asked).
    let said = loop {
        let message = fbp
            .until("network", "output", Duration::from_secs(60))
            .await?;
        if message["payload"]["message"]
            .as_str()
            .is_some_and(|t| t.contains("takes no connectinport"))
        {
            break message;
        }
    };
    ensure!(
        said["payload"]["message"]
            .as_str()
            .is_some_and(|t| t.contains(&shout)),
        "{said}"
    );

    // MQTT keeps nothing for a topic nobody subscribes to: what the source
    // publishes before the coordinator's tap on it is in place is not
    // forwarded. So the messages go in once it is.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !coordinator
        .process
        .stderr_so_far()
        .contains("forwarding through the coordinator")
    {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the forward was not in place within 30 s: {}",
            coordinator.process.stderr_so_far()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let inport = QueueName::new(format!("{src}.IN"))?;
    for i in 0..MESSAGES {
        // JSON text with escapes and non-ASCII: passed on untouched.
        let text = format!("\"m{i}-\\u00e9\\\"ü\"");
        test.send_to_inport(&inport, text.into_bytes().into())
            .await?;
    }
    // Both copies read as they come: a tap read only later would have the
    // broker queue its copies meanwhile, up to Mosquitto's per-client
    // limit (`max_queued_messages`, 1,000 by default).
    let (sent, given) = tokio::join!(
        read(&mut sent.consumer, MESSAGES),
        read(&mut given.consumer, MESSAGES)
    );
    let sent = sent.context("the Rust source's output")?;
    let given = given.context("what the Python participant was given")?;
    ensure!(sent == given, "forwarded bytes differ from the sent ones");
    let out = read(&mut out.consumer, WORKED)
        .await
        .context("the end of the chain")?;
    let texts: Vec<String> = out
        .iter()
        .filter_map(|p| serde_json::from_slice(p).ok())
        .collect();
    let expected: Vec<String> = (0..WORKED).map(|i| format!("M{i}-É\"Ü!")).collect();
    ensure!(
        texts == expected,
        "the Python participant's work: {texts:?}"
    );
    // msgflo-participants shows the edge that depends on the coordinator.
    let runtime = format!("ws://127.0.0.1:{}", coordinator.port);
    let (code, listing, err) = run("msgflo-participants", &["--runtime", &runtime]).await?;
    ensure!(code == Some(0), "msgflo-participants: {err}");
    ensure!(
        listing.lines().any(|l| l.starts_with(&format!("{src}.OUT"))
            && l.trim_end().ends_with(&format!("{shout}/in")))
            && listing.contains("FORWARDED BY THE COORDINATOR"),
        "{listing}"
    );
    test.close().await?;
    drop(coordinator);
    Ok(())
}

/// The next `count` payloads of `consumer`, acked; each within 30 s.
async fn read(
    consumer: &mut msgflo_participant::transport::Consumer,
    count: usize,
) -> Result<Vec<bytes::Bytes>> {
    let mut payloads = Vec::new();
    while payloads.len() < count {
        let delivery = tokio::time::timeout(Duration::from_secs(30), consumer.next())
            .await
            .with_context(|| format!("{} of {count} within 30 s of each other", payloads.len()))?
            .context("consumer ended")?;
        payloads.push(delivery.payload.clone());
        delivery.ack().await?;
    }
    Ok(payloads)
}
