//! The envelope fields (`secret`, `requestId`, `responseTo`) and every way
//! decoding can fail.

use serde_json::{json, Value};

use crate::messages::{
    DecodeError, Envelope, GetRuntime, GraphChange, Input, Output, Protocol, Request, RuntimeInput,
};

/// Decodes an input that must fail, returning the error.
fn input_error(text: &str) -> DecodeError {
    match Input::decode(text) {
        Ok(r) => panic!("{text} decoded to {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn secret_is_read_from_the_top_level() {
    let r = Input::decode(
        r#"{"protocol":"runtime","command":"getruntime","payload":{},"secret":"s3","requestId":"r1"}"#,
    )
    .unwrap();
    assert_eq!(r.secret.as_deref(), Some("s3"));
    assert_eq!(r.request_id.as_deref(), Some("r1"));
}

#[test]
fn secret_is_read_from_the_payload_and_removed_from_it() {
    let r = Input::decode(
        r#"{"protocol":"network","command":"start","payload":{"graph":"bar","secret":"old"}}"#,
    )
    .unwrap();
    assert_eq!(r.secret.as_deref(), Some("old"));
    assert_eq!(r.input.payload(), json!({"graph": "bar"}));
}

#[test]
fn top_level_secret_wins_over_payload_secret() {
    // What fbp-protocol's own test client sends: the secret in both places.
    let r = Input::decode(
        r#"{"protocol":"runtime","command":"getruntime","payload":{"secret":"legacy"},"secret":"new"}"#,
    )
    .unwrap();
    assert_eq!(r.secret.as_deref(), Some("new"));
}

#[test]
fn request_encodes_secret_at_top_level_only() {
    let request = Request {
        secret: Some("s".into()),
        request_id: Some("r9".into()),
        ..Request::new(RuntimeInput::GetRuntime(GetRuntime {}))
    };
    let v: Value = serde_json::from_str(&request.to_json()).unwrap();
    assert_eq!(
        v,
        json!({"protocol": "runtime", "command": "getruntime", "payload": {},
               "secret": "s", "requestId": "r9"})
    );
}

#[test]
fn error_reply_answers_the_request_and_has_no_secret() {
    let reply = Output::error(Protocol::Graph, "No graph specified").to_json(Some("r1"));
    assert_eq!(
        reply,
        r#"{"protocol":"graph","command":"error","payload":{"message":"No graph specified"},"responseTo":"r1"}"#
    );
}

#[test]
fn response_to_is_read_back() {
    let r = Output::decode(
        r#"{"protocol":"graph","command":"error","payload":{"message":"x"},"responseTo":"r5"}"#,
    )
    .unwrap();
    assert_eq!(r.response_to.as_deref(), Some("r5"));
    assert_eq!(r.output, Output::error(Protocol::Graph, "x"));
}

#[test]
fn missing_payload_reads_as_empty_object_and_null_fields_as_absent() {
    let r = Input::decode(r#"{"protocol":"component","command":"list","requestId":null}"#).unwrap();
    assert_eq!(r.input.command(), "list");
    assert_eq!(r.request_id, None);
}

#[test]
fn unknown_top_level_keys_are_ignored() {
    let r = Input::decode(r#"{"protocol":"trace","command":"stop","payload":{"graph":"g"},"x":1}"#);
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn not_json_is_reported() {
    let e = input_error("{not json");
    assert!(matches!(e, DecodeError::NotJson(_)), "{e:?}");
    assert!(
        e.to_string().starts_with("message is not valid JSON: "),
        "{e}"
    );
    // serde_json's recursion limit turns deep nesting into an error, not a crash.
    assert!(matches!(
        input_error(&"[".repeat(100_000)),
        DecodeError::NotJson(_)
    ));
}

#[test]
fn non_object_is_reported() {
    assert_eq!(input_error("[1,2]"), DecodeError::NotAnObject);
    assert_eq!(input_error("\"graph\""), DecodeError::NotAnObject);
}

#[test]
fn missing_protocol_and_command_are_named() {
    assert_eq!(
        input_error(r#"{"command":"list","payload":{}}"#),
        DecodeError::MissingField("protocol")
    );
    assert_eq!(
        input_error(r#"{"protocol":null,"command":"list"}"#),
        DecodeError::MissingField("protocol")
    );
    let e = input_error(r#"{"protocol":"graph","payload":{}}"#);
    assert_eq!(e, DecodeError::MissingField("command"));
    assert_eq!(e.to_string(), "message has no `command` field");
}

#[test]
fn wrongly_typed_envelope_fields_are_named() {
    let e = input_error(r#"{"protocol":5,"command":"list"}"#);
    assert_eq!(
        e.to_string(),
        "bad `protocol` field: expected a string, found a number"
    );
    let e = input_error(r#"{"protocol":"runtime","command":"getruntime","requestId":7}"#);
    assert!(
        matches!(
            e,
            DecodeError::BadField {
                field: "requestId",
                ..
            }
        ),
        "{e:?}"
    );
    let e = input_error(r#"{"protocol":"runtime","command":"getruntime","payload":{"secret":[]}}"#);
    assert!(
        matches!(
            e,
            DecodeError::BadField {
                field: "payload.secret",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn unknown_protocol_is_named() {
    let e = input_error(r#"{"protocol":"foo","command":"bar","payload":{}}"#);
    assert_eq!(e, DecodeError::UnknownProtocol("foo".into()));
    assert_eq!(e.to_string(), r#"unknown protocol "foo""#);
    assert_eq!(e.protocol(), None);
}

#[test]
fn unknown_command_is_named() {
    let e = input_error(r#"{"protocol":"graph","command":"foo","payload":{}}"#);
    assert_eq!(
        e.to_string(),
        r#"unknown command "foo" for protocol "graph""#
    );
    assert_eq!(e.protocol(), Some(Protocol::Graph));
}

#[test]
fn commands_of_the_other_direction_are_unknown() {
    for (text, protocol, command) in [
        (
            r#"{"protocol":"network","command":"status","payload":{"graph":"g","running":true}}"#,
            Protocol::Network,
            "status",
        ),
        (
            r#"{"protocol":"runtime","command":"error","payload":{"message":"m"}}"#,
            Protocol::Runtime,
            "error",
        ),
        (
            r#"{"protocol":"graph","command":"error","payload":{"message":"m"}}"#,
            Protocol::Graph,
            "error",
        ),
    ] {
        let e = input_error(text);
        assert_eq!(
            e,
            DecodeError::UnknownCommand {
                protocol,
                command: command.into()
            },
            "{text}"
        );
    }
    let e =
        Output::decode(r#"{"protocol":"network","command":"getstatus","payload":{"graph":"g"}}"#)
            .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"unknown command "getstatus" for protocol "network""#
    );
}

#[test]
fn missing_payload_field_is_named() {
    let e =
        input_error(r#"{"protocol":"graph","command":"addnode","payload":{"id":"A","graph":"g"}}"#);
    assert_eq!(
        e.to_string(),
        "bad payload for graph:addnode: missing field `component`"
    );
    assert_eq!(e.missing_field(), Some("component"));
    let e = input_error(
        r#"{"protocol":"graph","command":"addnode","payload":{"id":"A","component":"c"}}"#,
    );
    assert_eq!(
        e.missing_field(),
        Some("graph"),
        "runtime answers `No graph specified`"
    );
    assert_eq!(e.protocol(), Some(Protocol::Graph));
}

#[test]
fn wrongly_typed_payload_fields_are_described() {
    let cases = [
        (
            r#"{"protocol":"graph","command":"removenode","payload":{"id":5,"graph":"g"}}"#,
            "bad payload for graph:removenode: id: invalid type: integer `5`, expected a string",
        ),
        (
            r#"{"protocol":"runtime","command":"packet","payload":{"port":"in","event":"explode","graph":"g"}}"#,
            "event: unknown variant `explode`",
        ),
        (
            r#"{"protocol":"graph","command":"addedge","payload":{"src":{"node":"A","port":"o","index":-1},"tgt":{"node":"B","port":"i"},"graph":"g"}}"#,
            "src.index: invalid value: integer `-1`, expected a port index (non-negative integer or string)",
        ),
        (
            r#"{"protocol":"trace","command":"dump","payload":{"graph":"g","type":"pcap"}}"#,
            "unknown variant `pcap`, expected `flowtrace.json`",
        ),
        (
            r#"{"protocol":"runtime","command":"getruntime","payload":null}"#,
            "invalid type: null, expected struct GetRuntime",
        ),
    ];
    for (text, reason) in cases {
        let e = input_error(text);
        assert!(matches!(e, DecodeError::BadPayload { .. }), "{text}: {e:?}");
        assert!(e.to_string().contains(reason), "{text}: {e}");
    }
    let e = Output::decode(r#"{"protocol":"component","command":"componentsready","payload":{}}"#)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bad payload for component:componentsready: invalid type: map"),
        "{e}"
    );
}

#[test]
fn whole_float_port_index_reads_as_a_number() {
    let r = Input::decode(r#"{"protocol":"graph","command":"removeedge","payload":{"src":{"node":"A","port":"o","index":2.0},"tgt":{"node":"B","port":"i"},"graph":"g"}}"#).unwrap();
    let Input::Graph(GraphChange::RemoveEdge(edge)) = r.input else {
        panic!("{r:?}")
    };
    assert_eq!(edge.src.index, Some(crate::messages::PortIndex::Number(2)));
}

#[test]
fn envelope_round_trips_all_its_fields() {
    let text = r#"{"protocol":"p","command":"c","payload":[1],"secret":"s","requestId":"q","responseTo":"r"}"#;
    let env = Envelope::parse(text).unwrap();
    assert_eq!(env.to_json(), text);
    assert_eq!(serde_json::from_str::<Envelope>(text).unwrap(), env);
}

#[test]
fn protocol_names_round_trip() {
    for p in Protocol::ALL {
        assert_eq!(Protocol::from_name(p.as_str()), Some(p));
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!(Protocol::from_name("Graph"), None);
}
