//! What values a setting takes ([`Kind`]) and checking a value against it.
//! Every layer's value is text here (a TOML number or boolean is turned into
//! its text first), so one check serves files, the environment and flags.

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// A URL (not checked beyond being non-empty: each program parses its own).
    Url,
    /// A file or directory.
    Path,
    /// A TCP port, 0-65535.
    Port,
    /// A whole number, 0 or more.
    Count,
    /// A number of seconds, 0 or more, decimals allowed.
    Seconds,
    /// A number above 0, decimals allowed.
    Rate,
    /// true or false.
    Bool,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

impl Kind {
    /// What a value of this kind looks like, for error messages.
    pub fn expected(self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::Url => "a URL".into(),
            Kind::Path => "a path".into(),
            Kind::Port => "a port number (0-65535)".into(),
            Kind::Count => "a whole number, 0 or more".into(),
            Kind::Seconds => "a number of seconds, 0 or more".into(),
            Kind::Rate => "a number above 0".into(),
            Kind::Bool => "true or false".into(),
            Kind::OneOf(words) => format!("one of {}", words.join(", ")),
        }
    }

    /// Whether `text` is a value of this kind.
    pub fn accepts(self, text: &str) -> bool {
        let text = text.trim();
        match self {
            Kind::Text => true,
            Kind::Url | Kind::Path => !text.is_empty(),
            Kind::Port => text.parse::<u16>().is_ok(),
            Kind::Count => text.parse::<u64>().is_ok(),
            Kind::Seconds => text.parse::<f64>().is_ok_and(|s| s.is_finite() && s >= 0.0),
            Kind::Rate => text.parse::<f64>().is_ok_and(|s| s.is_finite() && s > 0.0),
            Kind::Bool => parse_bool(text).is_some(),
            Kind::OneOf(words) => words.contains(&text),
        }
    }
}

/// `true`/`false` and the usual spellings of them in environment variables.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_take_their_values_and_refuse_others() {
        assert!(Kind::Port.accepts("3569"));
        assert!(!Kind::Port.accepts("70000"));
        assert!(!Kind::Port.accepts("http"));
        assert!(Kind::Seconds.accepts("0.5"));
        assert!(!Kind::Seconds.accepts("-1"));
        assert!(!Kind::Rate.accepts("0"));
        assert!(Kind::Bool.accepts("yes"));
        assert!(!Kind::Bool.accepts("maybe"));
        assert!(Kind::OneOf(&["text", "json"]).accepts("json"));
        assert!(!Kind::OneOf(&["text", "json"]).accepts("xml"));
        assert!(!Kind::Url.accepts(" "));
        assert_eq!(Kind::OneOf(&["a", "b"]).expected(), "one of a, b");
    }
}
