//! The TLS client configuration for DoT and DoH: rustls with the ring
//! provider, trusting the built-in Mozilla roots (webpki-roots), or with
//! `--ca-file` only the CAs in that file (as curl's `--cacert`), for
//! servers with a private CA.

use crate::error::Error;
use crate::text::escape_text;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;

pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let shown = escape_text(&path.display().to_string());
            let fail = |why: String| Error::Server(format!("--ca-file {shown}: {why}"));
            let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| fail(format!("not a PEM certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| fail(format!("a certificate rustls cannot use: {e}")))?;
                found += 1;
            }
            if found == 0 {
                return Err(fail(
                    "no PEM certificate in it (-----BEGIN CERTIFICATE-----)".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Server(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A TLS handshake with `addr` as `name`, as DoT (or with `h2`, DoH) would
/// do it: to say why connecting fails.
/// A TLS failure as rustls words it, with what to do about it.
fn explain(e: &str) -> String {
    let hint = if e.contains("UnknownIssuer") {
        ": the certificate is signed by a CA that the built-in roots do not hold; if you trust it, give its certificate with --ca-file"
    } else if e.contains("NotValidForName") || e.contains("not valid for name") {
        ": the certificate holds other names; give the one it holds with --tls-name"
    } else if e.contains("Expired") {
        ": the certificate has expired (or this host's clock is wrong)"
    } else if e.contains("InvalidContentType")
        || e.contains("corrupt message")
        || e.contains("CorruptMessage")
    {
        ": the server does not speak TLS on this port"
    } else {
        ""
    };
    format!("TLS handshake failed: {e}{hint}")
}

pub(super) async fn handshake(
    addr: std::net::SocketAddr,
    name: &str,
    config: Arc<ClientConfig>,
    h2: bool,
    timeout: std::time::Duration,
) -> Result<(), String> {
    use rustls::pki_types::ServerName;
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|e| format!("'{}' is not a name for TLS: {e}", escape_text(name)))?;
    let config = if h2 {
        let mut c = (*config).clone();
        c.alpn_protocols = vec![b"h2".to_vec()];
        Arc::new(c)
    } else {
        config
    };
    let connect = async {
        let start = tokio::time::Instant::now();
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        // A TLS server answers a ClientHello within a round trip or two; a
        // plain DNS server reads it as the length of a query and waits for
        // the rest. So the handshake gets a second, or ten connection round
        // trips on a slow path, not the whole deadline.
        let patience = (start.elapsed() * 10).max(std::time::Duration::from_secs(1));
        let handshake = tokio_rustls::TlsConnector::from(config).connect(server_name, tcp);
        match tokio::time::timeout(patience, handshake).await {
            Err(_) => Err(format!(
                "no TLS answer within {:.1} s: the server at {addr} does not seem to speak TLS on this port (plain DNS?)",
                patience.as_secs_f64()
            )),
            Ok(Err(e)) => Err(explain(&e.to_string())),
            Ok(Ok(_)) => Ok(()),
        }
    };
    tokio::time::timeout(timeout, connect)
        .await
        .unwrap_or_else(|_| Err("the TLS handshake timed out".into()))
}
