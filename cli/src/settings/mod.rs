//! Settings: every msgflo-rs program reads its settings here, through the
//! `config` crate, with one precedence —
//!
//! **flag > environment variable > user file > system file > default.**
//!
//! - The user file is `$XDG_CONFIG_HOME/msgflo/config.toml` (else
//!   `~/.config/msgflo/config.toml`); `--config FILE` or `$MSGFLO_CONFIG`
//!   name another one instead (which then must exist).
//! - The system file is `/etc/msgflo/config.toml` (`$MSGFLO_SYSTEM_CONFIG`
//!   names another).
//! - Files are TOML with the keys of [`keys`] at the top level; a key no
//!   program knows or a value of the wrong type stops the program with the
//!   file, the key and what was expected. An empty value of a key without a
//!   default (`registry = ""`, `--registry ""`) unsets it: a higher layer
//!   undoes a lower one's. A blank environment variable counts as unset.
//! - `--print-config` prints the effective settings of a program as TOML,
//!   each with where it came from, secrets masked.
//!
//! # Layout
//! - `keys.rs` — [`keys`]: THE table of keys (name, environment variables,
//!   type, default, secret);
//! - `kind.rs` — [`Kind`]: value types and their checks;
//! - `layers.rs` — [`Inputs`], [`Layer`]: reading files, the environment,
//!   defaults;
//! - `args.rs` — [`SettingsArgs`]: `--config`, `--print-config`, `--log-format`;
//! - `print.rs` — `--print-config`'s output; `mask.rs` — [`mask_passwords`];
//! - `error.rs` — [`SettingsError`].

mod args;
mod error;
pub mod keys;
mod kind;
mod layers;
mod mask;
mod print;
#[cfg(test)]
mod tests;

pub use args::SettingsArgs;
pub use error::SettingsError;
pub use keys::Key;
pub use kind::{parse_bool, Kind};
pub use layers::{Inputs, Layer, CONFIG_FILE_ENV, SYSTEM_FILE, SYSTEM_FILE_ENV};
pub use mask::mask_passwords;

use config::Source;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The values a program's flags give: only those given on the command line
/// (a flag left out is `None` and lets the lower layers speak).
#[derive(Debug, Clone, Default)]
pub struct Flags(Layer);

impl Flags {
    /// No flags.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key` given as `value` on the command line, if it was.
    pub fn with(self, key: &Key, value: Option<impl ToString>) -> Self {
        let flag = key.flag();
        self.with_flag(key, &flag, value)
    }

    /// `key` given as `value` by the flag `flag`, a program's own name for
    /// it (`msgflo-registry serve --listen` for `registry_listen`).
    pub fn with_flag(mut self, key: &Key, flag: &str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.0.set(key, value.to_string(), flag);
        }
        self
    }
}

/// One resolved setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value as text (checked against the key's [`Kind`]).
    pub text: String,
    /// Where it came from: `default`, a file's path, `$VARIABLE` or `--flag`.
    pub origin: String,
}

/// A program's effective settings.
#[derive(Debug, Clone)]
pub struct Settings {
    program: String,
    keys: Vec<&'static Key>,
    values: BTreeMap<&'static str, Setting>,
    files: Vec<(PathBuf, bool)>,
}

impl Settings {
    /// The settings of `program`, which reads `keys`: the layers of
    /// `inputs` under `flags`.
    pub fn load(
        program: &str,
        keys: &[&'static Key],
        flags: Flags,
        inputs: &Inputs,
    ) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder().add_source(Layer::defaults());
        let mut files = Vec::new();
        for (path, required) in [
            (&inputs.system_file, false),
            (&inputs.user_file, inputs.user_file_required),
        ] {
            if let Some(path) = path {
                builder = builder.add_source(Layer::file(path, required)?);
                files.push((path.clone(), path.exists()));
            }
        }
        let merged = builder
            .add_source(Layer::environment(&inputs.env))
            .add_source(flags.0)
            .build()
            .and_then(|config| config.collect())
            .map_err(|e| SettingsError::File {
                path: "settings".into(),
                reason: e.to_string(),
            })?;
        let mut values = BTreeMap::new();
        for key in keys {
            let Some(value) = merged.get(key.name) else {
                continue;
            };
            let origin = value.origin().unwrap_or("default").to_owned();
            let text = value
                .clone()
                .into_string()
                .map_err(|e| SettingsError::WrongType {
                    origin: origin.clone(),
                    key: key.name,
                    expected: key.kind.expected(),
                    got: e.to_string(),
                })?;
            if layers::unsets(key, &text) {
                continue;
            }
            if !key.kind.accepts(&text) {
                return Err(SettingsError::WrongType {
                    origin,
                    key: key.name,
                    expected: key.kind.expected(),
                    got: format!("{text:?}"),
                });
            }
            values.insert(key.name, Setting { text, origin });
        }
        Ok(Self {
            program: program.to_owned(),
            keys: keys.to_vec(),
            values,
            files,
        })
    }

    /// `key`'s setting, if anything sets it.
    pub fn get(&self, key: &Key) -> Option<&Setting> {
        self.values.get(key.name)
    }

    /// `key`'s value as text, trimmed.
    pub fn text(&self, key: &Key) -> Option<&str> {
        self.get(key).map(|setting| setting.text.trim())
    }

    /// `key`'s value as text, owned.
    pub fn string(&self, key: &Key) -> Option<String> {
        self.text(key).map(str::to_owned)
    }

    /// `key`'s value as a path.
    pub fn path(&self, key: &Key) -> Option<PathBuf> {
        self.text(key).map(PathBuf::from)
    }

    /// `key`'s value parsed as a `T`.
    pub fn parse<T: FromStr>(&self, key: &'static Key) -> Result<Option<T>, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        let Some(setting) = self.get(key) else {
            return Ok(None);
        };
        setting
            .text
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: T::Err| SettingsError::WrongType {
                origin: setting.origin.clone(),
                key: key.name,
                expected: key.kind.expected(),
                got: format!("{:?} ({e})", setting.text),
            })
    }

    /// `key`'s value parsed as a `T`; an error when nothing sets it.
    pub fn require<T: FromStr>(&self, key: &'static Key) -> Result<T, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        self.parse(key)?.ok_or_else(|| missing(key))
    }

    /// `key`'s value as a number of seconds.
    pub fn seconds(&self, key: &'static Key) -> Result<Option<Duration>, SettingsError> {
        let Some(secs) = self.parse::<f64>(key)? else {
            return Ok(None);
        };
        Duration::try_from_secs_f64(secs)
            .map(Some)
            .map_err(|e| SettingsError::WrongType {
                origin: self.get(key).map(|s| s.origin.clone()).unwrap_or_default(),
                key: key.name,
                expected: key.kind.expected(),
                got: format!("{secs} ({e})"),
            })
    }

    /// `key`'s value as a number of seconds; an error when nothing sets it.
    pub fn require_seconds(&self, key: &'static Key) -> Result<Duration, SettingsError> {
        self.seconds(key)?.ok_or_else(|| missing(key))
    }

    /// `key`'s value as true or false.
    pub fn flag(&self, key: &'static Key) -> bool {
        self.text(key).and_then(parse_bool).unwrap_or(false)
    }

    /// The broker URL (`broker` has a default, so there always is one).
    pub fn broker(&self) -> String {
        self.string(&keys::BROKER)
            .or_else(|| keys::BROKER.default.map(str::to_owned))
            .unwrap_or_default()
    }

    /// The log format the program logs in.
    pub fn log_format(&self) -> crate::logging::LogFormat {
        match self.text(&keys::LOG_FORMAT) {
            Some("json") => crate::logging::LogFormat::Json,
            _ => crate::logging::LogFormat::Text,
        }
    }

    /// `--print-config`'s text: the effective settings as TOML, each with
    /// its origin, secrets masked.
    pub fn print(&self) -> String {
        print::render(&self.program, &self.keys, &self.values, &self.files)
    }
}

fn missing(key: &'static Key) -> SettingsError {
    SettingsError::Missing {
        key: key.name,
        flag: key.flag(),
        env: key.env.first().copied().unwrap_or_default(),
    }
}
