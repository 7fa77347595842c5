//! [`RegistryClient`]: the four requests a coordinator and
//! `msgflo-participants` make of a runtime registry — register (`PUT`),
//! ping (`POST`), list (`GET /runtimes/`), who am I (`GET /user`) — over
//! reqwest with the transports' rustls configuration (ring provider given
//! explicitly; no process-wide default is needed).

use super::error::RegistryError;
use super::wire::{Listed, Registration, User};
use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long one request may take, connecting included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A registry at a base URL, with the token requests that need one carry.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

/// What a register answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// 201: the registry did not know the runtime.
    New,
    /// 200: it did, and updated it.
    Updated,
}

impl RegistryClient {
    /// A client of the registry at `base` (`http://` or `https://`; a path
    /// such as `/registry/` is kept), sending `token` as a bearer token.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, RegistryError> {
        Self::with_timeout(base, token, REQUEST_TIMEOUT)
    }

    /// [`RegistryClient::new`] with requests limited to `timeout`.
    pub fn with_timeout(
        base: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, RegistryError> {
        let bad = |reason: String| RegistryError::BadUrl {
            url: base.to_owned(),
            reason,
        };
        let mut url = Url::parse(base.trim()).map_err(|e| bad(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("an http:// or https:// URL is needed".into()));
        }
        if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a base URL without query or fragment is needed".into()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let tls = tls_config(&url)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(Arc::unwrap_or_clone(tls))
            .timeout(timeout)
            .user_agent(concat!("msgflo-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| RegistryError::Client {
                url: url.to_string(),
                source,
            })?;
        Ok(Self {
            http,
            base: url,
            token: token.filter(|t| !t.trim().is_empty()),
        })
    }

    /// The registry's base URL (ending in `/`).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Whether requests carry a token.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `PUT /runtimes/:id` with the token.
    pub async fn register(&self, runtime: &Registration) -> Result<Registered, RegistryError> {
        let url = self.url(&["runtimes", &runtime.id]);
        let request = self.request(Method::PUT, &url, true).json(runtime);
        let response = self.send("PUT", &url, request).await?;
        Ok(match response.status() {
            StatusCode::CREATED => Registered::New,
            _ => Registered::Updated,
        })
    }

    /// `POST /runtimes/:id` with `{}` and no token, as `flowhub-registry`
    /// pings: a registry that forgot the runtime (and its owner) still
    /// answers 404, not 401.
    pub async fn ping(&self, id: &str) -> Result<(), RegistryError> {
        let url = self.url(&["runtimes", id]);
        let request = self
            .request(Method::POST, &url, false)
            .json(&serde_json::json!({}));
        self.send("POST", &url, request).await.map(drop)
    }

    /// `GET /runtimes/`: the token user's runtimes.
    pub async fn list(&self) -> Result<Vec<Listed>, RegistryError> {
        let url = self.url(&["runtimes", ""]);
        let request = self.request(Method::GET, &url, true);
        let response = self.send("GET", &url, request).await?;
        decode(&url, response, "a list of runtimes").await
    }

    /// `GET /user`: whom the token belongs to.
    pub async fn user(&self) -> Result<User, RegistryError> {
        let url = self.url(&["user"]);
        let request = self.request(Method::GET, &url, true);
        let response = self.send("GET", &url, request).await?;
        decode(&url, response, "a user").await
    }

    /// The base URL with `segments` appended, each percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn request(&self, method: Method, url: &Url, with_token: bool) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url.clone());
        match (&self.token, with_token) {
            (Some(token), true) => request.bearer_auth(token),
            _ => request,
        }
    }

    /// Sends `request`; a status other than 2xx is an error carrying the
    /// registry's `{"error": ...}` line.
    async fn send(
        &self,
        method: &'static str,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let response = request
            .send()
            .await
            .map_err(|source| RegistryError::Unreachable {
                url: url.to_string(),
                source,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(RegistryError::Status {
            method,
            url: url.to_string(),
            status: status.as_u16(),
            message: error_message(status, &body),
        })
    }
}

/// The `error` of a JSON error body, else the first line of the body, else
/// the status's reason.
fn error_message(status: StatusCode, body: &str) -> String {
    let said = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .or_else(|| {
            body.lines()
                .next()
                .map(|l| l.trim().chars().take(200).collect())
        })
        .filter(|text: &String| !text.is_empty());
    said.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned())
}

async fn decode<T: DeserializeOwned>(
    url: &Url,
    response: Response,
    expected: &'static str,
) -> Result<T, RegistryError> {
    let garbage = |reason: String| RegistryError::Garbage {
        url: url.to_string(),
        expected,
        reason,
    };
    let body = response.bytes().await.map_err(|e| garbage(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|e| garbage(e.to_string()))
}

/// The transports' rustls client configuration for `https://`; for
/// `http://` one trusting nothing (it is never used, but reqwest wants one
/// and must not look for a process-default provider).
fn tls_config(url: &Url) -> Result<Arc<rustls::ClientConfig>, RegistryError> {
    if url.scheme() == "https" {
        return msgflo_transport::tls::client_config(&[]).map_err(|reason| RegistryError::Tls {
            url: url.to_string(),
            reason,
        });
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::Tls {
            url: url.to_string(),
            reason: format!("TLS setup failed: {e}"),
        })?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_under_the_base_with_the_id_encoded() {
        let client = RegistryClient::new("http://r:8080", None).expect("valid");
        assert_eq!(
            client.url(&["runtimes", "rt:1"]).as_str(),
            "http://r:8080/runtimes/rt:1"
        );
        assert_eq!(
            client.url(&["runtimes", ""]).as_str(),
            "http://r:8080/runtimes/"
        );
        let under = RegistryClient::new("https://h/registry", None).expect("valid");
        assert_eq!(under.url(&["user"]).as_str(), "https://h/registry/user");
        assert_eq!(
            under.url(&["runtimes", "a b/c"]).as_str(),
            "https://h/registry/runtimes/a%20b%2Fc"
        );
    }

    #[test]
    fn only_http_urls_are_registries() {
        for bad in ["ftp://h/", "not a url", "http://h/?q=1", "mailto:x@y"] {
            let error = RegistryClient::new(bad, None).expect_err(bad).to_string();
            assert!(error.starts_with("--registry "), "{error}");
        }
    }

    #[test]
    fn an_error_body_is_read_for_its_line() {
        let s = StatusCode::UNAUTHORIZED;
        assert_eq!(
            error_message(s, r#"{"error":"invalid token"}"#),
            "invalid token"
        );
        assert_eq!(error_message(s, "nope\nmore"), "nope");
        assert_eq!(error_message(s, ""), "Unauthorized");
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_one_line_naming_it() {
        let client = RegistryClient::new("http://127.0.0.1:1", None).expect("valid");
        let error = client.ping("rt").await.expect_err("nothing on port 1");
        let text = error.to_string();
        assert!(
            text.starts_with("cannot reach the registry at http://127.0.0.1:1/runtimes/rt: "),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }
}
