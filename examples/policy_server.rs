//! An MTA-STS policy server for the benchmark (`bench/run.sh mtasts`): one
//! HTTPS listener on all loopback addresses of one port, a CA of its own
//! (written to CA_FILE for `--ca-file`), a certificate minted for each
//! name a client asks for (SNI), and for `mta-sts.dN.bench.test` the policy
//! that covers the exchanges `bench/gen.py` gives domain N. A connection to
//! an address in 127.1.0.0/16 is accepted and never answered: the policy
//! hosts that are down.
//!
//!     cargo run --release --example policy_server PORT CA_FILE
//!
//! Only loopback: a connection to any other address is closed at once.

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
    PKCS_ECDSA_P256_SHA256,
};
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Providers in the bench zone (bench/gen.py).
const PROVIDERS: u64 = 50;

/// Certificates made on demand, one per name, signed by the server's CA.
#[derive(Debug)]
struct Minter {
    ca: CertifiedIssuer<'static, KeyPair>,
    made: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl Minter {
    fn mint(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        if let Some(k) = self.made.lock().unwrap().get(name) {
            return Some(k.clone());
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).ok()?;
        let cert = CertificateParams::new(vec![name.to_string()])
            .ok()?
            .signed_by(&key, &self.ca)
            .ok()?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let certified = Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(cert.der().to_vec())],
            any_supported_type(&der).ok()?,
        ));
        self.made
            .lock()
            .unwrap()
            .insert(name.to_string(), certified.clone());
        Some(certified)
    }
}

impl ResolvesServerCert for Minter {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.mint(hello.server_name()?)
    }
}

/// The policy for `mta-sts.dN.bench.test`: enforce, covering both
/// exchanges of domain N's provider.
fn policy(host: &str) -> Option<String> {
    let n: u64 = host
        .strip_prefix("mta-sts.d")?
        .strip_suffix(".bench.test")?
        .parse()
        .ok()?;
    let p = n % PROVIDERS;
    Some(format!(
        "version: STSv1\r\nmode: enforce\r\nmx: mx1.provider{p}.bench.test\r\nmx: *.provider{p}.bench.test\r\nmax_age: 604800\r\n"
    ))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(ca_file)) =
        (args.get(1).and_then(|p| p.parse::<u16>().ok()), args.get(2))
    else {
        eprintln!("usage: policy_server PORT CA_FILE");
        std::process::exit(2);
    };
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "mxlookup bench CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(ca_file, ca.pem()).unwrap();
    let minter = Arc::new(Minter {
        ca,
        made: Mutex::default(),
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_cert_resolver(minter);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .unwrap();
    eprintln!("policy server on port {port}; CA in {ca_file}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let local = stream.local_addr().map(|a| a.ip()).ok();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match local {
                // A policy host that is down: the connection is never answered.
                Some(IpAddr::V4(ip)) if ip.octets()[..2] == [127, 1] => {
                    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                    drop(stream);
                }
                Some(ip) if ip.is_loopback() => {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let host = tls.get_ref().1.server_name().unwrap_or("").to_string();
                    let service = service_fn(move |_req| {
                        let body = policy(&host);
                        async move {
                            let (status, body) = match body {
                                Some(b) => (200, b),
                                None => (404, String::new()),
                            };
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "text/plain")
                                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                }
                _ => drop(stream),
            }
        });
    }
}
