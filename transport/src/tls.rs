//! TLS for `amqps://`, `mqtts://` and a bridge's `wss://` (`core/Remote`):
//! one rustls client configuration for all of them, with the ring provider given explicitly (no process-wide
//! default is installed or relied on).
//!
//! Trusted: the platform's root certificates, as rustls-native-certs finds
//! them when a transport connects (the system store, or instead the files
//! that `SSL_CERT_FILE` / `SSL_CERT_DIR` name), plus the PEM files in
//! [`ConnectOptions::extra_root_certs`]. The server name checked is the URL's
//! host. No client certificates.
//!
//! [`ConnectOptions::extra_root_certs`]: super::ConnectOptions::extra_root_certs

use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::{debug, warn};

/// A client configuration trusting the platform's roots and the
/// certificates in the PEM files `extra`; the error is one line.
pub fn client_config(extra: &[PathBuf]) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    let platform = rustls_native_certs::load_native_certs();
    for error in &platform.errors {
        warn!(%error, "skipped platform root certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(platform.certs);
    debug!(added, ignored, "platform root certificates");
    for path in extra {
        for cert in read_certificates(path)? {
            roots
                .add(cert)
                .map_err(|e| format!("bad root certificate in {}: {e}", path.display()))?;
        }
    }
    if roots.is_empty() {
        return Err(match platform.errors.first() {
            Some(error) => format!("no trusted root certificates ({error})"),
            None => "no trusted root certificates: the system store is empty \
                     (install ca-certificates or set SSL_CERT_FILE)"
                .into(),
        });
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks that `host` can be a TLS server name: a DNS name or an address
/// (IPv6 without brackets).
pub(crate) fn check_server_name(host: &str) -> Result<(), String> {
    ServerName::try_from(host)
        .map(drop)
        .map_err(|_| format!("TLS cannot check a certificate against host {host:?}"))
}

/// The certificates in the PEM file at `path`: at least one.
fn read_certificates(path: &PathBuf) -> Result<Vec<CertificateDer<'static>>, String> {
    let unreadable = |e: rustls::pki_types::pem::Error| {
        format!("cannot read root certificates from {}: {e}", path.display())
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_extra_root_files_are_named_in_one_line() {
        let missing = PathBuf::from("/nonexistent/ca.pem");
        let err = client_config(std::slice::from_ref(&missing)).unwrap_err();
        assert!(
            err.starts_with("cannot read root certificates from /nonexistent/ca.pem: "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");

        let empty = std::env::temp_dir().join(format!("msgflo-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = client_config(std::slice::from_ref(&empty)).unwrap_err();
        std::fs::remove_file(&empty).unwrap();
        assert!(err.ends_with("holds no PEM certificate"), "{err}");
    }

    #[test]
    fn server_names_are_dns_names_or_addresses() {
        assert!(check_server_name("broker.example").is_ok());
        assert!(check_server_name("127.0.0.1").is_ok());
        assert!(check_server_name("::1").is_ok());
        let err = check_server_name("[::1]").unwrap_err();
        assert!(err.contains("[::1]"), "{err}");
    }
}
