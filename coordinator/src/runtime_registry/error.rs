//! [`RegistryError`]: why a request to a runtime registry failed, in one
//! line naming the registry's URL.

use std::error::Error as _;

/// A registry request that did not get the answer it wanted.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// `--registry` is not an `http://` or `https://` URL.
    #[error("--registry {url:?}: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// No TLS client configuration (for an `https://` registry).
    #[error("registry {url}: {reason}")]
    Tls {
        /// The registry.
        url: String,
        /// Why (one line, from `msgflo_transport::tls`).
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("registry {url}: cannot set up the HTTP client: {}", chain(source))]
    Client {
        /// The registry.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// No answer: refused, unresolvable, timed out, cut off.
    #[error("cannot reach the registry at {url}: {}", chain(source))]
    Unreachable {
        /// The request's URL.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// An answer other than success.
    #[error("registry {method} {url} answered {status}: {message}")]
    Status {
        /// `PUT`, `POST`, `GET`.
        method: &'static str,
        /// The request's URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's `{"error": ...}`, else the status's reason.
        message: String,
    },
    /// A success whose body is not what the API promises.
    #[error("registry {url} answered something that is not {expected}: {reason}")]
    Garbage {
        /// The request's URL.
        url: String,
        /// What was expected (`a list of runtimes`, `a user`).
        expected: &'static str,
        /// Why it does not parse.
        reason: String,
    },
}

impl RegistryError {
    /// The registry does not know the runtime (a ping after it forgot us).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status: 404, .. })
    }

    /// The token is missing, unknown or not the owner's (401, 403).
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            Self::Status {
                status: 401 | 403,
                ..
            }
        )
    }
}

/// `error` and its sources, `: `-separated, without reqwest repeating the
/// URL that the message already names.
fn chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut next: Option<&dyn std::error::Error> = error.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    if error.is_timeout() && !parts.iter().any(|p| p.contains("timed out")) {
        parts.insert(0, "timed out".into());
    }
    if parts.is_empty() {
        // reqwest's own text, without the ` for url (...)` already said.
        let text = error.to_string();
        return text
            .split_once(" for url (")
            .map_or(text.clone(), |(head, _)| head.to_owned());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_say_what_the_registry_said_and_sort_themselves() {
        let url = "http://r:8080/runtimes/rt".to_owned();
        let gone = RegistryError::Status {
            method: "POST",
            url: url.clone(),
            status: 404,
            message: "no runtime rt".into(),
        };
        assert_eq!(
            gone.to_string(),
            "registry POST http://r:8080/runtimes/rt answered 404: no runtime rt"
        );
        assert!(gone.is_not_found() && !gone.is_refused());
        let refused = RegistryError::Status {
            method: "PUT",
            url,
            status: 401,
            message: "invalid token".into(),
        };
        assert!(refused.is_refused() && !refused.is_not_found());
    }
}
