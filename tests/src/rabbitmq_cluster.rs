//! A RabbitMQ cluster of a test's own (three nodes, or one), on free ports
//! of this machine (`scripts/rabbitmq-cluster`): nodes the test may kill and
//! start again. The shared RabbitMQ is never touched. Stopped and removed
//! when dropped.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The running cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    /// Each node: its name (`<name>-<i>@localhost`) and AMQP URL.
    pub nodes: Vec<(String, String)>,
}

impl Cluster {
    /// Starts `count` nodes and clusters them (about 25 s for three on this
    /// machine).
    pub fn start(count: usize) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("msgflo-cluster")
            .tempdir()?;
        let name = format!("msgflo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut ports = Vec::new();
        // Hold every listener until all ports are chosen, so none repeats.
        let held: Vec<TcpListener> = (0..count * 2)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<_>>()?;
        for pair in held.chunks(2) {
            ports.push(format!(
                "{}:{}",
                pair[0].local_addr()?.port(),
                pair[1].local_addr()?.port()
            ));
        }
        drop(held);
        // Output to files, not pipes: the nodes' helpers may hold on to a
        // pipe they inherit, and reading it to its end would never end.
        let (out, err) = (dir.path().join("start.out"), dir.path().join("start.err"));
        let status = Command::new(script())
            .arg("start")
            .arg(dir.path())
            .arg(&name)
            .args(&ports)
            .stdin(Stdio::null())
            .stdout(File::create(&out)?)
            .stderr(File::create(&err)?)
            .status()
            .context("cannot run scripts/rabbitmq-cluster")?;
        let mut cluster = Self {
            dir,
            nodes: Vec::new(),
        };
        if !status.success() {
            bail!(
                "the cluster did not start: {}",
                std::fs::read_to_string(&err).unwrap_or_default().trim()
            );
        }
        cluster.nodes = std::fs::read_to_string(&out)?
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(node, url)| (node.to_owned(), url.to_owned()))
            .collect();
        if cluster.nodes.len() != count {
            bail!("the cluster script printed {:?}", cluster.nodes);
        }
        Ok(cluster)
    }

    /// Every node's URL, comma-separated, starting with node `first`.
    pub fn urls_from(&self, first: usize) -> String {
        let n = self.nodes.len();
        (0..n)
            .map(|i| self.nodes[(first + i) % n].1.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `rabbitmqctl -q -n <node> ARGS` on a node that runs; its output.
    pub fn ctl(&self, node: usize, args: &[&str]) -> Result<String> {
        let on_node = ["-n", self.nodes[node].0.as_str()];
        crate::vhost::rabbitmqctl(&[&on_node[..], args].concat())
    }

    /// Which node leads quorum queue `queue` (vhost `/`), asked of `via`.
    pub fn leader_of(&self, queue: &str, via: usize) -> Result<usize> {
        let out = self.ctl(
            via,
            &["list_queues", "name", "leader", "--no-table-headers"],
        )?;
        let leader = out
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .find(|(name, _)| *name == queue)
            .map(|(_, leader)| leader.trim().to_owned())
            .with_context(|| format!("no queue {queue} in {out:?}"))?;
        self.nodes
            .iter()
            .position(|(node, _)| *node == leader)
            .with_context(|| format!("leader {leader:?} is none of the nodes"))
    }

    /// SIGKILLs node `node`'s Erlang VM, as a crashed machine would go.
    pub fn kill(&self, node: usize) -> Result<()> {
        let pid_file = self.dir.path().join(format!("n{}/pid", node + 1));
        let pid = std::fs::read_to_string(&pid_file)
            .with_context(|| format!("{}", pid_file.display()))?;
        let status = Command::new("kill").args(["-9", pid.trim()]).status()?;
        if !status.success() {
            bail!("kill -9 {} failed", pid.trim());
        }
        Ok(())
    }
}

impl Cluster {
    /// Starts node `node` again (after [`kill`](Self::kill)) and waits
    /// until it runs.
    pub fn start_node(&self, node: usize) -> Result<()> {
        let status = Command::new(script())
            .arg("start-node")
            .arg(self.dir.path())
            .arg((node + 1).to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(self.dir.path().join("start-node.err"))?)
            .status()?;
        if !status.success() {
            bail!(
                "node {} did not start again: {}",
                node + 1,
                std::fs::read_to_string(self.dir.path().join("start-node.err"))
                    .unwrap_or_default()
                    .trim()
            );
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn script() -> PathBuf {
    crate::workspace_root().join("scripts/rabbitmq-cluster")
}
