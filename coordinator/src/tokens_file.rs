//! `msgflo --tokens FILE`: tokens with rights, from a JSON file, read at
//! start and again on SIGHUP.
//!
//! ```json
//! {"tokens": [
//!   {"token": "9f2c...", "name": "dashboard", "receive": ["out"]},
//!   {"token": "51ab...", "name": "feeder", "send": ["in"]},
//!   {"token": "c0de...", "name": "editor", "send": ["*"], "receive": ["*"], "edit": true}
//! ]}
//! ```
//!
//! `token` and `name` are required; `send` (exported inports it may send
//! `runtime:packet` to), `receive` (exported outports whose packets it
//! gets) default to none, `"*"` meaning all; `edit` (may change graphs and
//! the network) defaults to `false`. What each right allows is in
//! `core/rights.rs`. An unknown key, a duplicate name or token, or an
//! empty one is an error naming the file and the place.
//!
//! At start a bad file stops the program ([`load`]); on SIGHUP
//! ([`reload_on_hangup`]) a bad file is logged, in one line, and the tokens
//! in force stay.

use crate::core::{Grant, Ports, Tokens, TokensError};
use crate::live::Control;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tokens: Vec<Entry>,
}

/// One token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    token: String,
    name: String,
    #[serde(default)]
    send: Vec<String>,
    #[serde(default)]
    receive: Vec<String>,
    #[serde(default)]
    edit: bool,
}

/// Why the tokens file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokensFileError {
    /// It could not be read.
    #[error("--tokens {}: cannot read it: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not JSON of the expected shape.
    #[error("--tokens {}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What and where (the path of the field, line and column).
        source: serde_path_to_error::Error<serde_json::Error>,
    },
    /// Something follows the JSON.
    #[error("--tokens {}: {source}", path.display())]
    After {
        /// The file.
        path: PathBuf,
        /// What and where.
        source: serde_json::Error,
    },
    /// Its tokens do not go together.
    #[error("--tokens {}: {source}", path.display())]
    Tokens {
        /// The file.
        path: PathBuf,
        /// What.
        source: TokensError,
    },
}

/// The tokens of the file at `path`.
pub fn load(path: &Path) -> Result<Tokens, TokensFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokensFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// The tokens of `text`, the file at `path` (named in errors).
pub fn parse(text: &str, path: &Path) -> Result<Tokens, TokensFileError> {
    let mut json = serde_json::Deserializer::from_str(text);
    let file: File =
        serde_path_to_error::deserialize(&mut json).map_err(|source| TokensFileError::Format {
            path: path.to_owned(),
            source,
        })?;
    json.end().map_err(|source| TokensFileError::After {
        path: path.to_owned(),
        source,
    })?;
    let entries = file.tokens.into_iter().map(|entry| {
        let grant = Grant {
            name: entry.name,
            send: Ports::from_names(entry.send),
            receive: Ports::from_names(entry.receive),
            edit: entry.edit,
        };
        (entry.token, grant)
    });
    Tokens::new(entries).map_err(|source| TokensFileError::Tokens {
        path: path.to_owned(),
        source,
    })
}

/// Reads the file at `path` again on every SIGHUP and hands its tokens to
/// the coordinator; a file that cannot be used is logged and the tokens in
/// force stay. Ends when the coordinator does.
pub fn reload_on_hangup(path: PathBuf, control: Control) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match load(&path) {
                Ok(tokens) => {
                    let count = tokens.len();
                    if control.replace_tokens(tokens).await.is_err() {
                        return;
                    }
                    tracing::info!(path = %path.display(), tokens = count, "tokens file read again");
                }
                Err(error) => {
                    tracing::error!(%error, "tokens file not taken; the tokens in force stay");
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Tokens, String> {
        parse(text, Path::new("tokens.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_file_with_every_key_and_one_with_defaults_are_read() {
        let tokens = parsed(
            r#"{"tokens": [
                {"token": "a", "name": "dashboard", "send": ["in"], "receive": ["out", "*"], "edit": false},
                {"token": "b", "name": "reader"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(tokens.names().collect::<Vec<_>>(), ["dashboard", "reader"]);
        assert!(parsed(r#"{"tokens": []}"#).unwrap().is_empty());
    }

    #[test]
    fn mistakes_are_one_line_naming_the_file_and_the_place() {
        let cases = [
            (
                r#"{"tokens": [{"token": "a", "name": "x", "sned": ["in"]}]}"#,
                "tokens[0].sned: unknown field `sned`",
            ),
            (r#"{"tokens": [], "more": 1}"#, "more: unknown field `more`"),
            (r#"{"tokens": [{"name": "x"}]}"#, "missing field `token`"),
            (
                r#"{"tokens": [{"token": "a", "name": "x", "edit": "yes"}]}"#,
                "tokens[0].edit: invalid type",
            ),
            (
                r#"{"tokens": [{"token": "a", "name": "x"}, {"token": "a", "name": "y"}]}"#,
                r#""x" and "y" have the same token"#,
            ),
            (r#"{"tokens": []} trailing"#, "trailing characters"),
            ("not json", "expected"),
        ];
        for (text, expected) in cases {
            let error = parsed(text).unwrap_err();
            assert!(
                error.starts_with("--tokens tokens.json: ") && error.contains(expected),
                "{text}: {error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = load(Path::new("/nonexistent/tokens.json")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("--tokens /nonexistent/tokens.json: cannot read it: "),
            "{error}"
        );
    }
}
