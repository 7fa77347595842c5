//! JavaScript number semantics, as the reference parser gives numbers.
//!
//! Numbers are read with `parseFloat` and written as `JSON.stringify` writes
//! them: an integral value below 2^53 is an integer, other finite values are
//! `f64`, NaN and infinities are `null`.

use serde_json::Value;

/// Largest magnitude below which JS numbers are exact integers (2^53).
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// The JSON value `JSON.stringify` writes for the JS number `n`.
pub(crate) fn js_number(n: f64) -> Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < EXACT_INTEGERS {
        // Exact: |n| < 2^53 fits in i64. `-0` becomes `0`, as in JSON.stringify.
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// JavaScript's `parseFloat`: the longest prefix (after leading whitespace) that
/// is a decimal literal or `Infinity`, with an optional sign; NaN if none.
pub(crate) fn js_parse_float(text: &str) -> f64 {
    let text = text.trim_start();
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if rest.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let bytes = rest.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int = digits(0);
    let mut end = int;
    let mut frac = 0;
    if bytes.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int > 0 || frac > 0 {
            end += 1 + frac;
        }
    }
    if int == 0 && frac == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let signed = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        let exp = digits(end + 1 + signed);
        if exp > 0 {
            end += 1 + signed + exp;
        }
    }
    // The prefix is ASCII digits, '.', 'e' and a sign: Rust parses it like JS.
    sign * rest[..end].parse::<f64>().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_float_follows_javascript() {
        let cases = [
            ("10", 10.0),
            ("1e5", 100000.0),
            ("10abc", 10.0),
            ("1E+2", 100.0),
            ("1e", 1.0),
            ("2e-1x", 0.2),
            ("-3.5", -3.5),
            ("+.5", 0.5),
            ("5.", 5.0),
            ("  7", 7.0),
            ("0010", 10.0),
            ("-Infinityx", f64::NEG_INFINITY),
        ];
        for (text, want) in cases {
            assert_eq!(js_parse_float(text), want, "parseFloat({text:?})");
        }
        for text in ["", "abc", ".", "-", "e5", "+-1"] {
            assert!(js_parse_float(text).is_nan(), "parseFloat({text:?}) is NaN");
        }
    }

    #[test]
    fn numbers_are_written_like_json_stringify() {
        assert_eq!(js_number(1.0), json!(1));
        assert_eq!(js_number(-0.0), json!(0));
        assert_eq!(js_number(2.5), json!(2.5));
        assert_eq!(js_number(1e300), json!(1e300));
        assert_eq!(
            js_number(9_007_199_254_740_992.0),
            json!(9_007_199_254_740_992.0)
        );
        assert_eq!(js_number(f64::NAN), Value::Null);
        assert_eq!(js_number(f64::INFINITY), Value::Null);
    }
}
