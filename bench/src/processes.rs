//! The programs under test as processes of their own, as in production:
//! `msgflo-participant` and `msgflo`, found next to this binary. Each is
//! started with its output piped and waited for until its ready line; its
//! memory is read from `/proc`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long a program may take to print its ready line.
const READY: Duration = Duration::from_secs(30);

/// A program built with this one (`target/release/NAME` beside
/// `target/release/msgflo-bench`).
pub fn sibling(name: &str) -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find this program's path")?;
    let path = me
        .parent()
        .context("this program's path has no directory")?
        .join(name);
    if !path.exists() {
        bail!(
            "{} not found: build the workspace first (cargo build --release)",
            path.display()
        );
    }
    Ok(path)
}

/// A running program under test; killed if dropped before [`Process::stop`].
pub struct Process {
    name: String,
    child: Child,
    /// Until [`Process::drain_output`].
    stdout: Option<Lines<BufReader<ChildStdout>>>,
}

impl Process {
    /// Starts `program args` and waits for a stdout line that `ready` accepts;
    /// returns the process and that line.
    pub async fn start(
        program: &str,
        args: &[&str],
        ready: impl Fn(&str) -> bool,
    ) -> Result<(Self, String)> {
        let mut child = Command::new(sibling(program)?)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut process = Self {
            name: program.to_owned(),
            child,
            stdout: Some(BufReader::new(stdout).lines()),
        };
        let line = process.wait_for_line(ready).await?;
        Ok((process, line))
    }

    /// Reads stdout until a line `ready` accepts, at most 30 s.
    pub async fn wait_for_line(&mut self, ready: impl Fn(&str) -> bool) -> Result<String> {
        let name = &self.name;
        let stdout = self.stdout.as_mut().context("output already drained")?;
        tokio::time::timeout(READY, async {
            while let Some(line) = stdout.next_line().await? {
                if ready(&line) {
                    return Ok(line);
                }
            }
            bail!("{name} exited before it was ready")
        })
        .await
        .with_context(|| format!("{name} printed no ready line within {READY:?}"))?
    }

    /// Reads (and drops) what it prints from now on, so that a full pipe
    /// never blocks it.
    pub fn drain_output(&mut self) {
        if let Some(mut stdout) = self.stdout.take() {
            tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        }
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Its memory now and at its peak, from `/proc/PID/status`.
    pub fn memory(&self) -> Result<Memory> {
        let pid = self.child.id().context("the process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("cannot read the memory of {} ({pid})", self.name))?;
        let kib = |key: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(key))
                .with_context(|| format!("no {key} in /proc/{pid}/status"))?;
            let digits: String = line.chars().filter(char::is_ascii_digit).collect();
            Ok(digits.parse()?)
        };
        Ok(Memory {
            rss_kib: kib("VmRSS:")?,
            peak_kib: kib("VmHWM:")?,
        })
    }

    /// SIGTERM, then waits for the exit (SIGKILL after 10 s).
    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

/// Resident memory of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    /// The most it ever had resident (VmHWM).
    pub peak_kib: u64,
}

impl Memory {
    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

/// A `core/Repeat` participant: `msgflo-participant --name ROLE --component
/// core/Repeat --broker URL`, queues `ROLE.IN` and `ROLE.OUT`.
pub async fn repeat(role: &str, broker: &str) -> Result<Process> {
    repeat_args(role, broker, &[]).await
}

/// [`repeat`] with participant id `id`.
pub async fn repeat_with_id(role: &str, id: &str, broker: &str) -> Result<Process> {
    repeat_args(role, broker, &["--id", id]).await
}

async fn repeat_args(role: &str, broker: &str, more: &[&str]) -> Result<Process> {
    let mut args = vec![
        "--name",
        role,
        "--component",
        "core/Repeat",
        "--broker",
        broker,
    ];
    args.extend_from_slice(more);
    let ready = format!("{role} connected to ");
    let (mut process, _) =
        Process::start("msgflo-participant", &args, |l| l.starts_with(&ready)).await?;
    process.drain_output();
    Ok(process)
}
