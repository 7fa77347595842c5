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

fn catalogue<'a>(
    library: &'a Library,
    registry: &'a Registry,
    graph: Option<&'a Graph>,
) -> Catalogue<'a> {
    Catalogue {
        library,
        registry,
        graph,
        subgraphs: Box::leak(Box::default()),
    }
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
    assert_eq!(
        ready(catalogue(&library, &registry, None).source("Hello")),
        msgflo
    );
    // noflo-ui's second try, with the namespace: the same component.
    let namespaced = catalogue(&library, &registry, None).source("msgflo-hello-example/Hello");
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
    let answer = ready(catalogue(&library, &registry, Some(&graph)).source("example/Hello"));
    assert_eq!(
        (&answer["name"], &answer["library"]),
        (&json!("Hello"), &json!("example"))
    );
    let code: Value = serde_norway::from_str(answer["code"].as_str().expect("code")).expect("YAML");
    assert_eq!(code, expected);
    // By the library name the graph's nodes use: helloA plays `Hello`.
    let answer = ready(catalogue(&library, &registry, Some(&graph)).source("Hello"));
    let code: Value = serde_norway::from_str(answer["code"].as_str().expect("code")).expect("YAML");
    assert_eq!(code, expected);
    assert_eq!(answer["language"], "discovery");
}

#[test]
fn a_component_only_the_graph_uses_has_an_empty_definition() {
    let (library, registry) = (Library::empty(), Registry::default());
    let graph = msgflo_protocol::dsl::parse("a(vendor/Sensor) OUT -> IN b(Hello)").expect("graph");
    let answer = ready(catalogue(&library, &registry, Some(&graph)).source("vendor/Sensor"));
    assert_eq!(
        answer,
        json!({"name": "Sensor", "library": "vendor", "code": "{}\n", "language": "discovery"})
    );
}

#[test]
fn wiring_components_are_listed_with_their_ports_and_described_as_their_source() {
    let (library, registry) = (Library::empty(), Registry::default());
    let listed = catalogue(&library, &registry, None).list();
    let round_robin = listed
        .iter()
        .find(|c| c.name == "msgflo/RoundRobin")
        .expect("listed");
    let ports = |ports: &[PortDef]| ports.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(ports(&round_robin.in_ports), ["in"]);
    assert_eq!(ports(&round_robin.out_ports), ["out", "deadletter"]);
    assert!(listed.iter().any(|c| c.name == "msgflo/PubSub"));
    let answer = ready(catalogue(&library, &registry, None).source("msgflo/RoundRobin"));
    assert_eq!(
        (&answer["name"], &answer["library"]),
        (&json!("RoundRobin"), &json!("msgflo"))
    );
    let code: Value = serde_norway::from_str(answer["code"].as_str().expect("code")).expect("YAML");
    assert_eq!(code["outports"][1]["id"], "deadletter");
}

#[test]
fn an_unknown_component_is_an_error_naming_it() {
    let (library, registry) = (hello_library(), hello_participant("helloA"));
    let error = catalogue(&library, &registry, Some(&hello_graph()))
        .source("Nope")
        .expect_err("unknown");
    assert_eq!(error.to_string(), "Component not found for Nope");
    // A namespace does not make a foreign library's name known.
    let error = catalogue(&library, &registry, None)
        .source("other/Nope")
        .expect_err("unknown");
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
        }) = catalogue(&library, &Registry::default(), None).source(name)
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

#[test]
fn a_library_component_is_listed_with_the_ports_of_a_participant_playing_it() {
    let (library, graph) = (hello_library(), hello_graph());
    let nobody = Registry::default();
    let bare = catalogue(&library, &nobody, Some(&graph)).list();
    assert_eq!(bare.len(), 1 + wiring().len());
    assert!(bare[0].name == "Hello" && bare[0].in_ports.is_empty() && bare[0].out_ports.is_empty());

    let registry = hello_participant("helloB");
    let listed = catalogue(&library, &registry, Some(&graph)).list();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "example/Hello",
            "Hello",
            "msgflo/RoundRobin",
            "msgflo/PubSub"
        ]
    );
    let hello = &listed[1];
    let ports = |ports: &[PortDef]| ports.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        (ports(&hello.in_ports), ports(&hello.out_ports)),
        (vec!["name".to_owned()], vec!["out".to_owned()])
    );
    assert_eq!(hello.icon.as_deref(), Some("hand-o-right"));
}

#[test]
fn a_participant_appearing_updates_its_component_and_the_one_its_node_uses() {
    let (library, graph, registry) = (hello_library(), hello_graph(), hello_participant("helloC"));
    let changed = catalogue(&library, &registry, Some(&graph)).of_role("helloC");
    let names: Vec<&str> = changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["example/Hello", "Hello"]);
    assert!(changed
        .iter()
        .all(|c| c.in_ports.len() == 1 && c.out_ports.len() == 1));
    // A role that is no node of the graph changes its own component only.
    let other = hello_participant("elsewhere");
    let changed = catalogue(&library, &other, Some(&graph)).of_role("elsewhere");
    assert_eq!(changed.len(), 1);
    assert!(catalogue(&library, &other, Some(&graph))
        .of_role("nobody")
        .is_empty());
}
