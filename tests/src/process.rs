//! Running the project's binaries as child processes: wait for their ready
//! line, stop them with SIGTERM or SIGKILL, read what they printed.
//!
//! A started process's stdout and stderr are read in the background from
//! the start, so a process that prints a lot (a coordinator forwarding its
//! participants' output) never blocks on a full pipe.

use anyhow::{bail, ensure, Context, Result};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A running child; killed when dropped.
pub struct Spawned {
    child: Child,
    /// Its standard output, line by line (the ready line already read).
    pub stdout: StdoutLines,
    stderr: Option<JoinHandle<String>>,
    /// What it wrote on stderr so far.
    stderr_so_far: Arc<Mutex<Vec<u8>>>,
}

/// A child's stdout lines, read in the background as they come.
pub struct StdoutLines {
    lines: mpsc::UnboundedReceiver<std::io::Result<String>>,
}

impl StdoutLines {
    /// Reads `pipe` line by line in the background.
    pub fn read(pipe: impl AsyncRead + Unpin + Send + 'static) -> Self {
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(pipe).lines();
            loop {
                let line = reader.next_line().await.transpose();
                let end = !matches!(line, Some(Ok(_)));
                if let Some(line) = line {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
                if end {
                    return;
                }
            }
        });
        Self { lines }
    }

    /// The next line; `None` at the end of the output.
    pub async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        self.lines.recv().await.transpose()
    }
}

/// Reads all of `pipe` in the background, into `so_far` as it comes; the
/// text once it ends.
fn read_all(
    mut pipe: impl AsyncRead + Unpin + Send + 'static,
    so_far: Arc<Mutex<Vec<u8>>>,
) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
            bytes.extend_from_slice(&chunk[..n]);
            if let Ok(mut so_far) = so_far.lock() {
                so_far.extend_from_slice(&chunk[..n]);
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Starts `command` and waits up to `wait` for its first line on stdout,
/// which it returns with the process. If the process writes to stderr or exits
/// first, that is the error.
pub async fn spawn_ready(mut command: Command, wait: Duration) -> Result<(Spawned, String)> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().context("cannot start the process")?;
    let mut lines = StdoutLines::read(child.stdout.take().context("stdout is piped")?);
    let stderr_so_far = Arc::new(Mutex::new(Vec::new()));
    let stderr = read_all(
        child.stderr.take().context("stderr is piped")?,
        stderr_so_far.clone(),
    );
    let first = tokio::time::timeout(wait, lines.next_line()).await;
    match first {
        Ok(Ok(Some(line))) => Ok((
            Spawned {
                child,
                stdout: lines,
                stderr: Some(stderr),
                stderr_so_far,
            },
            line,
        )),
        Ok(_) => {
            let status = child.wait().await?;
            let text = stderr.await?;
            bail!("exited ({status}) before its ready line; stderr: {text}")
        }
        Err(_) => bail!("no ready line within {wait:?}"),
    }
}

impl Spawned {
    /// Reads stdout lines up to and including the line `last`, within
    /// `wait` for each; returns them. The error names what was read.
    pub async fn lines_until(&mut self, last: &str, wait: Duration) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let line = tokio::time::timeout(wait, self.stdout.next_line())
                .await
                .with_context(|| format!("no {last:?} within {wait:?}; got {lines:?}"))??
                .with_context(|| format!("stdout ended before {last:?}; got {lines:?}"))?;
            let done = line == last;
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    /// The process id.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit code; returns it with everything
    /// the process wrote on stderr.
    pub async fn terminate(mut self, wait: Duration) -> Result<(Option<i32>, String)> {
        let pid = self.child.id().context("already exited")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        let status = tokio::time::timeout(wait, self.child.wait())
            .await
            .context("did not exit after SIGTERM")??;
        Ok((status.code(), self.stderr().await?))
    }

    /// [`Spawned::terminate`], failing unless it exited 0 (with its stderr).
    pub async fn stop_cleanly(self, wait: Duration) -> Result<()> {
        let (code, stderr) = self.terminate(wait).await?;
        ensure!(code == Some(0), "exit {code:?}: {stderr}");
        Ok(())
    }

    /// Waits up to `wait` for it to exit by itself; its exit code.
    pub async fn exited(&mut self, wait: Duration) -> Result<Option<i32>> {
        let status = tokio::time::timeout(wait, self.child.wait())
            .await
            .context("did not exit")??;
        Ok(status.code())
    }

    /// SIGKILL, as a crash would: nothing is cleaned up.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// What it has written on stderr so far, while it runs.
    pub fn stderr_so_far(&self) -> String {
        let bytes = self
            .stderr_so_far
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Everything it wrote on stderr (once it has exited).
    pub async fn stderr(&mut self) -> Result<String> {
        match self.stderr.take() {
            Some(reading) => Ok(reading.await?),
            None => Ok(String::new()),
        }
    }
}

/// Runs `command` to completion with a time limit; returns (exit code, stdout, stderr).
pub async fn run_to_end(
    mut command: Command,
    wait: Duration,
) -> Result<(Option<i32>, String, String)> {
    command.stdin(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(wait, command.output())
        .await
        .context("did not finish in time")??;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// Runs `command` to its end with stdout and stderr in files of `dir`,
/// killing it after `wait`; returns (exit status, stdout, stderr). A timeout
/// is an error that still shows what the command printed. The command runs
/// in a process group of its own, and whatever it left running in that group
/// (a runtime it started, say) is stopped before this returns, so nothing
/// outlives the test.
pub async fn run_logged(
    mut command: Command,
    dir: &std::path::Path,
    wait: Duration,
) -> Result<(std::process::ExitStatus, String, String)> {
    let (out_path, err_path) = (dir.join("stdout.log"), dir.join("stderr.log"));
    command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().context("cannot start the command")?;
    let group = child.id().context("the command has a pid")?;
    let status = tokio::time::timeout(wait, child.wait()).await;
    stop_group(group).await;
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    match status {
        Ok(status) => Ok((status?, read(&out_path), read(&err_path))),
        Err(_) => {
            let _ = child.kill().await;
            bail!(
                "did not finish within {wait:?}\nstdout:\n{}\nstderr:\n{}",
                read(&out_path),
                read(&err_path)
            )
        }
    }
}

/// SIGTERM to process group `group`, SIGKILL if it is not gone in 10 s.
async fn stop_group(group: u32) {
    let signal = |name: &str| {
        std::process::Command::new("kill")
            .args([name, "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !signal("-TERM") {
        return; // nothing left in the group
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while signal("-0") {
        if tokio::time::Instant::now() > deadline {
            signal("-KILL");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `msgflo-participant --name ROLE --component COMPONENT --broker BROKER
/// EXTRA...`, announcing every second (`MSGFLO_DISCOVERY_PERIOD=1`), with
/// neither the test's `RUST_LOG` nor its `MSGFLO_QUEUE_TYPE` (nor
/// `MSGFLO_DELIVERY` and the tracing settings).
pub fn participant(broker: &str, role: &str, component: &str, extra: &[&str]) -> Result<Command> {
    let mut command = Command::new(crate::bins::binary("msgflo-participant")?);
    command
        .args(["--name", role, "--component", component, "--broker", broker])
        .args(extra)
        .env("MSGFLO_DISCOVERY_PERIOD", "1")
        .env_remove("MSGFLO_QUEUE_TYPE")
        .env_remove("MSGFLO_DELIVERY")
        .env_remove("MSGFLO_TRACE")
        .env_remove("MSGFLO_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("RUST_LOG");
    Ok(command)
}
