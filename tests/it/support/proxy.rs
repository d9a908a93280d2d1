//! A UDP proxy that adds latency, jitter and loss each way, since this
//! kernel has no netem. Each client address gets an upstream socket of its
//! own, so answers find their way back; every datagram is delayed on a
//! timer of its own, so they can overtake each other as on a real path.
//! Used by the tests (`ScriptServer`-style, on its own thread) and by the
//! benchmark (`examples/netem.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;

/// What the path does to each datagram, each way.
#[derive(Clone, Copy, Debug)]
pub struct Netem {
    /// One-way delay.
    pub delay: Duration,
    /// The delay varies uniformly by up to this much either way.
    pub jitter: Duration,
    /// The chance that a datagram is dropped, from 0 to 1.
    pub loss: f64,
}

impl Netem {
    pub fn lossy(loss: f64) -> Netem {
        Netem {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss,
        }
    }
}

/// What went through the proxy.
#[derive(Debug, Default)]
pub struct ProxyStats {
    pub forwarded: AtomicU64,
    pub dropped: AtomicU64,
}

/// A small, fast generator (splitmix64): the proxy needs no cryptography.
struct Rng(AtomicU64);

impl Rng {
    fn next(&self) -> u64 {
        let mut z = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Path {
    netem: Netem,
    rng: Rng,
    stats: Arc<ProxyStats>,
}

impl Path {
    /// `None` to drop the datagram, or how long to hold it.
    fn fate(&self) -> Option<Duration> {
        if self.netem.loss > 0.0 && self.rng.unit() < self.netem.loss {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        let j = self.netem.jitter.as_secs_f64() * (self.rng.unit() * 2.0 - 1.0);
        Some(Duration::from_secs_f64(
            (self.netem.delay.as_secs_f64() + j).max(0.0),
        ))
    }

    /// Send `bytes` to `to` on `socket` after the path's delay, or not.
    fn forward(&self, socket: &Arc<UdpSocket>, to: Option<SocketAddr>, bytes: &[u8]) {
        let Some(delay) = self.fate() else { return };
        let socket = socket.clone();
        let bytes = bytes.to_vec();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let _ = match to {
                Some(to) => socket.send_to(&bytes, to).await,
                None => socket.send(&bytes).await,
            };
        });
    }
}

/// Proxy datagrams arriving on `listen` to `upstream` and back, through
/// `netem` each way. Runs until dropped.
pub async fn serve(listen: UdpSocket, upstream: SocketAddr, netem: Netem, stats: Arc<ProxyStats>) {
    let listen = Arc::new(listen);
    let path = Arc::new(Path {
        netem,
        rng: Rng(AtomicU64::new(0x2545_F491_4F6C_DD1D)),
        stats,
    });
    let clients: Mutex<HashMap<SocketAddr, Arc<UdpSocket>>> = Mutex::default();
    let bind: SocketAddr = if upstream.is_ipv6() {
        "[::1]:0".parse().unwrap()
    } else {
        "127.0.0.1:0".parse().unwrap()
    };
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, client)) = listen.recv_from(&mut buf).await else {
            continue;
        };
        let up = {
            let existing = clients.lock().unwrap().get(&client).cloned();
            match existing {
                Some(s) => s,
                None => {
                    let Ok(s) = UdpSocket::bind(bind).await else {
                        continue;
                    };
                    // Bursts of answers must not overflow the default buffer.
                    let _ = socket2::SockRef::from(&s).set_recv_buffer_size(8 << 20);
                    if s.connect(upstream).await.is_err() {
                        continue;
                    }
                    let s = Arc::new(s);
                    clients.lock().unwrap().insert(client, s.clone());
                    // Answers from upstream go back to this client.
                    let (back, listen, path) = (s.clone(), listen.clone(), path.clone());
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 65536];
                        while let Ok(n) = back.recv(&mut buf).await {
                            path.forward(&listen, Some(client), &buf[..n]);
                        }
                    });
                    s
                }
            }
        };
        path.forward(&up, None, &buf[..n]);
    }
}
