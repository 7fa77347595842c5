//! The `msgflo-brackets` header value, byte for byte and back.

use super::*;

fn open(name: Option<&str>) -> Bracket {
    Bracket::Open(name.map(str::to_owned))
}

fn close(name: Option<&str>) -> Bracket {
    Bracket::Close(name.map(str::to_owned))
}

#[test]
fn golden_header_values() {
    let around = Framing {
        before: vec![open(Some("batch"))],
        after: vec![close(Some("batch"))],
    };
    assert_eq!(
        around.encode().as_deref(),
        Some(r#"{"before":[{"open":"batch"}],"after":[{"close":"batch"}]}"#)
    );
    let unnamed_before_only = Framing {
        before: vec![close(None), open(None)],
        after: Vec::new(),
    };
    assert_eq!(
        unnamed_before_only.encode().as_deref(),
        Some(r#"{"before":[{"close":null},{"open":null}]}"#)
    );
    let after_only = Framing {
        before: Vec::new(),
        after: vec![close(Some("g"))],
    };
    assert_eq!(
        after_only.encode().as_deref(),
        Some(r#"{"after":[{"close":"g"}]}"#)
    );
}

#[test]
fn no_brackets_no_header() {
    assert!(Framing::default().is_empty());
    assert_eq!(Framing::default().encode(), None);
}

#[test]
fn decode_reads_what_encode_wrote() {
    let framing = Framing {
        before: vec![open(Some("a \"quoted\" name")), open(None)],
        after: vec![close(None), close(Some("ü"))],
    };
    let text = framing.encode().expect("brackets");
    assert_eq!(Framing::decode(&text), Ok(framing));
    assert_eq!(Framing::decode("{}"), Ok(Framing::default()));
}

#[test]
fn a_malformed_value_is_an_error_saying_what_is_wrong() {
    let cases = [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        (r#"{"before": 1}"#, "msgflo-brackets.before is not a list"),
        (
            r#"{"after": [{"open": 1}]}"#,
            "msgflo-brackets.after: bad bracket",
        ),
        (r#"{"before": [{"shut": "x"}]}"#, "bad bracket"),
        (
            r#"{"before": [{"open": "x", "close": "y"}]}"#,
            "bad bracket",
        ),
    ];
    for (value, expected) in cases {
        let error = Framing::decode(value).expect_err(value).to_string();
        assert!(error.contains(expected), "{value}: {error}");
    }
}
