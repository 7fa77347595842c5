//! Our `.fbp` parser and serializer against the reference parser (npm `fbp`
//! 1.8.0, installed at test time into `.cache/npm/`; Node.js and npm are needed).
//! Fails, never skips, when the reference cannot be had.

#[path = "fbp_reference/graphs.rs"]
mod graphs;
#[path = "fbp_reference/reference.rs"]
mod reference;
#[path = "fbp_reference/rng.rs"]
mod rng;
#[path = "fbp_reference/texts.rs"]
mod texts;

use msgflo_protocol::dsl::{parse_with, serialize, ParseError, ParseErrorKind, ParseOptions};
use msgflo_protocol::graph::Graph;
use reference::{reference, Outcome};
use rng::Rng;
use serde_json::Value;
use std::fs;
use std::path::PathBuf;

#[path = "../../protocol/tests/support/corpus.rs"]
mod corpus_files;
#[path = "../../protocol/tests/support/json_eq.rs"]
mod json_eq;
use corpus_files::fbp_files;
use json_eq::same;

/// `(path, text, case_sensitive)` for the `.fbp` files of a corpus folder.
fn corpus(sub: &str) -> Vec<(PathBuf, String, bool)> {
    fbp_files(sub)
        .into_iter()
        .map(|path| {
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let case_sensitive = path.to_string_lossy().ends_with(".cs.fbp");
            (path, text, case_sensitive)
        })
        .collect()
}

/// Our (line, column) with the column counted in UTF-16 units, as the
/// reference counts it (ours counts characters).
fn utf16_position(text: &str, error: &ParseError) -> (u64, u64) {
    let (mut line, mut column, mut utf16, mut seen_cr) = (1, 1, 1, false);
    for ch in text.chars() {
        if line == error.line && column == error.column {
            break;
        }
        let breaks = matches!(ch, '\r' | '\u{2028}' | '\u{2029}') || (ch == '\n' && !seen_cr);
        if matches!(ch, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            line += usize::from(breaks);
            (column, utf16) = (1, 1);
        } else {
            column += 1;
            utf16 += ch.len_utf16();
        }
        seen_cr = matches!(ch, '\r' | '\u{2028}' | '\u{2029}');
    }
    (line as u64, utf16 as u64)
}

/// Why our result and the reference's disagree, if they do. Both failing is
/// agreement; when both report a syntax error it must be at the same place.
fn disagreement(text: &str, ours: &Result<Graph, ParseError>, theirs: &Outcome) -> Option<String> {
    match (ours, theirs) {
        (Ok(graph), Outcome::Graph(want)) if same(&graph.to_value(), want) => None,
        (Ok(graph), Outcome::Graph(want)) => {
            Some(format!("ours: {}\nreference: {want}", graph.to_value()))
        }
        (Ok(graph), Outcome::Error(message, _)) => Some(format!(
            "ours: {}\nreference fails: {message}",
            graph.to_value()
        )),
        (Err(error), Outcome::Graph(want)) => {
            Some(format!("ours fails: {error}\nreference: {want}"))
        }
        (Err(error), Outcome::Error(message, Some(at))) => {
            let comparable = matches!(error.kind, ParseErrorKind::Syntax { .. });
            let ours_at = utf16_position(text, error);
            (comparable && ours_at != *at)
                .then(|| format!("ours: {error}\nreference at {at:?}: {message}"))
        }
        (Err(_), Outcome::Error(_, None)) => None,
    }
}

/// Parses every input with our parser; panics listing where it disagrees
/// with the reference's outcomes.
fn assert_agree(inputs: &[(String, bool)], theirs: &[Outcome], what: &str) {
    let mut failures = Vec::new();
    for ((text, case_sensitive), theirs) in inputs.iter().zip(theirs) {
        let ours = parse_with(
            text,
            &ParseOptions {
                case_sensitive: *case_sensitive,
            },
        );
        if let Some(why) = disagreement(text, &ours, theirs) {
            failures.push(format!(
                "{text:?} (case sensitive: {case_sensitive}):\n{why}"
            ));
        }
    }
    let shown = failures
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(
        failures.is_empty(),
        "{} of {} {what} disagree:\n\n{shown}",
        failures.len(),
        inputs.len()
    );
}

fn reference_outcomes(inputs: &[(String, bool)]) -> Vec<Outcome> {
    reference()
        .parse_all(inputs)
        .unwrap_or_else(|e| panic!("reference parser: {e:#}"))
}

#[test]
fn every_corpus_file_agrees_with_the_reference() {
    let files: Vec<(PathBuf, String, bool)> =
        corpus("").into_iter().chain(corpus("invalid")).collect();
    assert!(files.len() >= 60, "corpus has {} files", files.len());
    let inputs: Vec<(String, bool)> = files
        .iter()
        .map(|(_, text, cs)| (text.clone(), *cs))
        .collect();
    let theirs = reference_outcomes(&inputs);
    assert_agree(&inputs, &theirs, "corpus files");

    // The golden files still say what the reference says.
    for ((path, ..), theirs) in files.iter().zip(&theirs) {
        match theirs {
            Outcome::Graph(graph) => {
                let text = fs::read_to_string(path.with_extension("json")).unwrap_or_default();
                let golden: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: golden JSON: {e}", path.display()));
                assert!(
                    same(graph, &golden),
                    "{}: the reference now gives {graph}",
                    path.display()
                );
            }
            Outcome::Error(message, at) => {
                let golden =
                    fs::read_to_string(path.with_extension("reference-error")).unwrap_or_default();
                let location = at
                    .map(|(line, column)| format!("line {line}, column {column}: "))
                    .unwrap_or_default();
                assert_eq!(
                    format!("{location}{message}"),
                    golden.trim_end(),
                    "{}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn random_fbp_texts_agree_with_the_reference() {
    let mut rng = Rng::new(0x00fb_9e1e);
    let inputs: Vec<(String, bool)> = (0..600)
        .map(|_| (texts::fbp_text(&mut rng), rng.chance(0.3)))
        .collect();
    let valid = inputs
        .iter()
        .filter(|(text, cs)| {
            parse_with(
                text,
                &ParseOptions {
                    case_sensitive: *cs,
                },
            )
            .is_ok()
        })
        .count();
    assert!(
        valid >= 150,
        "the generator should make enough valid texts, made {valid} of 600"
    );
    assert_agree(&inputs, &reference_outcomes(&inputs), "random texts");
}

#[test]
fn the_reference_reads_our_serializer_output_as_the_same_graph() {
    let mut rng = Rng::new(0x5e71_a112);
    let mut graphs: Vec<Graph> = (0..250).map(|_| graphs::graph(&mut rng)).collect();
    // Also whatever the random texts parse to, when it can be written whole.
    for _ in 0..400 {
        let text = texts::fbp_text(&mut rng);
        let case_sensitive = rng.chance(0.3);
        if let Ok(graph) = parse_with(&text, &ParseOptions { case_sensitive }) {
            if serialize(&graph).is_ok_and(|out| out.lost.is_empty()) {
                graphs.push(graph);
            }
        }
    }
    let mut inputs = Vec::new();
    for graph in &graphs {
        let out = serialize(graph).unwrap_or_else(|e| panic!("{e}\n{}", graph.to_json_pretty()));
        assert_eq!(out.lost, Vec::<String>::new(), "{}", graph.to_json_pretty());
        inputs.push((out.text, graph.case_sensitive));
    }
    let theirs = reference_outcomes(&inputs);
    let mut failures = Vec::new();
    for ((graph, (text, _)), theirs) in graphs.iter().zip(&inputs).zip(&theirs) {
        let agrees = matches!(theirs, Outcome::Graph(back) if same(back, &graph.to_value()));
        if !agrees {
            failures.push(format!(
                "{text}\nwant: {}\nreference: {theirs:?}",
                graph.to_value()
            ));
        }
    }
    let shown = failures
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(
        failures.is_empty(),
        "{} of {} serialized graphs differ:\n\n{shown}",
        failures.len(),
        graphs.len()
    );
}
