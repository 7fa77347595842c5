//! The library's error types: [`LibraryError`], a config file or component
//! directory that cannot be used, and [`ConfigError`], what is wrong inside
//! a config document.

use std::path::PathBuf;

/// A library config or component directory could not be read or is malformed.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// Reading the config file failed.
    #[error("cannot read library {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not JSON.
    #[error("library {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The config is JSON but does not follow the schema.
    #[error("library {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        reason: ConfigError,
    },
    /// Listing `--componentdir` failed.
    #[error("cannot read component directory {path}: {source}")]
    ComponentDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl LibraryError {
    /// The config file does not exist (callers may fall back to [`super::Library::empty`] when
    /// the file was the default `package.json`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, LibraryError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A library config document that does not follow the schema
/// ([`super::Library::from_json`]); each names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The document is not a JSON object.
    #[error("the top level must be an object")]
    TopLevel,
    /// `msgflo`, `variables`, `handlers` or `components` is not an object.
    #[error("`{key}` must be an object")]
    NotAnObject {
        /// The key.
        key: String,
    },
    /// `namespace`, a variable, handler or component is not a string.
    #[error("`{key}` must be a string")]
    NotAString {
        /// The key, as `variables.NAME` for an entry.
        key: String,
    },
    /// A variable named `""`.
    #[error("`variables` has an empty name")]
    EmptyVariableName,
    /// Two variables whose names are the same upper-cased.
    #[error("`variables.{name}` is defined twice (names are upper-cased)")]
    VariableTwice {
        /// The second one's name, as written.
        name: String,
    },
    /// Variables that use each other.
    #[error("`variables` refer to each other in a cycle: {}", .cycle.join(" -> "))]
    VariableCycle {
        /// The names, from the first back to it.
        cycle: Vec<String>,
    },
    /// A handler key that is no file extension.
    #[error("`handlers.{ext}`: an extension must start with '.'")]
    NotAnExtension {
        /// The key.
        ext: String,
    },
}
