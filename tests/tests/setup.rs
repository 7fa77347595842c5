//! `msgflo-setup` sets a graph up on real brokers: on RabbitMQ it starts the
//! library's participants and binds their queues (pubsub, and roundrobin with
//! a dead-letter route) and prints the bindings as msgflo does; on Mosquitto
//! the bindings are made by the participants themselves (`connectinport`), so
//! data keeps flowing after msgflo-setup exits, and an edge into a participant
//! that takes no control messages is forwarded by msgflo-setup `--forever`
//! (and named on stderr as not carried without it); errors are one line.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::transport::Transport;
use msgflo_protocol::ids::QueueName;
use msgflo_tests::process::{run_to_end, spawn_ready};
use msgflo_tests::tools::SETUP_READY;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{amqp_url, bins, client, mqtt_url, next_payload};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(20);

/// A role name no other test uses (a valid .fbp node name).
fn role(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("queue name")
}

/// Writes `graph.fbp` and a library mapping core/Repeat to msgflo-participant.
fn files(dir: &Path, graph: &str) -> Result<()> {
    std::fs::write(dir.join("graph.fbp"), graph)?;
    let participant = bins::binary("msgflo-participant")?;
    let command = format!(
        "{} --name #ROLE --component core/Repeat",
        participant.display()
    );
    let library = serde_json::json!({"components": {"core/Repeat": command}});
    std::fs::write(dir.join("library.json"), library.to_string())?;
    Ok(())
}

fn setup(dir: &Path, broker: &str, args: &[&str]) -> Result<Command> {
    let mut command = Command::new(bins::binary("msgflo-setup")?);
    command
        .arg(dir.join("graph.fbp"))
        .arg("--broker")
        .arg(broker)
        .arg("--library")
        .arg(dir.join("library.json"))
        .args(args)
        .current_dir(dir);
    Ok(command)
}

/// Two unique roles `a(core/Repeat) OUT -> IN b(core/Repeat)`, with the
/// graph and library written into a fresh folder by [`files`].
fn repeat_chain() -> Result<(String, String, tempfile::TempDir)> {
    let (a, b) = (role("a"), role("b"));
    let dir = tempfile::tempdir()?;
    files(
        dir.path(),
        &format!("{a}(core/Repeat) OUT -> IN {b}(core/Repeat)\n"),
    )?;
    Ok((a, b, dir))
}

/// A consumer of a fresh test inport bound to `outport`.
async fn watch(
    transport: &Arc<dyn Transport>,
    outport: &str,
) -> Result<msgflo_participant::transport::Consumer> {
    let inport = q(&msgflo_tests::unique("setup-test"));
    transport.declare_outport(&q(outport)).await?;
    transport.declare_inport(&inport).await?;
    let consumer = transport.consume(&inport, 10).await?;
    transport.bind(&q(outport), &inport).await?;
    Ok(consumer)
}

/// Whether any process's command line mentions `word` (a unique role).
fn running(word: &str) -> Result<bool> {
    let status = std::process::Command::new("pgrep")
        .args(["-f", word])
        .stdout(std::process::Stdio::null())
        .status()?;
    Ok(status.success())
}

#[tokio::test]
async fn participants_and_pubsub_binding_on_rabbitmq_until_sigterm() -> Result<()> {
    let (a, b, dir) = repeat_chain()?;
    let command = setup(dir.path(), &amqp_url(), &["--participants", "--forever"])?;
    let (mut process, first) = spawn_ready(command, WAIT).await?;
    let mut printed = vec![first];
    printed.extend(process.lines_until(SETUP_READY, WAIT).await?);
    // msgflo's lines, and (by default) the participants' own, `[role] ...`.
    let (forwarded, own): (Vec<String>, Vec<String>) =
        printed.into_iter().partition(|l| l.starts_with('['));
    assert_eq!(
        own,
        [
            format!("Set up participants [ '{a}', '{b}' ]"),
            "Set up bindings:".to_owned(),
            format!(" PUBSUB: \t {a}.OUT -> {b}.IN"),
            "--forever enabled, keeping alive".to_owned(),
        ]
    );
    for role in [&a, &b] {
        let ready = format!("[{role}] {role} connected to ");
        ensure!(
            forwarded.iter().any(|l| l.starts_with(&ready)),
            "no {ready:?} among {forwarded:?}"
        );
    }
    ensure!(running(&a)? && running(&b)?, "participants are running");

    let test = client(&amqp_url(), "setup-test").await?;
    let mut out = watch(&test, &format!("{b}.OUT")).await?;
    test.send_to_inport(&q(&format!("{a}.IN")), Bytes::from_static(b"{\"x\":1}"))
        .await?;
    assert_eq!(next_payload(&mut out, WAIT).await?, "{\"x\":1}");

    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert!(!running(&a)? && !running(&b)?, "participants were stopped");
    Ok(())
}

/// SIGTERMs every process whose command line mentions `word` (a unique role).
fn stop_all(word: &str) -> Result<()> {
    let output = std::process::Command::new("pgrep")
        .args(["-f", word])
        .output()?;
    for pid in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", pid])
            .status();
    }
    Ok(())
}

#[tokio::test]
async fn without_forever_the_participants_keep_running_after_setup_exits() -> Result<()> {
    let (a, b, dir) = repeat_chain()?;
    let command = setup(
        dir.path(),
        &amqp_url(),
        &["--participants=true", "--forever=false"],
    )?;
    let result = async {
        let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
        assert_eq!(code, Some(0), "stderr: {stderr}");
        assert!(stdout.ends_with(&format!("-> {b}.IN\n")), "{stdout}");
        ensure!(running(&a)? && running(&b)?, "participants still run");
        let test = client(&amqp_url(), "setup-test").await?;
        let mut out = watch(&test, &format!("{b}.OUT")).await?;
        test.send_to_inport(&q(&format!("{a}.IN")), Bytes::from_static(b"2"))
            .await?;
        assert_eq!(next_payload(&mut out, WAIT).await?, "2");
        Ok(())
    }
    .await;
    stop_all(&a)?;
    stop_all(&b)?;
    result
}

#[tokio::test]
async fn roundrobin_with_deadletter_on_rabbitmq() -> Result<()> {
    let (a, jobs, w, dead) = (role("a"), role("jobs"), role("w"), role("dl"));
    let dir = tempfile::tempdir()?;
    let graph = format!(
        "{a}(core/Repeat) OUT -> IN {jobs}(msgflo/RoundRobin) OUT -> IN {w}(Worker)\n\
         {jobs} DEADLETTER -> IN {dead}(Drop)\n"
    );
    files(dir.path(), &graph)?;
    let command = setup(dir.path(), &amqp_url(), &[])?;
    let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(
        stdout,
        format!(
            "Set up participants []\nSet up bindings:\n \
             DEADLETTER:\t {w}.IN -> {dead}.IN\nROUNDROBIN:\t {a}.OUT -> {w}.IN\n"
        )
    );

    // The bindings outlive msgflo-setup: a.OUT reaches w.IN, w's rejects reach dl.IN.
    let test = client(&amqp_url(), "setup-test").await?;
    let mut work = test.consume(&q(&format!("{w}.IN")), 1).await?;
    let mut dropped = test.consume(&q(&format!("{dead}.IN")), 1).await?;
    test.publish(&q(&format!("{a}.OUT")), Bytes::from_static(b"\"job\""))
        .await?;
    let delivery = tokio::time::timeout(WAIT, work.next())
        .await?
        .context("worker queue ended")?;
    assert_eq!(delivery.payload, "\"job\"");
    delivery.nack().await?;
    assert_eq!(next_payload(&mut dropped, WAIT).await?, "\"job\"");
    Ok(())
}

#[tokio::test]
async fn mqtt_participants_are_connected_and_data_flows_after_setup_exits() -> Result<()> {
    let (a, b, dir) = repeat_chain()?;
    // msgflo-setup listens for discovery before it prints its first line.
    let command = setup(dir.path(), &mqtt_url(), &["--timeout", "20"])?;
    let (mut process, first) = spawn_ready(command, WAIT).await?;
    assert_eq!(first, "Set up participants []");

    let participant = bins::binary("msgflo-participant")?;
    let mut started = Vec::new();
    for name in [&a, &b] {
        let mut command = Command::new(&participant);
        command.args(["--name", name, "--component", "core/Repeat", "--broker"]);
        command.arg(mqtt_url());
        started.push(spawn_ready(command, WAIT).await?.0);
    }
    let rest = process
        .lines_until(&format!(" PUBSUB: \t {a}.OUT -> {b}.IN"), WAIT)
        .await?;
    assert_eq!(rest[0], "Set up bindings:");
    // It exits by itself once the participant of b was told.
    let end = tokio::time::timeout(WAIT, process.stdout.next_line()).await??;
    assert_eq!(end, None, "no more output");
    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");

    let test = client(&mqtt_url(), "setup-test").await?;
    let mut out = watch(&test, &format!("{b}.OUT")).await?;
    test.send_to_inport(&q(&format!("{a}.IN")), Bytes::from_static(b"[1,2]"))
        .await?;
    assert_eq!(next_payload(&mut out, WAIT).await?, "[1,2]");
    drop(started);
    Ok(())
}

/// msgflo-setup on Mosquitto for `a OUT -> IN b` and `a ERROR -> IN b`
/// (`args` added), with a participant of b that announces itself and takes
/// no control messages, as msgflo-nodejs' and msgflo-python's on MQTT.
/// Returns the running msgflo-setup once it listed both bindings (each
/// connection waited 5 s for an answer that never comes), the roles and
/// the silent participant's id.
async fn setup_with_a_silent_participant(
    dir: &Path,
    args: &[&str],
) -> Result<(msgflo_tests::process::Spawned, String, String, String)> {
    let (a, b) = (role("a"), role("b"));
    files(
        dir,
        &format!("{a}(core/Repeat) OUT -> IN {b}(core/Repeat)\n{a} ERROR -> IN {b}\n"),
    )?;
    let mut all = vec!["--timeout", "20"];
    all.extend_from_slice(args);
    let command = setup(dir, &mqtt_url(), &all)?;
    let (mut process, first) = spawn_ready(command, WAIT).await?;
    assert_eq!(first, "Set up participants []");

    let test = client(&mqtt_url(), "setup-test").await?;
    let id = format!("{b}-silent");
    let announcement = serde_json::json!({"protocol": "discovery", "command": "participant",
        "payload": {"id": id, "role": b, "component": "core/Repeat", "label": "", "icon": "",
        "inports": [{"id": "in", "type": "any", "queue": format!("{b}.IN")}],
        "outports": [{"id": "out", "type": "any", "queue": format!("{b}.OUT")}]}});
    test.announce(Bytes::from(announcement.to_string())).await?;

    let last = format!("PUBSUB: \t {a}.ERROR -> {b}.IN");
    let listed = process.lines_until(&last, 2 * WAIT).await?;
    assert_eq!(
        listed,
        [
            "Set up bindings:".to_owned(),
            format!(" PUBSUB: \t {a}.OUT -> {b}.IN"),
            last.clone()
        ]
    );
    test.close().await?;
    Ok((process, a, b, id))
}

#[tokio::test]
async fn mqtt_participant_without_control_messages_gets_one_line_per_unforwarded_edge() -> Result<()>
{
    let dir = tempfile::tempdir()?;
    let (mut process, a, b, id) = setup_with_a_silent_participant(dir.path(), &[]).await?;
    let end = tokio::time::timeout(WAIT, process.stdout.next_line()).await??;
    assert_eq!(end, None, "no more output");
    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let line = |port: &str| {
        format!(
            "msgflo-setup: warning: nothing carries {a}.{port} -> {b}.IN: participant {id} \
             answered no connectinport within 5 s, and msgflo-setup forwards for such a \
             participant only with --forever\n"
        )
    };
    assert_eq!(stderr, format!("{}{}", line("ERROR"), line("OUT")));
    Ok(())
}

/// With `--forever`, msgflo-setup forwards both edges into the silent
/// participant itself, byte for byte, as msgflo's setup does in-process,
/// says so once per edge, and stops forwarding when it stops.
#[tokio::test]
async fn with_forever_on_mqtt_setup_forwards_into_a_participant_without_control_messages(
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (process, a, b, id) = setup_with_a_silent_participant(dir.path(), &["--forever"]).await?;
    let test = client(&mqtt_url(), "setup-test").await?;
    let mut into_b = test.tap(&q(&format!("{b}.IN"))).await?;
    let payloads: [&[u8]; 3] = [b"{\"n\": 1,  \"x\": [1.50]}", b"\"two\"", b"\xff not JSON"];
    for (port, payload) in [
        ("OUT", payloads[0]),
        ("ERROR", payloads[1]),
        ("OUT", payloads[2]),
    ] {
        test.send_to_inport(&q(&format!("{a}.{port}")), Bytes::copy_from_slice(payload))
            .await?;
    }
    let mut got = Vec::new();
    for _ in payloads {
        let delivery = tokio::time::timeout(WAIT, into_b.consumer.next())
            .await
            .context("a forwarded message")?
            .context("the tap ended")?;
        got.push(delivery.payload.to_vec());
        delivery.ack().await?;
    }
    got.sort();
    let mut sent: Vec<Vec<u8>> = payloads.iter().map(|p| p.to_vec()).collect();
    sent.sort();
    assert_eq!(got, sent, "each message once, its bytes unchanged");
    let (_, stderr) = process.terminate(WAIT).await?;
    for port in ["OUT", "ERROR"] {
        let line = format!(
            "msgflo-setup: forwarding {a}.{port} -> {b}.IN: participant {id} answered no \
             connectinport within 5 s"
        );
        ensure!(
            stderr.lines().filter(|l| *l == line).count() == 1,
            "not once: {line:?} in\n{stderr}"
        );
    }
    // Stopped with msgflo-setup: nothing is forwarded any more.
    test.send_to_inport(&q(&format!("{a}.OUT")), Bytes::from_static(b"late"))
        .await?;
    let late = tokio::time::timeout(Duration::from_secs(2), into_b.consumer.next()).await;
    assert!(
        late.is_err(),
        "forwarded after msgflo-setup stopped: {late:?}"
    );
    test.close().await?;
    Ok(())
}

/// A discovery message for `role` with one inport and one outport on the
/// queues given.
fn announcement(role: &str, inport: &str, outport: &str) -> Bytes {
    let payload = serde_json::json!({"protocol": "discovery", "command": "participant",
        "payload": {"id": format!("{role}-1"), "role": role, "component": "test/Peer",
        "label": "", "icon": "",
        "inports": [{"id": "in", "type": "any", "queue": inport}],
        "outports": [{"id": "out", "type": "any", "queue": outport}]}});
    Bytes::from(payload.to_string())
}

#[tokio::test]
async fn discover_on_rabbitmq_binds_a_peers_own_queues_as_they_are() -> Result<()> {
    // msgflo-python's shape: `py/in`, `py/out`, neither durable.
    let vhost = Vhost::new("setup-peer")?;
    let dir = tempfile::tempdir()?;
    files(
        dir.path(),
        "src(core/Repeat) OUT -> IN py(test/Peer)\npy OUT -> IN sink(core/Repeat)\n",
    )?;
    let peer = lapin::Connection::connect(vhost.url(), Default::default()).await?;
    let ch = peer.create_channel().await?;
    let table = lapin::types::FieldTable::default;
    ch.queue_declare("py/in".into(), Default::default(), table())
        .await?;
    let not_durable = lapin::options::ExchangeDeclareOptions::default();
    ch.exchange_declare(
        "py/out".into(),
        lapin::ExchangeKind::Fanout,
        not_durable,
        table(),
    )
    .await?;

    let command = setup(dir.path(), vhost.url(), &["--discover", "--timeout", "20"])?;
    let (mut process, first) = spawn_ready(command, WAIT).await?;
    assert_eq!(first, "Set up participants []");
    let test = client(vhost.url(), "setup-test").await?;
    for (role, inport, outport) in [
        ("src", "src.IN", "src.OUT"),
        ("py", "py/in", "py/out"),
        ("sink", "sink.IN", "sink.OUT"),
    ] {
        test.announce(announcement(role, inport, outport)).await?;
    }
    let listed = process
        .lines_until("PUBSUB: \t py/out -> sink.IN", WAIT)
        .await?;
    assert_eq!(
        listed,
        [
            "Set up bindings:",
            " PUBSUB: \t src.OUT -> py/in",
            "PUBSUB: \t py/out -> sink.IN"
        ]
    );
    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");

    let queues = vhost.durable_queues()?;
    ensure!(
        queues.get("py/in") == Some(&false) && !queues.contains_key("py.IN"),
        "the peer's queue was declared again or an orphan made: {queues:?}"
    );
    // Both edges carry: src.OUT -> py/in, and py/out -> sink.IN.
    let mut at_peer = test.consume(&q("py/in"), 10).await?;
    let mut at_sink = test.consume(&q("sink.IN"), 10).await?;
    test.publish(&q("src.OUT"), Bytes::from_static(b"1"))
        .await?;
    assert_eq!(next_payload(&mut at_peer, WAIT).await?, "1");
    test.publish(&q("py/out"), Bytes::from_static(b"2")).await?;
    assert_eq!(next_payload(&mut at_sink, WAIT).await?, "2");
    test.close().await?;
    peer.close(200, "OK".into()).await?;
    Ok(())
}

#[tokio::test]
async fn discover_timeout_names_the_missing_roles() -> Result<()> {
    let (a, b, dir) = repeat_chain()?;
    let command = setup(
        dir.path(),
        &mqtt_url(),
        &["--discover=true", "--timeout", "1"],
    )?;
    let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "Set up participants []\n");
    assert_eq!(
        stderr,
        format!(
            "msgflo-setup: participant discovery timed out: no participant of role {a}, {b} \
             announced itself\n"
        )
    );
    Ok(())
}

/// What msgflo 0.12.3 (npm, run with Node.js) lists for the graph in `file`:
/// its `prettyFormatBindings(graphBindings(graph))` as `msgflo-setup` prints it.
fn msgflo_listing(file: &Path) -> Result<String> {
    let prefix = msgflo_tests::npm::install("msgflo", "0.12.3")?;
    let script = "const s = require('msgflo/lib/setup'); const fbp = require('fbp');
        const g = fbp.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
        console.log('Set up bindings:\\n', s.prettyFormatBindings(s.graphBindings(g)));";
    let output = std::process::Command::new("node")
        .args(["-e", script])
        .arg(file)
        .current_dir(prefix)
        .output()?;
    ensure!(
        output.status.success(),
        "node: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

#[tokio::test]
async fn bindings_are_listed_as_msgflo_lists_them() -> Result<()> {
    let [api, jobs, worker, drop, other, idle, lone] =
        ["api", "jobs", "worker", "drop", "other", "idle", "lone"].map(role);
    let graphs = [
        // msgflo's spec/fixtures/simple.fbp, with unique roles
        format!(
            "{api}(Repeat) OUT -> IN {jobs}(msgflo/RoundRobin) OUT -> IN {worker}(ErrorIf)\n\
             {worker} OUT -> IN {api}\n{jobs} DEADLETTER -> DROP {drop}(Drop)\n"
        ),
        // pubsub fan-out and fan-in, IIPs, a roundrobin without a source
        format!(
            "{api}(A) OUT -> IN {worker}(B)\n{api} OUT -> IN {other}(C)\n\
             {other} ERROR -> IN {worker}\n'x' -> CONFIG {worker}\n\
             {idle}(msgflo/RoundRobin) OUT -> IN {lone}(D)\n"
        ),
    ];
    for graph in graphs {
        let dir = tempfile::tempdir()?;
        files(dir.path(), &graph)?;
        let expected = msgflo_listing(&dir.path().join("graph.fbp"))?;
        let command = setup(dir.path(), &amqp_url(), &[])?;
        let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
        assert_eq!(code, Some(0), "stderr: {stderr}");
        assert_eq!(stdout, format!("Set up participants []\n{expected}"));
    }
    Ok(())
}

#[tokio::test]
async fn a_bad_graph_file_is_one_line() -> Result<()> {
    let dir = tempfile::tempdir()?;
    files(dir.path(), "a(core/Repeat) OUT -> \n")?;
    let command = setup(dir.path(), &amqp_url(), &["--forever=false"])?;
    let (code, stdout, stderr) = run_to_end(command, WAIT).await?;
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("msgflo-setup: "), "{stderr}");
    assert!(stderr.contains("graph.fbp"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    Ok(())
}

#[tokio::test]
async fn sigterm_while_waiting_for_discovery_stops_at_once() -> Result<()> {
    let (_a, _b, dir) = repeat_chain()?;
    let command = setup(dir.path(), &mqtt_url(), &["--discover", "--timeout=600"])?;
    let (process, first) = spawn_ready(command, WAIT).await?;
    assert_eq!(first, "Set up participants []");
    let (code, stderr) = process.terminate(Duration::from_secs(5)).await?;
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "msgflo-setup: stopped by a signal before the setup was complete\n"
    );
    Ok(())
}

#[tokio::test]
async fn forever_on_mqtt_connects_participants_that_appear_later() -> Result<()> {
    let (a, b, dir) = repeat_chain()?;
    let command = setup(dir.path(), &mqtt_url(), &["--forever"])?;
    let (mut process, _) = spawn_ready(command, WAIT).await?;
    let participant = bins::binary("msgflo-participant")?;
    let start = |name: &str, id: Option<&str>| {
        let mut command = Command::new(&participant);
        command.args(["--name", name, "--component", "core/Repeat", "--broker"]);
        command.arg(mqtt_url());
        if let Some(id) = id {
            command.args(["--id", id]);
        }
        spawn_ready(command, WAIT)
    };
    let (_a, _) = start(&a, None).await?;
    let (first_b, _) = start(&b, None).await?;
    process.lines_until(SETUP_READY, WAIT).await?;

    // A second participant of b appears: msgflo-setup tells it too, and it
    // answers on its control reply queue.
    let test = client(&mqtt_url(), "setup-test").await?;
    let second_id = format!("{b}-second");
    let replies = q(&msgflo_protocol::control::send_queue(&second_id));
    test.declare_inport(&replies).await?;
    let mut replies = test.consume(&replies, 10).await?;
    let (_second_b, _) = start(&b, Some(&second_id)).await?;
    let reply = next_payload(&mut replies, WAIT).await?;
    let reply: serde_json::Value = serde_json::from_slice(&reply)?;
    assert_eq!(reply["command"], "connectinport", "{reply}");

    // With the first one stopped, data flows through the second.
    first_b.terminate(WAIT).await?;
    let mut out = watch(&test, &format!("{b}.OUT")).await?;
    test.send_to_inport(&q(&format!("{a}.IN")), Bytes::from_static(b"\"late\""))
        .await?;
    assert_eq!(next_payload(&mut out, WAIT).await?, "\"late\"");
    let (code, stderr) = process.terminate(WAIT).await?;
    assert_eq!(code, Some(0), "stderr: {stderr}");
    Ok(())
}
