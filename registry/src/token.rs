//! API tokens: made here (244 random bits from the OS: two UUID v4s of 122
//! each, their other 6 bits fixed), shown once, and stored only as their
//! SHA-256 digest; a request's token is found by its digest, so no token is
//! ever compared as text.

use sha2::{Digest as _, Sha256};
use std::fmt::Write as _;

/// A token as given to a user (`mfr_` and 64 hex digits).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A new random token: 244 random bits (uuid's `v4` reads them from
    /// the OS's CSPRNG through getrandom).
    pub fn generate() -> Self {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        Self(format!("mfr_{}{}", a.simple(), b.simple()))
    }

    /// The token as the user gives it back.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The SHA-256 of `token`, as 64 lower-case hex digits: what the store keeps
/// and looks tokens up by.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in hash {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_are_new_each_time_and_not_printed_by_debug() {
        let (a, b) = (Token::generate(), Token::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 4 + 64);
        assert!(a.as_str().starts_with("mfr_"));
        assert_eq!(format!("{a:?}"), "Token(***)");
    }
}
