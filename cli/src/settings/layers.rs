//! The layers, lowest first: defaults, the system file, the user file, the
//! environment, flags. Each is a [`config::Source`] whose values carry
//! where they came from (`origin`): `default`, a file's path, `$VARIABLE`
//! or `--flag`. Files are checked whole when read: a key no program knows,
//! or a value of the wrong type, stops the program with the file named.

use super::error::SettingsError;
use super::keys::{self, Key};
use config::{FileFormat, Map, Source, Value, ValueKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The system-wide settings file.
pub const SYSTEM_FILE: &str = "/etc/msgflo/config.toml";
/// Points at another system file (packaging, tests).
pub const SYSTEM_FILE_ENV: &str = "MSGFLO_SYSTEM_CONFIG";
/// Points at a settings file read instead of the user's (`--config` wins).
pub const CONFIG_FILE_ENV: &str = "MSGFLO_CONFIG";

/// What the layers are read from: the process's environment and files,
/// or (in tests) given ones.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The environment.
    pub env: HashMap<String, String>,
    /// The system file, read if it exists.
    pub system_file: Option<PathBuf>,
    /// The user file, read if it exists — or, when `user_file_required`,
    /// an error if it does not (a file named by `--config`).
    pub user_file: Option<PathBuf>,
    /// See `user_file`.
    pub user_file_required: bool,
}

impl Inputs {
    /// This process's: `config_flag` (`--config`), else `$MSGFLO_CONFIG`, else
    /// `$XDG_CONFIG_HOME/msgflo/config.toml` (`~/.config/msgflo/config.toml`);
    /// the system file `$MSGFLO_SYSTEM_CONFIG`, else `/etc/msgflo/config.toml`.
    pub fn from_process(config_flag: Option<&Path>) -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let set = |name: &str| env.get(name).filter(|v| !v.trim().is_empty()).cloned();
        let system_file = Some(
            set(SYSTEM_FILE_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(SYSTEM_FILE)),
        );
        let explicit = config_flag
            .map(Path::to_path_buf)
            .or_else(|| set(CONFIG_FILE_ENV).map(PathBuf::from));
        let user_file_required = explicit.is_some();
        let user_file = explicit.or_else(|| {
            set("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| set("HOME").map(|home| Path::new(&home).join(".config")))
                .map(|dir| dir.join("msgflo").join("config.toml"))
        });
        Self {
            env,
            system_file,
            user_file,
            user_file_required,
        }
    }
}

/// One layer: keys with values that know their origin.
#[derive(Debug, Clone, Default)]
pub struct Layer(Map<String, Value>);

impl Layer {
    /// Sets `key` to `text`, from `origin`.
    pub fn set(&mut self, key: &Key, text: String, origin: &str) {
        let origin = origin.to_owned();
        self.0.insert(
            key.name.to_owned(),
            Value::new(Some(&origin), ValueKind::String(text)),
        );
    }

    /// The defaults of every key that has one.
    pub fn defaults() -> Self {
        let mut layer = Layer::default();
        for key in keys::ALL {
            if let Some(default) = key.default {
                layer.set(key, default.to_owned(), "default");
            }
        }
        layer
    }

    /// The environment's values of every key, the first set variable of
    /// each winning; blank variables count as unset.
    pub fn environment(env: &HashMap<String, String>) -> Self {
        let mut layer = Layer::default();
        for key in keys::ALL {
            let set = key.env.iter().find_map(|name| {
                Some((name, env.get(*name)?)).filter(|(_, v)| !v.trim().is_empty())
            });
            if let Some((name, value)) = set {
                layer.set(key, value.clone(), &format!("${name}"));
            }
        }
        layer
    }

    /// A settings file, checked whole; a missing file is an empty layer
    /// unless `required`.
    pub fn file(path: &Path, required: bool) -> Result<Self, SettingsError> {
        let shown = path.display().to_string();
        let file_error = |reason: String| SettingsError::File {
            path: shown.clone(),
            reason,
        };
        if !path.exists() {
            return match required {
                true => Err(file_error("no such file".into())),
                false => Ok(Layer::default()),
            };
        }
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let values = config::File::from_str(&text, FileFormat::Toml)
            .collect()
            .map_err(|e| file_error(one_line(&e.to_string())))?;
        let mut layer = Layer::default();
        for (name, value) in values {
            let Some(key) = keys::find(&name) else {
                return Err(SettingsError::UnknownKey {
                    path: shown,
                    suggestion: suggest(&name),
                    key: name,
                });
            };
            let text = as_text(&value).filter(|text| key.kind.accepts(text) || unsets(key, text));
            let Some(text) = text else {
                return Err(SettingsError::WrongType {
                    origin: shown,
                    key: key.name,
                    expected: key.kind.expected(),
                    got: describe(&value),
                });
            };
            layer.set(key, text, &shown);
        }
        Ok(layer)
    }
}

impl Source for Layer {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self.0.clone())
    }
}

/// Whether `text` is an empty value that unsets `key` (one without a
/// default): `registry = ""` in a user file undoes the system file's.
pub fn unsets(key: &Key, text: &str) -> bool {
    key.default.is_none() && text.trim().is_empty()
}

/// A value of a file as the text a flag would give: numbers and booleans
/// spelled out; tables, arrays and nothing have no text.
fn as_text(value: &Value) -> Option<String> {
    match &value.kind {
        ValueKind::String(s) => Some(s.clone()),
        ValueKind::Boolean(b) => Some(b.to_string()),
        ValueKind::I64(n) => Some(n.to_string()),
        ValueKind::I128(n) => Some(n.to_string()),
        ValueKind::U64(n) => Some(n.to_string()),
        ValueKind::U128(n) => Some(n.to_string()),
        ValueKind::Float(n) => Some(n.to_string()),
        ValueKind::Nil | ValueKind::Table(_) | ValueKind::Array(_) => None,
    }
}

/// What a wrong value was, for the error: `"abc"`, `70000`, `a table`.
fn describe(value: &Value) -> String {
    match &value.kind {
        ValueKind::String(s) => format!("{s:?}"),
        ValueKind::Table(_) => "a table".into(),
        ValueKind::Array(_) => "an array".into(),
        ValueKind::Nil => "nothing".into(),
        _ => as_text(value).unwrap_or_default(),
    }
}

/// The known key spelled most like `name`, if any is close.
fn suggest(name: &str) -> Option<&'static str> {
    keys::ALL
        .iter()
        .map(|key| (strsim::jaro_winkler(name, key.name), key.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// The config crate's multi-line parse errors on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
