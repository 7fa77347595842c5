//! The `.fbp` corpus: every file parses to the graph the reference parser (npm
//! `fbp` 1.8) gave for it, every invalid file fails with our error, and the
//! deliberate differences stay as documented. See `tests/corpus/README.md`.

use msgflo_protocol::dsl::{parse_with, serialize, ParseOptions};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

#[path = "support/corpus.rs"]
mod corpus_files;
#[path = "support/json_eq.rs"]
mod json_eq;
use corpus_files::fbp_files;
use json_eq::same;

fn corpus(dir: &str) -> Vec<PathBuf> {
    fbp_files(dir)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `foo.fbp` -> `foo.<ext>`.
fn sibling(path: &Path, ext: &str) -> PathBuf {
    path.with_extension(ext)
}

/// `*.cs.fbp` files are parsed case sensitively.
fn options(path: &Path) -> ParseOptions {
    let case_sensitive = path.to_string_lossy().ends_with(".cs.fbp");
    ParseOptions { case_sensitive }
}

fn golden(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn dsl_corpus_files_parse_to_the_reference_graphs() {
    let files = corpus("");
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    for path in files {
        let graph = parse_with(&read(&path), &options(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want = golden(&sibling(&path, "json"));
        assert!(
            same(&graph.to_value(), &want),
            "{}:\nours: {}\nreference: {want}",
            path.display(),
            graph.to_value()
        );
    }
}

#[test]
fn dsl_corpus_graphs_serialize_and_parse_back() {
    for path in corpus("") {
        let options = options(&path);
        let Ok(graph) = parse_with(&read(&path), &options) else {
            continue;
        };
        // Anonymous nodes of components with a second separator (`_a_b-c/d_1`)
        // have names that .fbp cannot write.
        let Ok(out) = serialize(&graph) else { continue };
        assert_eq!(out.lost, Vec::<String>::new(), "{}", path.display());
        let back = parse_with(&out.text, &options)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), out.text));
        assert_eq!(back, graph, "{}:\n{}", path.display(), out.text);
    }
}

#[test]
fn dsl_invalid_corpus_files_fail_with_our_errors() {
    let files = corpus("invalid");
    assert!(files.len() >= 20, "{} invalid files", files.len());
    for path in files {
        let error = match parse_with(&read(&path), &options(&path)) {
            Ok(graph) => panic!("{} parses: {}", path.display(), graph.to_value()),
            Err(error) => error.to_string(),
        };
        assert_eq!(
            error,
            read(&sibling(&path, "expected")).trim_end(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn dsl_deliberate_differences_stay_as_documented() {
    for path in corpus("divergent") {
        let result = parse_with(&read(&path), &options(&path));
        let expected_error = sibling(&path, "expected");
        if expected_error.exists() {
            let error = result.err().map(|e| e.to_string());
            assert_eq!(
                error.as_deref(),
                Some(read(&expected_error).trim_end()),
                "{}",
                path.display()
            );
        } else {
            let graph = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let want = golden(&sibling(&path, "ours.json"));
            assert!(
                same(&graph.to_value(), &want),
                "{}: {}",
                path.display(),
                graph.to_value()
            );
        }
    }
}
