//! What `.fbp` text can express: the grammar's character classes, and how node
//! metadata, graph properties and IIP data are written so that both parsers
//! read back exactly the same value.

use crate::graph::Metadata;
use serde_json::{Map, Number, Value};

/// `Object.prototype` property names: the reference parser keeps nodes in a
/// plain JavaScript object, where these names are taken.
const JS_OBJECT_NAMES: [&str; 12] = [
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

fn is_name_start(ch: char) -> bool {
    ch.is_ascii_alphabetic() || ch == '_'
}

/// `[a-zA-Z_][a-zA-Z0-9_\-]*`.
pub(crate) fn is_node_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start)
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
}

/// A name the reference parser cannot use for a node.
pub(crate) fn is_js_object_name(name: &str) -> bool {
    JS_OBJECT_NAMES.contains(&name)
}

/// `[a-zA-Z_][a-zA-Z.0-9_]*`.
pub(crate) fn is_port_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start)
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
}

/// A non-empty `[a-zA-Z/\-0-9_]*` (an empty component fails validation).
pub(crate) fn is_component(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '/' | '-' | '_'))
}

/// A metadata key or value: metadata characters other than `=` and `,`.
fn is_meta_word(text: &str) -> bool {
    text.chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '/' || ch == '_')
}

/// Node metadata as `key=value,...` (without the `:`), or `None` when nothing
/// can be written; `lost` gets the keys that cannot be.
pub(crate) fn metadata_text(metadata: &Metadata, lost: &mut Vec<String>) -> Option<String> {
    let mut items = Vec::new();
    for (key, value) in metadata {
        match meta_value_text(key, value) {
            Some(text) if is_meta_word(key) => items.push(format!("{key}={text}")),
            _ => lost.push(format!("metadata \"{key}\"")),
        }
    }
    if metadata.is_empty() {
        lost.push("empty metadata".into());
    }
    (!items.is_empty()).then(|| items.join(","))
}

/// How a metadata value is written: `x` and `y` are read with `parseFloat`,
/// so only non-negative integers (as digits) and `null` (as nothing) survive;
/// other keys keep plain words.
fn meta_value_text(key: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(text) if key != "x" && key != "y" && is_meta_word(text) => Some(text.clone()),
        Value::Null if key == "x" || key == "y" => Some(String::new()),
        Value::Number(number) if (key == "x" || key == "y") && is_exact_in_js(number) => {
            let n = number.as_f64()?;
            // Rust writes integral floats as plain digits, which parseFloat reads back.
            (n.is_finite() && n >= 0.0 && n.fract() == 0.0).then(|| format!("{n}"))
        }
        _ => None,
    }
}

fn is_annotation_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
}

/// `[a-zA-Z0-9\-_ .]+` not starting with a space (spaces after `@key` are
/// all separator).
fn is_annotation_value(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(' ')
        && value
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | ' ' | '.'))
}

/// Graph properties as `# @key value` lines; `lost` gets what cannot be written.
pub(crate) fn annotation_lines(
    properties: &Map<String, Value>,
    lost: &mut Vec<String>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, value) in properties {
        let line = match (key.as_str(), value) {
            ("environment", Value::Object(environment)) => {
                for other in environment.keys().filter(|k| *k != "type") {
                    lost.push(format!("property \"environment.{other}\""));
                }
                match environment.get("type") {
                    Some(Value::String(runtime)) if is_annotation_value(runtime) => {
                        Some(format!("# @runtime {runtime}"))
                    }
                    _ => None,
                }
            }
            // `@runtime` means `environment.type`.
            ("runtime" | "environment", _) => None,
            (_, Value::String(text)) if is_annotation_key(key) && is_annotation_value(text) => {
                Some(format!("# @{key} {text}"))
            }
            _ => None,
        };
        match line {
            Some(line) => lines.push(line),
            None => lost.push(format!("property \"{key}\"")),
        }
    }
    if properties.is_empty() {
        lost.push("empty properties".into());
    }
    lines
}

/// IIP data as `.fbp`: a string in single quotes (only `'` needs `\'`) when it
/// has no line breaks or control characters and does not end in a backslash,
/// else as a JSON string; `true`, `false` and `null` after a tab (a JSON IIP may
/// start with whitespace; written bare they would be node names); other values
/// as compact JSON.
pub(crate) fn iip_text(data: &Value) -> String {
    match data {
        Value::String(text) if is_quotable(text) => format!("'{}'", text.replace('\'', "\\'")),
        Value::Bool(_) | Value::Null => format!("\t{data}"),
        _ => data.to_string(),
    }
}

fn is_quotable(text: &str) -> bool {
    !text.ends_with('\\')
        && !text
            .chars()
            .any(|ch| ch.is_control() || matches!(ch, '\u{2028}' | '\u{2029}'))
}

/// The numbers in `data` whose value changes when read as a JS number
/// (integers beyond 2^53), as text.
pub(crate) fn inexact_numbers(data: &Value, found: &mut Vec<String>) {
    match data {
        Value::Number(number) if !is_exact_in_js(number) => found.push(number.to_string()),
        Value::Array(items) => items.iter().for_each(|item| inexact_numbers(item, found)),
        Value::Object(map) => map.values().for_each(|item| inexact_numbers(item, found)),
        _ => {}
    }
}

fn is_exact_in_js(number: &Number) -> bool {
    if let Some(n) = number.as_u64() {
        return (n as f64) as u64 == n && n as f64 != u64::MAX as f64;
    }
    if let Some(n) = number.as_i64() {
        return (n as f64) as i64 == n;
    }
    true
}

/// How deep arrays and objects nest in `data` (a scalar is 0).
pub(crate) fn depth(data: &Value) -> usize {
    match data {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
