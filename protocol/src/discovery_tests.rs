use super::*;
use serde_json::json;

fn repeater() -> Participant {
    let port = |id: &str, queue: &str| {
        Port::new(
            PortName::new(id).unwrap(),
            Some(QueueName::new(queue).unwrap()),
        )
    };
    let mut p = Participant::new(
        ParticipantId::new("repeater-1234").unwrap(),
        Role::new("repeater").unwrap(),
        "Repeat",
    );
    p.label = "Repeats in data without changes".into();
    p.icon = "file-word-o".into();
    p.inports = vec![port("in", "repeater.IN")];
    p.outports = vec![port("out", "repeater.OUT")];
    p
}

#[test]
fn our_message_has_exactly_the_keys_msgflo_checks() {
    let value: Value = serde_json::from_slice(&repeater().encode()).unwrap();
    assert_eq!(
        value,
        json!({"protocol": "discovery", "command": "participant", "payload": {
            "id": "repeater-1234", "role": "repeater", "component": "Repeat",
            "label": "Repeats in data without changes", "icon": "file-word-o",
            "inports": [{"id": "in", "type": "any", "queue": "repeater.IN"}],
            "outports": [{"id": "out", "type": "any", "queue": "repeater.OUT"}]}})
    );
    let mut keys: Vec<_> = value["payload"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "component",
            "icon",
            "id",
            "inports",
            "label",
            "outports",
            "role"
        ]
    );
}

#[test]
fn port_description_and_schema_are_written_only_when_set() {
    let mut p = repeater();
    p.inports[0].description = Some("data to repeat".into());
    p.inports[0].schema = Some("application/json".into());
    let value: Value = serde_json::from_slice(&p.encode()).unwrap();
    assert_eq!(
        value["payload"]["inports"][0],
        json!({"id": "in", "type": "any", "queue": "repeater.IN",
               "description": "data to repeat", "schema": "application/json"})
    );
    assert_eq!(
        value["payload"]["outports"][0],
        json!({"id": "out", "type": "any", "queue": "repeater.OUT"})
    );
}

#[test]
fn round_trip_of_our_own_message() {
    let p = repeater();
    assert_eq!(Participant::decode(&p.encode()).unwrap(), p);
}

#[test]
fn accepts_what_msgflo_python_sends() {
    let msg = br#"{"protocol":"discovery","command":"participant","payload":{
        "component":"PythonRepeat","label":"Repeats in data without changes","icon":"file-word-o",
        "inports":[{"id":"in","type":"any","queue":"repeater/in"}],
        "outports":[{"id":"out","type":"any","queue":"repeater/out"}],
        "role":"repeater","id":"repeater-8f3a"}}"#;
    let p = Participant::decode(msg).unwrap();
    assert_eq!(
        p.inport("in").unwrap().queue.as_ref().unwrap().as_str(),
        "repeater/in"
    );
    assert!(p.outport("in").is_none());
}

#[test]
fn accepts_optional_port_keys_and_fbp_capable_extras() {
    let msg = json!({"protocol":"discovery","command":"participant","payload":{
        "id":"noflo-1","role":"noflo","component":"core/Output","label":"","icon":"cog",
        "type":"noflo-nodejs","version":"0.5","inqueue":".fbp.noflo-1.receive","outqueue":".fbp.noflo-1.send",
        "description":"a NoFlo graph", "period": 30,
        "inports":[{"id":"in","type":"string","queue":"noflo.IN","description":"d","hidden":false,
                    "default":"x","persistent":true,"options":{"durable":true},"schema":"text/plain"},
                   {"id":"ctl","hidden":true}],
        "outports":[]}});
    let p = Participant::decode(msg.to_string().as_bytes()).unwrap();
    assert_eq!(p.runtime_type.as_deref(), Some("noflo-nodejs"));
    assert_eq!(p.inqueue.as_deref(), Some(".fbp.noflo-1.receive"));
    assert_eq!(p.extra.get("period"), Some(&json!(30)));
    let hidden = p.inport("ctl").unwrap();
    assert_eq!((hidden.queue.as_ref(), hidden.hidden), (None, Some(true)));
    assert_eq!(hidden.datatype, "any", "type defaults to any");
    assert_eq!(p.inports[0].persistent, Some(true));
    // Everything we accepted is written back as received.
    let back: Value = serde_json::from_slice(&p.encode()).unwrap();
    let mut expected = msg;
    expected["payload"]["inports"][1]["type"] = json!("any");
    assert_eq!(back, expected);
}

#[test]
fn errors_name_what_was_wrong() {
    let err = Participant::decode(b"{not json").unwrap_err();
    assert!(
        err.to_string().starts_with("discovery message is not JSON"),
        "{err}"
    );

    let err = Participant::decode(br#"{"protocol":"runtime","command":"packet"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a discovery message: protocol Some(\"runtime\"), command Some(\"packet\") (expected \"discovery\", \"participant\")"
    );

    let err = Participant::decode(
        br#"{"protocol":"discovery","command":"participant","payload":{"role":"r"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing field `id`"), "{err}");

    let err = Participant::decode(
        br#"{"protocol":"discovery","command":"participant","payload":{"id":"","role":"r"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid participant id"), "{err}");

    let err =
        Participant::decode(br#"{"protocol":"discovery","command":"participant"}"#).unwrap_err();
    assert!(matches!(err, DiscoveryError::BadPayload(_)), "{err}");
}
