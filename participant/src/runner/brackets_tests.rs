//! Bracket framing: what goes into the header, and back.

use super::*;
use crate::runtime::Track;
use serde_json::{json, Value};

fn text(out: &Outgoing) -> &str {
    std::str::from_utf8(&out.payload).expect("utf-8")
}

fn header(out: &Outgoing) -> Option<Value> {
    let raw = out.headers.get(HEADER)?;
    Some(serde_json::from_str(raw).expect("the header is JSON"))
}

#[test]
fn plain_data_goes_out_without_a_header_once_the_next_packet_or_a_flush_comes() {
    let mut f = Framer::default();
    assert!(
        f.push(Packet::data("1")).is_none(),
        "held until we know more"
    );
    let first = f
        .push(Packet::data("2"))
        .expect("the next data completes it");
    assert_eq!(text(&first), "1");
    assert!(first.headers.is_empty());
    let second = f.flush().expect("flushed");
    assert_eq!(text(&second), "2");
    assert!(f.flush().is_none());
}

#[test]
fn opens_ride_before_and_following_closes_after() {
    let mut f = Framer::default();
    assert!(f.push(Packet::open(Some("batch"))).is_none());
    assert!(f.push(Packet::open(None)).is_none());
    assert!(f.push(Packet::data("a")).is_none());
    let a = f.push(Packet::data("b")).expect("a is complete");
    assert!(f.push(Packet::close(None)).is_none());
    assert!(f.push(Packet::close(Some("batch"))).is_none());
    let b = f.flush().expect("b");
    assert_eq!(
        header(&a),
        Some(json!({"before": [{"open": "batch"}, {"open": null}]}))
    );
    assert_eq!(
        header(&b),
        Some(json!({"after": [{"close": null}, {"close": "batch"}]}))
    );
}

#[test]
fn brackets_after_a_flush_ride_on_the_next_message() {
    let mut f = Framer::default();
    f.push(Packet::data("a"));
    let a = f.flush().expect("a");
    assert!(a.headers.is_empty());
    f.push(Packet::close(Some("g")));
    f.push(Packet::open(Some("h")));
    assert_eq!(f.stranded(), 2);
    f.push(Packet::data("b"));
    assert_eq!(f.stranded(), 0);
    let b = f.flush().expect("b");
    assert_eq!(
        header(&b),
        Some(json!({"before": [{"close": "g"}, {"open": "h"}]}))
    );
}

#[test]
fn an_open_after_data_sends_the_data_first() {
    let mut f = Framer::default();
    f.push(Packet::data("a"));
    let a = f.push(Packet::open(Some("next"))).expect("a goes out");
    assert_eq!(text(&a), "a");
    assert!(a.headers.is_empty());
}

struct Counted;
impl Track for Counted {
    fn fail(&self) {}
}

#[test]
fn a_message_keeps_its_tokens_but_waiting_brackets_hold_none() {
    let data: Token = Arc::new(Counted);
    let close: Token = Arc::new(Counted);
    let stranded: Token = Arc::new(Counted);
    let with = |packet: Packet, token: &Token| Packet {
        token: Some(token.clone()),
        ..packet
    };
    let mut f = Framer::default();
    f.push(with(Packet::data("a"), &data));
    f.push(with(Packet::close(None), &close));
    let a = f.flush().expect("a");
    assert_eq!(a.tokens.len(), 2, "the data's and the close's");
    f.push(with(Packet::close(None), &stranded));
    assert_eq!(
        Arc::strong_count(&stranded),
        1,
        "a waiting bracket does not hold its input unacked"
    );
    drop(a);
    assert_eq!(Arc::strong_count(&data), 1);
    assert_eq!(Arc::strong_count(&close), 1);
}

#[test]
fn decode_reads_what_encode_wrote() {
    let before = vec![
        Body::Open(Some(Arc::from("a \"quoted\" name"))),
        Body::Open(None),
    ];
    let after = vec![Body::Close(None), Body::Close(Some(Arc::from("ü")))];
    let mut headers = Headers::new();
    headers.insert(HEADER, encode(&before, &after).expect("brackets"));
    assert_eq!(decode(&headers), Ok(Framing { before, after }));
    assert_eq!(decode(&Headers::new()), Ok(Framing::default()));
    assert_eq!(encode(&[], &[]), None);
}

#[test]
fn a_malformed_header_is_an_error_saying_what_is_wrong() {
    let cases = [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        (r#"{"before": 1}"#, "msgflo-brackets.before is not a list"),
        (r#"{"after": [{"open": 1}]}"#, "bad bracket"),
        (r#"{"before": [{"shut": "x"}]}"#, "bad bracket"),
        (
            r#"{"before": [{"open": "x", "close": "y"}]}"#,
            "bad bracket",
        ),
    ];
    for (value, expected) in cases {
        let headers: Headers = [(HEADER, value)].into_iter().collect();
        let error = decode(&headers).expect_err(value);
        assert!(error.contains(expected), "{value}: {error}");
    }
}

#[test]
fn typed_values_go_out_as_their_json_text_and_bytes_byte_for_byte() {
    let mut f = Framer::default();
    assert!(f.push(Packet::value(json!({"n": 1}))).is_none());
    let typed = f.push(Packet::data(" {\"n\" : 2} ")).expect("complete");
    assert_eq!(text(&typed), r#"{"n":1}"#);
    assert_eq!(
        text(&f.flush().expect("flushed")),
        " {\"n\" : 2} ",
        "raw stays raw"
    );
}
