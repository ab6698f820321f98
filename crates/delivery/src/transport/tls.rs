//! TLS for the broker transports that open their own sockets (`rediss://`, `mqtts://`): rustls on
//! ring with the webpki root certificates, like the HTTP client. The socket is opened to the
//! address outbound protection checked and the certificate is verified against the host's name.

use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// The one client configuration, built on first use.
pub(crate) fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth())
                .unwrap_or_else(|e| panic!("ring supports the default TLS versions: {e}"));
            Arc::new(config)
        })
        .clone()
}

/// The TLS handshake over `tcp` with `host` (a name or an address literal).
pub(crate) async fn connect(host: &str, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let name = ServerName::try_from(bare)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(client_config()).connect(name, tcp).await
}
