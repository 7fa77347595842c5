//! `msgflo-register`: announces participants that cannot announce themselves
//! (devices, services speaking plain MQTT or AMQP) from YAML descriptions,
//! as msgflo's `msgflo-register` does: one discovery message per `--role
//! ROLE:FILE` on `fbp`, then again every `interval / 2.2` seconds while
//! running `--forever` (the default).
//!
//! A description is a participant's discovery payload in YAML:
//!
//! ```yaml
//! component: my/ToggleSwitch
//! icon: toggle-on
//! label: A switch
//! inports: []
//! outports:
//!   - id: state
//!     type: boolean
//!     queue: /switches/#ROLE/state
//! ```
//!
//! The role comes from the command line; the id is the file's `id`, else the
//! role; `#ROLE` in a port's queue becomes the role. Ports are a list (each
//! with its `id`) or a map from id to port. Other keys are sent as written.
//!
//! # Differences from msgflo
//! - Ports given as a list keep their ids; msgflo renames them `0`, `1`, ….
//! - `--forever=false` stops after the first messages (msgflo's parser takes
//!   any value as true). Errors name the file and the problem in one line.
//! - A `ROLE:FILE` splits at the first `:`, so the file name may contain one.

use msgflo_protocol::discovery::Participant;
use msgflo_transport::{self as transport, ConnectOptions};
use serde_json::{Map, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to announce, and how often.
#[derive(Debug, Clone)]
pub struct Options {
    /// `(role, description file)` pairs.
    pub roles: Vec<(String, PathBuf)>,
    /// The broker URL.
    pub broker: String,
    /// The discovery period: messages are repeated every `interval / 2.2`.
    pub interval: Duration,
    /// Keep announcing until SIGTERM / SIGINT.
    pub forever: bool,
}

/// `ROLE:FILE` from the command line.
pub fn parse_role(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once(':') {
        Some((role, file)) if !role.is_empty() && !file.is_empty() => {
            Ok((role.to_owned(), PathBuf::from(file)))
        }
        _ => Err(format!("--role {text:?}: expected ROLE:FILE")),
    }
}

/// Reads the description of `role` from `path`.
pub fn load(role: &str, path: &Path) -> Result<Participant, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    from_yaml(role, &text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The participant a YAML description says `role` is.
pub fn from_yaml(role: &str, text: &str) -> Result<Participant, String> {
    let value: Value = serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let Value::Object(mut doc) = value else {
        return Err("the description must be a mapping".into());
    };
    match doc.get("component") {
        Some(Value::String(c)) if !c.is_empty() => {}
        _ => return Err("`component` is not defined".into()),
    }
    doc.insert("role".into(), Value::String(role.to_owned()));
    if doc.get("id").is_none_or(Value::is_null) {
        doc.insert("id".into(), Value::String(role.to_owned()));
    }
    for key in ["inports", "outports"] {
        let ports = ports(doc.remove(key), role).map_err(|e| format!("`{key}`: {e}"))?;
        doc.insert(key.into(), Value::Array(ports));
    }
    serde_json::from_value(Value::Object(doc)).map_err(|e| e.to_string())
}

/// A list or map of ports as a list, ids set and `#ROLE` replaced in queues.
fn ports(value: Option<Value>, role: &str) -> Result<Vec<Value>, String> {
    let listed: Vec<(Option<String>, Value)> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.into_iter().map(|p| (None, p)).collect(),
        Some(Value::Object(map)) => map.into_iter().map(|(id, p)| (Some(id), p)).collect(),
        Some(_) => return Err("must be a list or a map of ports".into()),
    };
    let mut out = Vec::new();
    for (index, (id, port)) in listed.into_iter().enumerate() {
        let mut port = match port {
            Value::Object(port) => port,
            Value::Null => Map::new(),
            _ => {
                return Err(format!(
                    "port {} is not a mapping",
                    id.unwrap_or(index.to_string())
                ))
            }
        };
        if let Some(id) = id {
            port.insert("id".into(), Value::String(id));
        }
        if !port.get("id").is_some_and(Value::is_string) {
            return Err(format!("port {index} has no `id`"));
        }
        if let Some(Value::String(queue)) = port.get_mut("queue") {
            *queue = queue.replace("#ROLE", role);
        }
        out.push(Value::Object(port));
    }
    Ok(out)
}

/// Announces every participant, prints `Sent discovery message for ID`, and
/// with `forever` repeats until `shutdown`.
pub async fn run(options: Options, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let mut participants: Vec<Participant> = Vec::new();
    for (role, path) in &options.roles {
        if options.roles.iter().filter(|(r, _)| r == role).count() > 1 {
            return Err(format!("--role {role} is given more than once"));
        }
        participants.push(load(role, path)?);
    }
    let connect = ConnectOptions {
        client_id: format!("msgflo-register-{}", uuid::Uuid::new_v4().simple()),
        ..ConnectOptions::default()
    };
    let transport = transport::connect(&options.broker, connect)
        .await
        .map_err(|e| e.to_string())?;
    let messages: Vec<(String, bytes::Bytes)> = participants
        .iter()
        .map(|p| (p.id.to_string(), bytes::Bytes::from(p.encode())))
        .collect();
    for (id, message) in &messages {
        transport
            .announce(message.clone())
            .await
            .map_err(|e| format!("cannot send the discovery message for {id}: {e}"))?;
        println!("Sent discovery message for {id}");
    }
    if options.forever {
        let period = options.interval.div_f64(2.2).max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = ticks.tick() => {
                    for (id, message) in &messages {
                        if let Err(error) = transport.announce(message.clone()).await {
                            tracing::warn!(%id, %error, "failed to send a discovery message");
                        }
                    }
                }
            }
        }
    }
    let _ = transport.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ports_keep_their_ids_and_queues_get_the_role() {
        let yaml = "component: my/Switch\nicon: toggle-on\nlabel: A switch\ninports: []\n\
                    outports:\n- id: state\n  type: boolean\n  queue: '/sw/#ROLE/status'\n";
        let p = from_yaml("kitchen", yaml).unwrap();
        assert_eq!(p.id.as_str(), "kitchen");
        assert_eq!(p.role.as_str(), "kitchen");
        assert_eq!(p.outports[0].id.as_str(), "state");
        assert_eq!(p.outports[0].datatype, "boolean");
        assert_eq!(
            p.outports[0].queue.as_ref().map(|q| q.as_str()),
            Some("/sw/kitchen/status")
        );
        let payload: Value = serde_json::from_slice(&p.encode()).unwrap();
        let keys: Vec<&str> = payload["payload"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "role",
                "component",
                "label",
                "icon",
                "inports",
                "outports"
            ]
        );
    }

    #[test]
    fn map_ports_take_their_keys_as_ids_and_an_explicit_id_is_kept() {
        let yaml = "component: my/Bulb\nid: bulb-1\ninports:\n  enable:\n    type: boolean\n    queue: /b/#ROLE/on\n";
        let p = from_yaml("bulb", yaml).unwrap();
        assert_eq!(p.id.as_str(), "bulb-1");
        assert_eq!(p.inports[0].id.as_str(), "enable");
        assert_eq!(
            p.inports[0].queue.as_ref().map(|q| q.as_str()),
            Some("/b/bulb/on")
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            from_yaml("r", "icon: x\n").unwrap_err(),
            "`component` is not defined"
        );
        assert!(from_yaml("r", "component: [\n")
            .unwrap_err()
            .starts_with("not valid YAML: "));
        assert_eq!(
            from_yaml("r", "component: c\ninports:\n- type: any\n").unwrap_err(),
            "`inports`: port 0 has no `id`"
        );
        assert_eq!(
            parse_role("nofile").unwrap_err(),
            "--role \"nofile\": expected ROLE:FILE"
        );
        assert_eq!(
            parse_role("r:a:b.yaml").unwrap(),
            ("r".into(), PathBuf::from("a:b.yaml"))
        );
    }
}
