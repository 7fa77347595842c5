//! The JSON IIP sub-grammar (RFC 7159, as in the reference grammar).
//!
//! Numbers become JavaScript numbers (see `number.rs`). `\uXXXX` escapes are
//! UTF-16 code units: surrogate pairs combine; a lone surrogate (which a Rust
//! string cannot hold) becomes U+FFFD.

use super::cursor::{Cursor, Expected};
use super::error::ParseErrorKind;
use super::number::{js_number, js_parse_float};
use serde_json::{Map, Value};

/// How deep arrays and objects may nest in a JSON IIP.
pub(crate) const MAX_DEPTH: usize = 256;

fn is_ws(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\r')
}

fn is_digit(ch: char) -> bool {
    ch.is_ascii_digit()
}

fn is_hex(ch: char) -> bool {
    ch.is_ascii_hexdigit()
}

fn is_unescaped(ch: char) -> bool {
    !matches!(ch, '\0'..='\x1f' | '"' | '\\')
}

const DIGIT: Expected = Expected::Named("digit");

impl Cursor<'_> {
    /// `JSON_text = ws value ws`.
    pub(crate) fn json_text(&mut self) -> Option<Value> {
        let start = self.pos();
        self.ws();
        let Some(value) = self.json_value(0) else {
            self.reset(start);
            return None;
        };
        self.ws();
        Some(value)
    }

    /// `ws "whitespace" = [ \t\n\r]*` (always matches, so never reported).
    fn ws(&mut self) {
        self.named("whitespace", |c| {
            Some(c.star(is_ws, Expected::Named("whitespace")))
        });
    }

    /// `ws lit ws`: the structural tokens `[ ] { } : ,`.
    fn token(&mut self, lit: &'static str) -> bool {
        let start = self.pos();
        self.ws();
        if !self.lit(lit) {
            self.reset(start);
            return false;
        }
        self.ws();
        true
    }

    /// `value = false / null / true / object / array / number / string`.
    fn json_value(&mut self, depth: usize) -> Option<Value> {
        if self.lit("false") {
            return Some(Value::Bool(false));
        }
        if self.lit("null") {
            return Some(Value::Null);
        }
        if self.lit("true") {
            return Some(Value::Bool(true));
        }
        if let Some(object) = self.json_object(depth) {
            return Some(object);
        }
        if let Some(array) = self.json_array(depth) {
            return Some(array);
        }
        if let Some(number) = self.json_number() {
            return Some(number);
        }
        self.json_string().map(Value::String)
    }

    /// Checks the nesting limit on entering an array or object.
    fn enter(&mut self, depth: usize) -> bool {
        if depth >= MAX_DEPTH {
            self.abort(ParseErrorKind::TooDeep { limit: MAX_DEPTH });
            return false;
        }
        true
    }

    /// `object = "{" (member ("," member)*)? "}"`; a repeated key keeps its
    /// first position and its last value, like a JS object.
    fn json_object(&mut self, depth: usize) -> Option<Value> {
        let start = self.pos();
        if !self.token("{") || !self.enter(depth) {
            self.reset(start);
            return None;
        }
        let mut map = Map::new();
        if let Some((key, value)) = self.json_member(depth) {
            map.insert(key, value);
            loop {
                let before = self.pos();
                if !self.token(",") {
                    break;
                }
                let Some((key, value)) = self.json_member(depth) else {
                    self.reset(before);
                    break;
                };
                map.insert(key, value);
            }
        }
        if !self.token("}") {
            self.reset(start);
            return None;
        }
        Some(Value::Object(map))
    }

    /// `member = string ":" value`.
    fn json_member(&mut self, depth: usize) -> Option<(String, Value)> {
        let start = self.pos();
        let member = self.json_string().and_then(|key| {
            let value = if self.token(":") {
                self.json_value(depth + 1)
            } else {
                None
            };
            value.map(|value| (key, value))
        });
        if member.is_none() {
            self.reset(start);
        }
        member
    }

    /// `array = "[" (value ("," value)*)? "]"`.
    fn json_array(&mut self, depth: usize) -> Option<Value> {
        let start = self.pos();
        if !self.token("[") || !self.enter(depth) {
            self.reset(start);
            return None;
        }
        let mut items = Vec::new();
        if let Some(head) = self.json_value(depth + 1) {
            items.push(head);
            loop {
                let before = self.pos();
                if !self.token(",") {
                    break;
                }
                let Some(item) = self.json_value(depth + 1) else {
                    self.reset(before);
                    break;
                };
                items.push(item);
            }
        }
        if !self.token("]") {
            self.reset(start);
            return None;
        }
        Some(Value::Array(items))
    }

    /// `number "number" = "-"? int frac? exp?`, valued by `parseFloat`.
    fn json_number(&mut self) -> Option<Value> {
        self.named("number", |c| {
            let start = c.pos();
            c.lit("-");
            if !c.lit("0") {
                c.one(|ch| matches!(ch, '1'..='9'), DIGIT)?;
                c.star(is_digit, DIGIT);
            }
            let before_frac = c.pos();
            if !(c.lit(".") && c.plus(is_digit, DIGIT).is_some()) {
                c.reset(before_frac);
            }
            let before_exp = c.pos();
            let exp = c
                .one(|ch| matches!(ch, 'e' | 'E'), Expected::Lit("e"))
                .is_some()
                && {
                    if !c.lit("-") {
                        c.lit("+");
                    }
                    c.plus(is_digit, DIGIT).is_some()
                };
            if !exp {
                c.reset(before_exp);
            }
            Some(js_number(js_parse_float(c.slice(start, c.pos()))))
        })
    }

    /// `string "string" = '"' char* '"'`, with `\uXXXX` as UTF-16 code units.
    pub(crate) fn json_string(&mut self) -> Option<String> {
        self.named("string", |c| {
            if !c.lit("\"") {
                return None;
            }
            let mut units: Vec<u16> = Vec::new();
            loop {
                if let Some(ch) = c.one(is_unescaped, Expected::Named("character")) {
                    let mut buf = [0; 2];
                    units.extend_from_slice(ch.encode_utf16(&mut buf));
                } else if let Some(unit) = c.json_escape() {
                    units.push(unit);
                } else {
                    break;
                }
            }
            if !c.lit("\"") {
                return None;
            }
            Some(String::from_utf16_lossy(&units))
        })
    }

    /// `"\" ( ["\/bfnrt] / "u" HEXDIG{4} )` as one UTF-16 code unit.
    fn json_escape(&mut self) -> Option<u16> {
        let start = self.pos();
        if !self.lit("\\") {
            return None;
        }
        let simple = self.one(
            |ch| matches!(ch, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't'),
            Expected::Named("escape"),
        );
        let unit = match simple {
            Some('b') => Some(0x08),
            Some('f') => Some(0x0c),
            Some('n') => Some(0x0a),
            Some('r') => Some(0x0d),
            Some('t') => Some(0x09),
            Some(ch) => Some(ch as u16),
            None if self.lit("u") => {
                let digits = self.pos();
                let hex = (0..4).all(|_| self.one(is_hex, Expected::Named("hex digit")).is_some());
                let text = self.slice(digits, self.pos());
                hex.then(|| u16::from_str_radix(text, 16).ok()).flatten()
            }
            None => None,
        };
        if unit.is_none() {
            self.reset(start);
        }
        unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json(text: &str) -> Option<Value> {
        Cursor::new(text).json_text()
    }

    #[test]
    fn json_values_parse_like_the_reference() {
        assert_eq!(
            json(" {\"a\": [1, 2.0, -0, 1e400], \"b\": {}} "),
            Some(json!({"a": [1, 2, 0, null], "b": {}}))
        );
        assert_eq!(
            json("{\"a\":1,\"b\":2,\"a\":3}"),
            Some(json!({"a": 3, "b": 2}))
        );
        assert_eq!(
            json("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\""),
            Some(json!("\"\\/\u{8}\u{c}\n\r\té"))
        );
        assert_eq!(
            json("\"\\ud83d\\ude00\""),
            Some(json!("😀")),
            "surrogate pairs combine"
        );
        assert_eq!(
            json("\"\\ud83dx\""),
            Some(json!("\u{fffd}x")),
            "a lone surrogate is U+FFFD"
        );
        assert_eq!(json("[]"), Some(json!([])));
        for bad in [
            "[1,]", "{\"a\"}", "01", "\"\t\"", "\"\\x\"", "tru", "{a:1}", "'a'",
        ] {
            let mut cursor = Cursor::new(bad);
            let parsed = cursor.json_text();
            assert!(
                parsed.is_none() || !cursor.at_end(),
                "{bad:?} is not a whole JSON text"
            );
        }
    }

    #[test]
    fn deep_nesting_stops_the_parse() {
        let text = "[".repeat(MAX_DEPTH + 1);
        let mut cursor = Cursor::new(&text);
        assert_eq!(cursor.json_text(), None);
        assert!(cursor.is_fatal());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(json(&ok).is_some());
    }
}
