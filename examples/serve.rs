//! An authoritative DNS server for one zone file, on loopback: the README's
//! example, reproducible without installing anything.
//!
//!     cargo run --example serve                      # examples/example.zone on 127.0.0.1:5300
//!     cargo run --example serve -- ZONEFILE ORIGIN ADDR
//!
//! Runs until killed. Built on hickory-server (a dev-dependency).

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.first().map_or("examples/example.zone", String::as_str);
    let origin = args.get(1).map_or("example.", String::as_str);
    let addr: SocketAddr = args
        .get(2)
        .map_or("127.0.0.1:5300", String::as_str)
        .parse()
        .expect("ADDR is IP:PORT");
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    let origin = Name::from_ascii(origin).expect("ORIGIN is a name");
    let (origin, records) = Parser::new(text, None, Some(origin))
        .parse()
        .expect("the zone file parses");
    let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .expect("the zone loads");
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
    let mut server = Server::new(catalog);
    let udp = tokio::net::UdpSocket::bind(addr).await.expect("bind UDP");
    let tcp = tokio::net::TcpListener::bind(addr).await.expect("bind TCP");
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
    eprintln!("serving {file} ({origin}) on {addr}; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    let _ = server.shutdown_gracefully().await;
}
