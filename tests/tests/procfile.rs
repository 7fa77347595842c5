//! `msgflo-procfile` prints byte for byte what msgflo 0.12.3's `bin/msgflo-procfile`
//! prints for msgflo's own fixtures (its spec/procfile.coffee cases) and more
//! combinations, and fails like it for a missing component. msgflo@0.12.3 is
//! installed at test time into `.cache/npm/` (Node.js and npm are needed).

use anyhow::{ensure, Context, Result};
use msgflo_tests::{bins, npm};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// msgflo's package folder (its `spec/fixtures` and `bin/`), and our binary.
fn setup() -> Result<(PathBuf, PathBuf)> {
    let prefix = npm::install("msgflo", "0.12.3")?;
    let package = prefix.join("node_modules/msgflo");
    Ok((package, bins::binary("msgflo-procfile")?))
}

/// Runs msgflo's and our msgflo-procfile with `args`, in msgflo's package folder
/// (so the default `--library package.json` is msgflo's own).
fn both(args: &[String]) -> Result<(Output, Output)> {
    let (package, ours) = setup()?;
    let run = |command: &mut Command| -> Result<Output> {
        command
            .args(args)
            .current_dir(&package)
            .output()
            .context("cannot run msgflo-procfile")
    };
    let theirs = run(Command::new("node").arg(package.join("bin/msgflo-procfile")))?;
    let ours = run(&mut Command::new(ours))?;
    Ok((theirs, ours))
}

fn fixture(name: &str) -> Result<String> {
    let (package, _) = setup()?;
    let path = package.join("spec/fixtures").join(name);
    ensure!(path.exists(), "no fixture {}", path.display());
    Ok(path.display().to_string())
}

/// Both succeed with the same stdout; returns it.
fn same_output(args: &[String]) -> Result<String> {
    let (theirs, ours) = both(args)?;
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    ensure!(
        theirs.status.success(),
        "msgflo failed ({}): {}",
        theirs.status,
        err(&theirs)
    );
    ensure!(
        ours.status.success(),
        "ours failed ({}): {}",
        ours.status,
        err(&ours)
    );
    ensure!(
        theirs.stdout == ours.stdout,
        "outputs differ for {args:?}\n--- msgflo\n{:?}\n--- ours\n{:?}",
        text(&theirs),
        text(&ours)
    );
    Ok(text(&ours))
}

#[test]
fn imgflo_server_with_ignores_and_an_include() -> Result<()> {
    let lib = fixture("library-imgflo.json")?;
    let out = same_output(&[
        fixture("imgflo-server.fbp")?,
        "--components".into(),
        "participants".into(),
        "--library".into(),
        lib,
        "--ignore=imgflo_jobs".into(),
        "--ignore=imgflo_api".into(),
        "--ignore".into(),
        "drop".into(),
        "--include".into(),
        "web: node index.js".into(),
    ])?;
    assert_eq!(
        out,
        "imgflo_worker: node worker.js --name imgflo_worker\nweb: node index.js\n"
    );
    Ok(())
}

#[test]
fn iips_with_variables_ignore_and_include() -> Result<()> {
    let out = same_output(&[
        fixture("iips.fbp")?,
        "--library".into(),
        fixture("library-noflo.json")?,
        "--ignore".into(),
        "web".into(),
        "--include".into(),
        "web: node index.js".into(),
    ])?;
    assert!(
        out.contains("--iips '{\"port\":\"8082\"}' --prefetch 1\n"),
        "{out}"
    );
    Ok(())
}

#[test]
fn no_includes_end_in_a_blank_line() -> Result<()> {
    let out = same_output(&[
        fixture("iips.fbp")?,
        format!("--library={}", fixture("library-noflo.json")?),
    ])?;
    assert!(out.starts_with("web: node web.js\nfast: "), "{out}");
    assert!(out.ends_with("\n\n"), "{out:?}");
    Ok(())
}

#[test]
fn several_includes_and_repeated_ignores() -> Result<()> {
    let out = same_output(&[
        fixture("iips.fbp")?,
        "--library".into(),
        fixture("library-noflo.json")?,
        "--include=a: one".into(),
        "--ignore=fast".into(),
        "--include".into(),
        "b: two".into(),
        "--ignore".into(),
        "slow".into(),
        "--include".into(),
        "c: three four".into(),
    ])?;
    assert_eq!(out, "web: node web.js\na: one\nb: two\nc: three four\n");
    Ok(())
}

#[test]
fn handlers_for_files_in_the_component_dir() -> Result<()> {
    let dir = fixture("ProduceFoo.coffee")?;
    let dir = Path::new(&dir).parent().context("fixtures dir")?;
    let out = same_output(&[
        fixture("handlers.fbp")?,
        format!("--library={}", fixture("library-handlers.json")?),
        format!("--components={}", dir.display()),
        "--include".into(),
        "web: node index.js".into(),
    ])?;
    let expected = format!(
        "foo: msgflo-nodejs --name foo {}\nweb: node index.js\n",
        dir.join("ProduceFoo.coffee").display()
    );
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn json_graph_with_numeric_names_and_nontrivial_variables() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let graph = tmp.path().join("graph.json");
    std::fs::write(
        &graph,
        r#"{"processes": {
              "router": {"component": "api/Router"},
              "7": {"component": "api/PropagateItem"},
              "convert": {"component": "api/ConvertDocument"},
              "1": {"component": "api/SendMessageToUser"}},
            "connections": [
              {"src": {"process": "router", "port": "out"}, "tgt": {"process": "7", "port": "in"}},
              {"data": {"a": [1, "x"]}, "tgt": {"process": "convert", "port": "options"}}]}"#,
    )?;
    let out = same_output(&[
        graph.display().to_string(),
        "--library".into(),
        fixture("library-nontrivial.json")?,
        "--include".into(),
        "x: y".into(),
    ])?;
    assert!(
        out.starts_with("1: noflo-runtime-msgflo --name 1 "),
        "{out}"
    );
    Ok(())
}

#[test]
fn fbp_graph_with_iips_in_a_handler_command() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let graph = tmp.path().join("g.fbp");
    std::fs::write(
        &graph,
        "a(api/Worker) OUT -> IN b(api/Worker)\n'x' -> CONFIG a\n'80' -> PORT a\n'y' -> CONFIG a\n",
    )?;
    let out = same_output(&[
        graph.display().to_string(),
        "--library".into(),
        fixture("library-noflo.json")?,
    ])?;
    assert!(
        out.contains("--iips '{\"config\":\"y\",\"port\":\"80\"}'"),
        "{out}"
    );
    Ok(())
}

#[test]
fn missing_component_fails_naming_component_and_role() -> Result<()> {
    let (theirs, ours) = both(&[
        fixture("imgflo-server.fbp")?,
        "--components".into(),
        "participants".into(),
        "--ignore=imgflo_jobs".into(),
        "--ignore=imgflo_api".into(),
        "--ignore".into(),
        "drop".into(),
        "--include".into(),
        "web: node index.js".into(),
    ])?;
    let message = "No component imgflo-server/ProcessImage defined for role imgflo_worker";
    for (who, output) in [("msgflo", &theirs), ("ours", &ours)] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{who} succeeded");
        assert!(stderr.contains(message), "{who}: {stderr}");
    }
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!("msgflo-procfile: {message}\n")
    );
    assert!(ours.stdout.is_empty());
    Ok(())
}
