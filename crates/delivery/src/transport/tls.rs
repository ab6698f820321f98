//! The certificates outbound TLS trusts, shared by every transport: the public web roots
//! (webpki-roots, as the HTTP client has them) plus the operator's own CAs from `ca_file`, for
//! receivers and brokers behind a private CA. One rustls configuration on ring is built from them
//! and every transport that speaks TLS uses it, so a certificate is judged the same way whether
//! it is an HTTPS receiver's, a broker's or an AWS endpoint's.
//!
//! Brokers are connected to the address outbound protection checked, never to a name their
//! client resolves again (a name can resolve elsewhere the second time). Where the TLS session is
//! ours ([`Trust::connect`]: Redis, MQTT, AMQP), it is opened over that socket and sends the
//! host's name (SNI) and verifies the certificate against it. NATS negotiates TLS inside its own
//! protocol, so its client is given the checked address and [`Trust::pinned_to`], a
//! configuration that verifies the certificate against the host's name whatever the peer is
//! addressed by.

use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};
use tokio_rustls::TlsConnector;

/// Most certificates a `ca_file` may hold (a bound on what startup reads).
const MAX_EXTRA_ROOTS: usize = 1000;

/// The trusted roots and the client configuration built from them.
pub struct Trust {
    /// The operator's own CAs (DER), beyond the public roots.
    extra: Vec<CertificateDer<'static>>,
    roots: Arc<RootCertStore>,
    config: Arc<ClientConfig>,
}

impl Trust {
    /// The public web roots only.
    pub fn public() -> Self {
        Self::with_extra(Vec::new()).unwrap_or_else(|e| panic!("the public roots load: {e}"))
    }

    /// The public roots plus every certificate of the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(path).with_context(|| format!("ca_file {}", path.display()))?;
        let mut extra = Vec::new();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| anyhow::anyhow!("ca_file {}: {e}", path.display()))?;
            extra.push(cert);
            if extra.len() > MAX_EXTRA_ROOTS {
                anyhow::bail!(
                    "ca_file {}: more than {MAX_EXTRA_ROOTS} certificates",
                    path.display()
                );
            }
        }
        if extra.is_empty() {
            anyhow::bail!("ca_file {}: no PEM certificate in it", path.display());
        }
        Self::with_extra(extra).with_context(|| format!("ca_file {}", path.display()))
    }

    fn with_extra(extra: Vec<CertificateDer<'static>>) -> anyhow::Result<Self> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in &extra {
            roots
                .add(cert.clone())
                .map_err(|e| anyhow::anyhow!("not a usable CA certificate: {e}"))?;
        }
        let roots = Arc::new(roots);
        let config = Arc::new(
            builder()
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
        );
        Ok(Self {
            extra,
            roots,
            config,
        })
    }

    /// `http` trusting the operator's own CAs too (reqwest has the public roots already).
    pub fn http_client(
        &self,
        mut http: reqwest::ClientBuilder,
    ) -> anyhow::Result<reqwest::ClientBuilder> {
        for cert in &self.extra {
            http = http.add_root_certificate(reqwest::Certificate::from_der(cert)?);
        }
        Ok(http)
    }

    /// The shared client configuration.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// A configuration that verifies the server's certificate against `host` (a name or an
    /// address literal), not against what the connection was opened to.
    pub fn pinned_to(&self, host: &str) -> std::io::Result<ClientConfig> {
        let name = server_name(host)?;
        let verifier = WebPkiServerVerifier::builder_with_provider(self.roots.clone(), provider())
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut config = (*self.config).clone();
        config
            .dangerous()
            .set_certificate_verifier(Arc::new(PinnedName {
                name,
                inner: verifier,
            }));
        Ok(config)
    }

    /// The TLS handshake over `tcp` with `host` (a name or an address literal): its name is sent
    /// (SNI) and the certificate verified against it.
    pub async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        TlsConnector::from(self.client_config())
            .connect(server_name(host)?, tcp)
            .await
    }
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("extra_roots", &self.extra.len())
            .finish()
    }
}

fn provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

fn builder(
) -> tokio_rustls::rustls::ConfigBuilder<ClientConfig, tokio_rustls::rustls::WantsVerifier> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("ring supports the default TLS versions: {e}"))
}

/// `host` as a TLS server name (brackets of an IPv6 literal removed).
fn server_name(host: &str) -> std::io::Result<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// Verifies certificates against one fixed name, whatever name the client passes (the address
/// it was given); signatures are checked as the web PKI verifier checks them.
#[derive(Debug)]
struct PinnedName {
    name: ServerName<'static>,
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for PinnedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _addressed_as: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_file(text: &str) -> anyhow::Result<Trust> {
        let path =
            std::env::temp_dir().join(format!("switchyard-ca-{:016x}.pem", rand::random::<u64>()));
        std::fs::write(&path, text).unwrap();
        let trust = Trust::with_ca_file(&path);
        let _ = std::fs::remove_file(&path);
        trust
    }

    #[test]
    fn a_ca_file_without_a_usable_certificate_is_an_error() {
        let none = ca_file("just text\n").unwrap_err().to_string();
        assert!(none.contains("no PEM certificate"), "{none}");
        let bad =
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        assert!(ca_file(bad).is_err());
        let missing = Trust::with_ca_file(Path::new("/nonexistent/ca.pem"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
    }

    #[test]
    fn names_and_address_literals_are_server_names() {
        assert!(matches!(
            server_name("broker.example").unwrap(),
            ServerName::DnsName(_)
        ));
        assert!(matches!(
            server_name("[::1]").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(server_name("not a name").is_err());
    }
}
