use super::*;
use serde_json::json;
use std::time::Instant;

/// The hello example's library: `Hello` as a command, namespace from `name`.
fn hello_library() -> Library {
    Library::from_json(&json!({
        "name": "msgflo-hello-example",
        "msgflo": {"components": {"Hello": "msgflo-examples --name #ROLE --component example/Hello"}}
    }))
    .expect("valid library")
}

fn hello_graph() -> Graph {
    msgflo_protocol::dsl::parse(
        "'World' -> NAME helloA(Hello) OUT -> NAME helloB(Hello)\n\
         helloB OUT -> IN jobs(msgflo/RoundRobin) OUT -> NAME helloC(Hello)",
    )
    .expect("valid graph")
}

/// A registry with one `example/Hello` participant playing `role`.
fn hello_participant(role: &str) -> Registry {
    let mut registry = Registry::default();
    let announced = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": format!("{role}-1"), "role": role, "component": "example/Hello",
        "label": "Greets whoever it is given", "icon": "hand-o-right",
        "inports": [{"id": "name", "type": "string", "queue": format!("{role}.NAME")}],
        "outports": [{"id": "out", "type": "string", "queue": format!("{role}.OUT")}],
        "extra": {"pid": 42}
    }});
    let participant = Participant::decode(announced.to_string().as_bytes()).expect("valid");
    registry.seen(participant, Instant::now());
    registry
}

fn ready(source: Result<Source, SourceError>) -> Value {
    match source {
        Ok(Source::Ready(answer)) => serde_json::to_value(answer).expect("serialisable"),
        other => panic!("not a ready source: {other:?}"),
    }
}

#[test]
fn a_library_command_nobody_runs_yet_is_answered_as_msgflo_does() {
    let (library, registry) = (hello_library(), Registry::default());
    let msgflo = json!({"name": "Hello", "library": "msgflo-hello-example", "code": "{}\n", "language": "discovery"});
    assert_eq!(ready(source("Hello", &library, &registry, None)), msgflo);
    // noflo-ui's second try, with the namespace: the same component.
    let namespaced = source("msgflo-hello-example/Hello", &library, &registry, None);
    assert_eq!(ready(namespaced), msgflo);
}

#[test]
fn the_code_is_the_definition_its_participants_announce_without_instance_details() {
    let (library, registry) = (hello_library(), hello_participant("helloA"));
    let graph = hello_graph();
    let expected = json!({
        "component": "example/Hello", "label": "Greets whoever it is given", "icon": "hand-o-right",
        "inports": [{"id": "name", "type": "string"}],
        "outports": [{"id": "out", "type": "string"}]
    });
    // By the component's own name, with the library as the name's prefix.
    let answer = ready(source("example/Hello", &library, &registry, Some(&graph)));
    assert_eq!(
        (&answer["name"], &answer["library"]),
        (&json!("Hello"), &json!("example"))
    );
    let code: Value = serde_norway::from_str(answer["code"].as_str().expect("code")).expect("YAML");
    assert_eq!(code, expected);
    // By the library name the graph's nodes use: helloA plays `Hello`.
    let answer = ready(source("Hello", &library, &registry, Some(&graph)));
    let code: Value = serde_norway::from_str(answer["code"].as_str().expect("code")).expect("YAML");
    assert_eq!(code, expected);
    assert_eq!(answer["language"], "discovery");
}

#[test]
fn a_component_only_the_graph_uses_has_an_empty_definition() {
    let (library, registry) = (Library::empty(), Registry::default());
    let graph = hello_graph();
    let answer = ready(source(
        "msgflo/RoundRobin",
        &library,
        &registry,
        Some(&graph),
    ));
    assert_eq!(
        answer,
        json!({"name": "RoundRobin", "library": "msgflo", "code": "{}\n", "language": "discovery"})
    );
}

#[test]
fn an_unknown_component_is_an_error_naming_it() {
    let (library, registry) = (hello_library(), hello_participant("helloA"));
    let error = source("Nope", &library, &registry, Some(&hello_graph())).expect_err("unknown");
    assert_eq!(error.to_string(), "Component not found for Nope");
    // A namespace does not make a foreign library's name known.
    let error = source("other/Nope", &library, &registry, None).expect_err("unknown");
    assert_eq!(error, SourceError::NotFound("other/Nope".into()));
}

#[test]
fn a_component_file_is_named_for_the_caller_to_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Shout.py"), "print('hi')\n").expect("write");
    let mut library = hello_library();
    library
        .add_component_dir(dir.path())
        .expect("component dir");
    for name in ["Shout", "msgflo-hello-example/Shout"] {
        let Ok(Source::File {
            path,
            source: answer,
        }) = source(name, &library, &Registry::default(), None)
        else {
            panic!("{name}: not a file source");
        };
        assert_eq!(path, dir.path().join("Shout.py"));
        assert_eq!(
            (answer.name.as_str(), answer.language.as_str()),
            ("Shout", "python")
        );
        assert_eq!(answer.library.as_deref(), Some("msgflo-hello-example"));
    }
}
