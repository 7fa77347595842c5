//! Reading an HTTP request's head off a new connection to the FBP port:
//! enough to tell a WebSocket upgrade (an FBP client) from a plain request
//! (`/metrics`, the live view), at most [`LIMIT`] bytes within [`WAIT`].

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The most a request head may take.
pub const LIMIT: usize = 16 * 1024;
/// How long a client may take to send it.
pub const WAIT: Duration = Duration::from_secs(10);

/// What the coordinator needs of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `GET`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Whether it asks for a WebSocket (`Upgrade: websocket`).
    pub websocket: bool,
    /// The `Authorization: Bearer` credential, if any.
    pub bearer: Option<String>,
    /// The query's `secret` parameter, if any: a browser's page and its
    /// event stream cannot send headers, so they show the secret there.
    pub secret: Option<String>,
}

impl Head {
    /// The secret or token the request showed: the bearer credential, else
    /// the query's `secret`.
    pub fn shown(&self) -> Option<String> {
        self.bearer.clone().or_else(|| self.secret.clone())
    }
}

/// Why no head was read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP.
    #[error("not an HTTP request: {0}")]
    Garbage(String),
    /// Longer than [`LIMIT`].
    #[error("request head over {LIMIT} bytes")]
    TooLarge,
    /// The client closed, or sent nothing within [`WAIT`].
    #[error("no request")]
    Gone,
}

/// Reads until a whole head came; returns it and every byte read.
pub async fn read<S: AsyncRead + Unpin>(stream: &mut S) -> Result<(Head, Vec<u8>), HeadError> {
    let mut read = Vec::with_capacity(1024);
    let reading = async {
        loop {
            let mut chunk = [0u8; 2048];
            let n = stream.read(&mut chunk).await.map_err(|_| HeadError::Gone)?;
            if n == 0 {
                return Err(HeadError::Gone);
            }
            read.extend_from_slice(&chunk[..n]);
            if let Some(head) = parse(&read)? {
                return Ok(head);
            }
            if read.len() > LIMIT {
                return Err(HeadError::TooLarge);
            }
        }
    };
    let head = tokio::time::timeout(WAIT, reading)
        .await
        .map_err(|_| HeadError::Gone)??;
    Ok((head, read))
}

/// The head in `bytes`, once they hold all of it.
pub fn parse(bytes: &[u8]) -> Result<Option<Head>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HeadError::Garbage(e.to_string())),
        Ok(httparse::Status::Complete(_)) => {
            let header = |name: &str| {
                request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .map(str::trim)
            };
            let websocket = header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            let bearer = header("authorization")
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, credential)| credential.trim().to_owned());
            let target = request.path.unwrap_or("/");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let secret = url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "secret")
                .map(|(_, value)| value.into_owned());
            Ok(Some(Head {
                method: request.method.unwrap_or_default().to_owned(),
                path: path.to_owned(),
                websocket,
                bearer,
                secret,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_websocket_upgrade_and_a_plain_request_are_told_apart() {
        let ws = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        assert!(parse(ws).expect("parses").expect("whole").websocket);
        let plain = b"GET /metrics?x=1 HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n";
        let head = parse(plain).expect("parses").expect("whole");
        assert_eq!(
            head,
            Head {
                method: "GET".into(),
                path: "/metrics".into(),
                websocket: false,
                bearer: Some("s3cret".into()),
                secret: None,
            }
        );
        let page = b"GET /?secret=a%20b&x=1 HTTP/1.1\r\n\r\n";
        let head = parse(page).expect("parses").expect("whole");
        assert_eq!(
            (head.path.as_str(), head.shown()),
            ("/", Some("a b".into()))
        );
        assert_eq!(parse(b"GET /metr"), Ok(None));
        assert!(matches!(
            parse(b"\x16\x03\x01garbage\r\n\r\n"),
            Err(HeadError::Garbage(_))
        ));
    }

    #[tokio::test]
    async fn a_head_that_never_ends_is_too_large() {
        let endless = vec![b'a'; LIMIT + 10];
        let mut request = b"GET / HTTP/1.1\r\nX: ".to_vec();
        request.extend(endless);
        let mut stream: &[u8] = &request;
        assert_eq!(
            read(&mut stream).await.map(|_| ()),
            Err(HeadError::TooLarge)
        );
    }
}
