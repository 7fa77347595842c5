//! The input position and PEG.js-style failure tracking.
//!
//! Every terminal that fails to match records what it expected at the current
//! position, unless failures are silenced (inside named rules such as `number`).
//! Only the expectations at the furthest position are kept: that is where a
//! syntax error is reported, exactly like PEG.js does.

use super::error::{ParseError, ParseErrorKind};

/// Something the parser would have accepted at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Expected {
    /// A literal token, shown quoted: `"->"`.
    Lit(&'static str),
    /// A described class of input, shown as is: `port name`.
    Named(&'static str),
}

impl Expected {
    fn describe(self) -> String {
        match self {
            Expected::Lit(lit) => format!("\"{}\"", lit.replace('\\', "\\\\").replace('"', "\\\"")),
            Expected::Named(name) => name.to_string(),
        }
    }
}

/// A position in the input plus the furthest failure seen so far.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    silent: u32,
    fail_pos: usize,
    expected: Vec<Expected>,
    /// Set when parsing must stop at once (e.g. nesting too deep); from then on
    /// nothing matches, so every rule unwinds quickly.
    fatal: Option<(usize, ParseErrorKind)>,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            pos: 0,
            silent: 0,
            fail_pos: 0,
            expected: Vec::new(),
            fatal: None,
        }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves back to `pos` (a position this cursor returned earlier).
    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// The text between two positions this cursor returned.
    pub(crate) fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    /// The next character, or `None` at the end (or after a fatal error).
    pub(crate) fn peek(&self) -> Option<char> {
        if self.fatal.is_some() {
            return None;
        }
        self.text.get(self.pos..)?.chars().next()
    }

    /// Stops the parse with `kind` at the current position.
    pub(crate) fn abort(&mut self, kind: ParseErrorKind) {
        if self.fatal.is_none() {
            self.fatal = Some((self.pos, kind));
        }
    }

    /// Records that `what` was expected at the current position.
    pub(crate) fn fail(&mut self, what: Expected) {
        if self.silent > 0 || self.pos < self.fail_pos {
            return;
        }
        if self.pos > self.fail_pos {
            self.fail_pos = self.pos;
            self.expected.clear();
        }
        self.expected.push(what);
    }

    /// Runs `rule` with failures silenced; a failing named rule then records
    /// its own name instead (see [`Cursor::named`]).
    pub(crate) fn named<T>(
        &mut self,
        name: &'static str,
        rule: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        let start = self.pos;
        self.silent += 1;
        let result = rule(self);
        self.silent -= 1;
        if result.is_none() {
            self.pos = start;
            self.fail(Expected::Named(name));
        }
        result
    }

    /// Matches the literal `lit`.
    pub(crate) fn lit(&mut self, lit: &'static str) -> bool {
        let found = self.fatal.is_none()
            && self
                .text
                .get(self.pos..)
                .is_some_and(|rest| rest.starts_with(lit));
        if found {
            self.pos += lit.len();
        } else {
            self.fail(Expected::Lit(lit));
        }
        found
    }

    /// Matches one character of the class `class`, described as `what`.
    pub(crate) fn one(&mut self, class: fn(char) -> bool, what: Expected) -> Option<char> {
        match self.peek() {
            Some(ch) if class(ch) => {
                self.pos += ch.len_utf8();
                Some(ch)
            }
            _ => {
                self.fail(what);
                None
            }
        }
    }

    /// `class*`: as many characters of the class as there are (maybe none).
    pub(crate) fn star(&mut self, class: fn(char) -> bool, what: Expected) -> &'a str {
        let start = self.pos;
        while self.one(class, what).is_some() {}
        self.slice(start, self.pos)
    }

    /// `class+`: at least one character of the class.
    pub(crate) fn plus(&mut self, class: fn(char) -> bool, what: Expected) -> Option<&'a str> {
        let start = self.pos;
        self.one(class, what)?;
        self.star(class, what);
        Some(self.slice(start, self.pos))
    }

    /// The error to report: the fatal one if any, else the furthest failure.
    pub(crate) fn into_error(self) -> ParseError {
        if let Some((at, kind)) = self.fatal {
            return ParseError::at(self.text, at, kind);
        }
        let mut expected = self.expected;
        expected.sort();
        expected.dedup();
        let found = self
            .text
            .get(self.fail_pos..)
            .and_then(|rest| rest.chars().next());
        let kind = ParseErrorKind::Syntax {
            expected: expected.into_iter().map(Expected::describe).collect(),
            found,
        };
        ParseError::at(self.text, self.fail_pos, kind)
    }

    /// The furthest position where something failed to match.
    pub(crate) fn fail_pos(&self) -> usize {
        self.fail_pos
    }

    pub(crate) fn is_fatal(&self) -> bool {
        self.fatal.is_some()
    }
}
