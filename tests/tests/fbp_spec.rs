//! npm `fbp-spec` drives the `msgflo` coordinator on real RabbitMQ (a vhost
//! of its own) and on Mosquitto: it sends the fixture graph
//! `a(Repeat) OUT -> IN b(Repeat)` (exported `IN`/`OUT`; the node names are
//! made unique, as Mosquitto is shared), starts the network, sends each
//! case's input as a `runtime:packet` at once and checks what comes back out
//! as one — so the network must be ready when it says `started`. `Repeat`
//! resolves through the library namespace `core` to a real
//! `msgflo-participant`. Installed at test time into `.cache/npm/` (never
//! committed).

use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::process::run_logged;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{mqtt_url, npm, unique};
use std::time::Duration;
use tokio::process::Command;

const SPEC: &str = r#"name: "msgflo-rs graph participants"
topic: "Repeat"
fixture:
  type: 'fbp'
  data: |
    INPORT={A}.IN:IN
    OUTPORT={B}.OUT:OUT
    {A}(Repeat) OUT -> IN {B}(Repeat)
cases:
-
  name: 'sending an object'
  assertion: 'comes out the same through two participants'
  inputs:
    in: { "bar": "foo", "n": [1, 2.5, null] }
  expect:
    out:
      equals: { "bar": "foo", "n": [1, 2.5, null] }
-
  name: 'sending a string'
  assertion: 'comes out the same'
  inputs:
    in: 'hello msgflo'
  expect:
    out:
      equals: 'hello msgflo'
-
  name: 'sending a number'
  assertion: 'comes out the same'
  inputs:
    in: 1000
  expect:
    out:
      equals: 1000
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fbp_spec_sends_and_receives_through_runtime_packets() -> Result<()> {
    let vhost = Vhost::new("fbp-spec")?;
    run_spec(vhost.url()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fbp_spec_on_mqtt() -> Result<()> {
    run_spec(&mqtt_url()).await
}

async fn run_spec(broker: &str) -> Result<()> {
    let installed = npm::install("fbp-spec", "0.8.0")?;
    let dir = tempfile::tempdir()?;
    let participant = binary("msgflo-participant")?;
    let library = dir.path().join("library.json");
    std::fs::write(
        &library,
        serde_json::to_vec_pretty(&serde_json::json!({
            "namespace": "core",
            "components": {
                "core/Repeat": format!("{} --name #ROLE --component core/Repeat", participant.display()),
            }
        }))?,
    )?;
    let spec = dir.path().join("repeat.yaml");
    let (a, b) = (unique("spec-a"), unique("spec-b"));
    let a = a.replace('.', "-");
    let b = b.replace('.', "-");
    std::fs::write(&spec, SPEC.replace("{A}", &a).replace("{B}", &b))?;
    let port = free_port()?;
    let command = format!(
        "exec {} --host 127.0.0.1 --port {port} --broker '{}' --library {}",
        binary("msgflo")?.display(),
        broker,
        library.display()
    );
    let mut run = Command::new("node");
    run.arg(installed.join("node_modules/fbp-spec/bin/fbp-spec"))
        .args(["--address", &format!("ws://127.0.0.1:{port}")])
        .args(["--command", &command])
        .args(["--command-timeout", "20"])
        .arg(&spec)
        .current_dir(dir.path());
    let (status, stdout, stderr) = run_logged(run, dir.path(), Duration::from_secs(180))
        .await
        .context("fbp-spec")?;
    ensure!(
        status.success(),
        "fbp-spec failed ({status}):\n{stdout}\n{stderr}"
    );
    // fbp-spec prints one line per case: "    <assertion>: ✓" (or ✗).
    let passed = stdout
        .lines()
        .filter(|l| l.trim_end().ends_with(": ✓"))
        .count();
    ensure!(
        passed == 3 && !stdout.contains('✗'),
        "{passed} of 3 cases passed:\n{stdout}\n{stderr}"
    );
    Ok(())
}
