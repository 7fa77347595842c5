//! Graph files in either format: the `.fbp` language or JSON.
//!
//! The format comes from the file extension (`.fbp`, `.json`), or, for names
//! without one (standard input), from the content: JSON graphs start with `{`.

use msgflo_protocol::delivery;
use msgflo_protocol::dsl::{self, ParseOptions};
use msgflo_protocol::graph::Graph;
use std::path::Path;

/// A graph file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The `.fbp` language.
    Fbp,
    /// The JSON graph format.
    Json,
}

impl Format {
    /// The format a file name says, if it says one.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "fbp" => Some(Format::Fbp),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format a text looks like: JSON if it starts with `{`.
    pub fn sniff(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Fbp
        }
    }

    /// The other format.
    pub fn other(self) -> Self {
        match self {
            Format::Fbp => Format::Json,
            Format::Json => Format::Fbp,
        }
    }
}

/// A graph file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum GraphFileError {
    /// Reading the file failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The `.fbp` text is not valid.
    #[error("{0}")]
    Fbp(#[from] dsl::ParseError),
    /// The JSON is not a graph.
    #[error("{0}")]
    Json(#[from] msgflo_protocol::graph::GraphError),
    /// The graph cannot be written as `.fbp`.
    #[error("{0}")]
    Serialize(#[from] dsl::SerializeError),
    /// An edge's `delivery` metadata is no delivery mode's name.
    #[error("edge {edge}: {reason}")]
    Delivery {
        /// The edge, `A() OUT -> IN B()`.
        edge: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file's content is not a graph.
    #[error("{path}: {source}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong with it.
        source: Box<GraphFileError>,
    },
}

/// A graph written out, with what the format could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The file content.
    pub text: String,
    /// Parts of the graph that were dropped (only `.fbp` drops anything).
    pub lost: Vec<String>,
}

/// Parses `text` in `format`. `case_sensitive` applies to `.fbp` only; JSON
/// graphs say it themselves.
pub fn parse(text: &str, format: Format, case_sensitive: bool) -> Result<Graph, GraphFileError> {
    let graph = match format {
        Format::Fbp => dsl::parse_with(text, &ParseOptions { case_sensitive })?,
        Format::Json => Graph::from_json(text)?,
    };
    for edge in graph.edges() {
        if let Err(reason) = delivery::in_metadata(edge.metadata.as_ref()) {
            let edge = msgflo_protocol::graph::edge_name(&edge.src, &edge.tgt);
            return Err(GraphFileError::Delivery { edge, reason });
        }
    }
    Ok(graph)
}

/// Reads and parses a graph file; the format comes from its extension or
/// content. Errors name the file.
pub fn load(path: &Path, case_sensitive: bool) -> Result<Graph, GraphFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| GraphFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let format = Format::from_path(path).unwrap_or_else(|| Format::sniff(&text));
    parse(&text, format, case_sensitive).map_err(|source| GraphFileError::Invalid {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

/// Writes `graph` in `format`: pretty JSON, or `.fbp` text.
pub fn render(graph: &Graph, format: Format) -> Result<Rendered, GraphFileError> {
    Ok(match format {
        Format::Json => Rendered {
            text: graph.to_json_pretty() + "\n",
            lost: Vec::new(),
        },
        Format::Fbp => {
            let out = dsl::serialize(graph)?;
            Rendered {
                text: out.text,
                lost: out.lost,
            }
        }
    })
}

/// Writes `graph` to `path` in the format its name says (JSON if unsure):
/// to a temporary file beside it, then renamed over it, so a reader never
/// sees half a graph. What `.fbp` cannot express is logged.
pub fn save_atomically(path: &Path, graph: &Graph) -> std::io::Result<()> {
    let format = Format::from_path(path).unwrap_or(Format::Json);
    let rendered = render(graph, format).map_err(std::io::Error::other)?;
    for lost in &rendered.lost {
        tracing::warn!(path = %path.display(), %lost, "not saved: .fbp cannot express it");
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "graph".into());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, rendered.text)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_replaces_the_file_whole_in_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fbp");
        std::fs::write(&path, "old").unwrap();
        let graph = parse(
            "a(core/Repeat) OUT -> IN b(core/Drop)\n",
            Format::Fbp,
            false,
        )
        .unwrap();
        save_atomically(&path, &graph).unwrap();
        assert_eq!(load(&path, false).unwrap(), graph);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_file_whose_edge_names_no_delivery_mode_is_refused_naming_the_edge() {
        let graph = r#"{"processes": {"a": {"component": "core/Repeat"}, "b": {"component": "core/Drop"}},
            "connections": [{"src": {"process": "a", "port": "out"}, "tgt": {"process": "b", "port": "in"},
                             "metadata": {"delivery": "fast"}}]}"#;
        let error = parse(graph, Format::Json, false).unwrap_err().to_string();
        assert_eq!(
            error,
            "edge a() OUT -> IN b(): edge metadata \"delivery\": unknown delivery mode \"fast\": persistent or transient"
        );
        let good = graph.replace("fast", "transient");
        assert!(parse(&good, Format::Json, false).is_ok());
    }

    #[test]
    fn format_comes_from_extension_then_content() {
        assert_eq!(Format::from_path(Path::new("a/b.FBP")), Some(Format::Fbp));
        assert_eq!(Format::from_path(Path::new("g.json")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("-")), None);
        assert_eq!(Format::sniff("  \n{\"processes\":{}}"), Format::Json);
        assert_eq!(Format::sniff("# @runtime msgflo\n"), Format::Fbp);
    }

    #[test]
    fn fbp_to_json_and_back() {
        let graph = parse(
            "a(core/Repeat) OUT -> IN b(core/Drop)\n",
            Format::Fbp,
            false,
        )
        .unwrap();
        let json = render(&graph, Format::Json).unwrap();
        assert!(json.lost.is_empty());
        let again = parse(&json.text, Format::Json, false).unwrap();
        assert_eq!(again, graph);
        let fbp = render(&again, Format::Fbp).unwrap();
        assert_eq!(parse(&fbp.text, Format::Fbp, false).unwrap(), graph);
    }

    #[test]
    fn load_names_the_file_of_a_syntax_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.fbp");
        std::fs::write(&path, "a(core/Repeat) OUT -> \n").unwrap();
        let err = load(&path, false).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn load_names_the_missing_file() {
        let err = load(Path::new("/nonexistent/graph.fbp"), false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/graph.fbp: "),
            "{err}"
        );
    }
}
