//! `msgflo`: the coordinator. Keeps the registry of participants announced on
//! `fbp`, binds the graph's edges on the broker, starts library participants,
//! and serves the FBP network protocol over WebSocket for Flowhub / noflo-ui
//! and fbp-spec. The options are msgflo's (see `--help`).

use clap::{ArgAction, Parser};
use msgflo_cli as cli;
use msgflo_cli::settings::{keys, Flags, Key, Settings, SettingsArgs, SettingsError};
use msgflo_coordinator::core::Limits;
use msgflo_coordinator::fbp::graph_edit::Graphs;
use msgflo_coordinator::library::Library;
use msgflo_coordinator::live::{Config, Coordinator};
use msgflo_coordinator::ping::Ping;
use msgflo_coordinator::runtime_registry::options::{
    self as registry_options, RegistryOptions, Runtime,
};
use msgflo_coordinator::runtime_registry::RegistryArgs;
use msgflo_coordinator::spawn::{ChildOptions, Children};
use msgflo_coordinator::{embedded, flowhub, graph_file, server, tokens_file, try_it};
use msgflo_transport::{self as transport, ConnectOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The msgflo coordinator.
#[derive(Parser, Debug)]
#[command(name = "msgflo", version)]
struct Args {
    /// Address to listen on. The default takes connections from this machine
    /// only; use 0.0.0.0 to take them from anywhere (then set --secret or
    /// --tokens) [default: $MSGFLO_HOST, localhost].
    #[arg(long)]
    host: Option<String>,
    /// Port of the FBP protocol WebSocket [default: $MSGFLO_LISTEN_PORT, 3569].
    #[arg(long)]
    port: Option<u16>,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost],
    /// or `embedded`: run an MQTT broker inside the coordinator, on
    /// 127.0.0.1:1883 (or the next free port if that is taken;
    /// $MSGFLO_EMBEDDED_PORT changes the port tried first), give its URL to
    /// the library's participants, and print commands that try the graph.
    /// `embedded:PORT` or `embedded://IP:PORT` ask for exactly that address
    /// (port 0 takes any free port).
    #[arg(long)]
    broker: Option<String>,
    /// FBP IDE address, for the live URL [default: $MSGFLO_IDE,
    /// `https://app.flowhub.io`].
    #[arg(long)]
    ide: Option<String>,
    /// The ws:// or wss:// URL clients reach this coordinator at, when not
    /// where it listens (behind a proxy, NAT or Docker): the Flowhub link
    /// and the registry say it [default: $MSGFLO_PUBLIC_URL, else
    /// scheme://HOST:PORT, a wildcard HOST as this machine's address].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Library configuration: a package.json with a "msgflo" key, or the
    /// configuration alone. A missing default package.json means no library.
    #[arg(long)]
    library: Option<PathBuf>,
    /// Directory of component files, started through the library's handlers.
    #[arg(long)]
    componentdir: Option<PathBuf>,
    /// Graph to load and start (.fbp or .json).
    #[arg(long)]
    graph: Option<PathBuf>,
    /// Don't start participants for this role (repeatable).
    #[arg(long, action = ArgAction::Append)]
    ignore: Vec<String>,
    /// Streams of the started participants to copy to ours, each line prefixed
    /// with `[role] ` (comma-separated; empty: none) [default: stderr,stdout].
    #[arg(long)]
    forward: Option<String>,
    /// Write graph changes back to the --graph file [default: false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    auto_save: Option<bool>,
    /// Seconds the graph's IIPs wait for the participants started for it
    /// (edges wait for their participants as long as it takes) [default: 45].
    #[arg(long)]
    wait_timeout: Option<f64>,
    /// Unique id of this runtime [default: $MSGFLO_RUNTIME_ID, else a new UUID].
    #[arg(long)]
    runtime_id: Option<String>,
    /// URL requested every --ping-interval seconds ($RUNTIME_ID is replaced)
    /// [default: $MSGFLO_PING_URL, else Flowhub's runtime registry].
    #[arg(long)]
    ping_url: Option<String>,
    /// HTTP method for --ping-url [default: $MSGFLO_PING_METHOD, else POST].
    #[arg(long)]
    ping_method: Option<String>,
    /// Seconds between pings; 0 never pings [default: $MSGFLO_PING_INTERVAL, else 0].
    #[arg(long)]
    ping_interval: Option<u64>,
    /// Secret every FBP protocol message must carry: full rights
    /// [default: $MSGFLO_SECRET].
    #[arg(long)]
    secret: Option<String>,
    /// JSON file of tokens with rights, each naming the graph inports it may
    /// send to, the outports it receives and whether it may edit (see the
    /// README); read again on SIGHUP [default: $MSGFLO_TOKENS].
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// PEM certificate chain: serve the FBP protocol over TLS (`wss://`);
    /// needs --tls-key [default: $MSGFLO_TLS_CERT].
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert [default: $MSGFLO_TLS_KEY].
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Seconds after which a silent participant is forgotten [default: 600].
    #[arg(long)]
    participant_timeout: Option<f64>,
    /// Most participants known at once; more announcing themselves are not
    /// registered (said once in the log and to clients) until some expire
    /// [default: 10000].
    #[arg(long)]
    max_participants: Option<usize>,
    /// New participants registered per role and second, on average; a role
    /// may announce ten times as many at once (a fleet starting) [default: 100].
    #[arg(long)]
    discovery_rate: Option<f64>,
    /// --registry and the rest: registering with a runtime registry.
    #[command(flatten)]
    registry: RegistryArgs,
    /// `--config`, `--print-config`, `--log-format`.
    #[command(flatten)]
    settings: SettingsArgs,
}

/// The settings the coordinator reads, with the registry's
/// (`runtime_registry::options::KEYS`): every option above but --ignore has
/// a key, and `msgflo --print-config` lists them.
const KEYS: &[&Key] = &[
    &keys::BROKER,
    &keys::HOST,
    &keys::PORT,
    &keys::IDE,
    &keys::PUBLIC_URL,
    &keys::SECRET,
    &keys::TOKENS,
    &keys::TLS_CERT,
    &keys::TLS_KEY,
    &keys::RUNTIME_ID,
    &keys::LIBRARY,
    &keys::COMPONENTDIR,
    &keys::GRAPH,
    &keys::FORWARD,
    &keys::AUTO_SAVE,
    &keys::WAIT_TIMEOUT,
    &keys::PARTICIPANT_TIMEOUT,
    &keys::MAX_PARTICIPANTS,
    &keys::DISCOVERY_RATE,
    &keys::PING_URL,
    &keys::PING_METHOD,
    &keys::PING_INTERVAL,
];

impl Args {
    /// The settings given as flags.
    fn flags(&self) -> Flags {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let flags = Flags::new()
            .with(&keys::BROKER, self.broker.as_ref())
            .with(&keys::HOST, self.host.as_ref())
            .with(&keys::PORT, self.port)
            .with(&keys::IDE, self.ide.as_ref())
            .with(&keys::PUBLIC_URL, self.public_url.as_ref())
            .with(&keys::SECRET, self.secret.as_ref())
            .with(&keys::TOKENS, path(&self.tokens))
            .with(&keys::TLS_CERT, path(&self.tls_cert))
            .with(&keys::TLS_KEY, path(&self.tls_key))
            .with(&keys::RUNTIME_ID, self.runtime_id.as_ref())
            .with(&keys::LIBRARY, path(&self.library))
            .with(&keys::COMPONENTDIR, path(&self.componentdir))
            .with(&keys::GRAPH, path(&self.graph))
            .with(&keys::FORWARD, self.forward.as_ref())
            .with(&keys::AUTO_SAVE, self.auto_save)
            .with(&keys::WAIT_TIMEOUT, self.wait_timeout)
            .with(&keys::PARTICIPANT_TIMEOUT, self.participant_timeout)
            .with(&keys::MAX_PARTICIPANTS, self.max_participants)
            .with(&keys::DISCOVERY_RATE, self.discovery_rate)
            .with(&keys::PING_URL, self.ping_url.as_ref())
            .with(&keys::PING_METHOD, self.ping_method.as_ref())
            .with(&keys::PING_INTERVAL, self.ping_interval);
        self.registry.flags(flags)
    }
}

async fn run(args: Args, settings: Settings) -> Result<(), String> {
    let setting = |e: SettingsError| e.to_string();
    let host = settings.string(&keys::HOST).unwrap_or_default();
    let port: u16 = settings.require(&keys::PORT).map_err(setting)?;
    let tls = match (
        settings.path(&keys::TLS_CERT),
        settings.path(&keys::TLS_KEY),
    ) {
        (Some(cert), Some(key)) => Some(msgflo_coordinator::tls::acceptor(&cert, &key)?),
        (None, None) => None,
        (Some(_), None) => return Err(needs(&settings, &keys::TLS_CERT, &keys::TLS_KEY)),
        (None, Some(_)) => return Err(needs(&settings, &keys::TLS_KEY, &keys::TLS_CERT)),
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let tokens_path = settings.path(&keys::TOKENS);
    let tokens = match &tokens_path {
        Some(path) => Some(tokens_file::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let broker = settings.broker();
    // Runs until the coordinator returns, after it stopped its children.
    let embedded_broker = match embedded::parse(&broker) {
        Some(wanted) => {
            let wanted = wanted.map_err(|e| e.to_string())?;
            let started = embedded::start_wanted(wanted)
                .await
                .map_err(|e| e.to_string())?;
            println!("embedded MQTT broker on {}", started.url());
            Some(started)
        }
        None => None,
    };
    let broker = match &embedded_broker {
        Some(embedded) => embedded.url().to_owned(),
        None => broker,
    };
    let library = match &settings.path(&keys::LIBRARY) {
        Some(path) => Library::load(path).map_err(|e| e.to_string())?,
        None => match Library::load(std::path::Path::new("package.json")) {
            Ok(library) => library,
            Err(e) if e.is_not_found() => Library::empty(),
            Err(e) => return Err(e.to_string()),
        },
    };
    let mut library = library;
    if let Some(dir) = &settings.path(&keys::COMPONENTDIR) {
        library.add_component_dir(dir).map_err(|e| e.to_string())?;
    }
    let graph_path = settings.path(&keys::GRAPH);
    let (graphs, graph_id) = match &graph_path {
        Some(path) => {
            let graph = graph_file::load(path, false).map_err(|e| e.to_string())?;
            let id = graph
                .name()
                .map(str::to_owned)
                .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "main".into());
            (Graphs::with_main(&id, graph), id)
        }
        None => (Graphs::new(), "main".to_owned()),
    };
    let runtime_id = settings
        .string(&keys::RUNTIME_ID)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let secret = settings.string(&keys::SECRET);
    let discovery_rate: f64 = settings.require(&keys::DISCOVERY_RATE).map_err(setting)?;
    let config = Config {
        secret: secret.clone(),
        tokens,
        runtime_id: runtime_id.clone(),
        graph_id,
        participant_timeout: settings
            .require_seconds(&keys::PARTICIPANT_TIMEOUT)
            .map_err(setting)?,
        auto_save: settings
            .flag(&keys::AUTO_SAVE)
            .then(|| graph_path.clone())
            .flatten(),
        ignore: args.ignore.clone(),
        wait_timeout: settings
            .require_seconds(&keys::WAIT_TIMEOUT)
            .map_err(setting)?,
        try_it: embedded_broker.as_ref().map(|broker| try_it::TryIt {
            broker: broker.url().to_owned(),
            tools: tools_beside_us(),
        }),
        limits: Limits {
            max_participants: settings.require(&keys::MAX_PARTICIPANTS).map_err(setting)?,
            new_per_second: discovery_rate,
            burst: (discovery_rate * 10.0).max(1.0),
        },
    };

    let options = ConnectOptions {
        client_id: format!("msgflo-coordinator-{}", uuid::Uuid::new_v4().simple()),
        // The embedded broker's sessions end with it: no goodbye round trip
        // to a router that may have died as the participants left.
        keep_session: embedded_broker.is_some(),
        // rumqttd 0.20 takes a client that unsubscribes out of all its
        // share groups: ended taps stay subscribed there.
        keep_subscriptions: embedded_broker.is_some(),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(&broker, options)
        .await
        .map_err(|e| e.to_string())?;
    let discovery = transport
        .watch_discovery()
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;

    let interval: u64 = settings.require(&keys::PING_INTERVAL).map_err(setting)?;
    if interval > 0 {
        let url = settings.string(&keys::PING_URL).unwrap_or_default();
        let method = settings.string(&keys::PING_METHOD).unwrap_or_default();
        let ping = Ping::new(&url, &runtime_id, &method, Duration::from_secs(interval))
            .map_err(|e| e.to_string())?;
        tokio::spawn(ping.run());
    }
    let public_url = settings.string(&keys::PUBLIC_URL);
    let runtime = Runtime {
        id: &runtime_id,
        scheme,
        host: &host,
        port,
        secret: secret.as_deref(),
        public_url: public_url.as_deref(),
    };
    let registry = RegistryOptions::from_settings(&settings).map_err(setting)?;
    if let Some(announcer) = registry.announcer(&runtime).map_err(|e| e.to_string())? {
        announcer.spawn();
    }
    let shutdown = cli::shutdown_signal();
    let shutdown = async {
        shutdown.await;
        if let Some(embedded) = &embedded_broker {
            embedded.expect_stop();
        }
    };
    let mut child_options = ChildOptions::default();
    child_options
        .forward(&settings.string(&keys::FORWARD).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    child_options.log_format = settings.log_format();
    let children = Children::with_options(broker.clone(), child_options);
    let mut coordinator = Coordinator::new(config, transport, graphs, library, children);
    if let Some(path) = tokens_path {
        // Before the ready line: a SIGHUP from then on re-reads the file
        // (and no longer ends the program).
        tokens_file::reload_on_hangup(path, coordinator.control())
            .map_err(|e| format!("cannot watch for SIGHUP: {e}"))?;
    }
    let (events, requests) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(server::serve(listener, events, tls));

    println!("msgflo started on {scheme}://{host}:{port}");
    let address = public_url.unwrap_or_else(|| flowhub::address(scheme, &host, port));
    let ide = settings.string(&keys::IDE).unwrap_or_default();
    let link = flowhub::link_to(&ide, &address, &runtime_id, secret.as_deref());
    if let Some(why) = link.secret_left_out {
        tracing::warn!("{why}");
    }
    println!("Open in Flowhub: {}", link.url);
    println!(
        "Live view: {}",
        flowhub::live_view(&address, secret.as_deref())
    );
    // After the ready lines, so that forwarded participant output follows
    // them; clients' requests wait in `requests` meanwhile.
    coordinator.start_main().await;
    coordinator.run(requests, discovery, shutdown).await;
    drop(embedded_broker);
    Ok(())
}

/// Where this program's sibling tools are, as it was started.
fn tools_beside_us() -> try_it::ToolPath {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let argv0 = argv0.to_string_lossy();
    try_it::ToolPath::beside(&argv0)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (settings, flags) = (args.settings.clone(), args.flags());
    let keys: Vec<&Key> = KEYS.iter().chain(registry_options::KEYS).copied().collect();
    cli::start("msgflo", &settings, &keys, flags, |settings| {
        run(args, settings)
    })
}

/// `given` (set somewhere) needs `other` (set nowhere): which, and where
/// `given` came from.
fn needs(settings: &Settings, given: &Key, other: &Key) -> String {
    let origin = settings
        .get(given)
        .map(|s| s.origin.as_str())
        .unwrap_or_default();
    format!(
        "{origin}: {} needs {} too ({}, ${} or `{}` in a settings file)",
        given.name,
        other.name,
        other.flag(),
        other.env.first().copied().unwrap_or_default(),
        other.name
    )
}
