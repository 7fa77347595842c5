//! The `msgflo` coordinator over real RabbitMQ, driven as Flowhub would:
//! runtime info and the subprotocol, the secret, 1,000 garbled frames and
//! discovery messages, nodes started from the library (and stopped, and the
//! graph auto-saved), edges pending until their participants appear, and
//! participants expiring.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start, Client, REPLY};
use msgflo_tests::process::spawn_ready;
use msgflo_tests::{amqp_url, client, mqtt_url, next_payload, unique};
use serde_json::{json, Value};
use std::time::Duration;

fn library(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let participant = binary("msgflo-participant")?;
    let path = dir.join("library.json");
    let component =
        |name: &str| format!("{} --name #ROLE --component {name}", participant.display());
    std::fs::write(
        &path,
        serde_json::to_vec(&json!({"components": {
            "core/Repeat": component("core/Repeat"),
            "core/Drop": component("core/Drop"),
        }}))?,
    )?;
    Ok(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_info_and_the_noflo_subprotocol() -> Result<()> {
    let coordinator = start(&amqp_url(), &["--runtime-id", "rt-1"]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    ensure!(
        c.subprotocol.as_deref() == Some("noflo"),
        "{:?}",
        c.subprotocol
    );
    c.send("runtime", "getruntime", json!({}), None).await?;
    let info = c.reply(REPLY).await?;
    ensure!(info["command"] == "runtime", "{info}");
    let p = &info["payload"];
    ensure!(
        p["type"] == "msgflo" && p["version"] == "0.7" && p["id"] == "rt-1",
        "{info}"
    );
    for capability in [
        "protocol:graph",
        "protocol:network",
        "protocol:component",
        "protocol:runtime",
        "component:getsource",
    ] {
        ensure!(
            p["capabilities"]
                .as_array()
                .is_some_and(|c| c.contains(&json!(capability))),
            "{capability}: {info}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_secret_a_client_gets_an_error_and_changes_nothing() -> Result<()> {
    let coordinator = start(&amqp_url(), &["--secret", "s3cret"]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    c.send("graph", "clear", json!({"id": "g", "main": true}), None)
        .await?;
    let refused = c.reply(REPLY).await?;
    ensure!(
        refused["command"] == "error" && refused["protocol"] == "graph",
        "{refused}"
    );
    ensure!(
        refused["payload"]["message"] == "Invalid or missing secret",
        "{refused}"
    );
    c.send(
        "graph",
        "clear",
        json!({"id": "g", "secret": "wrong"}),
        None,
    )
    .await?;
    ensure!(c.reply(REPLY).await?["command"] == "error");
    c.send(
        "component",
        "getsource",
        json!({"name": "g"}),
        Some("s3cret"),
    )
    .await?;
    let source = c.reply(REPLY).await?;
    ensure!(
        source["command"] == "error",
        "the refused clear created nothing: {source}"
    );
    // The secret inside the payload (protocol 0.7) works too.
    c.send(
        "graph",
        "clear",
        json!({"id": "g", "main": true, "secret": "s3cret"}),
        None,
    )
    .await?;
    let cleared = c.reply(REPLY).await?;
    ensure!(cleared["command"] == "clear", "{cleared}");
    ensure!(
        cleared["secret"].is_null() && cleared["payload"]["secret"].is_null(),
        "no secret echoed"
    );

    // A client without the secret sees none of the network's traffic.
    let mut outsider = Client::connect(coordinator.port).await?;
    outsider
        .send("network", "getstatus", json!({"graph": "g"}), None)
        .await?;
    ensure!(outsider.reply(REPLY).await?["command"] == "error");
    c.send("network", "start", json!({"graph": "g"}), Some("s3cret"))
        .await?;
    c.until("network", "started", REPLY).await?;
    let leaked = outsider.next(Duration::from_millis(500)).await;
    ensure!(leaked.is_err(), "an outsider got {leaked:?}");
    Ok(())
}

/// Garbage of every kind: each frame gets exactly one answer within a
/// second, and the coordinator still answers correctly afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_garbled_frames_and_discovery_messages_are_answered_and_survived() -> Result<()>
{
    let broker = amqp_url();
    let coordinator = start(&broker, &[]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    let t = client(&broker, "garbage").await?;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid = r#"{"protocol":"graph","command":"addnode","payload":{"id":"n","component":"c","graph":"g"}}"#;
    for i in 0..1000 {
        let frame = match i % 6 {
            0 => (0..random() % 64).map(|_| char::from(b' ' + (random() % 94) as u8)).collect(),
            1 => valid[..(random() as usize % valid.len())].to_owned(),
            2 => json!({"protocol": format!("p{i}"), "command": "x", "payload": {}}).to_string(),
            3 => json!({"protocol": "network", "command": format!("c{i}"), "payload": {}}).to_string(),
            4 => json!({"protocol": "graph", "command": "addedge", "payload": {"src": i, "graph": []}}).to_string(),
            _ => json!({"protocol": "runtime", "command": "packet", "payload": {"port": "nope", "event": "data", "graph": "x"}}).to_string(),
        };
        c.send_text(frame.clone()).await?;
        let reply = c
            .reply(REPLY)
            .await
            .with_context(|| format!("frame {i}: {frame}"))?;
        ensure!(reply["command"] == "error", "frame {i} {frame}: {reply}");
        ensure!(
            reply["payload"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{reply}"
        );
        if i % 10 == 0 {
            let junk: Vec<u8> = (0..random() % 200).map(|_| random() as u8).collect();
            t.announce(Bytes::from(junk)).await?;
        }
    }
    c.send("runtime", "getruntime", json!({}), None).await?;
    ensure!(c.reply(REPLY).await?["command"] == "runtime");
    Ok(())
}

/// A node added from the library starts its participant, answered at once;
/// removing it stops the process; the graph file follows (auto-save).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addnode_starts_a_participant_removenode_stops_it_and_changes_are_saved() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let library = library(dir.path())?;
    let graph = dir.path().join("main.json");
    std::fs::write(
        &graph,
        r#"{"properties": {"name": "main"}, "processes": {}, "connections": []}"#,
    )?;
    let (lib, file) = (library.display().to_string(), graph.display().to_string());
    let coordinator = start(
        &amqp_url(),
        &["--library", &lib, "--graph", &file, "--auto-save"],
    )
    .await?;
    let mut c = Client::connect(coordinator.port).await?;
    let role = unique("spawned").replace('.', "-");
    c.send(
        "graph",
        "addnode",
        json!({"id": role, "component": "core/Repeat", "graph": "main"}),
        None,
    )
    .await?;
    let added = c.reply(REPLY).await?;
    ensure!(added["command"] == "addnode", "answered at once: {added}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&graph)?)?;
    ensure!(
        saved["processes"][&role]["component"] == "core/Repeat",
        "saved: {saved}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while processes_named(&role)? == 0 {
        ensure!(
            std::time::Instant::now() < deadline,
            "no participant was started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(
        processes_named(&role)? == 1,
        "one participant process for {role}"
    );

    c.send(
        "graph",
        "removenode",
        json!({"id": role, "graph": "main"}),
        None,
    )
    .await?;
    c.until("graph", "removenode", REPLY).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while processes_named(&role)? > 0 {
        ensure!(
            std::time::Instant::now() < deadline,
            "the participant was not stopped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&graph)?)?;
    ensure!(saved["processes"].get(&role).is_none(), "saved: {saved}");
    Ok(())
}

/// How many processes have `role` on their command line.
fn processes_named(role: &str) -> Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline);
        if text.contains(role) && text.contains("msgflo-participant") && !text.starts_with("sh\0") {
            n += 1;
        }
    }
    Ok(n)
}

/// Edges wait for participants that are not there yet and are bound the
/// moment they appear (AMQP: a queue binding; MQTT: `connectinport`, the
/// target participant subscribes); a coordinator started before them does
/// not fail.
async fn edges_wait_for_their_participants(broker: &str) -> Result<()> {
    let broker = broker.to_owned();
    let dir = tempfile::tempdir()?;
    let (a, b) = (
        unique("pend-a").replace('.', "_"),
        unique("pend-b").replace('.', "_"),
    );
    let graph = dir.path().join("pending.fbp");
    std::fs::write(
        &graph,
        format!("{a}(core/Repeat) OUT -> IN {b}(core/Repeat)\n"),
    )?;
    let file = graph.display().to_string();
    let refused = start(
        &broker,
        &["--graph", &file, "--library", "/nonexistent.json"],
    )
    .await
    .err()
    .context("a missing library file is an error")?;
    ensure!(
        refused.to_string().contains("/nonexistent.json"),
        "{refused}"
    );
    let _coordinator = start(&broker, &["--graph", &file]).await?;

    let t = client(&broker, "pending").await?;
    let sink = QueueName::new(unique("pend.sink"))?;
    let b_out = QueueName::new(format!("{b}.OUT"))?;
    t.declare_outport(&b_out).await?;
    t.declare_inport(&sink).await?;
    let mut received = t.consume(&sink, 10).await?;
    t.bind(&b_out, &sink).await?;
    let participant = |role: &str| -> Result<tokio::process::Command> {
        let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
        command.args([
            "--name",
            role,
            "--component",
            "core/Repeat",
            "--broker",
            &broker,
        ]);
        Ok(command)
    };
    let (_b, _) = spawn_ready(participant(&b)?, Duration::from_secs(30)).await?;
    let (_a, _) = spawn_ready(participant(&a)?, Duration::from_secs(30)).await?;
    // The edge is bound once both announced themselves: keep sending until
    // a message makes it through (the first may be sent before the binding).
    let a_in = QueueName::new(format!("{a}.IN"))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        t.send_to_inport(&a_in, Bytes::from_static(b"{\"through\":true}"))
            .await?;
        if let Ok(payload) = next_payload(&mut received, Duration::from_millis(500)).await {
            ensure!(payload == Bytes::from_static(b"{\"through\":true}"));
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the pending edge was never bound"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_edges_wait_for_their_participants_and_are_bound_when_they_appear() -> Result<()> {
    edges_wait_for_their_participants(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_edges_wait_for_their_participants_and_are_bound_when_they_appear() -> Result<()> {
    edges_wait_for_their_participants(&mqtt_url()).await
}

/// A participant that stops announcing itself expires, and clients are told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_participants_expire_and_clients_are_told() -> Result<()> {
    // A vhost of its own: on `/` another coordinator may take the ghost's
    // announcement from the shared `fbp` queue.
    let vhost = msgflo_tests::vhost::Vhost::new("expiry")?;
    let broker = vhost.url().to_owned();
    let coordinator = start(&broker, &["--participant-timeout", "1"]).await?;
    let mut c = Client::connect(coordinator.port).await?;
    let t = client(&broker, "expiry").await?;
    let id = unique("ghost").replace('.', "-");
    let participant = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": id, "role": "ghost", "component": "test/Ghost", "label": "", "icon": "",
        "inports": [], "outports": []}});
    t.announce(Bytes::from(participant.to_string())).await?;
    // Nothing else announces itself here, but read on until the ghost.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let told = c.until("network", "output", left).await?;
        let message = told["payload"]["message"].as_str().unwrap_or_default();
        if message.contains(&id) {
            ensure!(message.contains("expired"), "{told}");
            return Ok(());
        }
    }
}

/// `--ping-interval` makes the coordinator request `--ping-url` (with the
/// runtime id put in) with `--ping-method`, as msgflo does for Flowhub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_pings_its_url_with_the_runtime_id() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!(
        "http://127.0.0.1:{}/runtimes/$RUNTIME_ID",
        listener.local_addr()?.port()
    );
    let args = [
        "--runtime-id",
        "rt-ping",
        "--ping-interval",
        "1",
        "--ping-method",
        "PUT",
        "--ping-url",
        &url,
    ];
    let _coordinator = start(&amqp_url(), &args).await?;
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .context("no ping within 10 s")??;
    let mut request = vec![0u8; 512];
    let n = socket.read(&mut request).await?;
    socket
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .await?;
    let request = String::from_utf8_lossy(&request[..n]);
    ensure!(
        request.starts_with("PUT /runtimes/rt-ping HTTP/1.1\r\n"),
        "{request}"
    );
    Ok(())
}
