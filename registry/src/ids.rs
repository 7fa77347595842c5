//! Checked identifiers: a runtime's id (from the URL path) and a user's name
//! (from the command line). Both are checked once, where they come in.

use std::fmt;

/// The most characters a runtime id may have.
pub const MAX_RUNTIME_ID: usize = 200;
/// The most characters a user name may have.
pub const MAX_USER_NAME: usize = 100;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Nothing given.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// Over the length limit.
    #[error("{what} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// What it is ("runtime id").
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside the allowed set.
    #[error("{what} {value:?} has {bad:?}; only {allowed} are allowed")]
    BadChar {
        /// What it is.
        what: &'static str,
        /// The value.
        value: String,
        /// The first character refused.
        bad: char,
        /// The allowed characters, in words.
        allowed: &'static str,
    },
}

/// A runtime id: 1 to 200 of `A-Z a-z 0-9 . _ : -` (Flowhub uses UUIDs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuntimeId(String);

impl RuntimeId {
    /// Checks `value`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        check(
            "runtime id",
            value,
            MAX_RUNTIME_ID,
            allowed,
            "letters, digits and . _ : -",
        )?;
        Ok(Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuntimeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's name: 1 to 100 printable characters without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    /// Checks `value`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let allowed = |c: char| !c.is_whitespace() && !c.is_control();
        check(
            "user name",
            value,
            MAX_USER_NAME,
            allowed,
            "printable characters other than spaces",
        )?;
        Ok(Self(value.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check(
    what: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    in_words: &'static str,
) -> Result<(), IdError> {
    let len = value.chars().count();
    if len == 0 {
        return Err(IdError::Empty(what));
    }
    if len > max {
        return Err(IdError::TooLong { what, len, max });
    }
    if let Some(bad) = value.chars().find(|&c| !allowed(c)) {
        return Err(IdError::BadChar {
            what,
            value: value.to_owned(),
            bad,
            allowed: in_words,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_ids_are_uuids_and_similar_names() {
        for ok in [
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "coordinator.main",
            "a:b_c",
        ] {
            assert_eq!(RuntimeId::parse(ok).map(|id| id.to_string()), Ok(ok.into()));
        }
        assert_eq!(
            RuntimeId::parse(&"x".repeat(MAX_RUNTIME_ID)).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn runtime_ids_refused_say_why() {
        assert_eq!(RuntimeId::parse(""), Err(IdError::Empty("runtime id")));
        let long = RuntimeId::parse(&"x".repeat(201)).unwrap_err();
        assert_eq!(
            long.to_string(),
            "runtime id is 201 characters long; at most 200 are allowed"
        );
        let bad = RuntimeId::parse("a b").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "runtime id \"a b\" has ' '; only letters, digits and . _ : - are allowed"
        );
        assert!(RuntimeId::parse("ä").is_err());
    }

    #[test]
    fn user_names_are_printable_without_spaces() {
        assert!(UserName::parse("alice@example.com").is_ok());
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse("a b").is_err());
        assert!(UserName::parse("a\u{7}").is_err());
    }
}
