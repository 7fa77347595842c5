//! [`DeliveryMode`]: what the broker is asked to promise about a message,
//! by name. What each mode promises across faults, and how each transport
//! keeps it, is in `msgflo_transport`'s `mode.rs`; the coordinator takes it
//! from graph edges' metadata (`delivery`), participants from their
//! settings.

use crate::graph::Metadata;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// The key of an edge's metadata that names its delivery mode.
pub const METADATA_KEY: &str = "delivery";

/// The delivery mode `metadata` names under [`METADATA_KEY`]: `None` when it
/// names none (no key, or `null`); an error text (one line) when the value
/// is no mode's name.
pub fn in_metadata(metadata: Option<&Metadata>) -> Result<Option<DeliveryMode>, String> {
    match metadata.and_then(|m| m.get(METADATA_KEY)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => name
            .parse()
            .map(Some)
            .map_err(|e| format!("edge metadata \"{METADATA_KEY}\": {e}")),
        Some(other) => Err(format!(
            "edge metadata \"{METADATA_KEY}\" is {other}: persistent or transient"
        )),
    }
}

/// How the broker keeps a message: persistent (written to disk, survives a
/// broker restart) or transient (in memory only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryMode {
    /// Written to disk: survives a broker restart.
    #[default]
    Persistent,
    /// In memory only: lost if the broker stops.
    Transient,
}

impl DeliveryMode {
    /// The names, as settings and flags take them.
    pub const NAMES: [&'static str; 2] = ["persistent", "transient"];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Persistent => "persistent",
            DeliveryMode::Transient => "transient",
        }
    }
}

impl fmt::Display for DeliveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "persistent" => Ok(DeliveryMode::Persistent),
            "transient" => Ok(DeliveryMode::Transient),
            other => Err(format!(
                "unknown delivery mode {other:?}: persistent or transient"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_anything_else_is_refused_in_one_line() {
        for name in DeliveryMode::NAMES {
            let mode: DeliveryMode = name.parse().unwrap();
            assert_eq!(mode.as_str(), name);
        }
        assert_eq!(" Transient ".parse(), Ok(DeliveryMode::Transient));
        let error = "fast".parse::<DeliveryMode>().unwrap_err();
        assert_eq!(
            error,
            "unknown delivery mode \"fast\": persistent or transient"
        );
        assert_eq!(DeliveryMode::default(), DeliveryMode::Persistent);
    }

    #[test]
    fn an_edge_names_its_mode_in_its_metadata() {
        let metadata = |value: Value| {
            let mut m = Metadata::new();
            m.insert(METADATA_KEY.into(), value);
            m
        };
        assert_eq!(in_metadata(None), Ok(None));
        assert_eq!(in_metadata(Some(&Metadata::new())), Ok(None));
        assert_eq!(in_metadata(Some(&metadata(Value::Null))), Ok(None));
        let transient = metadata(Value::from("transient"));
        assert_eq!(
            in_metadata(Some(&transient)),
            Ok(Some(DeliveryMode::Transient))
        );
        assert_eq!(
            in_metadata(Some(&metadata(Value::from("fast")))),
            Err(
                "edge metadata \"delivery\": unknown delivery mode \"fast\": persistent or transient"
                    .into()
            )
        );
        assert_eq!(
            in_metadata(Some(&metadata(Value::from(5)))),
            Err("edge metadata \"delivery\" is 5: persistent or transient".into())
        );
    }
}
