//! `msgflo-participants --call NAME`: calls every listed participant (or
//! those of `--role`) at once over the broker ([`crate::calls`]) and prints
//! one row per participant — those that did not answer by `--timeout`, or
//! answered with an error, marked so. `health` answers are a table of their
//! own (uptime, in flight, processed / failed, last error, broker); other
//! calls show their result as JSON. With `--json`: one array of
//! `{"id", "role", "result"}` / `{"id", "role", "error"}` /
//! `{"id", "role", "answered": false}`. Exits non-zero, after printing, when
//! any participant did not answer or failed.

use super::listed::Listed;
use crate::calls::{CallError, Caller};
use msgflo_protocol::calls::{Health, HEALTH};
use msgflo_protocol::ids::ParticipantId;
use msgflo_transport::Transport;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What to call, from the command line.
#[derive(Debug, Clone)]
pub struct Call {
    /// The call's name.
    pub name: String,
    /// Its arguments.
    pub args: Value,
    /// Only the participants of this role.
    pub role: Option<String>,
    /// How long to wait for the answers.
    pub timeout: Duration,
}

/// One participant's row.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its result.
    Answered(Value),
    /// Its error, or why the request could not be sent.
    Failed(String),
    /// Nothing by the deadline.
    Silent,
}

/// Reads a duration: a number of seconds (`2`, `0.5`) or with a unit
/// (`2s`, `500ms`, `1m`).
pub fn duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("{text:?} is not a duration (say 2s or 500ms)"));
    }
    humantime::parse_duration(text).map_err(|e| format!("{text:?} is not a duration: {e}"))
}

/// Calls the participants in `listed` (of `call.role`, if given) with
/// `transport`; their rows in `listed`'s order.
pub async fn call_all(
    transport: Arc<dyn Transport>,
    listed: &[Listed],
    call: &Call,
) -> Result<Vec<(Listed, Outcome)>, String> {
    let chosen: Vec<&Listed> = listed
        .iter()
        .filter(|l| {
            call.role
                .as_ref()
                .is_none_or(|r| l.participant.role.as_str() == r)
        })
        .collect();
    if chosen.is_empty() {
        return Err(match &call.role {
            Some(role) => format!("no participant of role {role} to call"),
            None => "no participant to call".into(),
        });
    }
    let caller_id = format!("msgflo-participants-{}", uuid::Uuid::new_v4().simple());
    let caller = Caller::new(transport, &caller_id)
        .await
        .map_err(|e| format!("cannot make a queue for the answers: {e}"))?;
    let ids: Vec<ParticipantId> = chosen.iter().map(|l| l.participant.id.clone()).collect();
    let mut all = caller
        .call_all(&ids, &call.name, call.args.clone(), call.timeout)
        .await;
    let mut outcomes: BTreeMap<ParticipantId, Outcome> = BTreeMap::new();
    while let Some((participant, outcome)) = all.next().await {
        let outcome = match outcome {
            Ok(result) => Outcome::Answered(result),
            Err(CallError::Failed { message, .. }) => Outcome::Failed(message),
            Err(error) => Outcome::Failed(error.to_string()),
        };
        outcomes.insert(participant, outcome);
    }
    Ok(chosen
        .into_iter()
        .map(|l| {
            let outcome = outcomes
                .remove(&l.participant.id)
                .unwrap_or(Outcome::Silent);
            (l.clone(), outcome)
        })
        .collect())
}

/// The rows as JSON (`--json`).
pub fn to_json(rows: &[(Listed, Outcome)]) -> Value {
    let row = |(l, outcome): &(Listed, Outcome)| {
        let mut value = json!({"id": l.participant.id, "role": l.participant.role});
        match outcome {
            Outcome::Answered(result) => value["result"] = result.clone(),
            Outcome::Failed(error) => value["error"] = json!(error),
            Outcome::Silent => value["answered"] = json!(false),
        }
        value
    };
    Value::Array(rows.iter().map(row).collect())
}

/// The rows as a table: `health` answers in columns (a participant that
/// did not answer, or failed, says so in STATE and why in the last column),
/// other results as JSON.
pub fn render(call: &Call, rows: &[(Listed, Outcome)]) -> String {
    if call.name != HEALTH {
        let mut lines = vec![cells(&["ROLE", "ID", "ANSWER"])];
        for (listed, outcome) in rows {
            let answer = match outcome {
                Outcome::Answered(result) => result.to_string(),
                Outcome::Failed(error) => format!("ERROR: {error}"),
                Outcome::Silent => silent(call),
            };
            lines.push(cells(&[
                listed.participant.role.as_str(),
                listed.participant.id.as_str(),
                &answer,
            ]));
        }
        return super::table::aligned(&lines);
    }
    let mut lines = vec![cells(&[
        "ROLE",
        "ID",
        "STATE",
        "UPTIME",
        "IN FLIGHT",
        "PROCESSED",
        "FAILED",
        "SENT",
        "BROKER",
        "LAST ERROR",
    ])];
    for (listed, outcome) in rows {
        let (role, id) = (
            listed.participant.role.as_str(),
            listed.participant.id.as_str(),
        );
        let health = match outcome {
            Outcome::Answered(result) => serde_json::from_value::<Health>(result.clone())
                .map_err(|e| format!("not a health answer: {e}")),
            Outcome::Failed(error) => Err(error.clone()),
            Outcome::Silent => {
                lines.push(cells(&[
                    role,
                    id,
                    "NO ANSWER",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    &silent(call),
                ]));
                continue;
            }
        };
        let h = match health {
            Ok(h) => h,
            Err(error) => {
                let none = "-";
                lines.push(cells(&[
                    role, id, "ERROR", none, none, none, none, none, none, &error,
                ]));
                continue;
            }
        };
        let processed: u64 = h.ports.values().map(|p| p.processed).sum();
        let failed: u64 = h.ports.values().map(|p| p.failed).sum();
        let state = if h.draining { "draining" } else { "ok" };
        let sent: u64 = h.sent.values().sum();
        let broker = match (h.broker.connected, h.broker.reconnects) {
            (true, 0) => "connected".to_owned(),
            (false, 0) => "DISCONNECTED".to_owned(),
            (up, n) => format!(
                "{} ({n} reconnect{})",
                if up { "connected" } else { "DISCONNECTED" },
                if n == 1 { "" } else { "s" }
            ),
        };
        let last = h.last_error.map_or_else(
            || "-".to_owned(),
            |e| format!("{} ({} s ago)", e.message, e.ms_ago / 1000),
        );
        let uptime = format!("{} s", h.uptime_ms / 1000);
        lines.push(cells(&[
            role,
            id,
            state,
            &uptime,
            &h.in_flight.to_string(),
            &processed.to_string(),
            &failed.to_string(),
            &sent.to_string(),
            &broker,
            &last,
        ]));
    }
    super::table::aligned(&lines)
}

fn silent(call: &Call) -> String {
    format!("no answer within {} ms", call.timeout.as_millis())
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

/// The rows that did not answer or failed, as one line; `None` when every
/// participant answered.
pub fn trouble(rows: &[(Listed, Outcome)]) -> Option<String> {
    let silent = rows.iter().filter(|(_, o)| *o == Outcome::Silent).count();
    let failed = rows
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .count();
    (silent + failed > 0).then(|| {
        format!(
            "{silent} of {} participants did not answer, {failed} answered with an error",
            rows.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflo_protocol::discovery::Participant;

    fn listed(id: &str) -> Listed {
        let participant: Participant = serde_json::from_value(json!({
            "id": id, "role": "r", "component": "c", "inports": [], "outports": []
        }))
        .expect("a participant");
        Listed {
            participant,
            first_seen_ms_ago: 0,
            last_seen_ms_ago: 0,
        }
    }

    #[test]
    fn durations_in_seconds_or_with_a_unit() {
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("soon")
            .expect_err("no")
            .starts_with("\"soon\" is not a duration"));
        assert!(duration("-1").is_err());
    }

    #[test]
    fn health_rows_and_the_ones_that_did_not_answer() {
        let call = Call {
            name: HEALTH.into(),
            args: Value::Null,
            role: None,
            timeout: Duration::from_secs(2),
        };
        let health = json!({"uptime_ms": 61_000, "in_flight": 2,
            "ports": {"in": {"processed": 7, "failed": 1}, "b": {"processed": 3, "failed": 0}},
            "last_error": {"message": "boom", "ms_ago": 4000},
            "sent": {"out": 9, "err": 1},
            "broker": {"url": "amqp://h/", "connected": true, "reconnects": 1}, "prefetch": 128});
        let rows = vec![
            (listed("r-1"), Outcome::Answered(health)),
            (listed("r-2"), Outcome::Silent),
            (listed("r-3"), Outcome::Failed("unknown call".into())),
        ];
        let table = render(&call, &rows);
        let lines: Vec<&str> = table.lines().map(str::trim_end).collect();
        let expected = [
            "ROLE  ID   STATE      UPTIME  IN FLIGHT  PROCESSED  FAILED  SENT  BROKER                   LAST ERROR",
            "r     r-1  ok         61 s    2          10         1       10    connected (1 reconnect)  boom (4 s ago)",
            "r     r-2  NO ANSWER  -       -          -          -       -     -                        no answer within 2000 ms",
            "r     r-3  ERROR      -       -          -          -       -     -                        unknown call",
        ];
        assert_eq!(lines, expected, "{table}");
        assert_eq!(
            trouble(&rows).as_deref(),
            Some("1 of 3 participants did not answer, 1 answered with an error")
        );
        let json = to_json(&rows);
        assert_eq!(
            json[1],
            json!({"id": "r-2", "role": "r", "answered": false})
        );
        assert_eq!(json[2]["error"], "unknown call");
        assert_eq!(trouble(&rows[..1]), None);
    }
}
