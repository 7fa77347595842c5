//! Drilling into a graph participant from the editor: the node opens as a
//! subgraph showing the participant's own graph.

use super::{report, shown_nodes, SHOWN};
use anyhow::{ensure, Context, Result};
use msgflo_tests::bins::binary;
use msgflo_tests::noflo_ui::{Editor, Runtime};

/// A graph participant opens as a subgraph: the main graph `g(Pipeline)
/// OUT -> IN r(core/Repeat)` on the embedded broker, where `g` is
/// `msgflo-participant --graph` running `a -> b`; noflo-ui shows the main
/// graph, then, opening node `g` as its "open" does, the participant's own
/// graph with nodes `a` and `b`, their edge and its exported ports, with no
/// error banner.
#[cfg_attr(
    noflo_ui_missing,
    ignore = "no noflo-ui build: ../shared/peers/noflo-ui-0.29.1 is not there; set MSGFLO_TEST_NOFLO_UI to a noflo-ui build folder"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_participant_opens_as_a_subgraph_in_the_editor() -> Result<()> {
    let participant = binary("msgflo-participant")?;
    let dir = tempfile::tempdir()?;
    let inner = dir.path().join("inner.fbp");
    std::fs::write(
        &inner,
        "INPORT=a.IN:IN\nOUTPORT=b.OUT:OUT\na(core/Repeat) OUT -> IN b(core/Repeat)\n",
    )?;
    let graph = dir.path().join("main.fbp");
    std::fs::write(&graph, "g(Pipeline) OUT -> IN r(core/Repeat)\n")?;
    let library = dir.path().join("library.json");
    std::fs::write(
        &library,
        serde_json::json!({"components": {
            "Pipeline": format!("{} --name #ROLE --graph {}", participant.display(), inner.display()),
            "core/Repeat": format!("{} --name #ROLE --component core/Repeat", participant.display()),
        }})
        .to_string(),
    )?;
    let mut editor = Editor::start("subgraph").await?;
    let (graph, library) = (graph.display().to_string(), library.display().to_string());
    let runtime = Runtime::start(
        "embedded:0",
        &editor.ide,
        &["--graph", &graph, "--library", &library],
    )
    .await?;
    let (_, view) = editor.open(&runtime.link, &["g", "r"]).await?;
    ensure!(view["banner"] == "", "{view}");
    editor.screenshot("main").await?;
    // The coordinator has asked the participant for its graph once the
    // editor lists `Pipeline` as a subgraph.
    let client = msgflo_tests::fbp_client::Client::connect(runtime.port);
    let mut client = client.await?;
    let deadline = tokio::time::Instant::now() + SHOWN;
    loop {
        client
            .send(
                "component",
                "getsource",
                serde_json::json!({"name": "Pipeline"}),
                None,
            )
            .await?;
        let source = client.until("component", "source", SHOWN).await?;
        if source["payload"]["language"] == "json" {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the coordinator has no graph for Pipeline: {source}"
        );
    }
    let (took, inside) = editor.drill("g", &["a", "b"]).await?;
    eprintln!("subgraph: shown {took:?} after opening g");
    let inside = editor
        .until("the subgraph loaded", SHOWN, |v| v["progress"] == "")
        .await
        .with_context(|| format!("still loading: {inside}"))?;
    editor.screenshot("inside").await?;
    ensure!(inside["banner"] == "", "{inside}");
    // Its nodes and edge, and its exported ports (drawn as labelled ends
    // with an edge each).
    ensure!(shown_nodes(&inside)? == ["a", "b", "in", "out"], "{inside}");
    let edge = serde_json::json!([{"from": ["a", "out"], "to": ["b", "in"]}]);
    ensure!(
        inside["model"]["edges"] == edge && inside["renderedEdges"] == 3,
        "{inside}"
    );
    let nodes = serde_json::json!([{"id": "a", "component": "core/Repeat"},
                                   {"id": "b", "component": "core/Repeat"}]);
    ensure!(inside["model"]["nodes"] == nodes, "{inside}");
    let exchange = editor.exchange().await?;
    report(&editor, "subgraph", &exchange)?;
    Ok(())
}
