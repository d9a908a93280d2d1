//! A UDP proxy that adds latency, jitter and loss each way (this kernel
//! has no netem), for the benchmark:
//!
//!     cargo run --release --example netem -- LISTEN UPSTREAM DELAY_MS JITTER_MS LOSS
//!     cargo run --release --example netem -- 127.0.0.1:5300 127.0.0.2:53 10 3 0.01
//!
//! Runs until killed. The same code serves the tests (tests/it/support/proxy.rs).

#[path = "../tests/it/support/proxy.rs"]
#[allow(unreachable_pub)]
mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 5 {
        eprintln!("usage: netem LISTEN UPSTREAM DELAY_MS JITTER_MS LOSS");
        std::process::exit(2);
    }
    let listen: SocketAddr = args[0].parse().expect("LISTEN is IP:PORT");
    let upstream: SocketAddr = args[1].parse().expect("UPSTREAM is IP:PORT");
    let ms = |s: &str| {
        Duration::from_secs_f64(s.parse::<f64>().expect("a number of milliseconds") / 1e3)
    };
    let netem = proxy::Netem {
        delay: ms(&args[2]),
        jitter: ms(&args[3]),
        loss: args[4].parse().expect("LOSS is from 0 to 1"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let socket = tokio::net::UdpSocket::bind(listen)
            .await
            .expect("bind LISTEN");
        let s2 = socket2::SockRef::from(&socket);
        let _ = s2.set_recv_buffer_size(8 << 20);
        proxy::serve(socket, upstream, netem, Arc::default()).await;
    });
}
