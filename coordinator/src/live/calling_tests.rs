//! Forwarding on the memory broker, time paused: the answers of those that
//! answered come back at the deadline, a silent participant left out (the
//! core names it); what a participant then sends for a watched edge comes
//! to the core as an event.

use super::*;
use crate::core::{ForwardKind, FORWARD_TIMEOUT};
use bytes::Bytes;
use msgflo_protocol::calls::{CallRequest, CallResult};
use msgflo_protocol::ids::QueueName;
use msgflo_transport::ConnectOptions;
use serde_json::json;

fn q(name: &str) -> QueueName {
    QueueName::new(name).expect("queue name")
}

fn id(text: &str) -> ParticipantId {
    ParticipantId::new(text).expect("id")
}

/// The next event the executor's tasks report.
async fn next_event(reports: &mut mpsc::Receiver<Report>) -> Event {
    match reports.recv().await {
        Some(Report::Core(event)) => event,
        Some(_) => panic!("not a core event"),
        None => panic!("reports ended"),
    }
}

#[tokio::test(start_paused = true)]
async fn answers_come_back_at_the_deadline_and_then_watched_data_as_events() {
    let broker = format!("memory://calling-{}", uuid::Uuid::new_v4().simple());
    let options = ConnectOptions {
        client_id: "coordinator".into(),
        ..ConnectOptions::default()
    };
    let transport = msgflo_transport::connect(&broker, options)
        .await
        .expect("memory broker");
    // `live-1` answers with the echo; `silent-1` takes nothing.
    transport
        .declare_inport(&q(".fbp.silent-1.receive"))
        .await
        .expect("declare");
    let control = q(".fbp.live-1.receive");
    transport.declare_inport(&control).await.expect("declare");
    let mut requests = transport.consume(&control, 1).await.expect("consume");

    let (report, mut reports) = mpsc::channel(16);
    let calling = Calling::new(transport.clone(), report);
    let message = json!({"protocol": "network", "command": "edges",
                         "payload": {"graph": "Pipeline", "edges": []}});
    let forward = Forward {
        reply_to: None,
        role: "pipe".into(),
        participants: vec![id("live-1"), id("silent-1")],
        message: message.clone(),
        timeout: FORWARD_TIMEOUT,
        kind: ForwardKind::Edges {
            asked: serde_json::from_value(message["payload"].clone()).expect("edges"),
        },
    };
    let started = tokio::time::Instant::now();
    calling.forward(forward.clone());

    let delivery = requests.next().await.expect("the request");
    let frame: Value = serde_json::from_slice(&delivery.payload).expect("JSON");
    let request: CallRequest = serde_json::from_value(frame["payload"].clone()).expect("request");
    assert_eq!((request.call.as_str(), &request.args), ("fbp", &message));
    let reply_to = q(&request.reply_to);
    let answer = CallResult::ok(&request, "live-1", json!([message])).encode();
    transport
        .send_to_inport(&reply_to, Bytes::from(answer))
        .await
        .expect("answer");

    let Event::Forwarded {
        forward: back,
        answers,
    } = next_event(&mut reports).await
    else {
        panic!("not the answers")
    };
    assert_eq!(
        started.elapsed(),
        FORWARD_TIMEOUT,
        "waited for the silent one"
    );
    assert_eq!(back, forward);
    assert_eq!(answers, [(id("live-1"), Ok(json!([message])))]);

    let data = json!({"protocol": "network", "command": "data", "payload": {
        "id": "a() OUT -> IN b()", "src": {"node": "a", "port": "out"},
        "tgt": {"node": "b", "port": "in"}, "data": 1, "graph": "Pipeline"}});
    transport
        .send_to_inport(&reply_to, Bytes::from(data.to_string()))
        .await
        .expect("data");
    let Event::SubgraphEvent(event) = next_event(&mut reports).await else {
        panic!("not the data")
    };
    assert_eq!(event, data);
}
