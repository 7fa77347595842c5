//! One test per error kind: where it is reported and how it reads.

use crate::dsl::{parse, NodeUse, ParseError, ParseErrorKind};

fn error(text: &str) -> ParseError {
    match parse(text) {
        Ok(graph) => panic!("{text:?} should not parse, got {}", graph.to_value()),
        Err(error) => error,
    }
}

#[test]
fn a_syntax_error_names_line_column_what_was_expected_and_what_was_found() {
    let e = error("a(A) -> b(B)\n'foo' --> b");
    assert_eq!((e.line, e.column), (2, 7));
    let ParseErrorKind::Syntax { expected, found } = &e.kind else {
        panic!("syntax error, got {e}")
    };
    assert_eq!(found, &Some('-'));
    assert_eq!(expected, &["\" \"", "\"->\""]);
    assert_eq!(
        e.to_string(),
        "line 2, column 7: expected \" \" or \"->\", found \"-\""
    );
}

#[test]
fn a_syntax_error_at_the_end_says_end_of_input() {
    let e = error("'unterminated -> IN a(A)");
    assert_eq!((e.line, e.column), (1, 25));
    assert!(e.to_string().ends_with("found end of input"), "{e}");
    assert!(e.kind.is_syntax());
}

#[test]
fn columns_count_characters_and_crlf_is_one_line_break() {
    let e = error("'é' -> IN a(A)\r\n'x' -> IN a\r\n€€ -> IN a");
    assert_eq!((e.line, e.column), (3, 1));
    let e = error("a(A)\u{2028}\n'é' !");
    assert_eq!(
        (e.line, e.column),
        (2, 5),
        "like PEG.js, a \\n after U+2028 is not another line"
    );
}

#[test]
fn legacy_export_gets_a_hint() {
    let e = error("a(A)\n  EXPORT=a.IN:X\n");
    assert_eq!(e.kind, ParseErrorKind::LegacyExport);
    assert_eq!((e.line, e.column), (2, 3));
    assert!(
        e.to_string()
            .contains("use INPORT=node.PORT:NAME or OUTPORT=node.PORT:NAME"),
        "{e}"
    );
}

#[test]
fn an_index_beyond_u32_is_rejected() {
    let e = error("a(A) OUT[4294967296] -> IN b(B)");
    assert_eq!(
        e.kind,
        ParseErrorKind::IndexTooLarge {
            digits: "4294967296".into()
        }
    );
    assert_eq!((e.line, e.column), (1, 10));
    assert!(parse("a(A) OUT[4294967295] -> IN b(B)").is_ok());
}

#[test]
fn deeply_nested_json_is_rejected_without_overflowing_the_stack() {
    let text = format!("{} -> IN a(A)", "[".repeat(100_000));
    assert!(matches!(
        error(&text).kind,
        ParseErrorKind::TooDeep { limit: 256 }
    ));
}

#[test]
fn a_node_without_component_is_an_error_naming_it() {
    let e = error("a(A) -> b()");
    assert_eq!(
        e.kind,
        ParseErrorKind::MissingComponent { node: "b".into() }
    );
    assert_eq!(
        e.to_string(),
        "line 1, column 9: Node \"b\" does not have a component defined"
    );
    let anonymous = error("() -> b(B)");
    assert_eq!(
        anonymous.kind,
        ParseErrorKind::MissingComponent { node: "__1".into() }
    );
}

fn undefined(text: &str) -> (String, NodeUse, String) {
    let e = error(text);
    let ParseErrorKind::UndefinedNode { node, used_by } = e.kind.clone() else {
        panic!("{text:?}: undefined node error, got {e}")
    };
    (node, used_by, e.to_string())
}

#[test]
fn an_export_of_an_undefined_node_is_an_error_naming_it() {
    let (node, used_by, message) = undefined("a(A)\nINPORT=b.IN:IN");
    assert_eq!(
        (node.as_str(), used_by),
        (
            "b",
            NodeUse::Inport {
                public: "in".into()
            }
        )
    );
    assert_eq!(
        message,
        "line 2, column 8: Inport \"in\" is connected to an undefined target node \"b\""
    );
    let (node, used_by, _) = undefined("OUTPORT=c.OUT:Out");
    assert_eq!(
        (node.as_str(), used_by),
        (
            "c",
            NodeUse::Outport {
                public: "out".into()
            }
        )
    );
}

#[test]
fn a_connection_to_an_undefined_node_is_an_error_naming_it() {
    let (node, used_by, message) = undefined("a(A) -> b");
    assert_eq!(
        (node.as_str(), used_by),
        (
            "b",
            NodeUse::EdgeFrom {
                node: "a".into(),
                port: "out".into()
            }
        )
    );
    assert_eq!(message, "line 1, column 9: Edge from \"a\" port \"out\" is connected to an undefined target node \"b\"");
    let (node, used_by, _) = undefined("a -> b(B)");
    assert_eq!(
        (node.as_str(), used_by),
        (
            "a",
            NodeUse::EdgeTo {
                node: "b".into(),
                port: "in".into()
            }
        )
    );
    let (node, used_by, message) = undefined("'x' -> IN c");
    assert_eq!(
        (node.as_str(), used_by),
        ("c", NodeUse::Iip { data: "x".into() })
    );
    assert_eq!(
        message,
        "line 1, column 11: IIP containing \"x\" is connected to an undefined target node \"c\""
    );
}

#[test]
fn a_syntax_error_wins_over_validation() {
    let e = error("a(A) -> b\n!!!");
    assert!(e.kind.is_syntax(), "{e}");
    assert_eq!(e.line, 2);
}
