//! A RabbitMQ virtual host of a test's own, for a test that runs a
//! coordinator: the `fbp` discovery queue (and every queue name) is then
//! its alone. Made with `rabbitmqctl` on this machine's RabbitMQ (what
//! `scripts/test` starts), deleted when dropped.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::process::Command;

/// A virtual host that lives as long as this value.
pub struct Vhost {
    name: String,
    url: String,
}

impl Vhost {
    /// A new virtual host `<prefix>-<uuid>` that the test RabbitMQ's user
    /// may use fully.
    pub fn new(prefix: &str) -> Result<Self> {
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let mut url = url::Url::parse(&crate::amqp_url()).context("MSGFLO_TEST_AMQP_URL")?;
        let user = match url.username() {
            "" => "guest".to_owned(),
            user => user.to_owned(),
        };
        rabbitmqctl(&["add_vhost", &name])?;
        let vhost = Self {
            url: {
                url.set_path(&format!("/{name}"));
                url.to_string()
            },
            name,
        };
        rabbitmqctl(&[
            "set_permissions",
            "-p",
            &vhost.name,
            &user,
            ".*",
            ".*",
            ".*",
        ])?;
        Ok(vhost)
    }

    /// Its name (for `rabbitmqctl ... -p NAME`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its queues, each with whether it is durable.
    pub fn durable_queues(&self) -> Result<BTreeMap<String, bool>> {
        Ok(self
            .queue_info("durable")?
            .into_iter()
            .map(|(name, durable)| (name, durable == "true"))
            .collect())
    }

    /// Its queues, each with its type (`classic`, `quorum`).
    pub fn queue_types(&self) -> Result<BTreeMap<String, String>> {
        self.queue_info("type")
    }

    /// Its queues, each with the `rabbitmqctl list_queues` column `item`.
    fn queue_info(&self, item: &str) -> Result<BTreeMap<String, String>> {
        let out = rabbitmqctl(&[
            "list_queues",
            "-p",
            &self.name,
            "name",
            item,
            "--no-table-headers",
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| line.rsplit_once('\t'))
            .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            .collect())
    }

    /// The broker URL of this virtual host.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The names of the queues in it, as the broker lists them.
    pub fn queues(&self) -> Result<Vec<String>> {
        let out = rabbitmqctl(&[
            "list_queues",
            "-p",
            &self.name,
            "name",
            "--no-table-headers",
        ])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    /// How many consumers the queue `queue` has (0 if it is not there).
    pub fn consumers_of(&self, queue: &str) -> Result<usize> {
        let out = rabbitmqctl(&[
            "list_queues",
            "-p",
            &self.name,
            "name",
            "consumers",
            "--no-table-headers",
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| line.rsplit_once('\t'))
            .find(|(name, _)| *name == queue)
            .and_then(|(_, n)| n.trim().parse().ok())
            .unwrap_or(0))
    }

    /// How many consumers its queues have.
    pub fn consumers(&self) -> Result<usize> {
        let out = rabbitmqctl(&["list_consumers", "-p", &self.name, "--no-table-headers"])?;
        Ok(out.lines().filter(|line| !line.trim().is_empty()).count())
    }

    /// How many channels the connections to it have open.
    pub fn channels(&self) -> Result<usize> {
        let out = rabbitmqctl(&[
            "list_connections",
            "vhost",
            "channels",
            "--no-table-headers",
        ])?;
        let mut total = 0;
        for line in out.lines() {
            let mut fields = line.split('\t');
            if fields.next() == Some(self.name.as_str()) {
                total += fields
                    .next()
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
        Ok(total)
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        if let Err(error) = rabbitmqctl(&["delete_vhost", &self.name]) {
            eprintln!("could not delete the test vhost {}: {error:#}", self.name);
        }
    }
}

/// Runs `rabbitmqctl -q ARGS`; its standard output.
pub(crate) fn rabbitmqctl(args: &[&str]) -> Result<String> {
    let output = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .context(
            "cannot run rabbitmqctl (tests make RabbitMQ vhosts, and nodes, of their own with it)",
        )?;
    if !output.status.success() {
        bail!(
            "rabbitmqctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
