//! Graph participants as subgraphs: one that announces itself as an FBP
//! runtime is asked for its graph once at a time; once it answers, its
//! component is a subgraph whose source is that graph (what noflo-ui opens
//! when the user drills into the node); a failed ask is tried again at the
//! next announcement. Edits of that graph are forwarded (`forward.rs`).

use super::*;
use msgflo_protocol::ids::ParticipantId;

/// A discovery message of graph participant `pipe-1` (component
/// `demo/Pipeline`), an FBP runtime.
fn runtime_announces() -> Event {
    runtime_of("pipe", "demo/Pipeline")
}

/// A discovery message of graph participant `<role>-1` of `component`, an
/// FBP runtime.
fn runtime_of(role: &str, component: &str) -> Event {
    let id = format!("{role}-1");
    let message = json!({"protocol": "discovery", "command": "participant", "payload": {
        "id": id, "role": role, "component": component,
        "inports": [{"id": "in", "queue": format!("{role}.IN")}], "outports": [],
        "type": "msgflo-rs", "version": "0.7",
        "inqueue": format!(".fbp.{id}.receive"), "outqueue": format!(".fbp.{id}.send")}});
    super::discovery(&message)
}

fn fetches(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::FetchSubgraph { component, .. } if component == "demo/Pipeline"))
        .count()
}

const CODE: &str = r#"{"processes": {"a": {"component": "core/Repeat"}}}"#;

#[test]
fn a_runtime_is_asked_for_its_graph_once_at_a_time() {
    let mut core = core("pipe(demo/Pipeline)", Mode::Queues, None);
    assert_eq!(fetches(&core.handle(runtime_announces(), t(0))), 1);
    assert_eq!(
        fetches(&core.handle(runtime_announces(), t(1))),
        0,
        "asked twice"
    );
    let failed = Event::SubgraphFetched {
        participant: ParticipantId::new("pipe-1").expect("id"),
        component: "demo/Pipeline".into(),
        outcome: Err("did not answer".into()),
    };
    core.handle(failed, t(2));
    assert_eq!(
        fetches(&core.handle(runtime_announces(), t(3))),
        1,
        "not asked again"
    );
    // A plain participant is never asked.
    assert_eq!(fetches(&core.handle(announce("plain"), t(4))), 0);
}

#[test]
fn its_component_becomes_a_subgraph_whose_source_is_the_graph() {
    let mut core = core("pipe(demo/Pipeline)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(runtime_announces(), t(1));
    let fetched = Event::SubgraphFetched {
        participant: ParticipantId::new("pipe-1").expect("id"),
        component: "demo/Pipeline".into(),
        outcome: Ok(CODE.into()),
    };
    let told = frames_to(&core.handle(fetched, t(2)), 1);
    assert!(
        told.iter().any(|f| f["command"] == "component"
            && f["payload"]["name"] == "demo/Pipeline"
            && f["payload"]["subgraph"] == true),
        "{told:?}"
    );
    let asked = frame(
        1,
        "component",
        "getsource",
        json!({"name": "demo/Pipeline"}),
    );
    let source = frames_to(&core.handle(asked, t(3)), 1);
    assert_eq!(source.len(), 1, "{source:?}");
    assert_eq!(
        source[0]["payload"],
        json!({"name": "Pipeline", "library": "demo", "language": "json", "code": CODE})
    );
    assert!(listed_as_subgraph(&mut core, "demo/Pipeline"));
}

/// The main graph names the node's component as the library does
/// (`Pipeline`), the participant announces its own name (`inner`): the
/// library's name opens the participant's graph too.
#[test]
fn the_librarys_name_for_a_graph_participant_opens_its_graph() {
    let mut core = core("g(Pipeline)", Mode::Queues, None);
    let library = json!({"msgflo": {"components": {"Pipeline": "true"}}});
    core.library = crate::library::Library::from_json(&library).expect("library");
    core.handle(Event::Connected(1), t(0));
    let actions = core.handle(runtime_of("g", "inner"), t(1));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::FetchSubgraph { component, .. } if component == "inner")));
    let fetched = Event::SubgraphFetched {
        participant: ParticipantId::new("g-1").expect("id"),
        component: "inner".into(),
        outcome: Ok(CODE.into()),
    };
    let told = frames_to(&core.handle(fetched, t(2)), 1);
    let names: Vec<&Value> = told
        .iter()
        .filter(|f| f["command"] == "component" && f["payload"]["subgraph"] == true)
        .map(|f| &f["payload"]["name"])
        .collect();
    assert_eq!(names, [&json!("inner"), &json!("Pipeline")], "{told:?}");
    let asked = frame(1, "component", "getsource", json!({"name": "Pipeline"}));
    let source = frames_to(&core.handle(asked, t(3)), 1);
    assert_eq!(source[0]["payload"]["language"], "json", "{source:?}");
    assert_eq!(source[0]["payload"]["code"], CODE);
    assert!(listed_as_subgraph(&mut core, "Pipeline"));
}

/// The main graph stays editable beside a graph participant's graph (whose
/// edits are forwarded: `forward.rs`).
#[test]
fn the_main_graph_stays_editable_beside_a_participants_graph() {
    let mut core = core("pipe(demo/Pipeline)", Mode::Queues, None);
    core.handle(Event::Connected(1), t(0));
    core.handle(runtime_announces(), t(1));
    let fetched = Event::SubgraphFetched {
        participant: ParticipantId::new("pipe-1").expect("id"),
        component: "demo/Pipeline".into(),
        outcome: Ok(CODE.into()),
    };
    core.handle(fetched, t(2));
    let main = json!({"id": "y", "component": "core/Repeat", "graph": "g"});
    let actions = core.handle(frame(1, "graph", "addnode", main), t(4));
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Forward(_))),
        "{actions:?}"
    );
    let frames = frames_to(&actions, 1);
    assert!(
        frames.iter().any(|f| f["command"] == "addnode")
            && frames.iter().all(|f| f["command"] != "error"),
        "{frames:?}"
    );
}

/// Whether `component:list` lists `name` with `subgraph: true`.
fn listed_as_subgraph(core: &mut Core, name: &str) -> bool {
    let listed = frames_to(
        &core.handle(frame(1, "component", "list", json!({})), t(4)),
        1,
    );
    let entry = listed.iter().find(|f| f["payload"]["name"] == name);
    entry.is_some_and(|f| f["payload"]["subgraph"] == true)
}
