//! The W3C Trace Context `traceparent` header
//! (<https://www.w3.org/TR/trace-context/>): which trace a message belongs
//! to and which span sent it, as
//! `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`.
//!
//! msgflo-rs participants carry it in a message header of that name (AMQP
//! headers; MQTT 5 user properties where a connection speaks MQTT 5), with
//! `tracestate` beside it passed on unchanged. Parsing is strict where the
//! specification is (lower-case hex, ids not all zero, version `ff`
//! invalid) and lenient where it asks to be: a later version may append
//! `-...` fields, which are ignored.

use std::fmt;

/// The header that carries a [`TraceParent`].
pub const TRACEPARENT: &str = "traceparent";
/// The vendor trace state that travels beside it (passed on unchanged).
pub const TRACESTATE: &str = "tracestate";

/// The `sampled` bit of [`TraceParent::flags`].
pub const SAMPLED: u8 = 0x01;

/// A parsed `traceparent`: the trace, the span that sent the message, the
/// flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace: 16 bytes, not all zero.
    pub trace_id: [u8; 16],
    /// The span that sent the message: 8 bytes, not all zero.
    pub parent_id: [u8; 8],
    /// Trace flags ([`SAMPLED`]).
    pub flags: u8,
}

/// Why a `traceparent` value is not one (the header is then ignored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    /// Not `vv-<32>-<16>-<2>` (wrong length or separators).
    #[error("not of the form 00-<32 hex>-<16 hex>-<2 hex>")]
    Shape,
    /// A field is not lower-case hex.
    #[error("the {0} is not lower-case hex")]
    NotHex(&'static str),
    /// Version `ff`, which the specification forbids.
    #[error("version ff is invalid")]
    Version,
    /// The trace id or the parent id is all zeros.
    #[error("the {0} is all zeros")]
    Zero(&'static str),
}

impl TraceParent {
    /// Parses a header value. Version `00` must be exactly 55 characters; a
    /// later version may have more after a `-`, which is ignored.
    pub fn parse(value: &str) -> Result<Self, TraceParentError> {
        let bytes = value.as_bytes();
        if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return Err(TraceParentError::Shape);
        }
        let version: [u8; 1] = hex(&bytes[0..2], "version")?;
        match version[0] {
            0xff => return Err(TraceParentError::Version),
            0x00 if bytes.len() != 55 => return Err(TraceParentError::Shape),
            _ if bytes.len() > 55 && bytes[55] != b'-' => return Err(TraceParentError::Shape),
            _ => {}
        }
        let trace_id: [u8; 16] = hex(&bytes[3..35], "trace id")?;
        let parent_id: [u8; 8] = hex(&bytes[36..52], "parent id")?;
        let [flags] = hex(&bytes[53..55], "flags")?;
        if trace_id == [0; 16] {
            return Err(TraceParentError::Zero("trace id"));
        }
        if parent_id == [0; 8] {
            return Err(TraceParentError::Zero("parent id"));
        }
        Ok(Self {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The same trace, sent by span `span_id` (a child's header).
    pub fn child(self, span_id: [u8; 8]) -> Self {
        Self {
            parent_id: span_id,
            ..self
        }
    }

    /// The trace id as 32 lower-case hex digits.
    pub fn trace_id_hex(&self) -> String {
        let mut out = String::with_capacity(32);
        push_hex(&mut out, &self.trace_id);
        out
    }
}

/// The header value, always version `00`.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.parent_id);
        out.push('-');
        push_hex(&mut out, &[self.flags]);
        f.write_str(&out)
    }
}

impl std::str::FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// `N` bytes from `2 * N` lower-case hex digits.
fn hex<const N: usize>(digits: &[u8], field: &'static str) -> Result<[u8; N], TraceParentError> {
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Ok(d - b'0'),
        b'a'..=b'f' => Ok(d - b'a' + 10),
        _ => Err(TraceParentError::NotHex(field)),
    };
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "traceparent_tests.rs"]
mod tests;
