use super::*;
use crate::control::Control;
use serde_json::json;

fn request() -> CallRequest {
    CallRequest {
        id: "c1".into(),
        call: HEALTH.into(),
        args: Value::Null,
        reply_to: reply_queue("caller-1"),
        deadline: 1_765_040_000_000,
    }
}

#[test]
fn a_request_is_a_control_message_on_the_wire() {
    let wire: Value = serde_json::from_slice(&request().encode()).expect("JSON");
    assert_eq!(
        wire,
        json!({"protocol": "participant", "command": "call", "payload": {
            "id": "c1", "call": "health", "args": null,
            "reply_to": ".fbp.caller-1.calls", "deadline": 1_765_040_000_000u64}})
    );
    assert_eq!(PROTOCOL, crate::control::PROTOCOL);
    let decoded = Control::decode(&request().encode()).expect("a control message");
    assert_eq!(decoded, Control::Call(request()));
}

#[test]
fn answers_round_trip_with_result_or_error() {
    let ok = CallResult::ok(&request(), "p-1", json!({"uptime_ms": 5}));
    let back = CallResult::decode(&ok.encode()).expect("an answer");
    assert_eq!(back, ok);
    assert_eq!(back.outcome(), Ok(json!({"uptime_ms": 5})));
    let failed = CallResult::failed(&request(), "p-1", "unknown call \"x\"");
    let wire: Value = serde_json::from_slice(&failed.encode()).expect("JSON");
    assert_eq!(
        wire["payload"],
        json!({"id": "c1", "participant": "p-1", "error": "unknown call \"x\""})
    );
    assert_eq!(
        CallResult::decode(&failed.encode())
            .expect("an answer")
            .outcome(),
        Err("unknown call \"x\"".to_owned())
    );
}

#[test]
fn what_is_not_an_answer_says_so() {
    for bad in [
        &b"nope"[..],
        br#"{"protocol":"participant","command":"connectinport","payload":{}}"#,
        br#"{"protocol":"participant","command":"callresult","payload":{"id":1}}"#,
    ] {
        let error = CallResult::decode(bad).expect_err("not an answer");
        assert!(
            error.to_string().starts_with("not a call answer: "),
            "{error}"
        );
    }
}

#[test]
fn health_reads_back_what_it_wrote() {
    let health = Health {
        uptime_ms: 1200,
        in_flight: 3,
        ports: BTreeMap::from([(
            "in".to_owned(),
            PortCounts {
                processed: 10,
                failed: 1,
            },
        )]),
        sent: BTreeMap::from([("out".to_owned(), 9), ("error".to_owned(), 1)]),
        last_error: Some(LastError {
            message: "boom".into(),
            ms_ago: 40,
        }),
        broker: BrokerState {
            url: "amqp://localhost:5672/".into(),
            connected: true,
            reconnects: 2,
        },
        prefetch: 128,
        draining: false,
        links: BTreeMap::new(),
    };
    let value = serde_json::to_value(&health).expect("JSON");
    assert_eq!(value["ports"]["in"], json!({"processed": 10, "failed": 1}));
    assert_eq!(value["sent"], json!({"error": 1, "out": 9}));
    assert_eq!(value["broker"]["reconnects"], 2);
    assert_eq!(
        serde_json::from_value::<Health>(value).expect("back"),
        health
    );
}

#[test]
fn health_of_an_older_participant_reads_with_no_sent_counts_and_no_reconnects() {
    let older = json!({"uptime_ms": 5, "in_flight": 0, "ports": {},
                       "broker": {"url": "amqp://localhost:5672/", "connected": true},
                       "prefetch": 8});
    let health: Health = serde_json::from_value(older.clone()).expect("reads");
    assert!(health.sent.is_empty());
    assert_eq!(health.broker.reconnects, 0);
    let written = serde_json::to_value(&health).expect("JSON");
    assert!(written.get("sent").is_none(), "{written}");
    assert!(written["broker"].get("reconnects").is_none(), "{written}");
}
