//! The mixed pipeline under `msgflo-setup` instead of a coordinator, on
//! RabbitMQ and on Mosquitto (see the module docs of `mixed.rs`).

use super::counting::{count_through, until_through, Checkpoints};
use super::{python3_msgflo, q, write_pipeline, Case, Roles, MESSAGES};
use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::process::spawn_ready;
use msgflo_tests::python::Python2;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, mqtt_url};
use std::path::Path;
use std::time::Duration;

/// The same pipeline set up by `msgflo-setup --participants --discover
/// --forever` instead of a coordinator: it starts every participant from
/// the library, waits for their discovery messages and links the edges to
/// the queues they name (msgflo-python's `role/in`), as msgflo's setup
/// does — on RabbitMQ by binding queues, on MQTT by `connectinport` to the
/// Rust participants and by forwarding the edges into the peers itself,
/// which answer none. `MESSAGES` end to end, none lost or doubled.
async fn run_under_setup(case: &Case<'_>) -> Result<()> {
    let roles = Roles::new();
    let t = client(case.broker, "mixed-setup").await?;
    let mut out = t.tap(&q(&format!("{}.OUT", roles.d))?).await?;
    let dir = tempfile::tempdir()?;
    let (graph, library) = write_pipeline(dir.path(), &roles, case.python)?;
    let mut setup = tokio::process::Command::new(binary("msgflo-setup")?);
    setup
        .arg(&graph)
        .args(["--broker", case.broker, "--library"])
        .arg(&library)
        .args([
            "--participants",
            "--discover",
            "--forever",
            "--timeout",
            "60",
        ])
        .env_remove("RUST_LOG")
        .current_dir(dir.path());
    let (setup, _) = spawn_ready(setup, Duration::from_secs(60)).await?;
    let inport = q(&format!("{}.IN", roles.a))?;
    let counted = async {
        until_through(&t, &inport, &mut out.consumer).await?;
        let watcher = client(case.broker, "mixed-setup-watch").await?;
        let checkpoints = Checkpoints::watch(&watcher, &roles.checkpoints(case.forwarded)).await?;
        count_through(&t, &inport, &mut out.consumer, &checkpoints).await
    }
    .await;
    let (_, log) = setup.terminate(Duration::from_secs(20)).await?;
    let counted = counted.with_context(|| format!("msgflo-setup's log:\n{log}"))?;
    eprintln!(
        "{} under msgflo-setup: {MESSAGES} messages Rust -> Node -> Rust -> Python -> Rust -> \
         NoFlo -> Rust in {:?} ({} duplicates)",
        case.name, counted.took, counted.duplicates
    );
    ensure!(counted.duplicates == 0, "{} duplicates", counted.duplicates);
    ensure!(!log.contains("PRECONDITION_FAILED"), "{log}");
    if case.forwarded {
        for (from, into) in [
            (format!("{}.OUT", roles.a), format!("{}.IN", roles.n)),
            (format!("{}.OUT", roles.b), format!("{}/in", roles.p)),
            (format!("{}.OUT", roles.c), format!("{}.IN", roles.f)),
        ] {
            let line = format!("msgflo-setup: forwarding {from} -> {into}: ");
            ensure!(
                log.contains(&line),
                "no {line:?} in msgflo-setup's log:\n{log}"
            );
        }
    }
    t.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_python_and_noflo_participants_under_msgflo_setup_on_rabbitmq() -> Result<()> {
    let python = Python2::msgflo()?;
    let vhost = Vhost::new("mixed-setup")?;
    let python = |script: &Path| python.command_line(script);
    let case = Case::rabbitmq(&vhost, &python, false);
    run_under_setup(&case).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_python_and_noflo_participants_under_msgflo_setup_on_mosquitto() -> Result<()> {
    let python = python3_msgflo()?;
    let broker = mqtt_url();
    let python = |script: &Path| format!("{} {}", python.display(), script.display());
    let case = Case::mosquitto(&broker, &python);
    run_under_setup(&case).await
}
