use super::*;

/// The example of the specification.
const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn the_specification_example_parses_and_prints_back() {
    let parsed = TraceParent::parse(EXAMPLE).expect("valid");
    assert_eq!(parsed.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        parsed.parent_id,
        [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    assert_eq!(parsed.flags, SAMPLED);
    assert_eq!(parsed.to_string(), EXAMPLE);
    assert_eq!(EXAMPLE.parse::<TraceParent>(), Ok(parsed));
}

#[test]
fn a_child_keeps_the_trace_and_the_flags_and_names_its_own_span() {
    let parent = TraceParent::parse(EXAMPLE).expect("valid");
    let child = parent.child([1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        child.to_string(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01"
    );
}

#[test]
fn a_later_version_may_carry_more_fields_which_are_ignored() {
    let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
    let parsed = TraceParent::parse(later).expect("a future version");
    assert_eq!(parsed.to_string(), EXAMPLE, "printed as version 00");
}

#[test]
fn malformed_values_are_errors_not_panics() {
    let cases: &[(&str, TraceParentError)] = &[
        ("", TraceParentError::Shape),
        ("00", TraceParentError::Shape),
        (&EXAMPLE[..54], TraceParentError::Shape),
        (&format!("{EXAMPLE}0"), TraceParentError::Shape),
        (&format!("{EXAMPLE}-00"), TraceParentError::Shape),
        (
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            TraceParentError::Shape,
        ),
        (
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            TraceParentError::Shape,
        ),
        (
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            TraceParentError::NotHex("trace id"),
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            TraceParentError::NotHex("trace id"),
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
            TraceParentError::NotHex("parent id"),
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            TraceParentError::NotHex("flags"),
        ),
        (
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            TraceParentError::NotHex("version"),
        ),
        (
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            TraceParentError::Version,
        ),
        (
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            TraceParentError::Zero("trace id"),
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            TraceParentError::Zero("parent id"),
        ),
    ];
    for (value, error) in cases {
        assert_eq!(TraceParent::parse(value).as_ref(), Err(error), "{value:?}");
    }
}

#[test]
fn multi_byte_text_of_the_right_length_is_an_error() {
    // 55 bytes with a multi-byte character where a hex digit belongs.
    let value = "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01";
    assert_eq!(value.len(), 55);
    assert!(TraceParent::parse(value).is_err());
}
