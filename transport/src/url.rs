//! [`BrokerUrl`]: where the broker is, from `amqp://`, `amqps://`, `mqtt://`,
//! `mqtts://` or `memory://` URLs. Credentials and the AMQP vhost come from the
//! URL; printing a `BrokerUrl` never shows the password.

use super::TransportError;
use std::fmt;

/// The kind of broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RabbitMQ / AMQP 0-9-1 over TCP.
    Amqp,
    /// AMQP over TLS.
    Amqps,
    /// MQTT 3.1.1 over TCP.
    Mqtt,
    /// MQTT over TLS.
    Mqtts,
    /// The in-process broker.
    Memory,
}

impl Scheme {
    fn parse(scheme: &str) -> Option<Self> {
        Some(match scheme {
            "amqp" => Scheme::Amqp,
            "amqps" => Scheme::Amqps,
            "mqtt" => Scheme::Mqtt,
            "mqtts" => Scheme::Mqtts,
            "memory" => Scheme::Memory,
            _ => return None,
        })
    }

    /// The URL scheme, e.g. `"amqp"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Amqp => "amqp",
            Scheme::Amqps => "amqps",
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Memory => "memory",
        }
    }

    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Amqp => 5672,
            Scheme::Amqps => 5671,
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Memory => 0,
        }
    }

    /// TLS is used.
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Amqps | Scheme::Mqtts)
    }
}

/// A parsed broker address.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Kind of broker.
    pub scheme: Scheme,
    /// Host name or address; for `memory://NAME`, the broker's name.
    pub host: String,
    /// TCP port (the scheme's default when not given).
    pub port: u16,
    /// User name, if the URL has one.
    pub username: Option<String>,
    /// Password, if the URL has one. Never printed.
    pub password: Option<String>,
    /// AMQP virtual host (`/` when the URL has no path).
    pub vhost: String,
    raw: String,
}

impl BrokerUrl {
    /// Parses a broker URL; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let bad = |reason: String| TransportError::BadUrl {
            url: redact(text),
            reason,
        };
        let url = url::Url::parse(text.trim()).map_err(|e| bad(e.to_string()))?;
        let scheme = Scheme::parse(url.scheme()).ok_or_else(|| {
            bad(format!(
                "unknown scheme {:?}; use amqp://, amqps://, mqtt://, mqtts:// or memory://",
                url.scheme()
            ))
        })?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let host = match (scheme, host.is_empty()) {
            (Scheme::Memory, true) => "default".to_owned(),
            (_, true) => return Err(bad("no host".into())),
            (_, false) => host,
        };
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| bad(format!("bad percent-encoding in {s:?}")))
        };
        let username = match url.username() {
            "" => None,
            user => Some(decode(user)?),
        };
        let password = url.password().map(decode).transpose()?;
        let vhost = match url.path().trim_start_matches('/') {
            "" => "/".to_owned(),
            path => decode(path)?,
        };
        Ok(BrokerUrl {
            scheme,
            port: url.port().unwrap_or(scheme.default_port()),
            host,
            username,
            password,
            vhost,
            raw: text.trim().to_owned(),
        })
    }

    /// The URL as given, password included: for handing to a client library.
    pub fn as_secret_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if let Some(user) = &self.username {
            write!(f, "{user}@")?;
        }
        if self.scheme == Scheme::Memory {
            return f.write_str(&self.host);
        }
        write!(f, "{}:{}", self.host, self.port)?;
        if matches!(self.scheme, Scheme::Amqp | Scheme::Amqps) && self.vhost != "/" {
            write!(f, "/{}", self.vhost)?;
        }
        Ok(())
    }
}

impl fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BrokerUrl({self})")
    }
}

/// `text` with any `:password@` replaced by `:***@`, for error messages. The
/// user information runs to the LAST `@` before the path-less rest, and a
/// password may hold `/`, `@` or `:`; when in doubt, more is hidden.
pub(crate) fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return text.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => text.to_owned(),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amqp_url_with_credentials_and_vhost() {
        let url = BrokerUrl::parse("amqp://user:p%40ss@rabbit:5673/%2fprod").unwrap();
        assert_eq!(url.scheme, Scheme::Amqp);
        assert_eq!((url.host.as_str(), url.port), ("rabbit", 5673));
        assert_eq!(url.username.as_deref(), Some("user"));
        assert_eq!(url.password.as_deref(), Some("p@ss"));
        assert_eq!(url.vhost, "/prod");
        assert_eq!(url.to_string(), "amqp://user@rabbit:5673//prod");
        assert_eq!(
            url.as_secret_str(),
            "amqp://user:p%40ss@rabbit:5673/%2fprod"
        );
    }

    #[test]
    fn defaults_per_scheme() {
        let cases = [
            ("amqp://localhost", 5672, "amqp://localhost:5672"),
            ("amqps://h", 5671, "amqps://h:5671"),
            ("mqtt://127.0.0.1", 1883, "mqtt://127.0.0.1:1883"),
            ("mqtts://broker", 8883, "mqtts://broker:8883"),
            ("memory://", 0, "memory://default"),
            ("memory://test-1", 0, "memory://test-1"),
        ];
        for (text, port, shown) in cases {
            let url = BrokerUrl::parse(text).unwrap();
            assert_eq!(url.port, port, "{text}");
            assert_eq!(url.to_string(), shown, "{text}");
            assert_eq!(url.vhost, "/", "{text}");
        }
    }

    #[test]
    fn bad_urls_say_why_and_hide_the_password() {
        let err = BrokerUrl::parse("http://u:secret@host")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown scheme \"http\""), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(err.contains("u:***@host"), "{err}");

        let err = BrokerUrl::parse("amqp://guest:sec/r@t@127.0.0.1:x/vh")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("sec") && !err.contains("r@t"), "{err}");
        assert!(err.contains("amqp://guest:***@127.0.0.1:x/vh"), "{err}");

        let err = BrokerUrl::parse("not a url").unwrap_err().to_string();
        assert!(err.contains("not a url"), "{err}");

        let err = BrokerUrl::parse("amqp://").unwrap_err().to_string();
        assert!(
            err.contains("no host") || err.contains("empty host"),
            "{err}"
        );
    }
}
