//! A `.fbp` file with a syntax error is one line on stderr naming the file,
//! its line and column, and exit code 1 — in every program that reads graph
//! files (msgflo-graph has its own test in the coordinator crate).

use anyhow::{ensure, Result};
use msgflo_tests::fbp_client::free_port;
use msgflo_tests::tools::run;

#[tokio::test]
async fn a_syntax_error_names_the_file_in_every_program() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let graph = dir.path().join("broken.fbp");
    std::fs::write(&graph, "a(core/Repeat) OUT -> -> IN b(core/Repeat)\n")?;
    let graph = graph.display().to_string();
    let library = dir.path().join("package.json");
    std::fs::write(&library, r#"{"msgflo": {"components": {}}}"#)?;
    let library = library.display().to_string();
    let port = free_port()?.to_string();
    let programs: [(&str, Vec<&str>); 3] = [
        (
            "msgflo",
            vec!["--broker", "embedded:0", "--port", &port, "--graph", &graph],
        ),
        ("msgflo-procfile", vec![&graph, "--library", &library]),
        (
            "msgflo-setup",
            vec![&graph, "--broker", "mqtt://127.0.0.1:1"],
        ),
    ];
    for (program, args) in programs {
        let (code, _, stderr) = run(program, &args).await?;
        ensure!(code == Some(1), "{program}: exit {code:?}: {stderr}");
        ensure!(
            stderr.starts_with(&format!("{program}: {graph}: line 1, column "))
                && stderr.lines().count() == 1,
            "{program}: {stderr}"
        );
    }
    Ok(())
}
