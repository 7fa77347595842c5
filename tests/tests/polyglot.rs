//! The polyglot example on Mosquitto: the Python participant of
//! `examples/polyglot/shout.py` (msgflo-python 0.4.1 from PyPI, installed at
//! test time) and a Rust `core/Output`, started and wired by `msgflo-setup
//! --participants --discover` from the queues they announce; text sent with
//! `msgflo-send-message` to the Python participant's own queue comes out of
//! the Rust one.

use anyhow::{ensure, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::tools::{send_until_out, start_setup};
use msgflo_tests::{client, mqtt_url, python, workspace_root};
use serde_json::json;
use std::time::Duration;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_participant_feeds_a_rust_one() -> Result<()> {
    let example = workspace_root().join("examples/polyglot");
    let python = python::venv("msgflo-0.4.1", &example.join("requirements.txt"))?;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let (shout, loud) = (format!("shout_{suffix}"), format!("loud_{suffix}"));

    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("polyglot.fbp");
    std::fs::write(
        &graph,
        format!("{shout}(polyglot/Shout) OUT -> IN {loud}(core/Output)\n"),
    )?;
    let library = dir.path().join("library.json");
    let participant = binary("msgflo-participant")?;
    std::fs::write(
        &library,
        serde_json::to_vec(&json!({"components": {
            "polyglot/Shout": format!("{} {} #ROLE", python.display(), example.join("shout.py").display()),
            "core/Output": format!("{} --name #ROLE --component core/Output", participant.display()),
        }}))?,
    )?;

    // A copy of what the Rust participant sends, taken before anything flows.
    let broker = mqtt_url();
    let test = client(&broker, "polyglot-test").await?;
    let mut tap = test.tap(&QueueName::new(format!("{loud}.OUT"))?).await?;

    let mut setup = Command::new(binary("msgflo-setup")?);
    setup
        .arg(&graph)
        .args([
            "--broker",
            &broker,
            "--participants",
            "--forever",
            "--discover",
        ])
        .arg("--library")
        .arg(&library);
    let (setup, printed) = start_setup(setup, Duration::from_secs(60)).await?;
    let expected = format!("PUBSUB: \t {shout}/out -> {loud}.IN");
    ensure!(
        printed.iter().any(|l| l.contains(&expected)),
        "the Python participant's own queue was not used: {printed:?}"
    );

    // The Rust participant subscribes when its connectinport arrives, a
    // moment after setup has sent it.
    let inport = format!("{shout}/in");
    let heard = send_until_out(&broker, &inport, "\"hello\"", &mut tap.consumer, 20).await?;
    ensure!(heard == "\"HELLO!\"", "{heard}");

    test.close().await?;
    setup.stop_cleanly(Duration::from_secs(20)).await?;
    Ok(())
}
