//! The statement-level rules of the reference grammar (`grammar/fbp.peg` in
//! npm `fbp` 1.8), ported rule by rule with PEG semantics: an ordered choice
//! takes the first alternative that matches and is never re-tried, `x?` and `x*`
//! are greedy, and a failing sequence puts the position back where it started.
//! Node and port rules live in `names.rs`, JSON IIPs in `json.rs`.

use super::builder::{Builder, Half};
use super::cursor::{Cursor, Expected};
use super::error::{ParseError, ParseErrorKind};
use super::{Graph, ParseOptions};

/// Parser state: the input position and what the actions have built.
pub(crate) struct Parser<'a> {
    pub(crate) cur: Cursor<'a>,
    pub(crate) build: Builder,
    /// The first port index that did not fit in `u32`: offset and digits.
    pub(crate) index_overflow: Option<(usize, String)>,
}

/// A connection's halves; `is_array` says whether the reference's value is an
/// array (only those are registered: a lone `node` declares but connects nothing).
struct Conn {
    halves: Vec<Half>,
    is_array: bool,
}

fn is_newline(ch: char) -> bool {
    matches!(ch, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

const SPACE: Expected = Expected::Lit(" ");

/// `start = line*`, then the whole input must have been consumed.
pub(crate) fn parse(text: &str, options: &ParseOptions) -> Result<Graph, ParseError> {
    let mut parser = Parser {
        cur: Cursor::new(text),
        build: Builder::new(options),
        index_overflow: None,
    };
    while parser.line() {}
    if !parser.cur.at_end() || parser.cur.is_fatal() {
        parser.cur.fail(Expected::Named("end of input"));
        return Err(syntax_error(parser.cur));
    }
    if let Some((at, digits)) = parser.index_overflow {
        return Err(ParseError::at(
            text,
            at,
            ParseErrorKind::IndexTooLarge { digits },
        ));
    }
    parser
        .build
        .finish()
        .map_err(|(at, kind)| ParseError::at(text, at, kind))
}

/// The furthest failure, or a hint when it is a legacy `EXPORT=` line.
fn syntax_error(cur: Cursor<'_>) -> ParseError {
    let text = cur.text();
    let at = cur.fail_pos();
    let before = text.get(..at).unwrap_or_default();
    let legacy = !cur.is_fatal()
        && text.get(at..).is_some_and(|rest| rest.starts_with('='))
        && before.strip_suffix("EXPORT").is_some_and(|head| {
            head.is_empty() || head.ends_with([' ', ',']) || head.ends_with(is_newline)
        });
    if legacy {
        return ParseError::at(text, at - "EXPORT".len(), ParseErrorKind::LegacyExport);
    }
    cur.into_error()
}

impl<'a> Parser<'a> {
    /// Runs `rule`; if it fails, moves back to where it started.
    pub(crate) fn attempt<T>(&mut self, rule: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.cur.pos();
        let result = rule(self);
        if result.is_none() {
            self.cur.reset(start);
        }
        result
    }

    /// `_ = " "*` (spaces only, no tabs).
    pub(crate) fn spaces(&mut self) {
        self.cur.star(|ch| ch == ' ', SPACE);
    }

    /// `__ = " "+`.
    pub(crate) fn spaces1(&mut self) -> Option<()> {
        self.cur.plus(|ch| ch == ' ', SPACE).map(drop)
    }

    fn newline(&mut self) -> Option<char> {
        self.cur.one(is_newline, Expected::Named("end of line"))
    }

    /// One statement (or blank line, or comment); `false` when none matches.
    fn line(&mut self) -> bool {
        self.export_line("INPORT=", false)
            || self.export_line("OUTPORT=", true)
            || self.default_port_line("DEFAULT_INPORT=", false)
            || self.default_port_line("DEFAULT_OUTPORT=", true)
            || self.annotation_line()
            || self.comment_line()
            || self
                .attempt(|p| {
                    p.spaces();
                    p.newline()
                })
                .is_some()
            || self.connection_line()
    }

    /// `_ "INPORT=" node "." portName ":" portName _ LineTerminator?`.
    fn export_line(&mut self, keyword: &'static str, outport: bool) -> bool {
        let parsed = self.attempt(|p| {
            p.spaces();
            if !p.cur.lit(keyword) {
                return None;
            }
            let node = p.node()?;
            let port = p.cur.lit(".").then(|| p.port_name()).flatten()?;
            let public = p.cur.lit(":").then(|| p.port_name()).flatten()?;
            p.spaces();
            p.line_terminator();
            Some((node, port, public))
        });
        let Some((node, port, public)) = parsed else {
            return false;
        };
        self.build.export(outport, &node, port, public);
        true
    }

    /// `_ "DEFAULT_INPORT=" portName _ LineTerminator?`.
    fn default_port_line(&mut self, keyword: &'static str, outport: bool) -> bool {
        let parsed = self.attempt(|p| {
            p.spaces();
            let name = p.cur.lit(keyword).then(|| p.port_name()).flatten()?;
            p.spaces();
            p.line_terminator();
            Some(name)
        });
        let Some(name) = parsed else { return false };
        if outport {
            self.build.set_default_out(name);
        } else {
            self.build.set_default_in(name);
        }
        true
    }

    /// `"#" __ "@" key __ value newline`; without the newline it is a comment.
    fn annotation_line(&mut self) -> bool {
        let key_class = |ch: char| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_';
        let value_class =
            |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | ' ' | '.');
        let parsed = self.attempt(|p| {
            p.cur.lit("#").then_some(())?;
            p.spaces1()?;
            p.cur.lit("@").then_some(())?;
            let key = p.cur.plus(key_class, Expected::Named("annotation name"))?;
            p.spaces1()?;
            let value = p
                .cur
                .plus(value_class, Expected::Named("annotation value"))?;
            p.newline()?;
            Some((key, value))
        });
        let Some((key, value)) = parsed else {
            return false;
        };
        self.build.annotation(key, value);
        true
    }

    /// `comment newline?`.
    fn comment_line(&mut self) -> bool {
        if self.comment().is_none() {
            return false;
        }
        self.newline();
        true
    }

    /// `comment = _ "#" anychar*`.
    fn comment(&mut self) -> Option<()> {
        self.attempt(|p| {
            p.spaces();
            p.cur.lit("#").then_some(())?;
            p.cur
                .star(|ch| !is_newline(ch), Expected::Named("any character"));
            Some(())
        })
    }

    /// `LineTerminator = _ ","? comment? newline?` (always matches).
    fn line_terminator(&mut self) {
        self.spaces();
        self.cur.lit(",");
        self.comment();
        self.newline();
    }

    /// `_ connection _ LineTerminator?`.
    fn connection_line(&mut self) -> bool {
        let parsed = self.attempt(|p| {
            p.spaces();
            let connection = p.connection()?;
            p.spaces();
            p.line_terminator();
            Some(connection)
        });
        let Some(connection) = parsed else {
            return false;
        };
        if connection.is_array {
            self.build.register(connection.halves);
        }
        true
    }

    /// `connection = source _ "->" _ connection / destination`, without
    /// recursion: collect `source ->` steps, then (as the recursive rule's
    /// fallbacks would, innermost first) end with the first position, from
    /// the last, where a `destination` matches.
    fn connection(&mut self) -> Option<Conn> {
        let mut steps: Vec<(usize, Vec<Half>)> = Vec::new();
        loop {
            let at = self.cur.pos();
            let step = self.attempt(|p| {
                let source = p.source()?;
                p.spaces();
                p.cur.lit("->").then_some(())?;
                p.spaces();
                Some(source)
            });
            let Some(source) = step else { break };
            steps.push((at, source));
        }
        let mut at = self.cur.pos();
        loop {
            self.cur.reset(at);
            if let Some(last) = self.destination() {
                if steps.is_empty() {
                    return Some(last);
                }
                let mut halves: Vec<Half> =
                    steps.into_iter().flat_map(|(_, halves)| halves).collect();
                halves.extend(last.halves);
                return Some(Conn {
                    halves,
                    is_array: true,
                });
            }
            let (start, _) = steps.pop()?;
            at = start;
        }
    }

    /// `source = bridge / outport / iip`.
    fn source(&mut self) -> Option<Vec<Half>> {
        if let Some(bridge) = self.bridge() {
            return Some(bridge);
        }
        if let Some(node) = self.node() {
            let port = self.spaces_port();
            return Some(vec![self.build.src(&node, port)]);
        }
        self.iip().map(|data| vec![Half::Data(data)])
    }

    /// `destination = inport / bridge`; an inport is not an array.
    fn destination(&mut self) -> Option<Conn> {
        let inport = self.attempt(|p| {
            let port = p.port_spaces();
            let node = p.node()?;
            Some(p.build.tgt(&node, port))
        });
        if let Some(tgt) = inport {
            return Some(Conn {
                halves: vec![tgt],
                is_array: false,
            });
        }
        self.bridge().map(|halves| Conn {
            halves,
            is_array: true,
        })
    }

    /// `bridge = port__ node __port / port__? nodeWithComponent __port?`:
    /// a node in the middle of a chain, both a target and a source.
    fn bridge(&mut self) -> Option<Vec<Half>> {
        let full = self.attempt(|p| {
            let inport = p.port_spaces()?;
            let node = p.node()?;
            let outport = p.spaces_port()?;
            Some((Some(inport), node, Some(outport)))
        });
        let (inport, node, outport) = match full {
            Some(parsed) => parsed,
            None => self.attempt(|p| {
                let inport = p.port_spaces();
                let node = p.node_with_component()?;
                Some((inport, node, p.spaces_port()))
            })?,
        };
        Some(vec![
            self.build.tgt(&node, inport),
            self.build.src(&node, outport),
        ])
    }

    /// `iip = "'" iipchar* "'" / JSON_text`, where `\'` is a quote and any
    /// other character (backslashes included) stands for itself.
    fn iip(&mut self) -> Option<serde_json::Value> {
        let quoted = self.attempt(|p| {
            p.cur.lit("'").then_some(())?;
            let mut text = String::new();
            loop {
                let before = p.cur.pos();
                if p.cur.lit("\\") {
                    if p.cur.lit("'") {
                        text.push('\'');
                        continue;
                    }
                    p.cur.reset(before);
                }
                match p
                    .cur
                    .one(|ch| ch != '\'', Expected::Named("any character but \"'\""))
                {
                    Some(ch) => text.push(ch),
                    None => break,
                }
            }
            p.cur.lit("'").then_some(text)
        });
        match quoted {
            Some(text) => Some(serde_json::Value::String(text)),
            None => self.cur.json_text(),
        }
    }
}
