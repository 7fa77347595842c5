//! Message headers between [`Headers`] and AMQP field tables: text
//! headers only, as msgflo-nodejs sets them; and the `timestamp` property
//! (seconds since the Unix epoch) every message we publish carries, so that
//! a reader can tell how old it is (the coordinator ignores discovery
//! messages older than its participant timeout); and the `message_id`
//! property other publishers may set (a participant's trace span names it).

use super::super::Headers;
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;

/// Headers as an AMQP field table of long strings.
pub(super) fn field_table(headers: &Headers) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in headers.iter() {
        table.insert(name.into(), AMQPValue::LongString(value.into()));
    }
    table
}

/// Now, as an AMQP `timestamp` (whole seconds since the Unix epoch).
pub(super) fn unix_seconds_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// When a delivered message was published, from its `timestamp`.
pub(super) fn sent_at(properties: &BasicProperties) -> Option<std::time::SystemTime> {
    let seconds = *properties.timestamp().as_ref()?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(seconds))
}

/// The `message_id` property of a delivered message, if it has one.
pub(super) fn message_id(properties: &BasicProperties) -> Option<String> {
    properties
        .message_id()
        .as_ref()
        .map(|id| id.as_str().to_owned())
}

/// The text headers of a delivered message; headers of other types (numbers,
/// tables: set by other clients) are left out.
pub(super) fn text_headers(properties: &BasicProperties) -> Headers {
    let Some(table) = properties.headers() else {
        return Headers::new();
    };
    table
        .inner()
        .iter()
        .filter_map(|(name, value)| {
            let text = match value {
                AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok()?.to_owned(),
                AMQPValue::ShortString(s) => s.as_str().to_owned(),
                _ => return None,
            };
            Some((name.as_str().to_owned(), text))
        })
        .collect()
}
