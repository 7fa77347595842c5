//! Mixed deployments under our coordinator (and our msgflo-setup), data
//! counted end to end. One pipeline of seven roles, started by
//! `msgflo --graph` from a library:
//!
//! ```text
//! a(Rust core/Repeat) -> n(msgflo-nodejs) -> b(Rust core/Repeat)
//!   -> p(msgflo-python 0.4.1) -> c(Rust core/Repeat)
//!   -> f(noflo-runtime-msgflo, noflo-core's Repeat) -> d(Rust core/Repeat)
//! ```
//!
//! so every direction between Rust and each peer is an edge: Rust -> Node,
//! Node -> Rust, Rust -> Python, Python -> Rust, Rust -> NoFlo, NoFlo ->
//! Rust. `MESSAGES` numbered messages (`"m0"`, `"m1"`, ...: ASCII JSON
//! strings, which each peer's JSON round trip gives back byte for byte) go
//! into `a`, at most `WINDOW` at a time ahead of what came out of `d`;
//! every one must come out of `d` with its bytes unchanged, once: none
//! lost, none twice, none made up. The peers are installed at test time
//! (npm `msgflo-nodejs@0.11.1` with the broker clients it needs beside it,
//! `noflo-runtime-msgflo@0.11.3` with `noflo-core@0.4.1`, msgflo-python
//! 0.4.1 from PyPI) and the Node and Python participants run from scripts
//! written into a temporary folder. When messages stop, the error says how
//! many passed each hop (taps on every outport, and on MQTT on the
//! forwarded inports) and ends with the coordinator's log.
//!
//! - On Mosquitto (role names unique per run), no peer answers
//!   `connectinport`: after 5 s the coordinator says so for each (checked)
//!   and forwards the edges into them (`Rust -> peer`), while the Rust
//!   participants subscribe to the peers' own topics (`n.OUT`, `p/out`,
//!   `f.OUT`) on `connectinport` (`peer -> Rust`). Proves both directions
//!   with each peer on MQTT, that the coordinator says which edges depend
//!   on it, and that its forwarding keeps going past the participants'
//!   re-announcements (every 27 s; the run takes about 30 s, held to
//!   msgflo-python's pace of about 10 messages a second).
//! - On RabbitMQ (a vhost of its own), msgflo-nodejs and
//!   noflo-runtime-msgflo declare their queues as msgflo does (durable,
//!   dead-letter argument) and msgflo-python 0.4.1 (Python 2.7) its own
//!   way (`p/in` not durable); the coordinator binds all six edges to them
//!   as they are, with no PRECONDITION_FAILED in its log. Role `n` is
//!   served by three participants — two msgflo-nodejs ones and a Rust one
//!   (the test starts the other two) — consuming `n.IN` together. Proves
//!   both directions with each peer on AMQP, and a role whose participants
//!   of two languages share its work, each message taken once.
//! - Under `msgflo-setup --participants --discover --forever` instead of a
//!   coordinator, on RabbitMQ and on Mosquitto: the same pipeline, every
//!   participant started and every edge linked by msgflo-setup, which uses
//!   the coordinator's planner; on Mosquitto it forwards the three edges
//!   into the peers itself (checked in its log), as msgflo's setup does.
//!
//! Counting the messages through the pipeline: `mixed/counting.rs`; the
//! runs under msgflo-setup: `mixed/under_setup.rs`.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::ids::QueueName;
use msgflo_participant::transport::{Consumer, Transport};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{Client, Coordinator};
use msgflo_tests::process::{spawn_ready, Spawned};
use msgflo_tests::python::Python2;
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{client, mqtt_url, npm, python, workspace_root};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
#[path = "mixed/counting.rs"]
mod counting;
#[path = "mixed/under_setup.rs"]
mod under_setup;

use counting::{count_through, until_through, Checkpoints, Counted};

/// Messages sent through the pipeline.
const MESSAGES: usize = 300;
/// At most this many on their way at once: MQTT has no back-pressure, and
/// msgflo-python 0.4.1's MQTT engine reads about one message per 0.1 s.
const WINDOW: usize = 50;

/// A msgflo-nodejs participant that repeats what it gets: `node
/// repeat.js ROLE`, the broker from `MSGFLO_BROKER` (which the coordinator
/// gives the participants it starts). Prints a line once started.
const NODE_REPEAT: &str = r#"const msgflo = require('msgflo-nodejs');
const role = process.argv[2];
const definition = {
  component: 'mix/NodeRepeat',
  icon: 'repeat',
  label: 'Repeats its input (msgflo-nodejs)',
  inports: [{ id: 'in', type: 'any' }],
  outports: [{ id: 'out', type: 'any' }],
};
const repeat = (inport, data, callback) => callback('out', null, data);
const participant = new msgflo.participant.Participant(
  process.env.MSGFLO_BROKER, definition, repeat, role);
participant.start((err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(`${role} started`);
});
"#;

/// msgflo-nodejs with the broker clients it needs beside it (it depends on
/// neither; these are the versions its own tests use).
fn msgflo_nodejs() -> Result<std::path::PathBuf> {
    npm::install_with("msgflo-nodejs", "0.11.1", &["mqtt@2.18.8", "amqplib@0.5.6"])
}

/// noflo-runtime-msgflo with the components of noflo-core 0.4.1 beside it
/// (0.6 crashes it); it brings its own msgflo-nodejs (0.10.5).
fn noflo_runtime_msgflo() -> Result<std::path::PathBuf> {
    npm::install_with("noflo-runtime-msgflo", "0.11.3", &["noflo-core@0.4.1"])
}

/// The roles of one run, unique per run.
struct Roles {
    a: String,
    n: String,
    b: String,
    p: String,
    c: String,
    f: String,
    d: String,
}

impl Roles {
    fn new() -> Self {
        let s = &uuid::Uuid::new_v4().simple().to_string()[..10];
        Self {
            a: format!("a_{s}"),
            n: format!("node_{s}"),
            b: format!("b_{s}"),
            p: format!("py_{s}"),
            c: format!("c_{s}"),
            f: format!("noflo_{s}"),
            d: format!("d_{s}"),
        }
    }

    /// The outports along the way: the Rust ones, msgflo-nodejs' (`ROLE.OUT`
    /// too), msgflo-python's (`role/out`).
    fn outports(&self) -> Vec<String> {
        vec![
            format!("{}.OUT", self.a),
            format!("{}.OUT", self.n),
            format!("{}.OUT", self.b),
            format!("{}/out", self.p),
            format!("{}.OUT", self.c),
            format!("{}.OUT", self.f),
        ]
    }

    /// Where the counting watches: the outports, and with `forwarded` (on
    /// MQTT) the peers' inports the coordinator or msgflo-setup forwards to.
    fn checkpoints(&self, forwarded: bool) -> Vec<String> {
        let mut points = self.outports();
        if forwarded {
            points.insert(1, format!("{}.IN", self.n));
            points.insert(4, format!("{}/in", self.p));
            points.insert(7, format!("{}.IN", self.f));
        }
        points
    }
}

/// Writes the graph, the peer scripts and the library into `dir` and
/// starts the coordinator on `broker` with them.
async fn start_pipeline(
    dir: &Path,
    broker: &str,
    roles: &Roles,
    python: &dyn Fn(&Path) -> String,
) -> Result<Coordinator> {
    let (graph, library) = write_pipeline(dir, roles, python)?;
    let (graph, library) = (graph.display().to_string(), library.display().to_string());
    msgflo_tests::fbp_client::start_with(
        broker,
        &[
            "--graph",
            &graph,
            "--library",
            &library,
            "--forward",
            "stderr",
        ],
        &[("RUST_LOG", "msgflo_coordinator=info")],
    )
    .await
}

/// Writes the graph, the peer scripts and the library (the Python
/// participant run by `python`, a command line before its script) into
/// `dir`; returns the graph's and the library's paths.
fn write_pipeline(
    dir: &Path,
    roles: &Roles,
    python: &dyn Fn(&Path) -> String,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let node_modules = msgflo_nodejs()?.join("node_modules");
    let (node_script, python_script) = (dir.join("repeat.js"), dir.join("repeat.py"));
    std::fs::write(&node_script, NODE_REPEAT)?;
    std::fs::write(&python_script, msgflo_tests::python::REPEAT)?;
    let noflo = noflo_runtime_msgflo()?;
    let Roles {
        a,
        n,
        b,
        p,
        c,
        f,
        d,
    } = roles;
    let graph = dir.join("mixed.fbp");
    std::fs::write(
        &graph,
        format!(
            "{a}(core/Repeat) OUT -> IN {n}(mix/NodeRepeat) OUT -> IN {b}(core/Repeat)\n\
             {b} OUT -> IN {p}(py/Repeat) OUT -> IN {c}(core/Repeat)\n\
             {c} OUT -> IN {f}(mix/NofloRepeat) OUT -> IN {d}(core/Repeat)\n"
        ),
    )?;
    let participant = binary("msgflo-participant")?;
    let library = dir.join("library.json");
    std::fs::write(
        &library,
        serde_json::to_vec(&json!({"components": {
            "core/Repeat": format!("{} --name #ROLE --component core/Repeat", participant.display()),
            "mix/NodeRepeat": format!(
                "env NODE_PATH={} node {} #ROLE",
                node_modules.display(),
                node_script.display()
            ),
            "py/Repeat": format!("{} #ROLE", python(&python_script)),
            // noflo-core's Repeat, its components found under --basedir;
            // New Relic's agents (dependencies) kept quiet, writing no log file.
            "mix/NofloRepeat": format!(
                "env NEW_RELIC_NO_CONFIG_FILE=true NEW_RELIC_ENABLED=false NEW_RELIC_LOG_ENABLED=false \
                 NEW_RELIC_LOG=/dev/null \
                 {}/node_modules/.bin/noflo-runtime-msgflo --name #ROLE --graph core/Repeat --basedir {}",
                noflo.display(),
                noflo.display()
            ),
        }}))?,
    )?;
    Ok((graph, library))
}

/// The coordinator's `network:output` lines until `count` of them contain
/// `needle`, within `wait`.
async fn said(fbp: &mut Client, needle: &str, count: usize, wait: Duration) -> Result<Vec<String>> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut lines = Vec::new();
    while lines.len() < count {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = fbp.until("network", "output", left).await?;
        if let Some(text) = message["payload"]["message"].as_str() {
            if text.contains(needle) {
                lines.push(text.to_owned());
            }
        }
    }
    Ok(lines)
}

fn q(name: &str) -> Result<QueueName> {
    Ok(QueueName::new(name)?)
}

/// What differs between the transports.
struct Case<'a> {
    /// `MQTT` or `AMQP`, for the report.
    name: &'static str,
    broker: &'a str,
    /// The command line that runs a msgflo-python script.
    python: &'a dyn Fn(&Path) -> String,
    /// Whether the coordinator forwards the edges into the peers.
    forwarded: bool,
    /// The vhost, when role `n` is also served by a second msgflo-nodejs
    /// participant and a Rust one (started by the test), which share its
    /// queue.
    shared: Option<&'a Vhost>,
}

impl<'a> Case<'a> {
    /// On RabbitMQ in `vhost`; `shared`: role `n` also served by a second
    /// msgflo-nodejs participant and a Rust one.
    fn rabbitmq(vhost: &'a Vhost, python: &'a dyn Fn(&Path) -> String, shared: bool) -> Self {
        Self {
            name: "AMQP",
            broker: vhost.url(),
            python,
            forwarded: false,
            shared: shared.then_some(vhost),
        }
    }

    /// On Mosquitto: no peer takes `connectinport`, so the edges into them
    /// are forwarded.
    fn mosquitto(broker: &'a str, python: &'a dyn Fn(&Path) -> String) -> Self {
        Self {
            name: "MQTT",
            broker,
            python,
            forwarded: true,
            shared: None,
        }
    }
}

/// msgflo-python 0.4.1 for MQTT, on Python 3: the example's venv.
fn python3_msgflo() -> Result<std::path::PathBuf> {
    let example = workspace_root().join("examples/polyglot");
    python::venv("msgflo-0.4.1", &example.join("requirements.txt"))
}

/// Runs the pipeline of the module docs on `case.broker` and counts
/// `MESSAGES` through it; returns the coordinator's log. On failure the
/// error ends with the last lines of that log.
async fn run(case: &Case<'_>) -> Result<String> {
    let roles = Roles::new();
    let t = client(case.broker, "mixed").await?;
    // Rust participants declare their outports as a bind does.
    let mut out = t.tap(&q(&format!("{}.OUT", roles.d))?).await?;
    let dir = tempfile::tempdir()?;
    let coordinator = start_pipeline(dir.path(), case.broker, &roles, case.python).await?;
    let mut helpers = Vec::new();
    if let Some(vhost) = case.shared {
        helpers = share_role(dir.path(), case.broker, &roles.n).await?;
        // msgflo-nodejs says it started once it asked to consume.
        let queue = format!("{}.IN", roles.n);
        let deadline = Instant::now() + Duration::from_secs(10);
        while vhost.consumers_of(&queue)? < 3 {
            ensure!(Instant::now() < deadline, "not 3 consumers of {queue}");
        }
    }
    let started = Instant::now();
    let counted = count_pipeline(case, &roles, coordinator.port, &t, &mut out.consumer).await;
    drop(helpers);
    let (_, log) = coordinator
        .process
        .terminate(Duration::from_secs(20))
        .await?;
    let tail = || {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    let counted = counted.with_context(|| format!("the coordinator's log ends:\n{}", tail()))?;
    eprintln!(
        "{}: {MESSAGES} messages Rust -> Node -> Rust -> Python -> Rust -> NoFlo -> Rust in {:?} \
         ({} duplicates; {:?} from the coordinator's start)",
        case.name,
        counted.took,
        counted.duplicates,
        started.elapsed()
    );
    ensure!(counted.duplicates == 0, "{} duplicates", counted.duplicates);
    t.close().await?;
    Ok(log)
}

/// Starts a second msgflo-nodejs participant and a Rust `core/Repeat` one
/// of `role` (the scripts are in `dir`); each counts as started at its
/// first line on stdout, printed once it consumes.
async fn share_role(dir: &Path, broker: &str, role: &str) -> Result<Vec<Spawned>> {
    let mut node = tokio::process::Command::new("node");
    node.arg(dir.join("repeat.js"))
        .arg(role)
        .env("NODE_PATH", msgflo_nodejs()?.join("node_modules"))
        .env("MSGFLO_BROKER", broker);
    let mut rust = tokio::process::Command::new(binary("msgflo-participant")?);
    rust.args([
        "--name",
        role,
        "--component",
        "core/Repeat",
        "--broker",
        broker,
    ]);
    let mut started = Vec::new();
    for command in [node, rust] {
        started.push(spawn_ready(command, Duration::from_secs(30)).await?.0);
    }
    Ok(started)
}

/// Waits for the pipeline to carry a probe (and on MQTT for the coordinator
/// to say it forwards into both peers), then counts `MESSAGES` through it.
async fn count_pipeline(
    case: &Case<'_>,
    roles: &Roles,
    port: u16,
    t: &Arc<dyn Transport>,
    out: &mut Consumer,
) -> Result<Counted> {
    let mut fbp = Client::connect(port).await?;
    if case.forwarded {
        let silent = said(
            &mut fbp,
            "takes no connectinport",
            3,
            Duration::from_secs(40),
        )
        .await?;
        for role in [&roles.n, &roles.p, &roles.f] {
            ensure!(
                silent.iter().any(|l| l.contains(&format!("(role {role})"))),
                "the coordinator did not say it forwards into {role}: {silent:?}"
            );
        }
    }
    let inport = q(&format!("{}.IN", roles.a))?;
    until_through(t, &inport, out).await?;
    // Watched once every participant declared its queues as it does.
    let watcher = client(case.broker, "mixed-watch").await?;
    let checkpoints = Checkpoints::watch(&watcher, &roles.checkpoints(case.forwarded)).await?;
    count_through(t, &inport, out, &checkpoints).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_and_python_participants_on_mosquitto() -> Result<()> {
    let python = python3_msgflo()?;
    let broker = mqtt_url();
    let python = |script: &Path| format!("{} {}", python.display(), script.display());
    let case = Case::mosquitto(&broker, &python);
    run(&case).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_and_python_participants_on_rabbitmq() -> Result<()> {
    let python = Python2::msgflo()?;
    let vhost = Vhost::new("mixed")?;
    let python = |script: &Path| python.command_line(script);
    let case = Case::rabbitmq(&vhost, &python, true);
    let log = run(&case).await?;
    ensure!(!log.contains("PRECONDITION_FAILED"), "{log}");
    Ok(())
}

/// On Mosquitto, role `n` served by a msgflo-nodejs participant (started
/// by the coordinator; answers no `connectinport`) and a Rust one (started
/// by the test): the coordinator forwards `a.OUT` into `n.IN`, where each
/// participant of the role takes every message — MQTT gives every
/// subscriber of a topic a copy, as under msgflo — so each of `MESSAGES`
/// comes out of `b` exactly twice. Proves the Rust participant is not also
/// told to take `a.OUT` (then it would take every message twice: three
/// copies).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_role_of_node_and_rust_participants_on_mosquitto() -> Result<()> {
    let broker = mqtt_url();
    let roles = Roles::new();
    let (a, n, b) = (&roles.a, &roles.n, &roles.b);
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("repeat.js"), NODE_REPEAT)?;
    let graph = dir.path().join("role.fbp");
    std::fs::write(
        &graph,
        format!("{a}(core/Repeat) OUT -> IN {n}(mix/NodeRepeat) OUT -> IN {b}(core/Repeat)\n"),
    )?;
    let participant = binary("msgflo-participant")?;
    let library = dir.path().join("library.json");
    std::fs::write(
        &library,
        serde_json::to_vec(&json!({"components": {
            "core/Repeat": format!("{} --name #ROLE --component core/Repeat", participant.display()),
            "mix/NodeRepeat": format!(
                "env NODE_PATH={} node {} #ROLE",
                msgflo_nodejs()?.join("node_modules").display(),
                dir.path().join("repeat.js").display()
            ),
        }}))?,
    )?;
    let t = client(&broker, "mixed-role").await?;
    let mut out = t.tap(&q(&format!("{b}.OUT"))?).await?;
    let (graph, library) = (graph.display().to_string(), library.display().to_string());
    let coordinator =
        msgflo_tests::fbp_client::start(&broker, &["--graph", &graph, "--library", &library])
            .await?;
    let mut rust = tokio::process::Command::new(&participant);
    rust.args([
        "--name",
        n,
        "--component",
        "core/Repeat",
        "--broker",
        &broker,
    ]);
    let (_rust, _) = spawn_ready(rust, Duration::from_secs(30)).await?;
    let mut fbp = Client::connect(coordinator.port).await?;
    said(
        &mut fbp,
        "takes no connectinport",
        1,
        Duration::from_secs(40),
    )
    .await?;
    // Both of n's participants consume n.IN before they announce
    // themselves; a probe through shows the forward and b's subscription.
    let inport = q(&format!("{a}.IN"))?;
    until_through(&t, &inport, &mut out.consumer).await?;

    let started = Instant::now();
    for i in 0..MESSAGES {
        t.send_to_inport(&inport, Bytes::from(format!("\"m{i}\"")))
            .await?;
    }
    let mut seen: BTreeMap<Bytes, usize> = BTreeMap::new();
    let mut copies = 0;
    while copies < 2 * MESSAGES {
        let delivery = tokio::time::timeout(Duration::from_secs(30), out.consumer.next())
            .await
            .with_context(|| format!("{copies} of {} copies came out", 2 * MESSAGES))?
            .context("consumer ended")?;
        let payload = delivery.payload.clone();
        delivery.ack().await?;
        if payload.as_ref() != b"\"probe\"" {
            *seen.entry(payload).or_default() += 1;
            copies += 1;
        }
    }
    eprintln!(
        "MQTT: {MESSAGES} messages into a role of a Node and a Rust participant: {copies} copies in {:?}",
        started.elapsed()
    );
    let expected: BTreeMap<Bytes, usize> = (0..MESSAGES)
        .map(|i| (Bytes::from(format!("\"m{i}\"")), 2))
        .collect();
    ensure!(seen == expected, "not each exactly twice: {seen:?}");
    // A third copy of any would come right after.
    if let Ok(Some(extra)) =
        tokio::time::timeout(Duration::from_millis(500), out.consumer.next()).await
    {
        ensure!(
            extra.payload.as_ref() == b"\"probe\"",
            "a third copy: {:?}",
            extra.payload
        );
    }
    drop(coordinator);
    t.close().await?;
    Ok(())
}
