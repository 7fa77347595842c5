//! `--print-config`: the effective settings as a TOML file one could keep,
//! each line saying where its value came from; secrets masked (their lines
//! commented out), passwords in URLs masked, keys nothing sets commented out.

use super::keys::Key;
use super::mask::mask_passwords;
use super::Setting;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

pub(super) fn render(
    program: &str,
    keys: &[&'static Key],
    values: &BTreeMap<&'static str, Setting>,
    files: &[(PathBuf, bool)],
) -> String {
    let mut out = format!(
        "# {program}: effective settings (flag > environment > user file > system file > default)\n"
    );
    for (path, read) in files {
        let state = if *read { "read" } else { "not found" };
        let _ = writeln!(out, "# {}: {state}", path.display());
    }
    for key in keys {
        match values.get(key.name) {
            // A secret's line is commented out: kept as a settings file,
            // the output does not set the secret to the mask.
            Some(setting) if key.secret => {
                let _ = writeln!(out, "# {} = \"********\"  # {}", key.name, setting.origin);
            }
            Some(setting) => {
                let value = toml_value(key, &mask_passwords(&setting.text));
                let _ = writeln!(out, "{} = {value}  # {}", key.name, setting.origin);
            }
            None => {
                let _ = writeln!(out, "# {} = (not set)  # {}", key.name, key.about);
            }
        }
    }
    out
}

/// `text` as a TOML value of `key`'s kind: numbers and booleans bare,
/// everything else a quoted string.
fn toml_value(key: &Key, text: &str) -> String {
    use super::Kind;
    let text = text.trim();
    match key.kind {
        Kind::Port | Kind::Count | Kind::Seconds | Kind::Rate => text.to_owned(),
        Kind::Bool => super::parse_bool(text).unwrap_or(false).to_string(),
        _ => serde_json::Value::String(text.to_owned()).to_string(),
    }
}
