//! `msgflo`: the coordinator. Keeps the registry of participants announced on
//! `fbp`, binds the graph's edges on the broker, starts library participants,
//! and serves the FBP network protocol over WebSocket for Flowhub / noflo-ui
//! and fbp-spec. The options are msgflo's (see `--help`).

use clap::{ArgAction, Parser};
use msgflo_cli as cli;
use msgflo_coordinator::core::Limits;
use msgflo_coordinator::fbp::graph_edit::Graphs;
use msgflo_coordinator::library::Library;
use msgflo_coordinator::live::{Config, Coordinator};
use msgflo_coordinator::ping::Ping;
use msgflo_coordinator::runtime_registry::{options::Runtime, RegistryArgs};
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
    /// --tokens).
    #[arg(long, default_value = "localhost")]
    host: String,
    /// Port of the FBP protocol WebSocket.
    #[arg(long, default_value_t = 3569)]
    port: u16,
    /// Broker URL [default: $MSGFLO_BROKER, $CLOUDAMQP_URL, amqp://localhost],
    /// or `embedded`: run an MQTT broker inside the coordinator, on
    /// 127.0.0.1:1883 (or the next free port if that is taken;
    /// $MSGFLO_EMBEDDED_PORT changes the port tried first), give its URL to
    /// the library's participants, and print commands that try the graph.
    /// `embedded:PORT` or `embedded://IP:PORT` ask for exactly that address
    /// (port 0 takes any free port).
    #[arg(long)]
    broker: Option<String>,
    /// FBP IDE address, for the live URL.
    #[arg(long, default_value = "https://app.flowhub.io")]
    ide: String,
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
    /// with `[role] ` (comma-separated; empty: none).
    #[arg(long, default_value = "stderr,stdout")]
    forward: String,
    /// Write graph changes back to the --graph file.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    auto_save: bool,
    /// Seconds the graph's IIPs wait for the participants started for it
    /// (edges wait for their participants as long as it takes).
    #[arg(long, default_value_t = 45)]
    wait_timeout: u64,
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
    /// needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds after which a silent participant is forgotten.
    #[arg(long, default_value_t = 600)]
    participant_timeout: u64,
    /// Most participants known at once; more announcing themselves are not
    /// registered (said once in the log and to clients) until some expire.
    #[arg(long, default_value_t = 10_000)]
    max_participants: usize,
    /// New participants registered per role and second, on average; a role
    /// may announce ten times as many at once (a fleet starting).
    #[arg(long, default_value_t = 100.0, value_parser = positive_rate)]
    discovery_rate: f64,
    /// --registry and the rest: registering with a runtime registry.
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    log: msgflo_cli::logging::LogArgs,
}

async fn run(args: Args) -> Result<(), String> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(msgflo_coordinator::tls::acceptor(cert, key)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let tokens_path = args
        .tokens
        .clone()
        .or_else(|| cli::env("MSGFLO_TOKENS").map(PathBuf::from));
    let tokens = match &tokens_path {
        Some(path) => Some(tokens_file::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let broker = cli::broker(args.broker.as_deref());
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
    let library = match &args.library {
        Some(path) => Library::load(path).map_err(|e| e.to_string())?,
        None => match Library::load(std::path::Path::new("package.json")) {
            Ok(library) => library,
            Err(e) if e.is_not_found() => Library::empty(),
            Err(e) => return Err(e.to_string()),
        },
    };
    let mut library = library;
    if let Some(dir) = &args.componentdir {
        library.add_component_dir(dir).map_err(|e| e.to_string())?;
    }
    let (graphs, graph_id) = match &args.graph {
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
    let runtime_id = args
        .runtime_id
        .clone()
        .or_else(|| cli::env("MSGFLO_RUNTIME_ID"))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let secret = args.secret.clone().or_else(|| cli::env("MSGFLO_SECRET"));
    let config = Config {
        secret: secret.clone(),
        tokens,
        runtime_id: runtime_id.clone(),
        graph_id,
        participant_timeout: Duration::from_secs(args.participant_timeout),
        auto_save: args.auto_save.then(|| args.graph.clone()).flatten(),
        ignore: args.ignore.clone(),
        wait_timeout: Duration::from_secs(args.wait_timeout),
        try_it: embedded_broker.as_ref().map(|broker| try_it::TryIt {
            broker: broker.url().to_owned(),
            tools: tools_beside_us(),
        }),
        limits: Limits {
            max_participants: args.max_participants,
            new_per_second: args.discovery_rate,
            burst: (args.discovery_rate * 10.0).max(1.0),
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
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;

    let interval = match args.ping_interval {
        Some(secs) => secs,
        None => cli::env("MSGFLO_PING_INTERVAL")
            .map(|v| v.trim().parse::<u64>())
            .transpose()
            .map_err(|e| format!("MSGFLO_PING_INTERVAL: {e}"))?
            .unwrap_or(0),
    };
    if interval > 0 {
        let url = args
            .ping_url
            .clone()
            .or_else(|| cli::env("MSGFLO_PING_URL"));
        let url = url.unwrap_or_else(|| "https://api.flowhub.io/runtimes/$RUNTIME_ID".into());
        let method = args
            .ping_method
            .clone()
            .or_else(|| cli::env("MSGFLO_PING_METHOD"));
        let method = method.unwrap_or_else(|| "POST".into());
        let ping = Ping::new(&url, &runtime_id, &method, Duration::from_secs(interval))
            .map_err(|e| e.to_string())?;
        tokio::spawn(ping.run());
    }
    let runtime = Runtime {
        id: &runtime_id,
        scheme,
        host: &args.host,
        port: args.port,
        secret: secret.as_deref(),
    };
    if let Some(announcer) = args
        .registry
        .announcer(&runtime)
        .map_err(|e| e.to_string())?
    {
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
        .forward(&args.forward)
        .map_err(|e| e.to_string())?;
    child_options.log_format = args.log.log_format;
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

    println!("msgflo started on {scheme}://{}:{}", args.host, args.port);
    let link = flowhub::link_with_scheme(
        &args.ide,
        scheme,
        &args.host,
        args.port,
        &runtime_id,
        secret.as_deref(),
    );
    if let Some(why) = link.secret_left_out {
        tracing::warn!("{why}");
    }
    println!("Open in Flowhub: {}", link.url);
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
    cli::main("msgflo", args.log.log_format, run(args))
}

/// `--discovery-rate`: a number of participants per second above zero.
fn positive_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "expected a number of participants per second above 0, got {text:?}"
        )),
    }
}
