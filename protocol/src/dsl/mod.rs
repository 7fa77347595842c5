//! The `.fbp` language: a parser that agrees with the reference parser (npm
//! `fbp` 1.8) and a serializer whose output both parsers read back as the same
//! graph.
//!
//! ```
//! use msgflo_protocol::dsl::{parse, serialize};
//!
//! let graph = parse(
//!     "# @runtime msgflo\n\
//!      INPORT=repeat.IN:IN\n\
//!      'hello' -> IN repeat(core/Repeat:x=10,y=20) OUT -> IN[0] (core/Output)\n",
//! )?;
//! assert_eq!(graph.runtime(), Some("msgflo"));
//! assert_eq!(graph.processes.keys().collect::<Vec<_>>(), ["repeat", "_core_Output_1"]);
//!
//! let out = serialize(&graph)?;
//! assert!(out.lost.is_empty());
//! assert_eq!(parse(&out.text)?, graph);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The parser is a port of the reference PEG grammar with the same semantics,
//! quirks included: default ports `IN`/`OUT` (changed by `DEFAULT_INPORT=` and
//! `DEFAULT_OUTPORT=`), anonymous nodes named `_core_Repeat_1`, string IIPs
//! where only `\'` is an escape, JSON IIPs, addressable ports, exports, node
//! metadata (a bare value is `routes`; `x` and `y` are numbers), `# @key value`
//! annotations (`@runtime` is `environment.type`), port names lower-cased unless
//! [`ParseOptions::case_sensitive`]. A syntax error is reported where the parser
//! got furthest, with what it expected there.
//!
//! # Deliberate differences from the reference
//! - Names are plain map keys. The reference keeps nodes, metadata, properties
//!   and JSON objects in JavaScript objects, so `__proto__`, `constructor`,
//!   `toString` and other `Object.prototype` names misbehave there.
//! - A port index must fit in `u32` ([`ParseErrorKind::IndexTooLarge`]); JSON
//!   IIPs nest at most 256 deep ([`ParseErrorKind::TooDeep`]).
//! - `EXPORT=` lines get [`ParseErrorKind::LegacyExport`], not a bare syntax error.
//! - A lone UTF-16 surrogate escape in a JSON string (`"\ud800"`) becomes U+FFFD.
//! - A syntax error wins over validation errors (the reference validates what it
//!   parsed before noticing unparsed input).
//! - Columns count characters, not UTF-16 units.
//! - An IIP of `0`, `''`, `false` or `null` sent to an undefined node gets the
//!   usual [`NodeUse::Iip`] error (the reference fails with a `TypeError`).
//! - Object keys keep their written order; JavaScript puts integer-like keys
//!   (`(A:10=a)`, `{"1": 2}`) first. Equality of graphs does not depend on it.
//!
//! # Case sensitivity
//! `.fbp` text does not say whether it is case sensitive: the caller decides
//! ([`parse_with`]), and a graph's `caseSensitive` is written nowhere by
//! [`serialize`]. Pass `ParseOptions { case_sensitive: graph.case_sensitive }`
//! when reading a serialized graph back.
//!
//! # Layout
//! - this file — the API: [`parse`], [`parse_with`], [`serialize`].
//! - `cursor.rs` — input position and furthest-failure tracking (PEG.js errors).
//! - `parser.rs` — statement rules: lines, exports, annotations, connections.
//! - `names.rs` — node, component and port rules.
//! - `json.rs` — JSON IIPs; `number.rs` — JavaScript number semantics.
//! - `builder.rs` — what the rules' actions build: nodes, anonymous names,
//!   edge pairing, validation.
//! - `error.rs` — [`ParseError`].
//! - `serialize.rs` — [`serialize`]; `check.rs` — what .fbp can express.
//! - `tests/` — unit tests per feature, error kinds, round-trip property tests.

mod builder;
mod check;
mod cursor;
mod error;
mod json;
mod names;
mod number;
mod parser;
mod serialize;
#[cfg(test)]
mod tests;

pub use error::{NodeUse, ParseError, ParseErrorKind};
pub use serialize::{serialize, SerializeError, Serialized};

use crate::graph::Graph;

/// How to read a `.fbp` text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Keep port and public names as written (`false`: lower-case them).
    pub case_sensitive: bool,
}

/// Parses a `.fbp` text (case insensitive: port names are lower-cased).
pub fn parse(text: &str) -> Result<Graph, ParseError> {
    parse_with(text, &ParseOptions::default())
}

/// Parses a `.fbp` text with `options`.
pub fn parse_with(text: &str, options: &ParseOptions) -> Result<Graph, ParseError> {
    parser::parse(text, options)
}
