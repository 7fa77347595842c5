//! Where `--broker embedded...` asks the broker to listen ([`parse`]), and
//! starting it there — or, for plain `embedded`, on a nearby free port when
//! another broker has 1883 ([`start_wanted`]).

use super::{start, EmbeddedBroker, EmbeddedError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where `--broker embedded` listens, unless that is taken.
pub const DEFAULT_ADDRESS: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1883);
/// The environment variable naming the port `--broker embedded` tries first.
pub const PORT_ENV: &str = "MSGFLO_EMBEDDED_PORT";
/// How many ports after a taken default one are tried before any free port.
const NEARBY: u16 = 16;

/// Where `--broker embedded...` asks the broker to listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// The address.
    pub address: SocketAddr,
    /// Whether a nearby free port will do when it is taken (plain `embedded`).
    pub or_nearby: bool,
}

/// What an `--broker` value asks of the embedded broker: `None` if it is not
/// `embedded`, `embedded:PORT` or `embedded://HOST:PORT`.
pub fn parse(spec: &str) -> Option<Result<Wanted, EmbeddedError>> {
    let rest = spec.strip_prefix("embedded")?;
    let invalid = |reason: &str| EmbeddedError::Spec {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    let exactly = |address| Wanted {
        address,
        or_nearby: false,
    };
    let parsed = if rest.is_empty() {
        default_address().map(|address| Wanted {
            address,
            or_nearby: true,
        })
    } else if let Some(host_port) = rest.strip_prefix("://") {
        let host_port = host_port.trim_end_matches('/');
        host_port.parse::<SocketAddr>().map(exactly).map_err(|_| {
            invalid("expected embedded://IP:PORT (an IP address, e.g. embedded://127.0.0.1:1883)")
        })
    } else if let Some(port) = rest.strip_prefix(':') {
        port.parse::<u16>()
            .map(|port| exactly(SocketAddr::new(DEFAULT_ADDRESS.ip(), port)))
            .map_err(|_| invalid("expected embedded:PORT with a port number (0 = any free port)"))
    } else {
        return None;
    };
    Some(parsed)
}

/// [`DEFAULT_ADDRESS`], with the port from [`PORT_ENV`] if it is set.
fn default_address() -> Result<SocketAddr, EmbeddedError> {
    let Some(port) = std::env::var(PORT_ENV)
        .ok()
        .filter(|p| !p.trim().is_empty())
    else {
        return Ok(DEFAULT_ADDRESS);
    };
    port.trim()
        .parse::<u16>()
        .map(|port| SocketAddr::new(DEFAULT_ADDRESS.ip(), port))
        .map_err(|_| EmbeddedError::Spec {
            spec: format!("embedded ({PORT_ENV}={port})"),
            reason: format!("{PORT_ENV} must be a port number"),
        })
}

/// Starts the broker [`Wanted`]: at its address, or, if that is taken and a
/// nearby port will do, at one of the next 16 ports, else at any free
/// port — saying so in the log.
pub async fn start_wanted(wanted: Wanted) -> Result<EmbeddedBroker, EmbeddedError> {
    let taken = match start(wanted.address).await {
        Err(EmbeddedError::Listen { source, .. })
            if wanted.or_nearby && source.kind() == std::io::ErrorKind::AddrInUse =>
        {
            source
        }
        other => return other,
    };
    let first = wanted.address;
    let nearby = (1..=NEARBY).filter_map(|n| first.port().checked_add(n));
    for port in nearby.chain([0]) {
        match start(SocketAddr::new(first.ip(), port)).await {
            Err(EmbeddedError::Listen { source, .. })
                if source.kind() == std::io::ErrorKind::AddrInUse => {}
            Ok(broker) => {
                tracing::warn!(
                    "{first} is taken (another MQTT broker?): the embedded broker listens on {} \
                     instead",
                    broker.address()
                );
                return Ok(broker);
            }
            Err(other) => return Err(other),
        }
    }
    Err(EmbeddedError::Listen {
        address: first,
        source: taken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::wait_ready;

    #[test]
    fn embedded_specs_name_an_address_and_others_are_not_ours() {
        let addr = |s: &str| parse(s).unwrap().unwrap().address;
        if std::env::var_os(PORT_ENV).is_none() {
            assert_eq!(addr("embedded"), DEFAULT_ADDRESS);
        }
        assert!(parse("embedded").unwrap().unwrap().or_nearby);
        assert!(!parse("embedded:1883").unwrap().unwrap().or_nearby);
        assert_eq!(addr("embedded:0").to_string(), "127.0.0.1:0");
        assert_eq!(addr("embedded:1884").to_string(), "127.0.0.1:1884");
        assert_eq!(addr("embedded://0.0.0.0:1885").to_string(), "0.0.0.0:1885");
        assert_eq!(addr("embedded://[::1]:1886/").to_string(), "[::1]:1886");
        for other in ["mqtt://localhost", "amqp://x", "embeddedx", "Embedded"] {
            assert!(parse(other).is_none(), "{other}");
        }
        for bad in ["embedded:x", "embedded:70000", "embedded://localhost:1"] {
            let err = parse(bad).unwrap().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--broker {bad}: expected")),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn plain_embedded_takes_another_port_when_its_own_is_taken() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap();
        let exactly = Wanted {
            address,
            or_nearby: false,
        };
        assert!(start_wanted(exactly).await.is_err());
        let nearby = Wanted {
            address,
            or_nearby: true,
        };
        let broker = start_wanted(nearby).await.unwrap();
        assert_ne!(broker.address().port(), address.port());
        wait_ready(broker.address()).await.unwrap();
        broker.stop();
    }
}
