//! `msgflo-setup`: sets up a graph on the broker — optionally starting its
//! participants from the library first — and prints what it did as msgflo
//! does (`Set up participants [ 'a', 'b' ]`, `Set up bindings:` and one line
//! per binding; see [`super::setup_plan`]).
//!
//! - AMQP: each route is a durable queue binding, which outlives this
//!   program.
//! - MQTT: the bindings are realised through the participants, so no process
//!   has to keep forwarding: each participant of a target role gets a
//!   `connectinport` control message (as from the live coordinator) and
//!   subscribes to the source topic itself. The target roles' participants
//!   are found through discovery, waiting up to `--timeout`; each connection
//!   waits (up to 5 s) for the participant's answer, so data sent once this
//!   program has exited finds the subscription in place (a participant that
//!   takes no control messages gets a warning line).
//! - `--discover`: the queues are the ones the participants announce; every
//!   participant node of the graph must announce itself within `--timeout`.
//! - `--forever`: keeps running (and its participants with it) until SIGTERM
//!   or SIGINT, then stops the participants it started; on MQTT it also
//!   connects participants of the target roles that appear meanwhile.
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
use super::setup_plan::{self, Route};
use crate::bindings::{self, Link};
use crate::graph_file;
use crate::library::{Library, DEFAULT_COMPONENT_DIR};
use crate::links;
use crate::routes::is_participant_node;
use crate::spawn::{ChildOptions, Children};
use msgflo_participant::transport::{self, ConnectOptions, Consumer, Scheme, Transport};
use msgflo_protocol::discovery::Participant;
use msgflo_protocol::graph::Graph;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
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
    pub log_format: msgflo_participant::logging::LogFormat,
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
    let mqtt = matches!(transport.broker().scheme, Scheme::Mqtt | Scheme::Mqtts);
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
    let mut seen = Seen::default();
    let mut shutdown = std::pin::pin!(shutdown);
    let work = async {
        start(&mut children, &commands).await?;
        let roles: Vec<String> = commands.iter().map(|(r, _)| r.clone()).collect();
        println!("Set up participants {}", setup_plan::node_list(&roles));
        let deadline = Instant::now() + options.timeout;
        let bindings = match &mut discovery {
            Some(consumer) if options.discover => {
                let wanted = node_order(&graph)
                    .into_iter()
                    .filter(|r| is_participant_node(&graph, r));
                let wanted: BTreeSet<String> = wanted.map(str::to_owned).collect();
                seen.wait_for(consumer, &wanted, deadline).await?;
                setup_plan::graph_bindings(&graph, |end, inport| {
                    let participant = seen.any(&end.process).ok_or("undiscovered")?;
                    bindings::queue_of(participant, &end.port, inport).ok_or_else(|| {
                        let kind = if inport { "inport" } else { "outport" };
                        format!(
                            "participant {} of role {} has no {kind} {}",
                            participant.id, end.process, end.port
                        )
                    })
                })?
            }
            _ => setup_plan::graph_bindings(&graph, bindings::default_queue)?,
        };
        let routes = setup_plan::routes(&bindings);
        let mut applied = BTreeSet::new();
        match &mut discovery {
            Some(consumer) if mqtt => {
                let targets = routes.iter().map(|r| r.to.role.clone()).collect();
                seen.wait_for(consumer, &targets, deadline).await?;
                connect_all(transport.as_ref(), &routes, &seen, &graph_id, &mut applied).await?;
            }
            _ => {
                for route in &routes {
                    let link = Link::Bind {
                        outport: route.from.clone(),
                        inport: route.to.queue.clone(),
                    };
                    links::apply(transport.as_ref(), &link, &graph_id)
                        .await
                        .map_err(|e| {
                            format!("cannot bind {} -> {}: {e}", route.from, route.to.queue)
                        })?;
                }
            }
        }
        println!("Set up bindings:\n {}", setup_plan::pretty(&bindings));
        Ok::<_, String>((routes, applied))
    };
    let result = tokio::select! {
        () = &mut shutdown => Err("stopped by a signal before the setup was complete".to_owned()),
        result = work => result,
    };
    let (routes, mut applied) = match result {
        Ok(done) => done,
        Err(error) => {
            children.stop_all().await;
            return Err(error);
        }
    };

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
                    seen.take(delivery).await;
                    let result = connect_all(transport.as_ref(), &routes, &seen, &graph_id, &mut applied).await;
                    if let Err(error) = result {
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

/// Sends `connectinport` for every route to every known participant of its
/// target role that has not had it yet.
async fn connect_all(
    transport: &dyn Transport,
    routes: &[Route],
    seen: &Seen,
    graph_id: &str,
    applied: &mut BTreeSet<Link>,
) -> Result<(), String> {
    for route in routes {
        for participant in seen.of_role(&route.to.role) {
            let Some(port) = participant.inport(&route.to.port).or_else(|| {
                participant
                    .inports
                    .iter()
                    .find(|p| p.id.as_str().eq_ignore_ascii_case(&route.to.port))
            }) else {
                return Err(format!(
                    "participant {} of role {} has no inport {}",
                    participant.id, route.to.role, route.to.port
                ));
            };
            let link = Link::ConnectInport {
                participant: participant.id.clone(),
                outport: route.from.clone(),
                port: port.id.to_string(),
            };
            if applied.contains(&link) {
                continue;
            }
            let confirmed = links::apply_confirmed(transport, &link, graph_id, CONTROL_ANSWER)
                .await
                .map_err(|e| format!("cannot connect {}: {e}", participant.id))?;
            if !confirmed {
                eprintln!(
                    "msgflo-setup: warning: participant {} did not confirm taking {} within {CONTROL_ANSWER:?} (a participant without control messages does not take it)",
                    participant.id, route.from
                );
            }
            tracing::info!(participant = %participant.id, from = %route.from, "connected");
            applied.insert(link);
        }
    }
    Ok(())
}

/// The participants seen on `fbp`, by role and id.
#[derive(Debug, Default)]
struct Seen {
    roles: BTreeMap<String, BTreeMap<String, Participant>>,
}

impl Seen {
    fn any(&self, role: &str) -> Option<&Participant> {
        self.roles.get(role)?.values().next()
    }

    fn of_role<'a>(&'a self, role: &str) -> impl Iterator<Item = &'a Participant> + 'a {
        self.roles.get(role).into_iter().flat_map(|m| m.values())
    }

    async fn take(&mut self, delivery: transport::Delivery) {
        let decoded = Participant::decode(&delivery.payload);
        if let Err(error) = delivery.ack().await {
            tracing::debug!(%error, "ack of a discovery message failed");
        }
        match decoded {
            Ok(p) => {
                let role = p.role.to_string();
                self.roles
                    .entry(role)
                    .or_default()
                    .insert(p.id.to_string(), p);
            }
            Err(error) => tracing::warn!(%error, "discovery message dropped"),
        }
    }

    /// Waits until every role in `wanted` has a participant, up to `deadline`.
    async fn wait_for(
        &mut self,
        consumer: &mut Consumer,
        wanted: &BTreeSet<String>,
        deadline: Instant,
    ) -> Result<(), String> {
        loop {
            let missing: Vec<&str> = wanted
                .iter()
                .filter(|r| !self.roles.contains_key(*r))
                .map(String::as_str)
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, consumer.next()).await {
                Ok(Some(delivery)) => self.take(delivery).await,
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
}
