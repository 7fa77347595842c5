//! The messages `msgflo-send-message` sends: the `--json` text, or the lines
//! of a `--file` (`-`: standard input), each checked to be JSON before
//! anything is sent. Payloads are the text as given, never re-encoded.

use bytes::Bytes;
use std::io::Read;
use std::path::Path;

/// The payloads to send, in order (before `--count` repeats them).
#[derive(Debug, Clone, PartialEq)]
pub struct Messages(pub Vec<Bytes>);

/// Checks that `text` is one JSON document.
pub fn check_json(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).map(drop)
}

/// The `--json` text as the one message.
pub fn from_json(text: &str) -> Result<Messages, String> {
    check_json(text).map_err(|e| {
        let hint = match string_meant(text) {
            Some(quoted) if !quoted.contains('\'') => {
                format!(" (a string needs JSON's double quotes: --json '{quoted}')")
            }
            Some(_) => " (a string needs JSON's double quotes)".to_owned(),
            None => String::new(),
        };
        format!("invalid JSON in --json: {e}{hint}")
    })?;
    Ok(Messages(vec![Bytes::copy_from_slice(text.as_bytes())]))
}

/// The JSON string of `text` when `text` looks like a bare word or sentence
/// meant as a string (not an object, array, string, number or literal gone
/// wrong).
fn string_meant(text: &str) -> Option<String> {
    let text = text.trim();
    let other_json = text.starts_with(['{', '[', '"', '-'])
        || text.starts_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null"].contains(&text);
    if text.is_empty() || other_json {
        return None;
    }
    serde_json::to_string(text).ok()
}

/// The lines of `path` (`-`: standard input, read to its end first), one
/// JSON document each; blank lines are skipped. A line that is not JSON is
/// an error naming it, and then nothing is sent.
pub fn from_file(path: &Path) -> Result<Messages, String> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        ("standard input".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        (path.display().to_string(), text)
    };
    from_lines(&text, &name)
}

/// The messages in `text`, one per non-blank line; `name` is where the text
/// came from, for errors.
pub fn from_lines(text: &str, name: &str) -> Result<Messages, String> {
    let mut messages = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        check_json(line).map_err(|e| {
            let hint = string_meant(line)
                .map(|quoted| format!("; a string needs JSON's double quotes: {quoted}"))
                .unwrap_or_default();
            format!(
                "invalid JSON on line {} of {name}: {e} (nothing was sent{hint})",
                index + 1
            )
        })?;
        messages.push(Bytes::copy_from_slice(line.as_bytes()));
    }
    if messages.is_empty() {
        return Err(format!("no messages in {name}"));
    }
    Ok(Messages(messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_kept_as_given() {
        let messages = from_json("{ \"a\" : 1 }").unwrap();
        assert_eq!(messages.0, vec![Bytes::from_static(b"{ \"a\" : 1 }")]);
    }

    #[test]
    fn invalid_json_is_one_line() {
        let error = from_json("{nope").unwrap_err();
        assert!(error.starts_with("invalid JSON in --json: "), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn a_bare_word_gets_the_quoting_hint() {
        assert_eq!(
            from_json("hello").unwrap_err(),
            "invalid JSON in --json: expected value at line 1 column 1 \
             (a string needs JSON's double quotes: --json '\"hello\"')"
        );
        let error = from_json("it's").unwrap_err();
        assert!(
            error.ends_with("(a string needs JSON's double quotes)"),
            "{error}"
        );
        for not_a_string in ["{nope", "[1,", "12x", "\"open", "-"] {
            let error = from_json(not_a_string).unwrap_err();
            assert!(!error.contains("double quotes"), "{not_a_string}: {error}");
        }
        let error = from_lines("1\nhello world\n", "f").unwrap_err();
        assert!(
            error.ends_with(
                "(nothing was sent; a string needs JSON's double quotes: \"hello world\")"
            ),
            "{error}"
        );
    }

    #[test]
    fn lines_skip_blanks_and_name_the_bad_one() {
        let messages = from_lines("1\n\n  \n\"two\"\r\n{\"x\":[3]}\n", "f").unwrap();
        assert_eq!(messages.0.len(), 3);
        assert_eq!(messages.0[1], Bytes::from_static(b"\"two\""));
        let error = from_lines("1\n2\n\nthree\n4\n", "data.jsonl").unwrap_err();
        assert!(
            error.starts_with("invalid JSON on line 4 of data.jsonl: "),
            "{error}"
        );
        assert!(from_lines("\n \n", "f").is_err());
    }
}
