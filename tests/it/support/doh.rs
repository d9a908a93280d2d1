//! A DNS-over-HTTPS server (HTTP/2 over TLS, RFC 8484) on loopback that
//! answers each query however the test says: the HTTP status, the media
//! type, the body, or nothing after the headers. For what no real DoH
//! server sends. Stopped when dropped.

use super::TestCa;
use bytes::Bytes;
use hickory_server::proto::op::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How the server answers one query.
pub enum DohReply {
    /// This status, media type and body.
    Http {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        location: Option<String>,
    },
    /// The headers of a 200 with the DNS media type, then nothing, ever.
    Stall,
}

type Handler = Arc<dyn Fn(&Message) -> DohReply + Send + Sync>;

pub struct DohServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl DohServer {
    pub fn start(
        ca: &TestCa,
        handler: impl Fn(&Message) -> DohReply + Send + Sync + 'static,
    ) -> DohServer {
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&ca.cert)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&ca.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
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
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let serve = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let (acceptor, handler) = (acceptor.clone(), handler.clone());
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let Ok(mut conn) = h2::server::handshake(tls).await else {
                                return;
                            };
                            while let Some(Ok((request, respond))) = conn.accept().await {
                                tokio::spawn(answer(request, respond, handler.clone()));
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
        DohServer {
            addr,
            _stop: stop_tx,
        }
    }
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    handler: Handler,
) {
    use base64_query::decode;
    let (parts, mut body) = request.into_parts();
    let mut bytes = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        // GET ?dns=BASE64URL
        if let Some(q) = parts.uri.query().and_then(|q| q.strip_prefix("dns=")) {
            bytes = decode(q);
        }
    }
    let Ok(query) = Message::from_vec(&bytes) else {
        return;
    };
    match handler(&query) {
        DohReply::Stall => {
            let response = http::Response::builder()
                .status(200)
                .header("content-type", "application/dns-message")
                .body(())
                .unwrap();
            let _stream = respond.send_response(response, false);
            // Hold the stream open, sending nothing.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        DohReply::Http {
            status,
            content_type,
            body,
            location,
        } => {
            let mut response = http::Response::builder()
                .status(status)
                .header("content-type", content_type)
                .header("content-length", body.len());
            if let Some(l) = location {
                response = response.header("location", l);
            }
            let Ok(mut stream) = respond.send_response(response.body(()).unwrap(), body.is_empty())
            else {
                return;
            };
            for chunk in body.chunks(16 * 1024) {
                stream.reserve_capacity(chunk.len());
                if stream
                    .send_data(Bytes::copy_from_slice(chunk), false)
                    .is_err()
                {
                    return;
                }
            }
            let _ = stream.send_data(Bytes::new(), true);
        }
    }
}

/// Base64url without padding, as RFC 8484's GET carries the query.
mod base64_query {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' | b'+' => 62,
                b'_' | b'/' => 63,
                _ => return None,
            } as u32)
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in text.bytes().take_while(|&c| c != b'&') {
            let Some(v) = value(c) else { continue };
            acc = acc << 6 | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }
}
