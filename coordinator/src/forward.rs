//! How a started participant's output line is passed on (msgflo's
//! `--forward`; [`crate::spawn`] reads the lines): terminal codes are taken
//! out first ([`strip_ansi`]), then
//! - as text: `[role] line`;
//! - with `--log-format json`, a stderr line becomes one JSON object, so that
//!   stderr stays one object per line: the participant's own JSON log event
//!   with `"role"` added, or `{"level":"INFO","role":..,"message":line}` for
//!   a line that is not one. Stdout lines (a participant's output, not its
//!   log) stay `[role] line`.

pub use msgflo_cli::logging::strip_ansi;
use msgflo_cli::logging::LogFormat;
use serde_json::{json, Value};

/// A stdout line as forwarded.
pub fn stdout_line(role: &str, line: &str) -> String {
    format!("[{role}] {line}")
}

/// A stderr line as forwarded in `format`.
pub fn stderr_line(format: LogFormat, role: &str, line: &str) -> String {
    match format {
        LogFormat::Text => format!("[{role}] {line}"),
        LogFormat::Json => match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(mut event)) => {
                event.insert("role".into(), json!(role));
                Value::Object(event).to_string()
            }
            _ => json!({"level": "INFO", "role": role, "message": line}).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_are_prefixed_with_the_role() {
        assert_eq!(stdout_line("a", "hello"), "[a] hello");
        assert_eq!(stderr_line(LogFormat::Text, "a", " WARN x"), "[a]  WARN x");
    }

    #[test]
    fn json_stderr_lines_are_one_object_each_with_the_role() {
        let own = r#"{"level":"WARN","message":"m","target":"t"}"#;
        let forwarded: Value =
            serde_json::from_str(&stderr_line(LogFormat::Json, "a", own)).expect("an object");
        assert_eq!(
            forwarded,
            json!({"level": "WARN", "message": "m", "target": "t", "role": "a"})
        );
        let plain: Value =
            serde_json::from_str(&stderr_line(LogFormat::Json, "a", "Traceback \"x\""))
                .expect("an object");
        assert_eq!(
            plain,
            json!({"level": "INFO", "role": "a", "message": "Traceback \"x\""})
        );
    }
}
