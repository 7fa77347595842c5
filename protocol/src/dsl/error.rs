//! Why a `.fbp` text was rejected, and where.

use std::fmt;

/// A `.fbp` text could not be parsed. `line` and `column` are 1-based; a column
/// counts characters (Unicode scalar values; the reference counts UTF-16 units),
/// and lines end as in the reference parser: at `\n`, `\r`, U+2028 or U+2029,
/// with a `\n` right after one of the other three not counted again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

/// What went wrong in a `.fbp` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The text does not follow the grammar. As in PEG.js, the position is the
    /// furthest one the parser reached, and `expected` lists what would have let
    /// it go on there.
    #[error("expected {}, found {}", ExpectedList(expected), Found(*found))]
    Syntax {
        /// Descriptions of the tokens that would have been accepted, sorted.
        expected: Vec<String>,
        /// The character found instead; `None` at the end of the input.
        found: Option<char>,
    },
    /// `EXPORT=` lines (exports without a direction) are no longer part of the
    /// language; the reference parser reports a plain syntax error.
    #[error(
        "EXPORT= was removed from the .fbp language; \
         use INPORT=node.PORT:NAME or OUTPORT=node.PORT:NAME"
    )]
    LegacyExport,
    /// An addressable-port index does not fit in `u32`. The reference parser
    /// accepts any index (as a float); graph endpoints store a `u32`.
    #[error("port index [{digits}] is too large (at most {})", u32::MAX)]
    IndexTooLarge {
        /// The digits as written.
        digits: String,
    },
    /// A JSON IIP nests arrays and objects deeper than the parser allows.
    #[error("JSON value nested more than {limit} levels deep")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// A node was only ever mentioned without a component, e.g. `a()` or `()`.
    #[error("Node \"{node}\" does not have a component defined")]
    MissingComponent {
        /// The node's name.
        node: String,
    },
    /// An export, edge or IIP names a node that is never declared with a component.
    #[error("{used_by} is connected to an undefined {} node \"{node}\"", used_by.role())]
    UndefinedNode {
        /// The undeclared node.
        node: String,
        /// What refers to it.
        used_by: NodeUse,
    },
}

/// What refers to an undefined node; the wording follows the reference parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeUse {
    /// `INPORT=node.PORT:PUBLIC`.
    Inport {
        /// The public port name.
        public: String,
    },
    /// `OUTPORT=node.PORT:PUBLIC`.
    Outport {
        /// The public port name.
        public: String,
    },
    /// An IIP sent to the node; `data` is the packet as text.
    Iip {
        /// The packet: a string as is, anything else as compact JSON.
        data: String,
    },
    /// An edge from `node`'s `port` into the undefined node.
    EdgeFrom {
        /// The source node.
        node: String,
        /// The source port.
        port: String,
    },
    /// An edge from the undefined node into `node`'s `port`.
    EdgeTo {
        /// The target node.
        node: String,
        /// The target port.
        port: String,
    },
}

impl NodeUse {
    /// Whether the undefined node is the `target` or the `source` of the use.
    pub fn role(&self) -> &'static str {
        match self {
            NodeUse::Outport { .. } | NodeUse::EdgeTo { .. } => "source",
            NodeUse::Inport { .. } | NodeUse::Iip { .. } | NodeUse::EdgeFrom { .. } => "target",
        }
    }
}

impl fmt::Display for NodeUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeUse::Inport { public } => write!(f, "Inport \"{public}\""),
            NodeUse::Outport { public } => write!(f, "Outport \"{public}\""),
            NodeUse::Iip { data } => write!(f, "IIP containing \"{data}\""),
            NodeUse::EdgeFrom { node, port } => write!(f, "Edge from \"{node}\" port \"{port}\""),
            NodeUse::EdgeTo { node, port } => write!(f, "Edge to \"{node}\" port \"{port}\""),
        }
    }
}

impl ParseErrorKind {
    /// Whether the text breaks the grammar (as opposed to describing a graph
    /// that is incomplete or that this crate cannot represent).
    pub fn is_syntax(&self) -> bool {
        matches!(
            self,
            ParseErrorKind::Syntax { .. } | ParseErrorKind::LegacyExport
        )
    }
}

impl ParseError {
    /// An error of `kind` at byte `offset` of `text`.
    pub(crate) fn at(text: &str, offset: usize, kind: ParseErrorKind) -> Self {
        let (line, column) = line_column(text, offset);
        ParseError { line, column, kind }
    }
}

/// 1-based line and column of byte `offset`, counting line breaks like PEG.js:
/// `\n`, `\r`, U+2028 and U+2029 end a line, but a `\n` right after one of the
/// other three does not end another (so `\r\n` counts once).
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let (mut line, mut column, mut seen_cr) = (1, 1, false);
    for (at, ch) in text.char_indices() {
        if at >= offset {
            break;
        }
        match ch {
            '\n' => {
                if !seen_cr {
                    line += 1;
                }
                column = 1;
                seen_cr = false;
            }
            '\r' | '\u{2028}' | '\u{2029}' => {
                line += 1;
                column = 1;
                seen_cr = true;
            }
            _ => {
                column += 1;
                seen_cr = false;
            }
        }
    }
    (line, column)
}

/// `"a", "b" or c`.
struct ExpectedList<'a>(&'a [String]);

impl fmt::Display for ExpectedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("nothing"),
            [only] => f.write_str(only),
            [init @ .., last] => write!(f, "{} or {last}", init.join(", ")),
        }
    }
}

/// `"x"` (escaped) or `end of input`.
struct Found(Option<char>);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some('\'') => f.write_str("\"'\""),
            Some(ch) => write!(f, "\"{}\"", ch.escape_debug()),
            None => f.write_str("end of input"),
        }
    }
}
