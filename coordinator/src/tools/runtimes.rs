//! `msgflo-participants --registry URL`: the runtimes a runtime registry
//! lists for the token's user, as a table (id, label, type, state, last
//! seen, address) or, with `--json`, as the registry's JSON array. Any
//! failure — unreachable, refused, not a list — is one line and exit 1.

use super::table::{ago, aligned};
use crate::runtime_registry::{Listed, RegistryClient};
use std::time::{Duration, SystemTime};

/// How long the registry has to answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Lists the runtimes of `registry` (with `token`), printed as a table or
/// as JSON.
pub async fn run(registry: &str, token: Option<String>, json: bool) -> Result<(), String> {
    let has_token = token.is_some();
    let client =
        RegistryClient::with_timeout(registry, token, ANSWER_WAIT).map_err(|e| e.to_string())?;
    let listed = client.list().await.map_err(|error| {
        if error.is_refused() && !has_token {
            format!("{error} (give --registry-token or $MSGFLO_REGISTRY_TOKEN)")
        } else {
            error.to_string()
        }
    })?;
    if json {
        let text = serde_json::to_string(&listed).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", render(&listed, SystemTime::now()));
    }
    Ok(())
}

/// The table at `now`, one line per runtime; a line saying so when there
/// is none.
pub fn render(listed: &[Listed], now: SystemTime) -> String {
    if listed.is_empty() {
        return "no runtimes\n".into();
    }
    let mut rows = vec![["ID", "LABEL", "TYPE", "STATE", "LAST SEEN", "ADDRESS"]
        .map(str::to_owned)
        .to_vec()];
    let or_dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".into());
    for runtime in listed {
        rows.push(vec![
            runtime.id.clone(),
            or_dash(&runtime.label),
            or_dash(&runtime.kind),
            runtime.state().to_owned(),
            last_seen(runtime.seen.as_deref(), now),
            or_dash(&runtime.address),
        ]);
    }
    aligned(&rows)
}

/// `12 s ago` for an ISO 8601 time; `-` for none, the text as it is if it
/// does not parse.
fn last_seen(seen: Option<&str>, now: SystemTime) -> String {
    let Some(seen) = seen else {
        return "-".into();
    };
    match humantime::parse_rfc3339_weak(seen) {
        Ok(at) => {
            let past = now.duration_since(at).unwrap_or(Duration::ZERO);
            ago(u64::try_from(past.as_millis()).unwrap_or(u64::MAX))
        }
        Err(_) => seen.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_per_runtime_with_state_last_seen_and_address() {
        let listed: Vec<Listed> = serde_json::from_value(json!([
            {"id": "rt-1", "label": "msgflo on a", "type": "msgflo", "state": "online",
             "seen": "2026-12-07T10:00:00.500Z", "address": "ws://10.0.0.1:3569"},
            {"id": "rt-2", "online": false, "seen": "2026-12-07T09:00:00Z"}
        ]))
        .expect("parses");
        let now = humantime::parse_rfc3339("2026-12-07T10:00:12.600Z").expect("time");
        let text = render(&listed, now);
        assert_eq!(
            text,
            "ID    LABEL        TYPE    STATE    LAST SEEN   ADDRESS\n\
             rt-1  msgflo on a  msgflo  online   12 s ago    ws://10.0.0.1:3569\n\
             rt-2  -            -       offline  60 min ago  -\n"
        );
        assert_eq!(render(&[], now), "no runtimes\n");
    }

    #[test]
    fn an_unparsable_time_is_shown_as_given() {
        let now = SystemTime::now();
        assert_eq!(last_seen(Some("yesterday"), now), "yesterday");
        assert_eq!(last_seen(None, now), "-");
    }
}
