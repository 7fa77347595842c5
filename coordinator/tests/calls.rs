//! Calls from a caller to participants on the memory broker, in-process
//! (time paused, so the deadlines pass at once): real participants
//! (`runner::start_component`, `core/Repeat`) answer the built-in `health`,
//! `drain`, `set-prefetch` and `fbp` (a graph participant's FBP runtime)
//! and their own typed calls; unknown calls and arguments that
//! do not fit get errors that say so; a participant that does not answer —
//! gone, or stuck in its handler — is named at the deadline, never waited
//! for; answers nobody waits for are counted.

use bytes::Bytes;
use msgflo_coordinator::calls::{CallError, Caller};
use msgflo_participant::calls::Calls;
use msgflo_participant::runner::{self, Options, Running};
use msgflo_participant::runtime::builtins;
use msgflo_protocol::calls::{CallResult, Health};
use msgflo_protocol::ids::{ParticipantId, QueueName};
use msgflo_transport::{self as transport, ConnectOptions, Transport};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(2);

fn broker() -> String {
    format!("memory://calls-{}", uuid::Uuid::new_v4().simple())
}

async fn caller(broker: &str) -> (Caller, Arc<dyn Transport>) {
    let options = ConnectOptions {
        client_id: "caller".into(),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(broker, options)
        .await
        .expect("memory broker");
    let caller = Caller::new(transport.clone(), "caller-1")
        .await
        .expect("a reply queue");
    (caller, transport)
}

#[derive(Deserialize)]
struct Scale {
    factor: i64,
}

/// A `core/Repeat` participant of `role` with two calls of its own:
/// `scale` (typed) and `stuck` (never answers).
async fn participant(broker: &str, role: &str) -> Running {
    let mut options = Options::new(role.try_into().expect("role"), broker);
    options.calls = Calls::new()
        .handle("scale", |req: Scale| async move {
            Ok::<_, String>(json!({"scaled": req.factor * 10}))
        })
        .handle("stuck", |(): ()| async move {
            std::future::pending::<()>().await;
            Ok::<_, String>(())
        });
    let repeat = builtins::builtin("core/Repeat").expect("built in");
    runner::start_component(repeat, options)
        .await
        .expect("participant starts")
}

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("queue name")
}

#[tokio::test(start_paused = true)]
async fn health_counts_what_the_participant_processed() {
    let broker = broker();
    let (caller, t) = caller(&broker).await;
    let running = participant(&broker, "r").await;
    let id = running.id().clone();
    let mut out = t.tap(&q("r.OUT")).await.expect("tap");
    for n in 0..5 {
        t.send_to_inport(&q("r.IN"), Bytes::from(format!("{n}")))
            .await
            .expect("send");
    }
    for _ in 0..5 {
        out.consumer
            .next()
            .await
            .expect("a repeat")
            .ack()
            .await
            .expect("ack");
    }
    let answer = caller
        .call(&id, "health", Value::Null, WAIT)
        .await
        .expect("an answer");
    let health: Health = serde_json::from_value(answer).expect("health");
    assert_eq!(health.ports["in"].processed, 5);
    assert_eq!((health.ports["in"].failed, health.in_flight), (0, 0));
    assert!(health.broker.connected);
    assert!(health.broker.url.starts_with("memory://calls-"));
    assert_eq!((health.prefetch, health.draining), (128, false));
    assert_eq!(health.last_error, None);
    running.stop().await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn own_calls_answer_typed_and_errors_say_why() {
    let broker = broker();
    let (caller, _t) = caller(&broker).await;
    let running = participant(&broker, "r").await;
    let id = running.id().clone();
    let scaled = caller.call(&id, "scale", json!({"factor": 4}), WAIT).await;
    assert_eq!(scaled.expect("an answer"), json!({"scaled": 40}));

    let bad = caller
        .call(&id, "scale", json!({"factor": "x"}), WAIT)
        .await;
    let Err(CallError::Failed {
        participant,
        message,
    }) = bad
    else {
        panic!("{bad:?}")
    };
    assert_eq!(participant, id);
    assert!(
        message.starts_with("the arguments of \"scale\" do not fit: invalid type: string \"x\""),
        "{message}"
    );
    let unknown = caller.call(&id, "explode", Value::Null, WAIT).await;
    let error = unknown.expect_err("unknown").to_string();
    assert_eq!(
        error,
        format!(
            "{id}: unknown call \"explode\" (this participant answers drain, fbp, health, save, scale, set-prefetch, stuck)"
        )
    );
    running.stop().await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn call_all_gives_each_answer_and_names_who_did_not_answer() {
    let broker = broker();
    let (caller, t) = caller(&broker).await;
    let a = participant(&broker, "a").await;
    let b = participant(&broker, "b").await;
    // One that died: its control queue is there, nothing takes from it.
    let dead = ParticipantId::new("dead-1").expect("id");
    t.declare_inport(&q(".fbp.dead-1.receive"))
        .await
        .expect("declare");
    // One that never was: the memory broker refuses the request at once.
    let never = ParticipantId::new("never-1").expect("id");
    let everyone = [a.id().clone(), dead.clone(), never.clone(), b.id().clone()];
    let started = tokio::time::Instant::now();
    let mut all = caller
        .call_all(&everyone, "health", Value::Null, WAIT)
        .await;
    let (mut answered, mut failed) = (Vec::new(), Vec::new());
    while let Some((participant, outcome)) = all.next().await {
        match outcome {
            Ok(_) => answered.push(participant),
            Err(error) => failed.push(error.to_string()),
        }
    }
    answered.sort();
    let mut expected = vec![a.id().clone(), b.id().clone()];
    expected.sort();
    assert_eq!(answered, expected);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("never-1: send to .fbp.never-1.receive failed: NOT_FOUND"),
        "{failed:?}"
    );
    assert_eq!(all.missing(), [dead]);
    assert_eq!(started.elapsed(), WAIT, "ended at the deadline, not before");

    // Stuck in its handler: a timeout naming it, at the deadline.
    let stuck = caller.call(a.id(), "stuck", Value::Null, WAIT).await;
    let Err(CallError::NoAnswer {
        participant,
        within,
    }) = stuck
    else {
        panic!("{stuck:?}")
    };
    assert_eq!((participant, within), (a.id().clone(), WAIT));
    a.stop().await.expect("stops");
    b.stop().await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn answers_nobody_waits_for_are_dropped_and_counted() {
    let broker = broker();
    let (caller, t) = caller(&broker).await;
    let stray = json!({"protocol": "participant", "command": "callresult",
        "payload": {"id": "no-such-request", "participant": "p", "result": 1}});
    let reply = q(".fbp.caller-1.calls");
    t.send_to_inport(&reply, Bytes::from(stray.to_string()))
        .await
        .expect("send");
    t.send_to_inport(&reply, Bytes::from_static(b"garbage"))
        .await
        .expect("send");
    let deadline = tokio::time::Instant::now() + WAIT;
    while caller.late() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not counted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(CallResult::decode(b"garbage").is_err());
}

#[tokio::test(start_paused = true)]
async fn drain_answers_then_the_participant_finishes_and_stops() {
    let broker = broker();
    let (caller, t) = caller(&broker).await;
    let running = participant(&broker, "r").await;
    let id = running.id().clone();
    let stopped = tokio::spawn(running.run_until(std::future::pending::<()>()));
    let answer = caller.call(&id, "drain", Value::Null, WAIT).await;
    assert_eq!(answer.expect("an answer"), json!({"draining": true}));
    tokio::time::timeout(WAIT, stopped)
        .await
        .expect("stopped within the wait")
        .expect("joined")
        .expect("a clean stop");
    // It takes no more input: a message sent now waits in its queue.
    t.send_to_inport(&q("r.IN"), Bytes::from_static(b"after"))
        .await
        .expect("send");
    let mut left = t.consume(&q("r.IN"), 1).await.expect("consume");
    let waiting = left.next().await.expect("the message");
    assert_eq!(waiting.payload.as_ref(), b"after");
    let gone = caller.call(&id, "health", Value::Null, WAIT).await;
    assert!(matches!(gone, Err(CallError::NoAnswer { .. })), "{gone:?}");
}

#[tokio::test(start_paused = true)]
async fn set_prefetch_changes_what_health_reports_and_refuses_zero() {
    let broker = broker();
    let (caller, _t) = caller(&broker).await;
    let running = participant(&broker, "r").await;
    let id = running.id().clone();
    let set = caller
        .call(&id, "set-prefetch", json!({"prefetch": 3}), WAIT)
        .await;
    assert_eq!(set.expect("an answer"), json!({"prefetch": 3}));
    let health = caller.call(&id, "health", Value::Null, WAIT).await;
    let health: Health = serde_json::from_value(health.expect("health")).expect("health");
    assert_eq!(health.prefetch, 3);
    let zero = caller
        .call(&id, "set-prefetch", json!({"prefetch": 0}), WAIT)
        .await;
    let error = zero.expect_err("zero").to_string();
    assert!(
        error.ends_with("set-prefetch: the prefetch must be at least 1"),
        "{error}"
    );
    let none = caller.call(&id, "set-prefetch", Value::Null, WAIT).await;
    let error = none.expect_err("no arguments").to_string();
    assert!(
        error.contains("the arguments of \"set-prefetch\" do not fit"),
        "{error}"
    );
    running.stop().await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn the_fbp_call_reaches_a_graph_participants_runtime_only() {
    let broker = broker();
    let (caller, _t) = caller(&broker).await;
    let graph = msgflo_protocol::dsl::parse("INPORT=a.IN:IN\nOUTPORT=a.OUT:OUT\na(core/Repeat)")
        .expect("graph");
    let options = Options::new("g".try_into().expect("role"), broker.as_str());
    let graph_participant = runner::start_graph(&graph, "demo/One", builtins::builtin, options)
        .await
        .expect("starts");
    let ask = json!({"protocol": "component", "command": "getsource",
                     "payload": {"name": "demo/One"}});
    let frames = caller
        .call(graph_participant.id(), "fbp", ask.clone(), WAIT)
        .await
        .expect("an answer");
    assert_eq!(frames[0]["command"], "source", "{frames}");
    assert_eq!(frames[0]["payload"]["language"], "json");
    let plain = participant(&broker, "r").await;
    let refused = caller.call(plain.id(), "fbp", ask, WAIT).await;
    let error = refused.expect_err("no runtime").to_string();
    assert!(error.ends_with("it is no FBP runtime"), "{error}");
    graph_participant.stop().await.expect("stops");
    plain.stop().await.expect("stops");
}

/// A graph participant's `network:data` for a watched edge, sent to the
/// caller's queue, is an event for whoever reads them, not a late answer.
#[tokio::test(start_paused = true)]
async fn network_frames_on_the_calls_queue_are_events_not_late_answers() {
    let broker = broker();
    let (caller, t) = caller(&broker).await;
    let mut events = caller.events().expect("the events, once");
    assert!(caller.events().is_none(), "one reader");
    let reply = q(".fbp.caller-1.calls");
    // A stray answer first: the queue is routed in order, so once the
    // event is out, the stray answer was counted.
    let stray = json!({"protocol": "participant", "command": "callresult",
        "payload": {"id": "no-such-request", "participant": "p", "result": 1}});
    t.send_to_inport(&reply, Bytes::from(stray.to_string()))
        .await
        .expect("send");
    let data = json!({"protocol": "network", "command": "data", "payload": {
        "id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
        "tgt": {"node": "b", "port": "in"}, "data": 42, "graph": "Pipeline"}});
    t.send_to_inport(&reply, Bytes::from(data.to_string()))
        .await
        .expect("send");
    let got = tokio::time::timeout(WAIT, events.recv()).await;
    assert_eq!(got.expect("in time").expect("an event"), data);
    assert_eq!(caller.late(), 1, "only the stray answer is late");
}
