//! `wss://`: the FBP endpoint over TLS (issue 17). The coordinator takes a
//! PEM certificate chain and its private key (`--tls-cert`, `--tls-key`)
//! and serves every WebSocket through rustls (ring provider, as the
//! transports use); the handshake runs in each connection's own task,
//! bounded by [`HANDSHAKE`], so a client that stalls or speaks plain HTTP
//! costs nothing but itself.

use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::TlsAcceptor;

/// Longest a client may take over its TLS handshake.
pub const HANDSHAKE: Duration = Duration::from_secs(10);

/// An acceptor presenting the certificate chain in `cert` with the key in
/// `key` (both PEM); the error is one line naming the file.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no PEM certificate in it",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert and --tls-key do not make a server identity: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_files_are_one_line_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("msgflo-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let missing = dir.join("missing.pem");
        let err = acceptor(&missing, &missing).err().unwrap();
        assert!(
            err.starts_with("--tls-cert ") && err.contains("missing.pem"),
            "{err}"
        );
        let err = acceptor(&empty, &missing).err().unwrap();
        assert!(err.contains("no PEM certificate"), "{err}");
        assert!(!err.contains('\n'));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
