//! The README's quick start runs: its `msgflo --broker embedded ...` command
//! (read from README.md, on free ports) starts the embedded MQTT broker and
//! msgflo's hello graph from `examples/hello/`, and a name sent to helloA
//! comes out of helloC greeted three times.

use anyhow::{ensure, Context, Result};
use msgflo_participant::protocol::ids::QueueName;
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::start_with;
use msgflo_tests::tools::send_until_out;
use msgflo_tests::{client, workspace_root};
use std::time::Duration;

/// The arguments of the README's quick-start `msgflo` command.
fn readme_command() -> Result<Vec<String>> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md"))?;
    let line = readme
        .lines()
        .find(|l| l.contains("target/release/msgflo --broker embedded"))
        .context(
            "README.md has no quick-start command `target/release/msgflo --broker embedded ...`",
        )?;
    let (_, args) = line
        .split_once("target/release/msgflo ")
        .context("quick-start command")?;
    Ok(args.split_whitespace().map(str::to_owned).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_greets() -> Result<()> {
    let args = readme_command()?;
    ensure!(
        args.get(..2) == Some(&["--broker".to_owned(), "embedded".to_owned()]),
        "the quick start should use the embedded broker: {args:?}"
    );
    // Its files, from the workspace root; the broker on a free port.
    let args: Vec<String> = args[2..]
        .iter()
        .map(|a| {
            if a.starts_with("examples/") {
                workspace_root().join(a).display().to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    binary("msgflo-examples")?; // next to msgflo: the PATH rule finds it
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let coordinator = start_with("embedded:0", &args, &[]).await?;
    let broker = coordinator
        .embedded_broker
        .clone()
        .context("no embedded broker line")?;

    let test = client(&broker, "quickstart-test").await?;
    let mut tap = test.tap(&QueueName::new("helloC.OUT")?).await?;
    // The participants start and are wired a moment after the ready line:
    // send until a greeting comes out (the IIP's "World" may come first).
    let greeting =
        send_until_out(&broker, "helloA.NAME", "\"Rust\"", &mut tap.consumer, 30).await?;
    ensure!(
        greeting == "\"Hello Hello Hello Rust\"" || greeting == "\"Hello Hello Hello World\"",
        "{greeting}"
    );
    test.close().await?;
    let (code, stderr) = coordinator
        .process
        .terminate(Duration::from_secs(20))
        .await?;
    ensure!(code == Some(0), "msgflo exit {code:?}: {stderr}");
    Ok(())
}
