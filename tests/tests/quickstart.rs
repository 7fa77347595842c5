//! The README's quick start runs as written, on a machine where the MQTT port
//! is free and on one where another broker has it: its `msgflo --broker
//! embedded ...` command (read from README.md) starts the embedded broker and
//! msgflo's hello graph from `examples/hello/`, the IIP's greeting shows in
//! msgflo's output, msgflo prints the follow-up commands the README shows
//! (with the broker URL actually in use), and those commands, run with `sh`
//! as printed, watch and feed the graph.
//!
//! The port `--broker embedded` tries first is the test's own
//! (`MSGFLO_EMBEDDED_PORT`): free, or held by a listener of the test — never
//! the machine's 1883, which `scripts/test`'s Mosquitto has.

use anyhow::{bail, ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{free_port, start_with, Coordinator};
use msgflo_tests::process::{run_to_end, StdoutLines};
use msgflo_tests::workspace_root;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How long each step may take.
const WAIT: Duration = Duration::from_secs(30);
/// The broker URL the README's commands show.
const README_BROKER: &str = "mqtt://127.0.0.1:1883";
/// Where the README's commands find the binaries.
const README_BINARIES: &str = "target/release/";
/// The greeting for the IIP `"World"`.
const GREETING: &str = "\"Hello Hello Hello World\"";

/// The README's quick start: the `msgflo` command's arguments and the
/// follow-up commands it shows after `Try it from another terminal:`.
struct Readme {
    msgflo_args: Vec<String>,
    follow_up: Vec<String>,
}

fn readme() -> Result<Readme> {
    let text = std::fs::read_to_string(workspace_root().join("README.md"))?;
    let line = text
        .lines()
        .find(|l| l.contains("target/release/msgflo --broker embedded"))
        .context(
            "README.md has no quick-start command `target/release/msgflo --broker embedded ...`",
        )?;
    let (_, args) = line
        .split_once("target/release/msgflo ")
        .context("quick-start command")?;
    let follow_up = text
        .lines()
        .skip_while(|l| *l != "Try it from another terminal:")
        .skip(1)
        .take_while(|l| l.starts_with(README_BINARIES))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    ensure!(
        follow_up.len() == 2,
        "README.md shows no follow-up commands after `Try it from another terminal:`"
    );
    Ok(Readme {
        msgflo_args: args.split_whitespace().map(str::to_owned).collect(),
        follow_up,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_works_with_its_port_free() -> Result<()> {
    let port = free_port()?;
    let broker = quick_start(port).await?;
    ensure!(broker == format!("mqtt://127.0.0.1:{port}"), "{broker}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_works_with_its_port_taken_by_another_broker() -> Result<()> {
    let other_broker = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = other_broker.local_addr()?.port();
    let broker = quick_start(port).await?;
    ensure!(broker != format!("mqtt://127.0.0.1:{port}"), "{broker}");
    Ok(())
}

/// Runs the quick start with `port` as the embedded broker's first choice;
/// returns the broker URL it printed.
async fn quick_start(port: u16) -> Result<String> {
    let readme = readme()?;
    let args = &readme.msgflo_args;
    ensure!(
        args.get(..2) == Some(&["--broker".to_owned(), "embedded".to_owned()]),
        "the quick start should use the embedded broker: {args:?}"
    );
    // Its files, from the workspace root.
    let args: Vec<String> = args[2..]
        .iter()
        .map(|a| match a.starts_with("examples/") {
            true => workspace_root().join(a).display().to_string(),
            false => a.clone(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    binary("msgflo-examples")?; // next to msgflo: the PATH rule finds it
    let env = [("MSGFLO_EMBEDDED_PORT", port.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut coordinator = start_with("embedded", &args, &env).await?;
    let broker = coordinator
        .embedded_broker
        .clone()
        .context("no embedded broker line")?;

    // The follow-up commands: the README's, with this broker and these binaries.
    let printed = printed_follow_up(&mut coordinator).await?;
    let binaries = format!(
        "{}/",
        binary("msgflo")?.parent().context("bin dir")?.display()
    );
    let expected: Vec<String> = readme
        .follow_up
        .iter()
        .map(|l| {
            l.replace(README_BINARIES, &binaries)
                .replace(README_BROKER, &broker)
        })
        .collect();
    ensure!(
        printed == expected,
        "printed {printed:#?}\nREADME: {expected:#?}"
    );

    // The IIP's greeting shows in msgflo's output.
    let shown = format!("[show] {GREETING}");
    coordinator_line(&mut coordinator, &shown).await?;

    // The follow-up commands, as a user runs them.
    let (watch, feed) = (&printed[0], &printed[1]);
    let mut dump = Dump::start(watch.trim_end_matches('&').trim_end()).await?;
    let (code, out, err) = run_to_end(shell(feed), WAIT).await?;
    ensure!(
        code == Some(0) && out.starts_with("sent 1 message to helloA.NAME"),
        "{feed}: {out}{err}"
    );
    let seen = tokio::time::timeout(WAIT, dump.stdout.next_line())
        .await
        .context("the dump printed nothing")??;
    ensure!(seen.as_deref() == Some(GREETING), "{seen:?}");
    coordinator_line(&mut coordinator, &shown).await?;

    let (code, stderr) = coordinator.process.terminate(WAIT).await?;
    ensure!(code == Some(0), "msgflo exit {code:?}: {stderr}");
    if broker != format!("mqtt://127.0.0.1:{port}") {
        ensure!(
            stderr.contains(&format!("127.0.0.1:{port} is taken (another MQTT broker?)")),
            "msgflo did not say why it took another port: {stderr}"
        );
    }
    Ok(broker)
}

/// The lines msgflo prints after `Try it from another terminal:`.
async fn printed_follow_up(coordinator: &mut Coordinator) -> Result<Vec<String>> {
    coordinator_line(coordinator, "Try it from another terminal:").await?;
    let mut lines = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(WAIT, coordinator.process.stdout.next_line())
            .await
            .context("msgflo stopped printing")??
            .context("msgflo's output ended")?;
        lines.push(line);
    }
    Ok(lines)
}

/// Reads msgflo's output up to the line `wanted`.
async fn coordinator_line(coordinator: &mut Coordinator, wanted: &str) -> Result<()> {
    coordinator
        .process
        .lines_until(wanted, WAIT)
        .await
        .map(drop)
}

/// `line` run by `sh`, as typed into a terminal.
fn shell(line: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", line])
        .env_remove("MSGFLO_BROKER")
        .env_remove("RUST_LOG");
    command
}

/// The dump command, running in a process group of its own (the shell and
/// the dump), stopped with the group when dropped.
struct Dump {
    group: u32,
    stdout: StdoutLines,
}

impl Dump {
    /// Starts `line` and waits until it reads (`reading ...` on stderr).
    async fn start(line: &str) -> Result<Self> {
        let mut command = shell(line);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command.spawn().context("cannot run sh")?;
        let group = child.id().context("the shell has a pid")?;
        let stdout = StdoutLines::read(child.stdout.take().context("stdout is piped")?);
        let dump = Dump { group, stdout };
        let mut stderr = BufReader::new(child.stderr.take().context("stderr is piped")?).lines();
        let ready = tokio::time::timeout(WAIT, stderr.next_line())
            .await
            .context("the dump did not start")??;
        match ready {
            Some(l) if l.starts_with("reading ") => {}
            other => bail!("{line}: {other:?}"),
        }
        tokio::spawn(async move { child.wait().await });
        Ok(dump)
    }
}

impl Drop for Dump {
    fn drop(&mut self) {
        // Gone already when it ended with the broker.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.group)])
            .stderr(Stdio::null())
            .status();
    }
}
