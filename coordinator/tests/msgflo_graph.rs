//! `msgflo-graph` as a user runs it: files in, text out, errors on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn msgflo_graph(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_msgflo-graph"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("msgflo-graph starts");
    let input = stdin.unwrap_or("").to_owned();
    let mut pipe = child.stdin.take().expect("stdin is piped");
    std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    child.wait_with_output().expect("msgflo-graph runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msgflo-graph-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("temp file");
    path
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn fbp_file_prints_its_json_graph() {
    let out = msgflo_graph(&[&example("graphs/repeat.fbp")], None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["processes"]["a"]["component"], "core/Repeat");
    assert_eq!(
        json["inports"]["in"],
        serde_json::json!({"process": "a", "port": "in"})
    );
    assert_eq!(json["properties"]["environment"]["type"], "msgflo");
}

#[test]
fn json_file_prints_fbp_that_parses_back_to_the_same_graph() {
    let to_json = msgflo_graph(&[&example("hello/hello.fbp")], None);
    assert!(to_json.status.success(), "{}", text(&to_json.stderr));
    let json_file = temp_file("hello.json", &text(&to_json.stdout));

    let to_fbp = msgflo_graph(&[json_file.to_str().unwrap()], None);
    assert!(to_fbp.status.success(), "{}", text(&to_fbp.stderr));
    let fbp = text(&to_fbp.stdout);
    assert!(fbp.contains("helloA(Hello)"), "{fbp}");

    let back = msgflo_graph(&["-", "--from", "fbp", "--to", "json"], Some(&fbp));
    assert!(back.status.success(), "{}", text(&back.stderr));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&back.stdout).unwrap(),
        serde_json::from_slice::<serde_json::Value>(&to_json.stdout).unwrap()
    );
}

#[test]
fn what_fbp_cannot_express_is_named_on_stderr() {
    let json = r#"{"processes": {"a": {"component": "A"}, "b": {"component": "B"}},
        "groups": [{"name": "g", "nodes": ["a"]}],
        "connections": [{"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"},
                         "metadata": {"route": 4}}]}"#;
    let out = msgflo_graph(&["-", "--to", "fbp"], Some(json));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("msgflo-graph: warning: standard input: not expressible in .fbp"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).contains("a OUT -> IN b"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_fbp_is_one_line_on_stderr_with_position_and_exit_1() {
    let path = temp_file("bad.fbp", "a(A) OUT -> IN b(B)\na OUT -> -> IN b\n");
    let out = msgflo_graph(&[path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("msgflo-graph: {}: ", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn undefined_node_and_bad_json_and_missing_file_are_errors() {
    let out = msgflo_graph(&["-", "--from", "fbp"], Some("a OUT -> IN b(B)\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("\"a\""),
        "names the node: {}",
        text(&out.stderr)
    );

    let out = msgflo_graph(&["-"], Some("{\"processes\": 5}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .starts_with("msgflo-graph: standard input: invalid JSON graph: processes: "),
        "{}",
        text(&out.stderr)
    );

    // No place to name: no stray `?:`.
    let out = msgflo_graph(&["-"], Some("{bad"));
    assert_eq!(
        text(&out.stderr),
        "msgflo-graph: standard input: invalid JSON graph: key must be a string at line 1 column 2\n"
    );

    let out = msgflo_graph(&["/nonexistent.fbp"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("msgflo-graph: cannot read /nonexistent.fbp: "));
}
