//! `core/Remote`, the bridge: a graph participant whose graph is one node
//! that is another FBP runtime, over real RabbitMQ and real WebSocket
//! connections. Numbered messages, every ten of them a named group (the
//! `msgflo-brackets` header), go into the participant's inport, cross to
//! the remote as `runtime:packet` and come back out of its outport: each
//! exactly once, in order, with its brackets.
//!
//! - msgflo-rs to msgflo-rs: the remote is a `msgflo` coordinator (its own
//!   vhost) running a graph of one `core/Repeat` participant, so each
//!   message crosses two brokers and two runtimes.
//! - Over `wss://` (NoFlo behind a TLS proxy), trusted through
//!   `SSL_CERT_FILE` as `amqps://` is.
//! - msgflo-rs to NoFlo: the remote is `noflo-nodejs` with `noflo-core`
//!   (`msgflo_tests::noflo_runtime`). Its runtime puts every
//!   `runtime:packet` on a socket of its own, and a NoFlo socket drops an
//!   `endgroup` for a group it did not open: so through NoFlo the groups
//!   open and never close (asserted as such). Killed and started again
//!   mid-stream, nothing is lost; while it is away, messages wait unacked
//!   and come through once it is back.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use msgflo_participant::protocol::{dsl, ids::QueueName};
use msgflo_participant::runner::{self, Options, Running};
use msgflo_participant::runtime::builtins;
use msgflo_participant::transport::{Consumer, Headers, Transport};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{self, Client, Coordinator, REPLY};
use msgflo_tests::noflo_runtime::NofloRuntime;
use msgflo_tests::process::{spawn_ready, Spawned};
use msgflo_tests::tls::{TestCa, TlsProxy};
use msgflo_tests::vhost::Vhost;
use msgflo_tests::{amqp_url, client, flow, unique};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
/// Messages per group.
const GROUP: usize = 10;

fn q(name: String) -> Result<QueueName> {
    QueueName::new(name).context("queue name")
}

/// The participant that bridges, and the test's ends of it.
struct Bridge {
    running: Running,
    t: Arc<dyn Transport>,
    inport: QueueName,
    sink: Consumer,
}

/// A graph participant on the shared broker whose graph is one
/// `core/Remote` node for `address`, exported as `IN` / `OUT`.
async fn bridge(address: &str, secret: Option<&str>) -> Result<Bridge> {
    let mut fbp =
        format!("INPORT=r.IN:IN\nOUTPORT=r.OUT:OUT\n'{address}' -> ADDRESS r(core/Remote)\n");
    if let Some(secret) = secret {
        fbp.push_str(&format!("'{secret}' -> SECRET r\n"));
    }
    graph_participant(&fbp).await
}

/// A graph participant on the shared broker running `fbp`, whose exported
/// ports are `IN` / `OUT`.
async fn graph_participant(fbp: &str) -> Result<Bridge> {
    let role = unique("bridge").replace('.', "_");
    let graph = dsl::parse(fbp)?;
    let t: Arc<dyn Transport> = client(&amqp_url(), "bridge-test").await?;
    let sink = flow::sink(&t, &q(format!("{role}.OUT"))?, "bridge.sink").await?;
    let options = Options::new(role.as_str().try_into()?, amqp_url());
    let running = runner::start_graph(&graph, &role, builtins::builtin, options).await?;
    Ok(Bridge {
        running,
        t,
        inport: q(format!("{role}.IN"))?,
        sink,
    })
}

/// The `msgflo-brackets` header message `n` carries.
fn framing(n: usize) -> Option<Value> {
    let group = format!("g{}", n / GROUP);
    match n % GROUP {
        0 => Some(json!({"before": [{"open": group}]})),
        k if k == GROUP - 1 => Some(json!({"after": [{"close": group}]})),
        _ => None,
    }
}

/// Sends messages `0..n` (`{"n":i}`, grouped) into `inport`, in order.
fn send_grouped(
    t: Arc<dyn Transport>,
    inport: QueueName,
    n: usize,
) -> tokio::task::JoinHandle<Result<()>> {
    tokio::spawn(async move {
        for i in 0..n {
            let mut headers = Headers::new();
            if let Some(framing) = framing(i) {
                headers.insert("msgflo-brackets", framing.to_string());
            }
            let payload = Bytes::from(format!("{{\"n\":{i}}}"));
            t.send_to_inport_with(&inport, payload, &headers).await?;
        }
        Ok(())
    })
}

/// What came out: for each message number, how often, and the brackets of
/// its first copy; in the order first seen.
#[derive(Default)]
struct Received {
    order: Vec<usize>,
    copies: BTreeMap<usize, usize>,
    framing: BTreeMap<usize, Option<Value>>,
}

impl Received {
    /// Reads `sink` until `n` distinct numbers came out.
    async fn until(sink: &mut Consumer, n: usize) -> Result<Self> {
        let mut received = Self::default();
        received.more(sink, n).await?;
        Ok(received)
    }

    /// Reads on until `n` distinct numbers came out in all.
    async fn more(&mut self, sink: &mut Consumer, n: usize) -> Result<()> {
        let received = self;
        while received.copies.len() < n {
            let delivery = tokio::time::timeout(WAIT, sink.next())
                .await
                .with_context(|| {
                    format!(
                        "{} of {n} came out; nothing more within {WAIT:?}",
                        received.copies.len()
                    )
                })?
                .context("the sink ended")?;
            let body: Value = serde_json::from_slice(&delivery.payload)
                .with_context(|| format!("not JSON: {:?}", delivery.payload))?;
            let i = body["n"]
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .with_context(|| format!("not numbered: {body}"))?;
            let framing = delivery
                .headers
                .get("msgflo-brackets")
                .map(serde_json::from_str::<Value>)
                .transpose()?;
            delivery.ack().await?;
            let copies = received.copies.entry(i).or_default();
            *copies += 1;
            if *copies == 1 {
                received.order.push(i);
                received.framing.insert(i, framing);
            }
        }
        Ok(())
    }

    /// Every number came once, with its brackets.
    fn check_exact(&self, n: usize) -> Result<()> {
        let twice = self.check_all(n)?;
        ensure!(twice == 0, "{twice} came twice");
        self.check_brackets()
    }

    fn check_brackets(&self) -> Result<()> {
        self.check_framing(framing)
    }

    fn check_framing(&self, expected: impl Fn(usize) -> Option<Value>) -> Result<()> {
        for (i, framing) in &self.framing {
            ensure!(
                *framing == expected(*i),
                "message {i} came with brackets {framing:?}, expected {:?}",
                expected(*i)
            );
        }
        Ok(())
    }

    /// Every number `0..n` came (and no other); returns how many came more
    /// than once. Order is not asserted: the bridge keeps it (the link sends
    /// and receives in order), but a graph participant's outport publishes
    /// up to its prefetch concurrently, and under a burst those can reach
    /// the broker out of order.
    fn check_all(&self, n: usize) -> Result<usize> {
        ensure!(
            self.copies.keys().copied().eq(0..n),
            "not every number of 0..{n} came: {} distinct",
            self.copies.len()
        );
        let late = self.order.windows(2).filter(|w| w[1] < w[0]).count();
        if late > 0 {
            eprintln!("{late} of {n} came after a later one");
        }
        Ok(self.copies.values().filter(|c| **c > 1).count())
    }
}

/// A `msgflo` coordinator in a vhost of its own running
/// `IN -> role(core/Repeat) -> OUT`, and a client of the test's that
/// started its network and keeps watching (the coordinator's outport taps
/// exist while some client watches: see `DESIGN.md`).
struct MsgfloRemote {
    _participant: Spawned,
    coordinator: Coordinator,
    _watcher: tokio::task::JoinHandle<()>,
    _vhost: Vhost,
}

async fn msgflo_remote(secret: Option<&str>) -> Result<MsgfloRemote> {
    let vhost = Vhost::new("bridge-remote")?;
    let broker = vhost.url().to_owned();
    let role = unique("remote").replace('.', "_");
    let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
    command
        .args(["--name", &role, "--component", "core/Repeat", "--broker"])
        .arg(&broker)
        .args(["--prefetch", "1"])
        .env_remove("RUST_LOG");
    let (participant, _) = spawn_ready(command, WAIT).await?;
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("remote.fbp");
    std::fs::write(
        &graph,
        format!("INPORT={role}.IN:IN\nOUTPORT={role}.OUT:OUT\n{role}(core/Repeat)\n"),
    )?;
    let mut args = vec!["--graph".to_owned(), graph.display().to_string()];
    if let Some(secret) = secret {
        args.extend(["--secret".to_owned(), secret.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let coordinator = fbp_client::start(&broker, &args).await?;
    let mut c = Client::connect(coordinator.port).await?;
    let with_secret = |mut payload: Value| {
        if let Some(secret) = secret {
            payload["secret"] = json!(secret);
        }
        payload
    };
    c.send("runtime", "getruntime", with_secret(json!({})), None)
        .await?;
    let info = c.until("runtime", "runtime", REPLY).await?;
    let graph_id = info["payload"]["graph"].clone();
    c.send(
        "network",
        "start",
        with_secret(json!({"graph": graph_id})),
        None,
    )
    .await?;
    c.until("network", "started", WAIT).await?;
    let watcher =
        tokio::spawn(async move { while c.next(Duration::from_secs(3600)).await.is_ok() {} });
    Ok(MsgfloRemote {
        _participant: participant,
        coordinator,
        _watcher: watcher,
        _vhost: vhost,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_grouped_messages_round_trip_through_a_msgflo_rs_remote() -> Result<()> {
    const N: usize = 10_000;
    let remote = msgflo_remote(Some("remote-secret")).await?;
    let address = format!("ws://127.0.0.1:{}", remote.coordinator.port);
    let mut bridge = bridge(&address, Some("remote-secret")).await?;
    let sender = send_grouped(bridge.t.clone(), bridge.inport.clone(), N);
    let received = Received::until(&mut bridge.sink, N).await?;
    sender.await??;
    received.check_exact(N)?;
    bridge.running.stop().await?;
    Ok(())
}

/// noflo-nodejs passing `in` to `out`, started off the async workers.
async fn noflo(port: Option<u16>) -> Result<NofloRuntime> {
    tokio::task::spawn_blocking(move || match port {
        Some(port) => NofloRuntime::start_on(port, NOFLO_SECRET),
        None => NofloRuntime::start(NOFLO_SECRET),
    })
    .await?
}

const NOFLO_SECRET: &str = "noflo-secret";

/// What NoFlo gives back: each group's opening, no closing (see the
/// module docs).
fn noflo_framing(n: usize) -> Option<Value> {
    n.is_multiple_of(GROUP)
        .then(|| json!({"before": [{"open": format!("g{}", n / GROUP)}]}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_grouped_messages_round_trip_through_a_noflo_remote() -> Result<()> {
    const N: usize = 10_000;
    let remote = noflo(None).await?;
    let mut bridge = bridge(&remote.url(), Some(NOFLO_SECRET)).await?;
    let sender = send_grouped(bridge.t.clone(), bridge.inport.clone(), N);
    let received = Received::until(&mut bridge.sink, N).await?;
    sender.await??;
    let twice = received.check_all(N)?;
    ensure!(twice == 0, "{twice} came twice");
    received.check_framing(noflo_framing)?;
    bridge.running.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noflo_remote_killed_mid_stream_loses_nothing() -> Result<()> {
    const N: usize = 10_000;
    let mut remote = noflo(None).await?;
    let port = remote.port;
    let mut bridge = bridge(&remote.url(), Some(NOFLO_SECRET)).await?;
    let sender = send_grouped(bridge.t.clone(), bridge.inport.clone(), N);
    let mut received = Received::until(&mut bridge.sink, N / 3).await?;
    remote.kill();
    let _restarted = noflo(Some(port)).await?;
    received.more(&mut bridge.sink, N).await?;
    sender.await??;
    let twice = received.check_all(N)?;
    eprintln!("killed after {} of {N}: all came, {twice} twice", N / 3);
    bridge.running.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_unacked_while_the_remote_is_away() -> Result<()> {
    const N: usize = 3_000;
    let port = fbp_client::free_port()?;
    let mut bridge = bridge(&format!("ws://127.0.0.1:{port}"), Some(NOFLO_SECRET)).await?;
    send_grouped(bridge.t.clone(), bridge.inport.clone(), N).await??;
    let early = tokio::time::timeout(Duration::from_secs(2), bridge.sink.next()).await;
    ensure!(early.is_err(), "something came out with no remote there");
    let _remote = noflo(Some(port)).await?;
    let received = Received::until(&mut bridge.sink, N).await?;
    let twice = received.check_all(N)?;
    ensure!(twice == 0, "{twice} came twice");
    bridge.running.stop().await?;
    Ok(())
}

/// `msgflo-participant --graph` bridging over `wss://` to NoFlo behind a
/// TLS proxy with the test CA's certificate: trusting the CA
/// (`SSL_CERT_FILE`), messages go through; trusting only the system's
/// roots, nothing does and its log says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_to_a_remote_trusted_by_ssl_cert_file() -> Result<()> {
    let ca = TestCa::new()?;
    let remote = noflo(None).await?;
    let proxy = TlsProxy::start(&ca, format!("127.0.0.1:{}", remote.port)).await?;
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("bridge.fbp");
    std::fs::write(
        &graph,
        format!(
            "INPORT=r.IN:IN\nOUTPORT=r.OUT:OUT\n'wss://localhost:{}' -> ADDRESS r(core/Remote)\n'{NOFLO_SECRET}' -> SECRET r\n",
            proxy.port
        ),
    )?;
    for trusted in [true, false] {
        let role = unique("bridge-wss").replace('.', "_");
        let t: Arc<dyn Transport> = client(&amqp_url(), "bridge-wss").await?;
        let mut sink = flow::sink(&t, &q(format!("{role}.OUT"))?, "bridge.wss").await?;
        let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
        command
            .args(["--name", &role, "--graph"])
            .arg(&graph)
            .args(["--broker", &amqp_url()])
            .env("RUST_LOG", "warn");
        if trusted {
            command.env("SSL_CERT_FILE", ca.ca_pem());
        } else {
            command
                .env_remove("SSL_CERT_FILE")
                .env_remove("SSL_CERT_DIR");
        }
        let (participant, _) = spawn_ready(command, WAIT).await?;
        send_grouped(t.clone(), q(format!("{role}.IN"))?, 100).await??;
        if trusted {
            Received::until(&mut sink, 100).await?.check_all(100)?;
        } else {
            let nothing = tokio::time::timeout(Duration::from_secs(2), sink.next()).await;
            ensure!(nothing.is_err(), "a message crossed to an untrusted remote");
            let log = participant.stderr_so_far();
            ensure!(log.contains("certificate"), "its log: {log}");
        }
        if trusted {
            participant.terminate(WAIT).await?;
        } else {
            // SIGTERM would wait out the drain timeout (30 s) for the
            // messages held for the remote; they stay unacked either way.
            participant.kill().await?;
        }
    }
    Ok(())
}

/// A 1 KB message numbered `i`, stamped with the time it was sent (µs
/// since the Unix epoch).
fn stamped(i: usize) -> Bytes {
    let t = micros_now();
    let head = format!("{{\"n\":{i},\"t\":{t},\"pad\":\"");
    let pad = "x".repeat(1024usize.saturating_sub(head.len() + 2));
    Bytes::from(format!("{head}{pad}\"}}"))
}

fn micros_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Messages/s of `n` 1 KB messages sent as fast as the broker confirms
/// them (256 unconfirmed) until all came out.
async fn throughput(bridge: &mut Bridge, n: usize) -> Result<f64> {
    use futures_util::{StreamExt as _, TryStreamExt as _};
    let started = std::time::Instant::now();
    let (t, inport) = (bridge.t.clone(), bridge.inport.clone());
    let sender = tokio::spawn(async move {
        futures_util::stream::iter(0..n)
            .map(|i| {
                let (t, inport) = (t.clone(), inport.clone());
                async move { t.send_to_inport(&inport, stamped(i)).await }
            })
            .buffer_unordered(256)
            .try_collect::<Vec<()>>()
            .await
    });
    Received::until(&mut bridge.sink, n).await?;
    sender.await??;
    #[allow(clippy::cast_precision_loss)]
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Latency percentiles (p50, p99, in ms) of `n` 1 KB messages sent at
/// `rate` per second.
async fn latency(bridge: &mut Bridge, n: usize, rate: u64) -> Result<(f64, f64)> {
    let (t, inport) = (bridge.t.clone(), bridge.inport.clone());
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        for i in 0..n {
            tick.tick().await;
            let (t, inport) = (t.clone(), inport.clone());
            tokio::spawn(async move { t.send_to_inport(&inport, stamped(i)).await });
        }
    });
    let mut took = Vec::with_capacity(n);
    while took.len() < n {
        let delivery = tokio::time::timeout(WAIT, bridge.sink.next())
            .await?
            .context("the sink ended")?;
        let body: Value = serde_json::from_slice(&delivery.payload)?;
        let sent = body["t"].as_u64().context("stamped")?;
        took.push(micros_now().saturating_sub(sent));
        delivery.ack().await?;
    }
    sender.await?;
    took.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let ms = |q: f64| took[((took.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    Ok((ms(0.50), ms(0.99)))
}

/// The bridge's cost, for BENCHMARKS.md: one graph participant hop with
/// `core/Repeat` in the graph (direct) against the same hop whose node is
/// `core/Remote` to a NoFlo runtime running `core/Repeat` (bridged), and
/// to a msgflo coordinator running a `core/Repeat` participant, in one
/// run; 1 KB messages. Run in release:
/// `cargo test --release -p msgflo-tests --test bridge -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand (see BENCHMARKS.md)"]
async fn bridge_cost() -> Result<()> {
    const N: usize = 20_000;
    const LATENCY_N: usize = 3_000;
    const RATE: u64 = 1_000;
    let noflo = noflo(None).await?;
    let direct_graph = "INPORT=r.IN:IN\nOUTPORT=r.OUT:OUT\nr(core/Repeat)\n";
    println!("| round | path | msg/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|");
    for round in 1..=3 {
        for (path, bridged) in [("direct (core/Repeat)", false), ("bridged to NoFlo", true)] {
            let mut b = if bridged {
                bridge(&noflo.url(), Some(NOFLO_SECRET)).await?
            } else {
                graph_participant(direct_graph).await?
            };
            let rate = throughput(&mut b, N).await?;
            let (p50, p99) = latency(&mut b, LATENCY_N, RATE).await?;
            println!("| {round} | {path} | {rate:.0} | {p50:.2} | {p99:.2} |");
            b.running.stop().await?;
        }
    }
    let remote = msgflo_remote(None).await?;
    let mut b = bridge(&format!("ws://127.0.0.1:{}", remote.coordinator.port), None).await?;
    let rate = throughput(&mut b, 2_000).await?;
    let (p50, p99) = latency(&mut b, 500, 100).await?;
    println!("| 1 | bridged to a msgflo coordinator (2,000; latency at 100/s) | {rate:.0} | {p50:.2} | {p99:.2} |");
    b.running.stop().await?;
    Ok(())
}
