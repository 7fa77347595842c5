//! `msgflo-setup`: sets up a graph on the broker — optionally starting its
//! participants from the library first — and prints what it did as msgflo
//! does (`Set up participants [ 'a', 'b' ]`, `Set up bindings:` and one line
//! per binding; see [`super::setup_plan`]).
//!
//! What it sets up is what the live coordinator would
//! ([`crate::bindings::plan`]) for the participants it discovered or, without
//! `--discover`, for stand-ins on msgflo's default queue names `ROLE.PORT`;
//! each link is performed with [`crate::links`].
//!
//! - AMQP: each route is a durable queue binding, which outlives this
//!   program. Binding declares only the ends that are missing, so a queue or
//!   exchange a participant declared its own way is left as it is.
//! - MQTT: the bindings are realised through the participants, so no process
//!   has to keep forwarding: each participant of a target role gets a
//!   `connectinport` control message (as from the live coordinator) and
//!   subscribes to the source topic itself. The target roles' participants
//!   are found through discovery, waiting up to `--timeout`; each connection
//!   waits (up to 5 s) for the participant's answer, so data sent once this
//!   program has exited finds the subscription in place. A participant that
//!   takes no control messages (msgflo-nodejs' or msgflo-python's on MQTT)
//!   needs its edges' messages forwarded, as msgflo's setup does in-process:
//!   - with `--forever`, msgflo-setup forwards each such edge itself
//!     ([`crate::relay`]: byte for byte, acked once the copy is confirmed)
//!     and says so with one line per edge on stderr (`msgflo-setup:
//!     forwarding A.OUT -> B.IN: ...`);
//!   - without it, nothing would carry such an edge once this program has
//!     exited, so it says so with one line per edge on stderr
//!     (`msgflo-setup: warning: nothing carries A.OUT -> B.IN: ...`) and
//!     exits as usual.
//! - `--discover`: the queues are the ones the participants announce; every
//!   participant node of the graph must announce itself within `--timeout`.
//! - `--forever`: keeps running (and its participants with it) until SIGTERM
//!   or SIGINT, then stops the participants it started; on MQTT it also
//!   connects participants of the target roles that appear meanwhile, and
//!   forwards the edges into those that take no control messages.
//!   Without `--forever` it exits once the bindings are set up and leaves the
//!   participants it started running, as msgflo does (their output then goes
//!   nowhere).
//!
//! # Differences from msgflo
//! - Booleans parse (`--forever=false` is false).
//! - `--discover` waits for participant nodes only, not for `msgflo/RoundRobin`
//!   nodes (which never announce themselves, so msgflo always times out), and
//!   the timeout error names the roles that did not appear.
//! - Commands always run through `sh -c` (msgflo splits them on spaces unless
//!   `--shell` is given); `--shell` is accepted and ignored. Forwarded output
//!   lines are prefixed with `[role] `.
//! - `--only` names must be nodes of the graph.

use super::procfile::{iips_for_role, is_participant, node_order, MissingComponent};
use super::setup_plan;
use crate::bindings::{self, Link, Mode};
use crate::graph_file;
use crate::library::{Library, DEFAULT_COMPONENT_DIR};
use crate::links;
use crate::registry::Registry;
use crate::relay;
use crate::routes::{self, is_participant_node};
use crate::spawn::{ChildOptions, Children};
use msgflo_protocol::discovery::Participant;
use msgflo_protocol::graph::Graph;
use msgflo_protocol::ids::ParticipantId;
use msgflo_transport::{self as transport, ConnectOptions, Consumer, Transport};
use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long msgflo-setup waits for a participant to confirm a connection.
const CONTROL_ANSWER: Duration = Duration::from_secs(5);

/// What to set up, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The graph file.
    pub graph: PathBuf,
    /// The broker URL.
    pub broker: String,
    /// Start the participants from the library.
    pub participants: bool,
    /// Start only these roles.
    pub only: Option<Vec<String>>,
    /// Don't start these roles.
    pub ignore: Vec<String>,
    /// The library file; `None`: `package.json` if there is one.
    pub library: Option<PathBuf>,
    /// The component directory; `None`: msgflo's default.
    pub componentdir: Option<PathBuf>,
    /// Copy the participants' stdout / stderr lines to ours.
    pub forward_stdout: bool,
    /// See `forward_stdout`.
    pub forward_stderr: bool,
    /// How the participants log (and their forwarded stderr lines look).
    pub log_format: msgflo_cli::logging::LogFormat,
    /// Take queue names from discovery messages.
    pub discover: bool,
    /// How long to wait for discovery messages.
    pub timeout: Duration,
    /// Keep running until SIGTERM / SIGINT.
    pub forever: bool,
}

/// Sets the graph up, printing progress on stdout; see the module docs.
pub async fn run(options: Options, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let graph = graph_file::load(&options.graph, false).map_err(|e| e.to_string())?;
    let graph_id = graph
        .name()
        .map(str::to_owned)
        .or_else(|| {
            options
                .graph
                .file_stem()
                .map(|s| s.to_string_lossy().into())
        })
        .unwrap_or_else(|| "main".into());
    let commands = if options.participants {
        commands(&graph, &options)?
    } else {
        Vec::new()
    };
    let connect = ConnectOptions {
        client_id: format!("msgflo-setup-{}", uuid::Uuid::new_v4().simple()),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(&options.broker, connect)
        .await
        .map_err(|e| e.to_string())?;
    let mqtt = !transport.capabilities().broker_bindings;
    // Subscribe before starting participants, so their first announcement is seen.
    let mut discovery = if mqtt || options.discover {
        Some(
            transport
                .watch_discovery()
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };

    let child_options = ChildOptions {
        forward_stdout: options.forward_stdout,
        forward_stderr: options.forward_stderr,
        log_format: options.log_format,
        may_outlive: !options.forever,
        ..ChildOptions::default()
    };
    let mut children = Children::with_options(options.broker.clone(), child_options);
    let setup = Setup {
        transport: transport.clone(),
        forward: mqtt && options.forever,
        graph: &graph,
        graph_id: &graph_id,
        mode: if mqtt {
            Mode::Participants
        } else {
            Mode::Queues
        },
        announced: options.discover,
    };
    let mut discovered = Registry::default();
    let mut done = Done::default();
    let mut shutdown = std::pin::pin!(shutdown);
    let work = async {
        start(&mut children, &commands).await?;
        let roles: Vec<String> = commands.iter().map(|(r, _)| r.clone()).collect();
        println!("Set up participants {}", setup_plan::node_list(&roles));
        if let Some(consumer) = &mut discovery {
            // With --discover every participant node names its queues; on
            // MQTT the participants of the target roles are to be told.
            let wanted: BTreeSet<String> = if options.discover {
                node_order(&graph)
                    .into_iter()
                    .filter(|r| is_participant_node(&graph, r))
                    .map(str::to_owned)
                    .collect()
            } else {
                routes::routes(&graph)
                    .into_iter()
                    .map(|r| r.to.process)
                    .collect()
            };
            let deadline = Instant::now() + options.timeout;
            wait_for(consumer, &mut discovered, &wanted, deadline).await?;
        }
        let listing = setup.apply(&discovered, &mut done).await?;
        println!("Set up bindings:\n {listing}");
        Ok::<_, String>(())
    };
    let result = tokio::select! {
        () = &mut shutdown => Err("stopped by a signal before the setup was complete".to_owned()),
        result = work => result,
    };
    if let Err(error) = result {
        children.stop_all().await;
        return Err(error);
    }

    if options.forever {
        println!("--forever enabled, keeping alive");
        loop {
            let next = async {
                match (&mut discovery, mqtt) {
                    (Some(consumer), true) => consumer.next().await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                delivery = next => {
                    let Some(delivery) = delivery else { break };
                    take(&mut discovered, delivery).await;
                    if let Err(error) = setup.apply(&discovered, &mut done).await {
                        tracing::warn!(%error, "connecting a new participant failed");
                    }
                }
            }
        }
        children.stop_all().await;
    } else {
        children.release();
    }
    let _ = transport.close().await;
    Ok(())
}

/// `(role, command)` of the participants to start, in msgflo's order.
fn commands(graph: &Graph, options: &Options) -> Result<Vec<(String, String)>, String> {
    let mut library = match &options.library {
        Some(path) => Library::load(path).map_err(|e| e.to_string())?,
        None => match Library::load(std::path::Path::new("package.json")) {
            Ok(library) => library,
            Err(e) if e.is_not_found() => Library::empty(),
            Err(e) => return Err(e.to_string()),
        },
    };
    let dir = options
        .componentdir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_COMPONENT_DIR));
    library.add_component_dir(&dir).map_err(|e| e.to_string())?;
    let roles: Vec<String> = match &options.only {
        Some(only) => {
            if let Some(bad) = only.iter().find(|r| !graph.processes.contains_key(*r)) {
                return Err(format!("--only {bad}: no such node in the graph"));
            }
            only.clone()
        }
        None => node_order(graph).into_iter().map(str::to_owned).collect(),
    };
    let mut out = Vec::new();
    for role in roles {
        let Some(process) = graph.processes.get(&role) else {
            continue;
        };
        if !is_participant(&process.component) || options.ignore.contains(&role) {
            continue;
        }
        let iips = iips_for_role(graph, &role);
        let command = library
            .command(&process.component, &role, &iips)
            .ok_or_else(|| {
                MissingComponent {
                    component: process.component.clone(),
                    role: role.clone(),
                }
                .to_string()
            })?;
        out.push((role, command));
    }
    Ok(out)
}

/// Starts every participant and waits until each has started.
async fn start(children: &mut Children, commands: &[(String, String)]) -> Result<(), String> {
    let mut started = Vec::new();
    for (role, command) in commands {
        started.push(children.spawn(role, command).map_err(|e| e.to_string())?);
    }
    for result in futures_util::future::join_all(started.into_iter().map(|s| s.wait())).await {
        result.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What msgflo-setup has done on the broker: each link once; the
/// participants that answered no `connectinport`, and the edges that their
/// silence leaves to forwarding (each said once, and forwarded with
/// `--forever`: the switches of those forwards, kept while they run).
#[derive(Debug, Default)]
struct Done {
    links: BTreeSet<Link>,
    silent: BTreeSet<ParticipantId>,
    told: BTreeSet<Link>,
    forwards: Vec<tokio::sync::watch::Sender<bool>>,
}

/// What to set up, and where.
struct Setup<'a> {
    transport: Arc<dyn Transport>,
    /// Forward the edges into participants that answer no `connectinport`
    /// (MQTT with `--forever`).
    forward: bool,
    graph: &'a Graph,
    /// The graph's name, for control messages.
    graph_id: &'a str,
    mode: Mode,
    /// Queue names as the participants announced them (`--discover`), not
    /// msgflo's defaults.
    announced: bool,
}

impl Setup<'_> {
    /// Plans the graph's links for the `discovered` participants
    /// ([`setup_plan`]) and applies those not done yet: binds queues, or
    /// sends `connectinport` to each discovered participant of a target role
    /// and waits for its answer. Each edge that a participant's silence
    /// leaves to forwarding is forwarded (with `--forever`) or named in a
    /// warning ([`Setup::carry_unforwarded`]). Returns msgflo's listing of
    /// the bindings.
    async fn apply(&self, discovered: &Registry, done: &mut Done) -> Result<String, String> {
        let names = setup_plan::registry(self.graph, discovered, self.announced)
            .map_err(|e| e.to_string())?;
        let wanted = setup_plan::links(self.graph, &names, self.mode).map_err(|e| e.to_string())?;
        let listing = setup_plan::listing(self.graph, &names).map_err(|e| e.to_string())?;
        for link in wanted {
            if done.links.contains(&link) {
                continue;
            }
            match &link {
                Link::ConnectInport {
                    participant,
                    outport,
                    ..
                } => {
                    let known = discovered.entries();
                    if !known.map(|e| &e.participant.id).any(|id| id == participant) {
                        // A stand-in: no participant of the role to tell yet.
                        continue;
                    }
                    let confirmed = links::apply_confirmed(
                        self.transport.as_ref(),
                        &link,
                        self.graph_id,
                        CONTROL_ANSWER,
                    )
                    .await
                    .map_err(|e| format!("cannot connect {participant}: {e}"))?;
                    if !confirmed {
                        done.silent.insert(participant.clone());
                    }
                    tracing::info!(%participant, from = %outport, confirmed, "connected");
                }
                Link::Bind { outport, inport } | Link::Forward { outport, inport } => {
                    links::apply(self.transport.as_ref(), &link, self.graph_id)
                        .await
                        .map_err(|e| format!("cannot bind {outport} -> {inport}: {e}"))?;
                }
                Link::OutportDelivery { .. } | Link::InportDelivery { .. } => {
                    links::apply(self.transport.as_ref(), &link, self.graph_id)
                        .await
                        .map_err(|e| format!("cannot set the {link}: {e}"))?;
                }
            }
            done.links.insert(link);
        }
        self.carry_unforwarded(&names, done).await?;
        Ok(listing)
    }

    /// Each edge whose target participant answered no `connectinport`
    /// ([`bindings::forwarding`]), once: forwarded from here with
    /// `--forever` ([`relay::forward`]), otherwise named in a warning, since
    /// nothing carries it once this program has exited. Either way one line
    /// on stderr.
    async fn carry_unforwarded(&self, names: &Registry, done: &mut Done) -> Result<(), String> {
        let mut unforwarded = Vec::new();
        for link in &done.links {
            let Link::ConnectInport { participant, .. } = link else {
                continue;
            };
            if !done.silent.contains(participant) {
                continue;
            }
            let one = BTreeSet::from([link.clone()]);
            for forward in bindings::forwarding(one, &done.silent, names) {
                if !done.told.contains(&forward) {
                    unforwarded.push((participant.clone(), forward));
                }
            }
        }
        for (participant, forward) in unforwarded {
            let Link::Forward { outport, inport } = &forward else {
                continue;
            };
            let why = format!(
                "participant {participant} answered no connectinport within {} s",
                CONTROL_ANSWER.as_secs()
            );
            if self.forward {
                let (on, active) = tokio::sync::watch::channel(true);
                relay::start(self.transport.clone(), outport, inport.clone(), active)
                    .await
                    .map_err(|e| format!("cannot forward {outport} -> {inport}: {e}"))?;
                done.forwards.push(on);
                eprintln!("msgflo-setup: forwarding {outport} -> {inport}: {why}");
            } else {
                eprintln!(
                    "msgflo-setup: warning: nothing carries {outport} -> {inport}: {why}, and \
                     msgflo-setup forwards for such a participant only with --forever"
                );
            }
            done.told.insert(forward);
        }
        Ok(())
    }
}

/// Records a discovery message in `discovered` (a malformed one is logged
/// and dropped).
async fn take(discovered: &mut Registry, delivery: transport::Delivery) {
    let decoded = Participant::decode(&delivery.payload);
    if let Err(error) = delivery.ack().await {
        tracing::debug!(%error, "ack of a discovery message failed");
    }
    match decoded {
        Ok(participant) => {
            discovered.seen(participant, std::time::Instant::now());
        }
        Err(error) => tracing::warn!(%error, "discovery message dropped"),
    }
}

/// Waits until every role in `wanted` has a participant in `discovered`,
/// up to `deadline`.
async fn wait_for(
    consumer: &mut Consumer,
    discovered: &mut Registry,
    wanted: &BTreeSet<String>,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|r| discovered.any_of_role(r).is_none())
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        match tokio::time::timeout_at(deadline, consumer.next()).await {
            Ok(Some(delivery)) => take(discovered, delivery).await,
            Ok(None) => return Err("the broker connection ended".into()),
            Err(_) => {
                return Err(format!(
                    "participant discovery timed out: no participant of role {} announced itself",
                    missing.join(", ")
                ))
            }
        }
    }
}
