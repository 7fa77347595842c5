//! Which [`Rights`] a request carries: the shared secret, a token of the
//! tokens file, or nothing (pure; the file is read by
//! [`crate::tokens_file`]).
//!
//! Neither the secret nor the tokens are compared as text: each is kept as
//! its SHA-256 digest, and what a client shows is hashed once and compared
//! with the secret's and every token's digest in constant time
//! (`subtle`), without stopping at a match. So how long an answer takes
//! says nothing about how close a guess was, nor which token it matched,
//! and the digests all have one length.

use super::rights::{Grant, Rights};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// The SHA-256 digest of a secret or token: what is kept and compared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key([u8; 32]);

impl Key {
    pub(super) fn of(text: &str) -> Self {
        Self(Sha256::digest(text.as_bytes()).into())
    }

    fn matches(&self, other: &Key) -> Choice {
        self.0[..].ct_eq(&other.0[..])
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Why a set of tokens is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokensError {
    /// A token is empty.
    #[error("the token of {name:?} is empty")]
    Empty {
        /// Its name.
        name: String,
    },
    /// A token has no name.
    #[error("token number {number} has an empty name")]
    NoName {
        /// Its place in the list, from 1.
        number: usize,
    },
    /// Two tokens have one name (refusals and the log name tokens).
    #[error("two tokens are named {name:?}")]
    SameName {
        /// The name.
        name: String,
    },
    /// Two entries have one token: which rights it carries would be
    /// unclear.
    #[error("{first:?} and {second:?} have the same token")]
    SameToken {
        /// The first entry's name.
        first: String,
        /// The second's.
        second: String,
    },
}

/// The tokens in force: each one's digest and what it grants. Its `Debug`
/// shows the names only.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<(Key, Arc<Grant>)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Tokens {
    /// The tokens of `entries` (token, grant); names and tokens must be
    /// unique and not empty.
    pub fn new(entries: impl IntoIterator<Item = (String, Grant)>) -> Result<Self, TokensError> {
        let mut tokens = Self::default();
        for (number, (token, grant)) in entries.into_iter().enumerate() {
            if grant.name.is_empty() {
                return Err(TokensError::NoName { number: number + 1 });
            }
            if token.is_empty() {
                return Err(TokensError::Empty { name: grant.name });
            }
            if tokens.names().any(|n| n == grant.name) {
                return Err(TokensError::SameName { name: grant.name });
            }
            let key = Key::of(&token);
            if let Some(first) = tokens.find(&key) {
                return Err(TokensError::SameToken {
                    first: first.name.clone(),
                    second: grant.name,
                });
            }
            tokens.entries.push((key, Arc::new(grant)));
        }
        Ok(tokens)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Their names, in the file's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, grant)| grant.name.as_str())
    }

    /// The grant of the token whose digest is `key`: every entry is
    /// compared, in constant time, whether or not one matched before.
    fn find(&self, key: &Key) -> Option<&Arc<Grant>> {
        let (mut index, mut found) = (0u64, Choice::from(0));
        for (i, (candidate, _)) in self.entries.iter().enumerate() {
            let matches = candidate.matches(key);
            index.conditional_assign(&(i as u64), matches);
            found |= matches;
        }
        let index = usize::try_from(index).ok()?;
        bool::from(found).then(|| &self.entries[index].1)
    }
}

/// The secret and the tokens: who gets in, with which rights.
#[derive(Debug, Clone, Default)]
pub(super) struct Guard {
    secret: Option<Key>,
    /// `None`: no tokens file.
    tokens: Option<Tokens>,
}

/// A client let in: its rights, and the token it showed (kept as its
/// digest) to look its rights up again when the tokens change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Admitted {
    pub(super) rights: Rights,
    pub(super) token: Option<Key>,
}

impl Guard {
    pub(super) fn new(secret: Option<&str>, tokens: Option<Tokens>) -> Self {
        Self {
            secret: secret.map(Key::of),
            tokens,
        }
    }

    /// No secret and no tokens file: everyone may do everything.
    pub(super) fn open(&self) -> bool {
        self.secret.is_none() && self.tokens.is_none()
    }

    /// Whom `shown` (the request's secret or token, if any) lets in, with
    /// which rights; `None`: nobody.
    pub(super) fn admit(&self, shown: Option<&str>) -> Option<Admitted> {
        if self.open() {
            return Some(Admitted {
                rights: Rights::Full,
                token: None,
            });
        }
        let key = Key::of(shown?);
        // Both are compared, whichever matches.
        let secret = self
            .secret
            .as_ref()
            .is_some_and(|secret| bool::from(secret.matches(&key)));
        let grant = self.lookup(&key);
        if secret {
            return Some(Admitted {
                rights: Rights::Full,
                token: None,
            });
        }
        grant.map(|rights| Admitted {
            rights,
            token: Some(key),
        })
    }

    /// The rights token `key` carries now.
    pub(super) fn lookup(&self, key: &Key) -> Option<Rights> {
        let grant = self.tokens.as_ref()?.find(key)?;
        Some(Rights::Granted(grant.clone()))
    }

    /// The tokens file was read again: these tokens replace the old ones.
    pub(super) fn replace(&mut self, tokens: Tokens) {
        self.tokens = Some(tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::super::rights::Ports;
    use super::*;

    fn grant(name: &str, edit: bool) -> Grant {
        Grant {
            name: name.into(),
            send: Ports::Only(Default::default()),
            receive: Ports::Only(Default::default()),
            edit,
        }
    }

    fn tokens(entries: &[(&str, &str)]) -> Result<Tokens, TokensError> {
        Tokens::new(
            entries
                .iter()
                .map(|(token, name)| ((*token).to_owned(), grant(name, false))),
        )
    }

    #[test]
    fn every_token_is_found_by_itself_only() {
        let table = tokens(&[("abc", "one"), ("abd", "two"), ("x", "three")]).unwrap();
        for (token, name) in [("abc", "one"), ("abd", "two"), ("x", "three")] {
            let found = table.find(&Key::of(token)).map(|g| g.name.as_str());
            assert_eq!(found, Some(name));
        }
        for wrong in ["", "ab", "abcd", "ABC", "y"] {
            assert!(table.find(&Key::of(wrong)).is_none(), "{wrong:?}");
        }
        assert!(Tokens::default().find(&Key::of("abc")).is_none());
    }

    #[test]
    fn empty_duplicate_and_unnamed_tokens_are_refused() {
        assert_eq!(
            tokens(&[("", "a")]).unwrap_err(),
            TokensError::Empty { name: "a".into() }
        );
        assert_eq!(
            tokens(&[("t", "a"), ("t", "b")]).unwrap_err(),
            TokensError::SameToken {
                first: "a".into(),
                second: "b".into()
            }
        );
        assert_eq!(
            tokens(&[("t", "a"), ("u", "a")]).unwrap_err(),
            TokensError::SameName { name: "a".into() }
        );
        assert_eq!(
            tokens(&[("t", "")]).unwrap_err(),
            TokensError::NoName { number: 1 }
        );
    }

    #[test]
    fn the_secret_means_full_rights_a_token_its_grant_and_nothing_else_gets_in() {
        let guard = Guard::new(Some("s3cret"), Some(tokens(&[("tok", "dash")]).unwrap()));
        assert!(!guard.open());
        assert_eq!(guard.admit(Some("s3cret")).unwrap().rights, Rights::Full);
        let admitted = guard.admit(Some("tok")).unwrap();
        assert!(matches!(&admitted.rights, Rights::Granted(g) if g.name == "dash"));
        assert_eq!(admitted.token, Some(Key::of("tok")));
        assert_eq!(guard.admit(Some("wrong")), None);
        assert_eq!(guard.admit(None), None);
        let open = Guard::new(None, None);
        assert_eq!(open.admit(None).unwrap().rights, Rights::Full);
        let only_tokens = Guard::new(None, Some(Tokens::default()));
        assert_eq!(
            only_tokens.admit(Some("anything")),
            None,
            "no token: closed"
        );
    }

    #[test]
    fn replaced_tokens_are_looked_up_by_the_digest_a_client_showed() {
        let mut guard = Guard::new(None, Some(tokens(&[("tok", "old")]).unwrap()));
        let key = guard.admit(Some("tok")).unwrap().token.unwrap();
        guard.replace(tokens(&[("tok", "new")]).unwrap());
        assert!(matches!(guard.lookup(&key), Some(Rights::Granted(g)) if g.name == "new"));
        guard.replace(tokens(&[("other", "new")]).unwrap());
        assert_eq!(guard.lookup(&key), None, "withdrawn");
    }

    #[test]
    fn debug_shows_names_never_tokens() {
        let table = tokens(&[("very-secret-token", "dash")]).unwrap();
        let shown = format!("{:?}", Guard::new(Some("the-secret"), Some(table)));
        assert!(shown.contains("dash"), "{shown}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("the-secret"),
            "{shown}"
        );
    }
}
