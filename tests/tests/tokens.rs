//! Issue 17, an endpoint safe to expose: `msgflo --tokens FILE`, tokens
//! with rights, over real WebSocket connections to the real coordinator
//! and two `core/Repeat` participants on RabbitMQ, in a vhost of the
//! test's own. Per right (send, receive, edit) a client allowed and one
//! refused; 1,000 wrong-token attempts answered with errors while traffic
//! flows, none of it reaching them; SIGHUP reads the file again (a bad
//! one is logged and changes nothing); a bad file stops the start.
//!
//! The graph: `IN` -> a -> `OUT`, a -> b -> `OTHEROUT`, `OTHERIN` -> b.
//! A read request answered is a fence: whatever the coordinator sent a
//! client before it (a packet it may not receive, say) comes before it.

use anyhow::{bail, ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::fbp_client::{start_with, Client, Coordinator, REPLY};
use msgflo_tests::process::{run_to_end, spawn_ready, Spawned};
use msgflo_tests::unique;
use msgflo_tests::vhost::Vhost;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
/// The shared secret: full rights.
const SECRET: &str = "admin-s3cret";
const EDITOR: &str = "editor-3f9a1c27d5e84b06";
const FEEDER: &str = "feeder-8b2e44d1a0c97f35";
const DASHBOARD: &str = "dashboard-c61d09e7f2a4b853";
const LATER: &str = "later-5e0b7a93c18d24f6";

/// The tokens file; `later_edits`: whether `later` may edit.
fn tokens(later_edits: bool) -> Value {
    json!({"tokens": [
        {"token": EDITOR, "name": "editor", "send": ["*"], "receive": ["*"], "edit": true},
        {"token": FEEDER, "name": "feeder", "send": ["in"]},
        {"token": DASHBOARD, "name": "dashboard", "receive": ["out"]},
        {"token": LATER, "name": "later", "edit": later_edits},
    ]})
}

/// A coordinator with [`SECRET`] and a tokens file, running the graph;
/// with `participants`, its two participants run.
struct Network {
    coordinator: Coordinator,
    tokens: PathBuf,
    graph: String,
    _participants: Vec<Spawned>,
    _dir: tempfile::TempDir,
    _vhost: Vhost,
}

impl Network {
    /// Starts it; the tokens file is given by `MSGFLO_TOKENS` when `by_env`.
    async fn start(participants: bool, by_env: bool) -> Result<Self> {
        let vhost = Vhost::new("tokens")?;
        let broker = vhost.url().to_owned();
        let a = unique("tok_a").replace('.', "_");
        let b = unique("tok_b").replace('.', "_");
        let mut running = Vec::new();
        for role in [&a, &b].into_iter().filter(|_| participants) {
            let mut command = tokio::process::Command::new(binary("msgflo-participant")?);
            command
                .args(["--name", role, "--component", "core/Repeat", "--broker"])
                .arg(&broker)
                .env_remove("RUST_LOG");
            running.push(spawn_ready(command, Duration::from_secs(30)).await?.0);
        }
        let dir = tempfile::tempdir()?;
        let graph = dir.path().join("tokens.fbp");
        std::fs::write(
            &graph,
            format!(
                "INPORT={a}.IN:IN\nINPORT={b}.IN:OTHERIN\nOUTPORT={a}.OUT:OUT\n\
                 OUTPORT={b}.OUT:OTHEROUT\n{a}(core/Repeat) OUT -> IN {b}(core/Repeat)\n"
            ),
        )?;
        let tokens = dir.path().join("tokens.json");
        write_atomically(&tokens, &tokens_text(false))?;
        let tokens_arg = tokens.to_str().context("a UTF-8 path")?;
        let graph_arg = graph.to_str().context("a UTF-8 path")?;
        let mut args = vec!["--graph", graph_arg, "--secret", SECRET];
        let mut env = Vec::new();
        match by_env {
            true => env.push(("MSGFLO_TOKENS", tokens_arg)),
            false => args.extend(["--tokens", tokens_arg]),
        }
        let coordinator = start_with(&broker, &args, &env).await?;
        let mut admin = Client::connect(coordinator.port).await?;
        admin
            .send("runtime", "getruntime", json!({}), Some(SECRET))
            .await?;
        let info = admin.until("runtime", "runtime", REPLY).await?;
        let graph = info["payload"]["graph"]
            .as_str()
            .with_context(|| format!("no graph: {info}"))?
            .to_owned();
        Ok(Self {
            coordinator,
            tokens,
            graph,
            _participants: running,
            _dir: dir,
            _vhost: vhost,
        })
    }

    /// A client let in with `token` (it asked `network:getstatus`).
    async fn client(&self, token: &str) -> Result<Client> {
        let mut client = Client::connect(self.coordinator.port).await?;
        let before = fence(&mut client, &self.graph, token).await?;
        ensure!(before.is_empty(), "before the first answer: {before:?}");
        Ok(client)
    }

    /// Starts the network as the secret holder `admin`, once its edges and
    /// outports are in place.
    async fn run(&self, admin: &mut Client) -> Result<()> {
        let graph = json!({"graph": self.graph});
        admin.send("network", "start", graph, Some(SECRET)).await?;
        admin.until("network", "started", WAIT).await?;
        Ok(())
    }

    /// Sends SIGHUP to the coordinator.
    fn hang_up(&self) -> Result<()> {
        let pid = self.coordinator.process.id().context("msgflo exited")?;
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()?;
        ensure!(status.success(), "kill -HUP {pid} failed");
        Ok(())
    }
}

fn tokens_text(later_edits: bool) -> String {
    tokens(later_edits).to_string()
}

/// Writes `text` to `path` at once (a coordinator reading it never sees
/// half of it).
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let new = path.with_extension("new");
    std::fs::write(&new, text)?;
    std::fs::rename(&new, path)?;
    Ok(())
}

/// Asks `network:getstatus` with `token` and returns what came before its
/// answer; the answer must be the status.
async fn fence(client: &mut Client, graph: &str, token: &str) -> Result<Vec<Value>> {
    client
        .send("network", "getstatus", json!({"graph": graph}), Some(token))
        .await?;
    let mut before = Vec::new();
    loop {
        let frame = client.next(WAIT).await.context("no status")?;
        if frame["command"] == "status" {
            return Ok(before);
        }
        ensure!(frame["command"] != "error", "getstatus refused: {frame}");
        before.push(frame);
    }
}

/// The traffic among `frames`: `runtime:packet PORT PAYLOAD` and
/// `network:data`.
fn traffic(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| match (f["protocol"].as_str(), f["command"].as_str()) {
            (Some("runtime"), Some("packet")) => Some(format!(
                "packet {} {}",
                f["payload"]["port"].as_str().unwrap_or_default(),
                f["payload"]["payload"]
            )),
            (Some("network"), Some("data")) => Some("data".to_owned()),
            _ => None,
        })
        .collect()
}

/// A `runtime:packet` data message for exported inport `port`.
fn data(graph: &str, port: &str, payload: Value) -> Value {
    json!({"port": port, "event": "data", "payload": payload, "graph": graph})
}

/// Sends `request` with `token` and returns the next frame: its answer.
async fn answer(
    client: &mut Client,
    (protocol, command, payload): (&str, &str, Value),
    token: &str,
) -> Result<Value> {
    client.send(protocol, command, payload, Some(token)).await?;
    client.reply(REPLY).await
}

fn refusal(answer: &Value) -> Result<&str> {
    ensure!(answer["command"] == "error", "not refused: {answer}");
    answer["payload"]["message"]
        .as_str()
        .with_context(|| format!("no message: {answer}"))
}

/// Reads `client`'s frames until `runtime:packet PORT` with `payload`.
async fn until_packet(client: &mut Client, port: &str, payload: &Value) -> Result<Vec<Value>> {
    let mut seen = Vec::new();
    loop {
        let frame = client
            .next(WAIT)
            .await
            .with_context(|| format!("no {port} {payload}; got {:?}", traffic(&seen)))?;
        let done = frame["command"] == "packet"
            && frame["payload"]["port"] == port
            && frame["payload"]["payload"] == *payload;
        seen.push(frame);
        if done {
            return Ok(seen);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_a_token_sends_to_its_inport_and_is_refused_the_others() -> Result<()> {
    let net = Network::start(true, false).await?;
    let mut admin = net.client(SECRET).await?;
    net.run(&mut admin).await?;
    let mut feeder = net.client(FEEDER).await?;
    let mut dashboard = net.client(DASHBOARD).await?;
    let g = net.graph.as_str();

    let sent = answer(
        &mut feeder,
        ("runtime", "packet", data(g, "in", json!(1))),
        FEEDER,
    )
    .await?;
    ensure!(sent["command"] == "packetsent", "{sent}");
    until_packet(&mut admin, "out", &json!(1)).await?;

    let refused = answer(
        &mut feeder,
        ("runtime", "packet", data(g, "otherin", json!("refused"))),
        FEEDER,
    )
    .await?;
    ensure!(
        refusal(&refused)? == r#"token "feeder" may not send to inport "otherin""#,
        "{refused}"
    );
    let refused = answer(
        &mut dashboard,
        ("runtime", "packet", data(g, "in", json!("refused"))),
        DASHBOARD,
    )
    .await?;
    ensure!(
        refusal(&refused)? == r#"token "dashboard" may not send to inport "in""#,
        "{refused}"
    );
    // What was refused never reached the graph: the next allowed packet
    // comes through both participants with nothing of it before.
    let sent = answer(
        &mut feeder,
        ("runtime", "packet", data(g, "in", json!(2))),
        FEEDER,
    )
    .await?;
    ensure!(sent["command"] == "packetsent", "{sent}");
    let seen = until_packet(&mut admin, "otherout", &json!(2)).await?;
    let seen = traffic(&seen);
    ensure!(
        !seen.iter().any(|t| t.contains("refused")),
        "a refused packet got through: {seen:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_a_token_gets_only_its_outports_and_one_without_the_right_nothing() -> Result<()> {
    let net = Network::start(true, false).await?;
    let mut admin = net.client(SECRET).await?;
    net.run(&mut admin).await?;
    let mut dashboard = net.client(DASHBOARD).await?;
    let mut feeder = net.client(FEEDER).await?;
    let mut editor = net.client(EDITOR).await?;
    let g = net.graph.as_str();

    let sent = answer(
        &mut feeder,
        ("runtime", "packet", data(g, "in", json!(7))),
        FEEDER,
    )
    .await?;
    ensure!(sent["command"] == "packetsent", "{sent}");
    // The secret and the editor (receive "*", edit) get everything: both
    // outports and the edge between the participants.
    for (who, client) in [("admin", &mut admin), ("editor", &mut editor)] {
        let seen = traffic(&until_packet(client, "otherout", &json!(7)).await?);
        for expected in ["packet out 7", "data", "packet otherout 7"] {
            ensure!(seen.iter().any(|t| t == expected), "{who}: {seen:?}");
        }
    }
    // Both outports' packets were told to every client allowed them before
    // the admin read the last one: the fences show what each one got.
    let dashboard_got = traffic(&fence(&mut dashboard, g, DASHBOARD).await?);
    ensure!(
        dashboard_got == ["packet out 7"],
        "the dashboard (receive out) got {dashboard_got:?}"
    );
    let feeder_got = traffic(&fence(&mut feeder, g, FEEDER).await?);
    ensure!(
        feeder_got.is_empty(),
        "the feeder (receive nothing) got {feeder_got:?}"
    );
    let watch = answer(
        &mut dashboard,
        ("network", "edges", json!({"graph": g, "edges": []})),
        DASHBOARD,
    )
    .await?;
    ensure!(
        refusal(&watch)?.contains(r#"token "dashboard" may not watch edges"#),
        "{watch}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_a_token_with_the_right_edits_and_one_without_reads_only() -> Result<()> {
    let net = Network::start(false, false).await?;
    let mut editor = net.client(EDITOR).await?;
    let mut dashboard = net.client(DASHBOARD).await?;
    let g = net.graph.as_str();
    let addnode = || {
        let node = json!({"id": "added", "component": "core/Repeat", "graph": g});
        ("graph", "addnode", node)
    };

    let refused = answer(&mut dashboard, addnode(), DASHBOARD).await?;
    ensure!(
        refusal(&refused)?
            == r#"token "dashboard" may not edit graphs (graph:addnode needs the edit right)"#,
        "{refused}"
    );
    ensure!(refused["protocol"] == "graph", "{refused}");
    for (protocol, command, payload) in [
        ("network", "stop", json!({"graph": g})),
        ("graph", "clear", json!({"id": g, "main": true})),
        ("msgflo", "call", json!({"call": "health"})),
    ] {
        let refused = answer(&mut dashboard, (protocol, command, payload), DASHBOARD).await?;
        ensure!(
            refusal(&refused)?.contains("may not edit") && refused["protocol"] == protocol,
            "{refused}"
        );
    }
    // Reads are answered, and say what the token may do.
    let info = answer(
        &mut dashboard,
        ("runtime", "getruntime", json!({})),
        DASHBOARD,
    )
    .await?;
    ensure!(
        info["payload"]["capabilities"]
            == json!([
                "protocol:component",
                "protocol:runtime",
                "component:getsource"
            ]),
        "{info}"
    );
    dashboard.until("runtime", "ports", REPLY).await?;
    let source = answer(
        &mut dashboard,
        ("component", "getsource", json!({"name": g})),
        DASHBOARD,
    )
    .await?;
    ensure!(source["command"] == "source", "{source}");
    ensure!(
        !source["payload"]["code"]
            .as_str()
            .unwrap_or_default()
            .contains("added"),
        "the refused edit changed the graph: {source}"
    );

    let added = answer(&mut editor, addnode(), EDITOR).await?;
    ensure!(added["command"] == "addnode", "{added}");
    Ok(())
}

/// Wrong tokens of every kind: near misses of a real token and of the
/// secret, names, empty, in the payload or at the top level.
fn wrong_token(i: usize) -> String {
    let near = |real: &str| {
        let mut bytes = real.as_bytes().to_vec();
        let at = i % bytes.len();
        bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
        String::from_utf8_lossy(&bytes).into_owned()
    };
    match i % 8 {
        0 => near(EDITOR),
        1 => near(SECRET),
        2 => EDITOR[..EDITOR.len() - 1 - i % 5].to_owned(),
        3 => format!("{DASHBOARD}{i}"),
        4 => "editor".to_owned(),
        5 => String::new(),
        6 => EDITOR.to_uppercase(),
        _ => format!("guess-{i:04}"),
    }
}

/// The request of attempt `i`: each kind of command, refused.
fn wrong_request(i: usize, graph: &str) -> (&'static str, &'static str, Value) {
    match i % 6 {
        0 => ("network", "getstatus", json!({"graph": graph})),
        1 => ("runtime", "packet", data(graph, "in", json!("sneaked"))),
        2 => ("network", "edges", json!({"graph": graph, "edges": []})),
        3 => (
            "graph",
            "addnode",
            json!({"id": "x", "component": "c", "graph": graph}),
        ),
        4 => ("component", "list", json!({})),
        _ => ("msgflo", "participants", json!({})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_tokens_are_answered_with_errors_and_see_none_of_the_traffic() -> Result<()>
{
    const CONNECTIONS: usize = 10;
    const EACH: usize = 100;
    let net = Network::start(true, false).await?;
    let mut admin = net.client(SECRET).await?;
    net.run(&mut admin).await?;
    let g = net.graph.clone();

    // Traffic flows all along: the admin sends to `in` and counts what
    // comes back on `out`.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let feeding = tokio::spawn({
        let g = g.clone();
        async move {
            let (mut sent, mut back) = (0u64, 0u64);
            while !*stopped.borrow() && sent < 100_000 {
                let packet = data(&g, "in", json!(sent));
                admin
                    .send("runtime", "packet", packet, Some(SECRET))
                    .await?;
                sent += 1;
                let pause = tokio::time::sleep(Duration::from_millis(5));
                tokio::pin!(pause);
                loop {
                    tokio::select! {
                        () = &mut pause => break,
                        _ = stopped.changed() => break,
                        frame = admin.next(WAIT) => {
                            let frame = frame?;
                            if frame["command"] == "packet" && frame["payload"]["port"] == "out" {
                                back += 1;
                            }
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>((sent, back))
        }
    });

    let mut outsiders = Vec::new();
    for _ in 0..CONNECTIONS {
        outsiders.push(Client::connect(net.coordinator.port).await?);
    }
    let started = Instant::now();
    let attempts = outsiders.into_iter().enumerate().map(|(c, mut outsider)| {
        let g = g.clone();
        async move {
            let mut slowest = Duration::ZERO;
            for k in 0..EACH {
                let i = c * EACH + k;
                let token = wrong_token(i);
                let (protocol, command, mut payload) = wrong_request(i, &g);
                let asked = Instant::now();
                // Half show it in the payload (protocol 0.7).
                if i.is_multiple_of(2) {
                    payload["secret"] = json!(token);
                    outsider.send(protocol, command, payload, None).await?;
                } else {
                    outsider
                        .send(protocol, command, payload, Some(&token))
                        .await?;
                }
                // The very next frame is the answer: any traffic before it
                // would be a leak.
                let frame = outsider.next(WAIT).await.context("no answer")?;
                slowest = slowest.max(asked.elapsed());
                let message = frame["payload"]["message"].as_str();
                if frame["command"] != "error" || message != Some("Invalid or missing secret") {
                    bail!("attempt {i} ({protocol}:{command}, token {token:?}) got {frame}");
                }
            }
            // Nothing comes afterwards either, while traffic still flows.
            if let Ok(leaked) = outsider.next(Duration::from_millis(300)).await {
                bail!("connection {c} got {leaked} after its attempts");
            }
            Ok::<_, anyhow::Error>(slowest)
        }
    });
    let slowest = futures_util::future::try_join_all(attempts).await?;
    let took = started.elapsed();
    stop.send_replace(true);
    let (sent, back) = feeding.await??;
    let slowest = slowest.into_iter().max().unwrap_or_default();
    eprintln!(
        "{} wrong-token attempts on {CONNECTIONS} connections: {took:?} \
         (slowest answer {slowest:?}); meanwhile {sent} packets sent, {back} came back on out",
        CONNECTIONS * EACH
    );
    ensure!(back >= 10, "too little traffic flowed meanwhile: {back}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reads_the_file_again_and_a_bad_file_leaves_the_tokens_in_force() -> Result<()> {
    let net = Network::start(false, true).await?;
    let mut later = net.client(LATER).await?;
    let g = net.graph.as_str();
    let addnode = |id: &str| {
        let node = json!({"id": id, "component": "core/Repeat", "graph": g});
        ("graph", "addnode", node)
    };
    let refused = answer(&mut later, addnode("n1"), LATER).await?;
    ensure!(refusal(&refused)?.contains("may not edit"), "{refused}");

    write_atomically(&net.tokens, &tokens_text(true))?;
    net.hang_up()?;
    let deadline = Instant::now() + WAIT;
    loop {
        let reply = answer(&mut later, addnode("n1"), LATER).await?;
        if reply["command"] == "addnode" {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "still refused after SIGHUP: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A bad file: logged in one line, and the tokens in force stay.
    write_atomically(&net.tokens, r#"{"tokens": [], "oops": 1}"#)?;
    net.hang_up()?;
    let deadline = Instant::now() + WAIT;
    let logged = loop {
        let stderr = net.coordinator.process.stderr_so_far();
        if let Some(line) = stderr.lines().find(|l| l.contains("tokens file not taken")) {
            break line.to_owned();
        }
        ensure!(Instant::now() < deadline, "nothing logged: {stderr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    ensure!(
        logged.contains("ERROR")
            && logged.contains(&net.tokens.display().to_string())
            && logged.contains("oops: unknown field `oops`"),
        "{logged}"
    );
    let still = answer(&mut later, addnode("n2"), LATER).await?;
    ensure!(
        still["command"] == "addnode",
        "the old tokens stay: {still}"
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_tokens_file_stops_the_start_in_one_line_naming_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"tokens": [{"token": "t", "name": "x", "sned": ["in"]}]}"#,
    )?;
    let missing = dir.path().join("missing.json");
    for (file, problem) in [
        (&bad, "tokens[0].sned: unknown field `sned`"),
        (&missing, "cannot read it"),
    ] {
        let mut command = tokio::process::Command::new(binary("msgflo")?);
        command
            .arg("--tokens")
            .arg(file)
            .args(["--broker", "amqp://127.0.0.1:1/", "--port", "0"])
            .env_remove("MSGFLO_TOKENS");
        let (code, stdout, stderr) = run_to_end(command, Duration::from_secs(20)).await?;
        ensure!(code == Some(1), "exit {code:?}: {stdout} {stderr}");
        ensure!(stdout.is_empty(), "it started: {stdout}");
        let line = format!("msgflo: --tokens {}: ", file.display());
        ensure!(
            stderr.trim().lines().count() == 1
                && stderr.starts_with(&line)
                && stderr.contains(problem),
            "{stderr}"
        );
    }
    Ok(())
}
