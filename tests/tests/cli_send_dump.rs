//! `msgflo-send-message` and `msgflo-dump-message` against real RabbitMQ
//! and Mosquitto: 1,000 messages in order, msgflo's output shapes, a tap
//! that steals nothing, --follow, and one-line errors (bad JSON, a bad
//! file line, a missing queue, an unreachable broker) that send nothing.

use anyhow::{ensure, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::tools::{run, Dump, FINISH};
use msgflo_tests::{amqp_url, client, mqtt_url, next_payload, unique};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LINE: Duration = Duration::from_secs(20);

/// `n` JSON lines `{"n":0}` ... in a temporary file.
fn numbered_file(n: usize) -> Result<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new()?;
    let text: String = (0..n).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    std::fs::write(file.path(), text)?;
    Ok(file)
}

/// One line on stderr, `NAME: ...`.
fn one_line(stderr: &str, name: &str) -> Result<()> {
    ensure!(
        stderr.lines().count() == 1 && stderr.starts_with(&format!("{name}: ")),
        "not one line: {stderr:?}"
    );
    Ok(())
}

async fn thousand_in_order(broker: &str) -> Result<()> {
    let queue = unique("cli.IN");
    let amount = "1000";
    let mut dump = Dump::start(&[
        "--broker",
        broker,
        "--queue",
        &queue,
        "--amount",
        amount,
        "--declare",
    ])
    .await?;
    // 250 different lines, 4 times over.
    let file = numbered_file(250)?;
    let path = file.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) = run(
        "msgflo-send-message",
        &[
            "--broker", broker, "--queue", &queue, "--file", &path, "--count", "4",
        ],
    )
    .await?;
    ensure!(code == Some(0), "send failed: {stderr}");
    ensure!(
        stdout == format!("sent 1000 messages to {queue} (1000 confirmed by the broker)\n"),
        "{stdout:?}"
    );
    let line = dump.line(LINE).await?;
    let got: Vec<Value> = serde_json::from_str(&line)?;
    let expected: Vec<Value> = (0..4)
        .flat_map(|_| (0..250).map(|i| json!({"n": i})))
        .collect();
    ensure!(
        got == expected,
        "{} messages, not in order: {line:.300}",
        got.len()
    );
    let (code, rest) = dump.finish(FINISH).await?;
    ensure!(code == Some(0) && rest.is_empty(), "{code:?} {rest:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_arrive_in_order_on_amqp() -> Result<()> {
    thousand_in_order(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_arrive_in_order_on_mqtt() -> Result<()> {
    thousand_in_order(&mqtt_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amount_1_prints_the_message_and_amount_3_an_array() -> Result<()> {
    let broker = amqp_url();
    let queue = unique("cli.IN");
    let file = numbered_file(4)?;
    let path = file.path().to_string_lossy().into_owned();
    let (code, _, stderr) = run(
        "msgflo-send-message",
        &[
            "--broker",
            &broker,
            "--queue",
            &queue,
            "--file",
            &path,
            "--declare",
        ],
    )
    .await?;
    ensure!(code == Some(0), "{stderr}");
    let test = client(&broker, "cli").await?;
    test.send_to_inport(
        &QueueName::new(queue.as_str())?,
        Bytes::from_static(b"not json \xff"),
    )
    .await?;
    let dump = |amount: &'static str| {
        let (broker, queue) = (broker.clone(), queue.clone());
        async move {
            let args = ["--broker", &broker, "--queue", &queue, "--amount", amount];
            run("msgflo-dump-message", &args).await
        }
    };
    let (code, stdout, stderr) = dump("1").await?;
    ensure!(
        code == Some(0) && stdout == "{\"n\":0}\n",
        "{stdout:?} {stderr}"
    );
    let (code, stdout, stderr) = dump("3").await?;
    ensure!(
        code == Some(0) && stdout == "[{\"n\":1},{\"n\":2},{\"n\":3}]\n",
        "{stdout:?} {stderr}"
    );
    // Not JSON: printed as a JSON string, invalid UTF-8 replaced.
    let (code, stdout, stderr) = dump("1").await?;
    ensure!(
        code == Some(0) && stdout == "\"not json \u{fffd}\"\n",
        "{stdout:?} {stderr}"
    );
    test.close().await?;
    Ok(())
}

async fn tap_steals_nothing(broker: &str) -> Result<()> {
    let (outport, inport) = (unique("cli.OUT"), unique("cli.IN"));
    let (out_q, in_q) = (
        QueueName::new(outport.as_str())?,
        QueueName::new(inport.as_str())?,
    );
    let test = client(broker, "cli").await?;
    test.declare_outport(&out_q).await?;
    test.declare_inport(&in_q).await?;
    let mut bound = test.consume(&in_q, 10).await?;
    test.bind(&out_q, &in_q).await?;
    let mut dump =
        Dump::start(&["--broker", broker, "--outport", &outport, "--amount", "2"]).await?;
    test.publish(&out_q, Bytes::from_static(b"{\"x\":1}"))
        .await?;
    test.publish(&out_q, Bytes::from_static(b"[2]")).await?;
    let line = dump.line(LINE).await?;
    ensure!(line == "[{\"x\":1},[2]]", "{line}");
    ensure!(dump.finish(FINISH).await?.0 == Some(0));
    // The bound inport got both as well.
    ensure!(next_payload(&mut bound, LINE).await? == Bytes::from_static(b"{\"x\":1}"));
    ensure!(next_payload(&mut bound, LINE).await? == Bytes::from_static(b"[2]"));
    test.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumping_an_outport_steals_nothing_on_amqp() -> Result<()> {
    tap_steals_nothing(&amqp_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumping_an_outport_steals_nothing_on_mqtt() -> Result<()> {
    tap_steals_nothing(&mqtt_url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_prints_each_message_as_it_arrives_and_sigterm_exits_0() -> Result<()> {
    let broker = amqp_url();
    let queue = unique("cli.IN");
    let args = [
        "--broker",
        &broker,
        "--queue",
        &queue,
        "--declare=true",
        "--follow=true",
    ];
    let mut dump = Dump::start(&args).await?;
    for text in ["{\"first\":true}", "\"second\""] {
        let (code, _, stderr) = run(
            "msgflo-send-message",
            &["--broker", &broker, "--queue", &queue, "--json", text],
        )
        .await?;
        ensure!(code == Some(0), "{stderr}");
        let line = dump.line(LINE).await?;
        ensure!(line == text, "{line:?} for {text:?}");
    }
    ensure!(
        dump.terminate(LINE).await? == Some(0),
        "exit code after SIGTERM"
    );
    // --follow=false is msgflo's one-shot dump.
    let (code, _, stderr) = run(
        "msgflo-send-message",
        &["--broker", &broker, "--queue", &queue, "--json", "3"],
    )
    .await?;
    ensure!(code == Some(0), "{stderr}");
    let (code, stdout, stderr) = run(
        "msgflo-dump-message",
        &["--broker", &broker, "--queue", &queue, "--follow=false"],
    )
    .await?;
    ensure!(code == Some(0) && stdout == "3\n", "{stdout:?} {stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_and_sends_nothing() -> Result<()> {
    let broker = amqp_url();
    let queue = unique("cli.IN");
    let test = client(&broker, "cli").await?;
    let q = QueueName::new(queue.as_str())?;
    test.declare_inport(&q).await?;
    let args = [
        "--broker",
        &broker,
        "--queue",
        &queue,
        "--json",
        "{\"a\": nope}",
    ];
    let (code, stdout, stderr) = run("msgflo-send-message", &args).await?;
    ensure!(code == Some(1) && stdout.is_empty(), "{code:?} {stdout:?}");
    one_line(&stderr, "msgflo-send-message")?;
    ensure!(stderr.contains("invalid JSON in --json: "), "{stderr}");

    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), "{\"n\":1}\n\n{\"n\":2}\n{oops\n{\"n\":4}\n")?;
    let path = file.path().to_string_lossy().into_owned();
    let args = ["--broker", &broker, "--queue", &queue, "--file", &path];
    let (code, stdout, stderr) = run("msgflo-send-message", &args).await?;
    ensure!(code == Some(1) && stdout.is_empty(), "{code:?} {stdout:?}");
    one_line(&stderr, "msgflo-send-message")?;
    ensure!(stderr.contains("invalid JSON on line 4 of "), "{stderr}");

    // Nothing reached the queue: the next message there is this one.
    test.send_to_inport(&q, Bytes::from_static(b"\"marker\""))
        .await?;
    let mut consumer = test.consume(&q, 10).await?;
    ensure!(next_payload(&mut consumer, LINE).await? == Bytes::from_static(b"\"marker\""));
    test.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_amqp_queue_is_an_error_unless_declared() -> Result<()> {
    let broker = amqp_url();
    let queue = unique("cli.IN");
    for tool in ["msgflo-send-message", "msgflo-dump-message"] {
        let args = ["--broker", &broker, "--queue", &queue, "--json", "1"];
        let args = if tool == "msgflo-dump-message" {
            &args[..4]
        } else {
            &args[..]
        };
        let (code, _, stderr) = run(tool, args).await?;
        ensure!(code == Some(1), "{tool}: {code:?}");
        one_line(&stderr, tool)?;
        ensure!(
            stderr.contains(&format!("no queue {queue} on the broker")),
            "{stderr}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_fails_at_once_with_one_line() -> Result<()> {
    for broker in ["amqp://127.0.0.1:1", "mqtt://127.0.0.1:1"] {
        for tool in ["msgflo-send-message", "msgflo-dump-message"] {
            let args = ["--broker", broker, "--queue", "q.IN", "--json", "1"];
            let args = if tool == "msgflo-dump-message" {
                &args[..4]
            } else {
                &args[..]
            };
            let started = Instant::now();
            let (code, stdout, stderr) = run(tool, args).await?;
            ensure!(
                started.elapsed() < Duration::from_secs(5),
                "{tool} {broker}: too slow"
            );
            ensure!(
                code == Some(1) && stdout.is_empty(),
                "{tool} {broker}: {code:?}"
            );
            one_line(&stderr, tool)?;
            ensure!(stderr.contains("cannot connect to"), "{stderr}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_timeout_gives_up_with_an_error() -> Result<()> {
    let broker = mqtt_url();
    let queue = unique("cli.IN");
    let args = [
        "--broker",
        &broker,
        "--queue",
        &queue,
        "--amount",
        "2",
        "--timeout",
        "0.5",
    ];
    let (code, stdout, stderr) = run("msgflo-dump-message", &args).await?;
    ensure!(code == Some(1) && stdout.is_empty(), "{code:?} {stdout:?}");
    ensure!(stderr.contains("only 0 of 2 messages arrived"), "{stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgflo_0_12_3_dumps_what_we_send() -> Result<()> {
    // msgflo-nodejs needs amqplib beside it (it does not depend on it).
    let installed = msgflo_tests::npm::install_with("msgflo", "0.12.3", &["amqplib@0.5.6"])?;
    let broker = amqp_url();
    let queue = unique("cli.IN");
    let text = r#"{"hello":[1,2.5,"ü"],"n":null}"#;
    let args = [
        "--broker",
        &broker,
        "--queue",
        &queue,
        "--json",
        text,
        "--declare",
    ];
    let (code, _, stderr) = run("msgflo-send-message", &args).await?;
    ensure!(code == Some(0), "{stderr}");
    let dump = installed.join("node_modules/msgflo/bin/msgflo-dump-message");
    let mut node = tokio::process::Command::new("node");
    node.arg(dump)
        .args(["--broker", &broker, "--queue", &queue, "--amount", "1"]);
    let (code, stdout, stderr) = msgflo_tests::process::run_to_end(node, FINISH).await?;
    ensure!(code == Some(0), "msgflo's dump: {code:?} {stderr}");
    ensure!(stdout == format!("{text}\n"), "{stdout:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_paces_the_sends() -> Result<()> {
    let broker = amqp_url();
    let queue = unique("cli.IN");
    let args = [
        "--broker",
        &broker,
        "--queue",
        &queue,
        "--json",
        "1",
        "--count",
        "11",
        "--rate",
        "50",
        "--declare",
    ];
    let started = Instant::now();
    let (code, stdout, stderr) = run("msgflo-send-message", &args).await?;
    let took = started.elapsed();
    ensure!(code == Some(0), "{stderr}");
    ensure!(stdout.starts_with("sent 11 messages"), "{stdout}");
    // 11 messages at 50/s: the last one 200 ms after the first.
    ensure!(took >= Duration::from_millis(200), "too fast: {took:?}");
    Ok(())
}
