//! Running the data tools (`msgflo-send-message`, `msgflo-dump-message`,
//! `msgflo-participants`) as the user would: to their end, or a dump in the
//! background read line by line.

use crate::bins::binary;
use anyhow::{bail, Context, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long a tool may take to finish in the tests.
pub const FINISH: Duration = Duration::from_secs(60);

/// The tool `name` with `args`, the broker environment cleared.
pub fn tool(name: &str, args: &[&str]) -> Result<Command> {
    let mut command = Command::new(binary(name)?);
    command
        .args(args)
        .env_remove("MSGFLO_BROKER")
        .env_remove("CLOUDAMQP_URL")
        .env_remove("MSGFLO_SECRET")
        .env_remove("RUST_LOG");
    Ok(command)
}

/// Runs the tool to its end: (exit code, stdout, stderr).
pub async fn run(name: &str, args: &[&str]) -> Result<(Option<i32>, String, String)> {
    crate::process::run_to_end(tool(name, args)?, FINISH)
        .await
        .with_context(|| format!("{name} {args:?}"))
}

/// A `msgflo-dump-message` running in the background.
pub struct Dump {
    child: Child,
    /// Its standard output, line by line.
    pub stdout: Lines<BufReader<ChildStdout>>,
}

impl Dump {
    /// Starts `msgflo-dump-message ARGS` and waits for its ready line on
    /// stderr (`reading ...`), so that what is sent after is seen.
    pub async fn start(args: &[&str]) -> Result<Self> {
        let mut command = tool("msgflo-dump-message", args)?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .context("cannot start msgflo-dump-message")?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let stderr = child.stderr.take().context("stderr is piped")?;
        let mut errors = BufReader::new(stderr).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), errors.next_line())
            .await
            .context("no ready line within 30 s")??;
        match ready {
            Some(line) if line.starts_with("reading ") => {}
            other => bail!("msgflo-dump-message {args:?} said {other:?} instead of its ready line"),
        }
        // Anything else it says on stderr goes to the test's stderr.
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                eprintln!("msgflo-dump-message: {line}");
            }
        });
        Ok(Self {
            child,
            stdout: BufReader::new(stdout).lines(),
        })
    }

    /// The next line on stdout, within `wait`.
    pub async fn line(&mut self, wait: Duration) -> Result<String> {
        tokio::time::timeout(wait, self.stdout.next_line())
            .await
            .with_context(|| format!("no line within {wait:?}"))??
            .context("stdout ended")
    }

    /// Waits for the exit; returns the exit code and the rest of stdout.
    pub async fn finish(mut self, wait: Duration) -> Result<(Option<i32>, String)> {
        let mut rest = String::new();
        let read = async {
            while let Some(line) = self.stdout.next_line().await? {
                rest.push_str(&line);
                rest.push('\n');
            }
            anyhow::Ok(self.child.wait().await?)
        };
        let status = tokio::time::timeout(wait, read)
            .await
            .context("msgflo-dump-message did not finish in time")??;
        Ok((status.code(), rest))
    }

    /// SIGTERM, then the exit code.
    pub async fn terminate(mut self, wait: Duration) -> Result<Option<i32>> {
        let pid = self.child.id().context("already exited")?;
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(wait, self.child.wait())
            .await
            .context("did not exit after SIGTERM")??;
        Ok(status.code())
    }
}

/// Sends `json` to `queue` with `msgflo-send-message` until a message comes
/// out of `tap` (within 2 s of a send), at most `tries` times; returns that
/// message. For a system still wiring itself up (participants starting, a
/// `connectinport` on its way), where a message sent too early is not seen.
pub async fn send_until_out(
    broker: &str,
    queue: &str,
    json: &str,
    tap: &mut msgflo_participant::transport::Consumer,
    tries: usize,
) -> Result<String> {
    for _ in 0..tries {
        let args = ["--broker", broker, "--queue", queue, "--json", json];
        let (code, _, err) = run("msgflo-send-message", &args).await?;
        if code != Some(0) {
            bail!("msgflo-send-message: {err}");
        }
        if let Ok(Some(delivery)) = tokio::time::timeout(Duration::from_secs(2), tap.next()).await {
            let text = String::from_utf8_lossy(&delivery.payload).into_owned();
            delivery.ack().await?;
            return Ok(text);
        }
    }
    bail!(
        "nothing came out of {} after {tries} messages to {queue}",
        tap.queue()
    )
}

/// What `msgflo-setup --forever` prints once everything is set up.
pub const SETUP_READY: &str = "--forever enabled, keeping alive";

/// Starts `setup` (a `msgflo-setup ... --forever` command) and reads its
/// output up to [`SETUP_READY`], within `wait` per line; returns the running
/// process and every line it printed.
pub async fn start_setup(
    setup: Command,
    wait: Duration,
) -> Result<(crate::process::Spawned, Vec<String>)> {
    let (mut process, first) = crate::process::spawn_ready(setup, wait).await?;
    let mut printed = vec![first];
    printed.extend(process.lines_until(SETUP_READY, wait).await?);
    Ok((process, printed))
}
