//! The component library: which shell command starts a participant for a component.
//!
//! The config comes from `--library FILE` (msgflo's default is `package.json`). If the
//! file's top-level object has a `msgflo` object, that object is the config (the
//! package.json form); otherwise the whole file is (the standalone form). Keys:
//! - `namespace`: prefixed to components found in `--componentdir`; when absent, the
//!   file's top-level `name` (the npm package name) is used, as msgflo does.
//! - `variables`: `NAME -> text`, usable as `#NAME` in templates (names are upper-cased;
//!   values may use other variables and the built-in markers).
//! - `components`: `component name -> command template`.
//! - `handlers`: `".ext" -> command template`, for each file `NAME.ext` in
//!   `--componentdir`, which becomes component `namespace/NAME`. Merged over
//!   [`DEFAULT_HANDLERS`] (an empty template keeps the default).
//!
//! Built-in markers: `#ROLE`, `#COMPONENT` (as named in the library; for a file, its
//! stem), `#COMPONENTNAME` (without `project/`), `#FILENAME` (handler entries only;
//! elsewhere left as written) and `#IIPS` (the role's IIPs as a JSON object). Unknown
//! markers are left as written, and so is a `#` escaped as `\#` outside `'…'`.
//!
//! Lookup of a graph node's component: the exact name, then its last path segment,
//! then `namespace/name`.
//!
//! # Differences from msgflo
//! - Values substituted for built-in markers are shell-quoted for where they land in
//!   the template (bare, inside `'…'` or inside `"…"`), so a role or IIP with spaces,
//!   quotes or `$` reaches the participant intact through `sh -c`. Plain values (only
//!   `[A-Za-z0-9_@%+=:,./-]`) are left bare and `#IIPS` lands as `'{…}'`, so common
//!   commands come out exactly as msgflo writes them. msgflo pastes the role bare and
//!   wraps the IIPs in `'…'` without escaping.
//! - A marker is the longest known name after `#`, so `#COMPONENTNAME` never turns into
//!   `<component>NAME`, whatever the order; msgflo replaces in sequence with regexes.
//! - User variables named like a built-in marker are ignored (with a warning); cycles
//!   between variables are a load error.
//! - When `components` and a file in `--componentdir` give the same name, the explicit
//!   `components` entry wins (msgflo keeps the file's and may even drop a config entry
//!   whose last segment names a file).
//! - Malformed configs are errors naming the file and key; msgflo takes what it gets.
//!
//! The error types, [`LibraryError`] and [`ConfigError`], are in `library/errors.rs`.

mod errors;

pub use errors::{ConfigError, LibraryError};

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The handlers msgflo ships: file extension -> command template.
pub const DEFAULT_HANDLERS: &[(&str, &str)] = &[
    (".yml", "msgflo-register --role #ROLE:#FILENAME"),
    (".js", "msgflo-nodejs --name #ROLE #FILENAME"),
    (".coffee", "msgflo-nodejs --name #ROLE #FILENAME"),
    (".py", "msgflo-python #FILENAME #ROLE"),
    (
        ".json",
        "noflo-runtime-msgflo --name #ROLE --graph #COMPONENT --iips #IIPS",
    ),
    (
        ".fbp",
        "noflo-runtime-msgflo --name #ROLE --graph #COMPONENT --iips #IIPS",
    ),
];

/// msgflo's default `--componentdir` (it warns that this will become `components`).
pub const DEFAULT_COMPONENT_DIR: &str = "participants";

/// File extension -> language, as msgflo reports it for component sources.
const LANGUAGES: &[(&str, &str)] = &[
    (".py", "python"),
    (".coffee", "coffeescript"),
    (".js", "javascript"),
    (".cpp", "c++"),
    (".rs", "rust"),
    (".yml", "yaml"),
];

const ROLE: &str = "ROLE";
const IIPS: &str = "IIPS";
const COMPONENT: &str = "COMPONENT";
const COMPONENTNAME: &str = "COMPONENTNAME";
const FILENAME: &str = "FILENAME";
const BUILTINS: &[&str] = &[ROLE, IIPS, COMPONENT, COMPONENTNAME, FILENAME];

/// One component the library can start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    name: String,
    component: String,
    template: String,
    file: Option<PathBuf>,
    language: Option<&'static str>,
}

impl Entry {
    /// The name in the library (`namespace/Stem` for a file in the component dir).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The command template as written (before any substitution).
    pub fn template(&self) -> &str {
        &self.template
    }
    /// The source file, for components found in `--componentdir`.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
    /// The source language, for files with a known extension (msgflo's names).
    pub fn language(&self) -> Option<&'static str> {
        self.language
    }
}

/// msgflo's component library.
#[derive(Debug, Clone, Default)]
pub struct Library {
    namespace: Option<String>,
    /// Upper-cased name -> value with other user variables already expanded.
    variables: HashMap<String, String>,
    handlers: BTreeMap<String, String>,
    entries: BTreeMap<String, Entry>,
}

impl Library {
    /// A library with no components and the default handlers.
    pub fn empty() -> Self {
        Library {
            handlers: default_handlers(),
            ..Library::default()
        }
    }

    /// Reads a config file: a package.json with a `msgflo` object, or a standalone config.
    pub fn load(path: &Path) -> Result<Self, LibraryError> {
        let text = std::fs::read_to_string(path).map_err(|source| LibraryError::Read {
            path: path.to_owned(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|source| LibraryError::Json {
            path: path.to_owned(),
            source,
        })?;
        Library::from_json(&doc).map_err(|reason| LibraryError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// Builds a library from a parsed config document (either form).
    pub fn from_json(doc: &Value) -> Result<Self, ConfigError> {
        let top = doc.as_object().ok_or(ConfigError::TopLevel)?;
        let config = match top.get("msgflo") {
            None | Some(Value::Null) => top,
            Some(Value::Object(config)) => config,
            Some(_) => return Err(not_an_object("msgflo")),
        };
        let namespace = match (config.get("namespace"), top.get("name")) {
            (Some(Value::String(ns)), _) => Some(ns.clone()),
            (Some(Value::Null) | None, Some(Value::String(name))) => Some(name.clone()),
            (Some(Value::Null) | None, _) => None,
            (Some(_), _) => return Err(not_a_string("namespace".into())),
        }
        .filter(|ns| !ns.is_empty());

        let mut raw_vars = Vec::new();
        for (name, value) in object(config, "variables")? {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(not_a_string(format!("variables.{name}"))),
            };
            let upper = name.to_uppercase();
            if upper.is_empty() {
                return Err(ConfigError::EmptyVariableName);
            }
            if BUILTINS.contains(&upper.as_str()) {
                tracing::warn!(variable = %name, "library variable shadows a built-in marker; ignored");
                continue;
            }
            if raw_vars.iter().any(|(n, _)| n == &upper) {
                return Err(ConfigError::VariableTwice { name: name.clone() });
            }
            raw_vars.push((upper, text));
        }
        let variables = expand_variables(&raw_vars)?;

        let mut handlers = default_handlers();
        for (ext, value) in object(config, "handlers")? {
            let template = string(value, || format!("handlers.{ext}"))?;
            if !ext.starts_with('.') || ext.len() < 2 {
                return Err(ConfigError::NotAnExtension { ext: ext.clone() });
            }
            if !template.is_empty() {
                handlers.insert(ext.clone(), template.to_owned());
            }
        }

        let mut entries = BTreeMap::new();
        for (name, value) in object(config, "components")? {
            let template = string(value, || format!("components.{name}"))?;
            let entry = Entry {
                name: name.clone(),
                component: name.clone(),
                template: template.to_owned(),
                file: None,
                language: None,
            };
            entries.insert(name.clone(), entry);
        }
        Ok(Library {
            namespace,
            variables,
            handlers,
            entries,
        })
    }

    /// Adds each file in `dir` whose extension has a handler as component
    /// `namespace/Stem`. A missing directory adds nothing (msgflo's default
    /// `participants` usually does not exist). Existing names are kept.
    pub fn add_component_dir(&mut self, dir: &Path) -> Result<(), LibraryError> {
        let listing = match std::fs::read_dir(dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(LibraryError::ComponentDir {
                    path: dir.to_owned(),
                    source,
                })
            }
        };
        let mut files = Vec::new();
        for item in listing {
            let item = item.map_err(|source| LibraryError::ComponentDir {
                path: dir.to_owned(),
                source,
            })?;
            if item.path().is_file() {
                files.push(item.file_name());
            }
        }
        files.sort();
        for file in files {
            let file = Path::new(&file);
            let (Some(stem), Some(ext)) = (file.file_stem(), file.extension()) else {
                continue;
            };
            let (Some(stem), Some(ext)) = (stem.to_str(), ext.to_str()) else {
                continue;
            };
            let ext = format!(".{ext}");
            let Some(template) = self.handlers.get(&ext) else {
                tracing::debug!(file = %file.display(), "no handler for component file");
                continue;
            };
            let name = match &self.namespace {
                Some(ns) => format!("{ns}/{stem}"),
                None => stem.to_owned(),
            };
            if self.entries.contains_key(&name) {
                tracing::debug!(%name, "component file shadowed by library config");
                continue;
            }
            let language = LANGUAGES.iter().find(|(e, _)| *e == ext).map(|(_, l)| *l);
            let entry = Entry {
                name: name.clone(),
                component: stem.to_owned(),
                template: template.clone(),
                file: Some(dir.join(file)),
                language,
            };
            self.entries.insert(name, entry);
        }
        Ok(())
    }

    /// The namespace (`namespace`, else the package `name`).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The library's component names (for `component:list`), sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// The entry for a component name from a graph node: the exact name, then its last
    /// path segment, then `namespace/name`.
    pub fn find(&self, component: &str) -> Option<&Entry> {
        if let Some(entry) = self.entries.get(component) {
            return Some(entry);
        }
        let base = component.rsplit('/').next().unwrap_or(component);
        if let Some(entry) = self.entries.get(base) {
            return Some(entry);
        }
        let ns = self.namespace.as_deref()?;
        if component.contains('/') {
            return None;
        }
        self.entries.get(&format!("{ns}/{component}"))
    }

    /// The shell command (for `sh -c`) that starts a participant of `role` running
    /// `component`, with its IIPs; `None` if the library has no such component.
    pub fn command(
        &self,
        component: &str,
        role: &str,
        iips: &Map<String, Value>,
    ) -> Option<String> {
        let entry = self.find(component)?;
        let text = substitute(&entry.template, |name| {
            keep_builtin(name).or_else(|| self.variables.get(name).map(|v| Insert::Raw(v.clone())))
        });
        let short = match entry.component.split('/').nth(1) {
            Some(s) if !s.is_empty() => s,
            _ => &entry.component,
        };
        let iips = Value::Object(iips.clone()).to_string();
        let command = substitute(&text, |name| match name {
            ROLE => Some(Insert::Quoted(role.to_owned())),
            IIPS => Some(Insert::Quoted(iips.clone())),
            COMPONENT => Some(Insert::Quoted(entry.component.clone())),
            COMPONENTNAME => Some(Insert::Quoted(short.to_owned())),
            FILENAME => entry
                .file
                .as_ref()
                .map(|f| Insert::Quoted(f.to_string_lossy().into_owned())),
            _ => None,
        });
        Some(command)
    }
}

fn default_handlers() -> BTreeMap<String, String> {
    DEFAULT_HANDLERS
        .iter()
        .map(|(e, t)| (e.to_string(), t.to_string()))
        .collect()
}

fn object<'a>(
    config: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Map<String, Value>, ConfigError> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match config.get(key) {
        None | Some(Value::Null) => Ok(EMPTY.get_or_init(Map::new)),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(not_an_object(key)),
    }
}

fn string(value: &Value, key: impl FnOnce() -> String) -> Result<&str, ConfigError> {
    value.as_str().ok_or_else(|| not_a_string(key()))
}

fn not_an_object(key: &str) -> ConfigError {
    ConfigError::NotAnObject {
        key: key.to_owned(),
    }
}

fn not_a_string(key: String) -> ConfigError {
    ConfigError::NotAString { key }
}

/// Expands user variables inside each other's values; a cycle is an error.
fn expand_variables(raw: &[(String, String)]) -> Result<HashMap<String, String>, ConfigError> {
    fn expand(
        name: &str,
        raw: &HashMap<&str, &str>,
        done: &mut HashMap<String, String>,
        stack: &mut Vec<String>,
    ) -> Result<String, ConfigError> {
        if let Some(v) = done.get(name) {
            return Ok(v.clone());
        }
        if stack.iter().any(|s| s == name) {
            stack.push(name.to_owned());
            return Err(ConfigError::VariableCycle {
                cycle: std::mem::take(stack),
            });
        }
        stack.push(name.to_owned());
        let mut error = None;
        let value = substitute(raw[name], |inner| {
            if let Some(keep) = keep_builtin(inner) {
                return Some(keep);
            }
            if error.is_some() || !raw.contains_key(inner) {
                return None;
            }
            match expand(inner, raw, done, stack) {
                Ok(v) => Some(Insert::Raw(v)),
                Err(e) => {
                    error = Some(e);
                    None
                }
            }
        });
        if let Some(e) = error {
            return Err(e);
        }
        stack.pop();
        done.insert(name.to_owned(), value.clone());
        Ok(value)
    }
    let map: HashMap<&str, &str> = raw.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let mut done = HashMap::new();
    for (name, _) in raw {
        expand(name, &map, &mut done, &mut Vec::new())?;
    }
    Ok(done)
}

/// While expanding user variables, built-in markers are known names kept as written.
fn keep_builtin(name: &str) -> Option<Insert> {
    BUILTINS
        .contains(&name)
        .then(|| Insert::Raw(format!("#{name}")))
}

/// What replaces a marker.
enum Insert {
    /// Template text, pasted as is.
    Raw(String),
    /// A value, quoted for the shell context the marker is in.
    Quoted(String),
}

/// Shell quoting state while scanning a template.
#[derive(Clone, Copy, PartialEq)]
enum Quote {
    Bare,
    Single,
    Double,
}

/// Replaces each `#NAME` for which `lookup` answers, taking the longest name among
/// built-ins and the names `lookup` knows; unknown markers stay as written.
fn substitute(template: &str, mut lookup: impl FnMut(&str) -> Option<Insert>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut quote = Quote::Bare;
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' {
            let rest = &template[i + 1..];
            // Longest prefix of `rest` that is a known name.
            let mut found = None;
            for end in (1..=rest.len()).rev().filter(|&e| rest.is_char_boundary(e)) {
                if let Some(insert) = lookup(&rest[..end]) {
                    found = Some((end, insert));
                    break;
                }
            }
            if let Some((len, insert)) = found {
                match insert {
                    Insert::Raw(text) => out.push_str(&text),
                    Insert::Quoted(value) => out.push_str(&quote_for(&value, quote)),
                }
                while chars.peek().is_some_and(|&(j, _)| j <= i + len) {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
        match (quote, c) {
            (Quote::Bare | Quote::Double, '\\') => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            (Quote::Bare, '\'') => quote = Quote::Single,
            (Quote::Bare, '"') => quote = Quote::Double,
            (Quote::Single, '\'') | (Quote::Double, '"') => quote = Quote::Bare,
            _ => {}
        }
    }
    out
}

/// `value` as one shell word: as it is when that is safe, else in single quotes.
pub fn shell_word(value: &str) -> String {
    quote_for(value, Quote::Bare)
}

/// `value` as shell text that means exactly `value` in the given quoting context.
fn quote_for(value: &str, quote: Quote) -> String {
    match quote {
        Quote::Bare => {
            let plain = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
            if plain {
                value.to_owned()
            } else {
                format!("'{}'", value.replace('\'', r"'\''"))
            }
        }
        Quote::Single => value.replace('\'', r"'\''"),
        Quote::Double => {
            let mut out = String::with_capacity(value.len());
            for c in value.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
    }
}

#[cfg(test)]
#[path = "library_tests.rs"]
mod tests;
