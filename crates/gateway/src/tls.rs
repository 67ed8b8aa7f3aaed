//! TLS for the listener: rustls on ring, with a configured certificate or a self-signed one.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A ready TLS configuration and the certificate it presents (PEM), so a self-signed one can be
/// handed to clients that want to verify it.
pub struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    pub cert_pem: String,
}

fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: the certificate and key do not form a usable pair: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Loads a PEM certificate chain and its PEM private key.
pub fn from_files(cert: &Path, key: &Path) -> Result<Tls, String> {
    let cert_pem = std::fs::read_to_string(cert)
        .map_err(|e| format!("cannot read TLS certificate {}: {e}", cert.display()))?;
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("TLS certificate {} is not PEM: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate {} holds no certificate",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read TLS key {}: {e}", key.display()))?;
    Ok(Tls {
        config: server_config(certs, key)?,
        cert_pem,
    })
}

/// Generates a self-signed certificate for `names` (DNS names or IP addresses).
pub fn self_signed(names: &[String]) -> Result<Tls, String> {
    let generated = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let cert_pem = generated.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    Ok(Tls {
        config: server_config(vec![generated.cert.der().clone()], key)?,
        cert_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_round_trips_through_files() {
        let tls = self_signed(&["localhost".into(), "127.0.0.1".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(tls.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("c.pem"), generated.cert.pem())
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("k.pem"),
            generated.signing_key.serialize_pem(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(from_files(&dir.path().join("c.pem"), &dir.path().join("k.pem")).is_ok());
        assert!(from_files(&dir.path().join("k.pem"), &dir.path().join("k.pem")).is_err());
        assert!(from_files(&dir.path().join("missing.pem"), &dir.path().join("k.pem")).is_err());
    }
}
