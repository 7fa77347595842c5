//! Message headers between [`Headers`] and AMQP field tables: text
//! headers only, as msgflo-nodejs sets them.

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
