//! The "Open in Flowhub" link `msgflo` prints (and the live view's:
//! [`live_view`]): the editor's address (`--ide`,
//! app.flowhub.io by default) and a fragment noflo-ui reads as a runtime to
//! connect to — `#runtime/endpoint?` and, encoded once, `protocol=websocket&
//! address=ws://HOST:PORT&id=ID[&secret=S]`. noflo-ui decodes the fragment
//! once and splits it at `&` and `=`, so a secret holding either cannot be
//! carried (the caller is told why and gives it in the editor instead).
//!
//! The address is one a browser can reach: a coordinator listening on all
//! addresses (`0.0.0.0`, `::`) is linked at this machine's outward address
//! (the one its default route uses), else at `localhost`.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

/// The link, and why the secret is not in it when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL to open.
    pub url: String,
    /// Set when a secret was given but the link cannot carry it.
    pub secret_left_out: Option<&'static str>,
}

/// The link that opens the coordinator at `ws://host:port` (runtime `id`)
/// in the editor at `ide`, with `secret` when the link can carry it.
pub fn link(ide: &str, host: &str, port: u16, id: &str, secret: Option<&str>) -> Link {
    link_with_scheme(ide, "ws", host, port, id, secret)
}

/// [`link`] to `scheme://host:port`: `wss` for a coordinator serving TLS.
pub fn link_with_scheme(
    ide: &str,
    scheme: &str,
    host: &str,
    port: u16,
    id: &str,
    secret: Option<&str>,
) -> Link {
    link_to(ide, &address(scheme, host, port), id, secret)
}

/// `scheme://host:port` as a browser reaches it: see [`reachable_host`].
pub fn address(scheme: &str, host: &str, port: u16) -> String {
    format!("{scheme}://{}:{port}", reachable_host(host))
}

/// [`link`] to the coordinator at `address` (a `ws://` or `wss://` URL
/// clients reach it at: `public_url`, behind a proxy, NAT or Docker).
pub fn link_to(ide: &str, address: &str, id: &str, secret: Option<&str>) -> Link {
    let mut params = format!("protocol=websocket&address={address}&id={id}");
    let mut secret_left_out = None;
    match secret {
        Some(secret) if secret.contains(['&', '=']) => {
            secret_left_out = Some(
                "the secret holds '&' or '=', which a Flowhub link cannot carry: give it in the editor's runtime settings",
            );
        }
        Some(secret) => {
            params.push_str("&secret=");
            params.push_str(secret);
        }
        None => {}
    }
    Link {
        url: format!("{ide}#runtime/endpoint?{}", encode(&params)),
        secret_left_out,
    }
}

/// `host` as a browser should dial it: a wildcard address becomes this
/// machine's outward address (else `localhost`); an IPv6 address gets its
/// brackets.
pub fn reachable_host(host: &str) -> String {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    match ip.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => {
            outward_address().map_or_else(|| "localhost".to_owned(), |ip| with_brackets(&ip))
        }
        Ok(ip) => with_brackets(&ip),
        Err(_) => host.to_owned(),
    }
}

fn with_brackets(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The local address of the default route: a UDP socket "connected" to a
/// public address sends nothing, but the kernel picks the interface.
fn outward_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// Percent-encodes everything but RFC 3986's unreserved characters (as
/// `encodeURIComponent` does, and msgflo's link).
fn encode(text: &str) -> String {
    let mut escaped = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                escaped.push(char::from(byte));
            }
            other => escaped.push_str(&format!("%{other:02X}")),
        }
    }
    escaped
}

/// The live web view of the coordinator at `address` (`ws://host:port`,
/// served on the same port over plain HTTP), with `secret` for a browser.
pub fn live_view(address: &str, secret: Option<&str>) -> String {
    let http = match address.split_once("://") {
        Some(("wss", rest)) => format!("https://{rest}"),
        Some((_, rest)) => format!("http://{rest}"),
        None => format!("http://{address}"),
    };
    let http = format!("{}/", http.trim_end_matches('/'));
    match secret {
        Some(secret) => {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            format!("{http}?secret={encoded}")
        }
        None => http,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tls_coordinator_is_linked_at_wss_on_a_reachable_host() {
        let link =
            super::link_with_scheme("https://app.flowhub.io", "wss", "0.0.0.0", 3569, "rt", None);
        let decoded = link
            .url
            .replace("%3A", ":")
            .replace("%2F", "/")
            .replace("%3D", "=");
        assert!(decoded.contains("address=wss://"), "{}", link.url);
        assert!(!decoded.contains("0.0.0.0"), "{}", link.url);
    }

    use super::*;
    use std::collections::BTreeMap;

    /// The runtime noflo-ui reads from a link: the fragment after
    /// `#runtime/endpoint?`, decoded once, split at `&` and `=`.
    fn as_noflo_ui_reads_it(url: &str) -> BTreeMap<String, String> {
        let (_, encoded) = url.split_once("#runtime/endpoint?").expect("the fragment");
        let mut bytes = Vec::new();
        let raw = encoded.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'%' {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).expect("hex");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        let decoded = String::from_utf8(bytes).expect("utf-8");
        decoded
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("key=value");
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn the_link_carries_address_id_and_secret_for_app_flowhub_io() {
        let link = link(
            "https://app.flowhub.io",
            "localhost",
            3569,
            "rt-1",
            Some("s3cr3t"),
        );
        assert!(link.url.starts_with("https://app.flowhub.io#runtime/endpoint?protocol%3Dwebsocket%26address%3Dws%3A%2F%2Flocalhost%3A3569"));
        let runtime = as_noflo_ui_reads_it(&link.url);
        assert_eq!(runtime["protocol"], "websocket");
        assert_eq!(runtime["address"], "ws://localhost:3569");
        assert_eq!(runtime["id"], "rt-1");
        assert_eq!(runtime["secret"], "s3cr3t");
        assert_eq!(link.secret_left_out, None);
        let open = link_without_secret();
        assert!(!as_noflo_ui_reads_it(&open.url).contains_key("secret"));
    }

    fn link_without_secret() -> Link {
        link("http://127.0.0.1:8080/", "127.0.0.1", 3569, "rt-1", None)
    }

    #[test]
    fn a_secret_the_link_cannot_carry_is_left_out_with_the_reason() {
        let link = link(
            "https://app.flowhub.io",
            "localhost",
            3569,
            "rt",
            Some("a&b=c"),
        );
        assert!(!as_noflo_ui_reads_it(&link.url).contains_key("secret"));
        assert!(link
            .secret_left_out
            .is_some_and(|why| why.contains("runtime settings")));
        // Other characters survive the one decoding.
        let link = super::link("https://app.flowhub.io", "h", 1, "rt", Some("p%/ #ü"));
        assert_eq!(as_noflo_ui_reads_it(&link.url)["secret"], "p%/ #ü");
    }

    #[test]
    fn a_wildcard_listening_address_is_never_linked() {
        for wildcard in ["0.0.0.0", "::", "[::]"] {
            let host = reachable_host(wildcard);
            assert!(
                !["0.0.0.0", "::", "[::]"].contains(&host.as_str()),
                "{wildcard} linked as {host}"
            );
            let link = link("https://app.flowhub.io", wildcard, 3569, "rt", None);
            let address = &as_noflo_ui_reads_it(&link.url)["address"];
            assert!(
                !address.contains("0.0.0.0") && !address.contains("[::]"),
                "{address}"
            );
        }
        assert_eq!(reachable_host("::1"), "[::1]");
        assert_eq!(reachable_host("example.org"), "example.org");
        assert_eq!(reachable_host("10.1.2.3"), "10.1.2.3");
    }

    #[test]
    fn the_live_view_is_the_same_port_over_http() {
        assert_eq!(
            live_view("ws://localhost:3569", None),
            "http://localhost:3569/"
        );
        assert_eq!(
            live_view("wss://example.org/", Some("a b&c")),
            "https://example.org/?secret=a+b%26c"
        );
    }
}
