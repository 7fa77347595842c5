//! Why settings could not be read: one line naming the place (a file, an
//! environment variable or a flag), the key and what was expected.

/// A settings mistake. The program does not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// A settings file that cannot be read or is not TOML.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file with a key no program reads.
    #[error("{path}: unknown key `{key}`{}", hint(.suggestion))]
    UnknownKey {
        /// The file.
        path: String,
        /// The key.
        key: String,
        /// A known key spelled like it.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong type.
    #[error("{origin}: {key}: expected {expected}, got {got}")]
    WrongType {
        /// Where it was set: a file, `$VARIABLE` or `--flag`.
        origin: String,
        /// The key.
        key: &'static str,
        /// What it takes.
        expected: String,
        /// What it was given.
        got: String,
    },
    /// A setting the program needs that nothing sets.
    #[error("{key} is not set (give {flag}, ${env} or `{key}` in a settings file)")]
    Missing {
        /// The key.
        key: &'static str,
        /// Its flag.
        flag: String,
        /// Its first environment variable.
        env: &'static str,
    },
}

fn hint(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(key) => format!(" (did you mean `{key}`?)"),
        None => " (no msgflo-rs program reads it; `PROGRAM --print-config` lists a program's keys)"
            .into(),
    }
}
