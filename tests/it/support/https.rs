//! A hostile HTTPS server for MTA-STS policies: what nginx will not send.
//! It answers by the Host header, with raw bytes the test chooses (a
//! redirect, a body that never ends, junk), or sends nothing at all after
//! accepting. For tests only: mxlookup itself writes no HTTP by hand.
//! Stopped when dropped.

use super::TestCa;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// What the server does for one host.
pub enum Behaviour {
    /// These bytes after the request (a whole HTTP response, or not).
    Raw(Vec<u8>),
    /// A 200 `text/plain` with a chunked body that never ends.
    Endless,
    /// Accept the TCP connection, then send nothing, ever (not even TLS).
    Silent,
}

type Handler = Arc<dyn Fn(&str) -> Behaviour + Send + Sync>;

pub struct HostileHttps {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl HostileHttps {
    /// On `ip` at `port` (0: any free one), with the certificate of `ca`.
    pub fn start(
        ip: std::net::IpAddr,
        port: u16,
        ca: &TestCa,
        handler: impl Fn(&str) -> Behaviour + Send + Sync + 'static,
    ) -> HostileHttps {
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&ca.cert)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&ca.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let handler: Handler = Arc::new(handler);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind((ip, port)).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let serve = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else { continue };
                        let (acceptor, handler) = (acceptor.clone(), handler.clone());
                        tokio::spawn(async move {
                            // Peek at the SNI by completing the handshake
                            // only for hosts that are not silent.
                            let start = acceptor.accept(tcp);
                            let Ok(mut tls) = start.await else { return };
                            let host = tls.get_ref().1.server_name().unwrap_or("").to_string();
                            let behaviour = handler(&host);
                            let mut request = vec![0u8; 4096];
                            let _ = tls.read(&mut request).await;
                            match behaviour {
                                Behaviour::Raw(bytes) => {
                                    let _ = tls.write_all(&bytes).await;
                                    let _ = tls.shutdown().await;
                                }
                                Behaviour::Endless => {
                                    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                                    if tls.write_all(head).await.is_err() {
                                        return;
                                    }
                                    let body = "mx: a.example\n".repeat(16384 / 14 + 1);
                                    let chunk = format!("{:x}\r\n{}\r\n", 16384, &body[..16384]);
                                    while tls.write_all(chunk.as_bytes()).await.is_ok() {}
                                }
                                Behaviour::Silent => {
                                    tokio::time::sleep(Duration::from_secs(3600)).await;
                                }
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = stop_rx => {}
                    () = serve => {}
                }
            });
            rt.shutdown_background();
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        HostileHttps {
            addr,
            _stop: stop_tx,
        }
    }
}

/// A listener that accepts TCP connections into its backlog and never
/// reads them: a server that accepts, then sends nothing, not even TLS.
pub struct Blackhole {
    _listener: std::net::TcpListener,
}

impl Blackhole {
    pub fn start(ip: std::net::IpAddr, port: u16) -> Blackhole {
        Blackhole {
            _listener: std::net::TcpListener::bind((ip, port)).unwrap(),
        }
    }
}
