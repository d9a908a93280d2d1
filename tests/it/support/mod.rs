//! DNS servers on loopback for the integration tests, each started by the
//! test itself and stopped when dropped: an in-process hickory-server zone,
//! and a scriptable UDP/TCP server that answers each query however the test
//! says (late, never, truncated, garbage, ...). Also helpers to run the
//! built binary. Nothing here talks to anything but 127.0.0.1.

pub mod doh;
pub mod https;
pub mod proxy;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_server::proto::rr::rdata::MX;
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;

/// Bind a UDP socket and a TCP listener on the same free port of `ip`
/// (a loopback address).
async fn bind_pair(ip: IpAddr) -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind((ip, 0)).await.expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = TcpListener::bind((ip, port)).await {
            return (udp, tcp);
        }
    }
    panic!("no free loopback port for UDP and TCP together");
}

/// Run `serve` on its own thread and runtime until the returned guard drops.
fn spawn_server<F, Fut>(serve: F) -> (SocketAddr, oneshot::Sender<()>)
where
    F: FnOnce(UdpSocket, TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    spawn_server_at(IpAddr::from([127, 0, 0, 1]), serve)
}

/// [`spawn_server`] on another loopback address (`::1`).
fn spawn_server_at<F, Fut>(ip: IpAddr, serve: F) -> (SocketAddr, oneshot::Sender<()>)
where
    F: FnOnce(UdpSocket, TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (udp, tcp) = bind_pair(ip).await;
            addr_tx.send(udp.local_addr().unwrap()).unwrap();
            serve(udp, tcp, stop_rx).await;
        });
        rt.shutdown_background();
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server started");
    (addr, stop_tx)
}

/// An authoritative hickory-server for one small zone.
pub struct ZoneServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl ZoneServer {
    pub fn start(origin: &str, zone: &str) -> ZoneServer {
        let origin = Name::from_ascii(origin).unwrap();
        let (origin, records) = Parser::new(zone.to_string(), None, Some(origin))
            .parse()
            .expect("test zone parses");
        let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
            origin.clone(),
            records,
            ZoneType::Primary,
            AxfrPolicy::Deny,
        )
        .expect("test zone loads");
        let (addr, stop) = spawn_server(move |udp, tcp, stop| async move {
            let mut catalog = Catalog::new();
            catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
            let mut server = Server::new(catalog);
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
            let _ = stop.await;
            let _ = server.shutdown_gracefully().await;
        });
        ZoneServer { addr, _stop: stop }
    }
}

/// How the scripted server replies to one query.
pub enum Reply {
    /// Send this message (its ID and question are the test's business).
    Message(Message),
    /// Send these bytes as they are.
    Raw(Vec<u8>),
    /// Send nothing.
    Drop,
    /// Wait, then reply.
    Delay(Duration, Box<Reply>),
    /// Send each reply in turn.
    Many(Vec<Reply>),
    /// TCP only: send the first bytes of the framed reply, then close.
    Cut(Message),
    /// UDP only: send the reply from another port, as a spoofer would.
    Elsewhere(Box<Reply>),
}

/// What the scripted server does with TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tcp {
    /// Answer over TCP like over UDP.
    Serve,
    /// No listener: connections are refused.
    Refuse,
    /// A listener that never accepts: connections hang.
    Blackhole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What the scripted server saw.
#[derive(Default)]
pub struct Stats {
    pub udp_queries: AtomicUsize,
    pub tcp_queries: AtomicUsize,
    /// Distinct names being handled right now, and the most at once.
    in_flight: Mutex<HashMap<String, usize>>,
    pub max_in_flight: AtomicUsize,
    /// Each query's name and arrival time.
    pub arrivals: Mutex<Vec<(String, Instant)>>,
}

impl Stats {
    fn begin(&self, name: &str) {
        let mut m = self.in_flight.lock().unwrap();
        *m.entry(name.to_string()).or_default() += 1;
        self.max_in_flight.fetch_max(m.len(), Ordering::SeqCst);
        self.arrivals
            .lock()
            .unwrap()
            .push((name.to_string(), Instant::now()));
    }

    fn end(&self, name: &str) {
        let mut m = self.in_flight.lock().unwrap();
        if let Some(n) = m.get_mut(name) {
            *n -= 1;
            if *n == 0 {
                m.remove(name);
            }
        }
    }

    /// How many queries arrived for `name` (over either transport).
    pub fn queries_for(&self, name: &str) -> usize {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .count()
    }
}

type Handler = Arc<dyn Fn(Transport, &Message) -> Reply + Send + Sync>;
type Observer = Arc<dyn Fn(SocketAddr, &Message) + Send + Sync>;

/// A hand-written DNS server whose every reply the test decides.
pub struct ScriptServer {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    _stop: oneshot::Sender<()>,
}

impl ScriptServer {
    pub fn start(
        handler: impl Fn(Transport, &Message) -> Reply + Send + Sync + 'static,
    ) -> ScriptServer {
        Self::start_with(Tcp::Serve, handler)
    }

    /// `tcp: false` closes the TCP listener: connections are refused.
    pub fn start_with(
        tcp: Tcp,
        handler: impl Fn(Transport, &Message) -> Reply + Send + Sync + 'static,
    ) -> ScriptServer {
        Self::start_at(IpAddr::from([127, 0, 0, 1]), tcp, handler)
    }

    /// A scripted server that also shows `observe` each UDP query and the
    /// address it came from.
    pub fn start_observing(
        observe: impl Fn(SocketAddr, &Message) + Send + Sync + 'static,
        handler: impl Fn(Transport, &Message) -> Reply + Send + Sync + 'static,
    ) -> ScriptServer {
        Self::start_full(
            IpAddr::from([127, 0, 0, 1]),
            Tcp::Serve,
            Some(Arc::new(observe)),
            handler,
        )
    }

    /// A scripted server on another loopback address (`::1`).
    pub fn start_at(
        ip: IpAddr,
        tcp: Tcp,
        handler: impl Fn(Transport, &Message) -> Reply + Send + Sync + 'static,
    ) -> ScriptServer {
        Self::start_full(ip, tcp, None, handler)
    }

    fn start_full(
        ip: IpAddr,
        tcp: Tcp,
        observe: Option<Observer>,
        handler: impl Fn(Transport, &Message) -> Reply + Send + Sync + 'static,
    ) -> ScriptServer {
        let handler: Handler = Arc::new(handler);
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let (addr, stop) = spawn_server_at(ip, move |udp, listener, stop| async move {
            let udp = Arc::new(udp);
            let udp_loop = serve_udp(udp, handler.clone(), st.clone(), observe);
            let tcp_loop = async {
                match tcp {
                    Tcp::Serve => serve_tcp(listener, handler, st).await,
                    Tcp::Refuse => {
                        drop(listener);
                        std::future::pending().await
                    }
                    Tcp::Blackhole => {
                        // Connections complete in the kernel's backlog and
                        // are never read.
                        let _keep = listener;
                        std::future::pending().await
                    }
                }
            };
            tokio::select! {
                _ = stop => {}
                _ = udp_loop => {}
                _ = tcp_loop => {}
            }
        });
        ScriptServer {
            addr,
            stats,
            _stop: stop,
        }
    }
}

fn query_name(q: &Message) -> String {
    q.queries
        .first()
        .map(|q| q.name().to_ascii().to_lowercase())
        .unwrap_or_default()
}

async fn serve_udp(
    sock: Arc<UdpSocket>,
    handler: Handler,
    stats: Arc<Stats>,
    observe: Option<Observer>,
) {
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        stats.udp_queries.fetch_add(1, Ordering::SeqCst);
        if let Some(o) = &observe {
            o(peer, &query);
        }
        let name = query_name(&query);
        stats.begin(&name);
        let reply = handler(Transport::Udp, &query);
        let sock = sock.clone();
        let stats = stats.clone();
        tokio::spawn(async move {
            // The query is done when its answer goes out: count it out
            // first, so that a client that asks again the moment the
            // answer arrives is never seen as one more in flight.
            let mut done = Some(|| stats.end(&name));
            send_udp(&sock, peer, reply, &mut done).await;
            if let Some(d) = done.take() {
                d();
            }
        });
    }
}

async fn send_udp<F: FnOnce()>(
    sock: &UdpSocket,
    peer: SocketAddr,
    reply: Reply,
    done: &mut Option<F>,
) {
    let mut queue = vec![reply];
    while let Some(r) = queue.pop() {
        match r {
            Reply::Message(m) => {
                if let Some(d) = done.take() {
                    d();
                }
                let _ = sock.send_to(&m.to_vec().unwrap(), peer).await;
            }
            Reply::Raw(bytes) => {
                if let Some(d) = done.take() {
                    d();
                }
                let _ = sock.send_to(&bytes, peer).await;
            }
            Reply::Drop | Reply::Cut(_) => {}
            Reply::Delay(d, r) => {
                tokio::time::sleep(d).await;
                queue.push(*r);
            }
            Reply::Many(rs) => queue.extend(rs.into_iter().rev()),
            Reply::Elsewhere(r) => {
                let ip = sock.local_addr().unwrap().ip();
                let other = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
                Box::pin(send_udp(&other, peer, *r, done)).await;
            }
        }
    }
}

async fn serve_tcp(listener: TcpListener, handler: Handler, stats: Arc<Stats>) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            continue;
        };
        let handler = handler.clone();
        let stats = stats.clone();
        tokio::spawn(async move {
            let (mut reader, writer) = conn.into_split();
            let writer = Arc::new(tokio::sync::Mutex::new(Some(writer)));
            // Queries on one connection are answered concurrently, as real
            // servers do, so one slow answer does not hold up the others.
            loop {
                let mut len = [0u8; 2];
                if reader.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
                if reader.read_exact(&mut buf).await.is_err() {
                    return;
                }
                let Ok(query) = Message::from_vec(&buf) else {
                    return;
                };
                stats.tcp_queries.fetch_add(1, Ordering::SeqCst);
                let name = query_name(&query);
                stats.begin(&name);
                let reply = handler(Transport::Tcp, &query);
                let writer = writer.clone();
                let stats = stats.clone();
                tokio::spawn(async move {
                    send_tcp(&writer, reply).await;
                    stats.end(&name);
                });
            }
        });
    }
}

type TcpWriter = Arc<tokio::sync::Mutex<Option<tokio::net::tcp::OwnedWriteHalf>>>;

async fn send_tcp(writer: &TcpWriter, reply: Reply) {
    let frame = |m: &Message| {
        let bytes = m.to_vec().unwrap();
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        framed
    };
    let mut queue = vec![reply];
    while let Some(r) = queue.pop() {
        let bytes = match r {
            Reply::Message(m) => frame(&m),
            Reply::Raw(bytes) => bytes,
            Reply::Drop | Reply::Elsewhere(_) => continue,
            Reply::Cut(m) => {
                let framed = frame(&m);
                let mut w = writer.lock().await;
                if let Some(mut half) = w.take() {
                    let _ = half.write_all(&framed[..framed.len() / 2]).await;
                    let _ = half.shutdown().await;
                }
                return;
            }
            Reply::Delay(d, r) => {
                tokio::time::sleep(d).await;
                queue.push(*r);
                continue;
            }
            Reply::Many(rs) => {
                queue.extend(rs.into_iter().rev());
                continue;
            }
        };
        let mut w = writer.lock().await;
        if let Some(half) = w.as_mut() {
            let _ = half.write_all(&bytes).await;
        }
    }
}

/// A response to `q` with its ID and question, and this response code.
pub fn response(q: &Message, code: ResponseCode) -> Message {
    let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.recursion_desired = q.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.metadata.response_code = code;
    m.queries = q.queries.clone();
    m
}

/// A NOERROR response with these MX records for the queried name.
pub fn mx_response(q: &Message, records: &[(u16, Name)]) -> Message {
    let mut m = response(q, ResponseCode::NoError);
    let owner = q.queries[0].name().clone();
    for (pref, exchange) in records {
        m.add_answer(Record::from_rdata(
            owner.clone(),
            300,
            RData::MX(MX::new(*pref, exchange.clone())),
        ));
    }
    m
}

/// The raw bytes of a response with the query's ID and question, then
/// `tail` after the header's counts are set to `counts`.
pub fn raw(q: &Message, flags: [u8; 2], counts: [u16; 3], tail: &[u8]) -> Vec<u8> {
    let mut m = q.metadata.id.to_be_bytes().to_vec();
    m.extend_from_slice(&flags);
    m.extend_from_slice(&1u16.to_be_bytes());
    for c in counts {
        m.extend_from_slice(&c.to_be_bytes());
    }
    // The question exactly as asked (case kept).
    let q_bytes = q.to_vec().unwrap();
    let mut end = 12;
    while q_bytes[end] != 0 {
        end += 1 + q_bytes[end] as usize;
    }
    m.extend_from_slice(&q_bytes[12..end + 5]);
    m.extend_from_slice(tail);
    m
}

/// One record for the question's name (a pointer to it), class IN, TTL
/// 60, of type `rtype` with this RDATA.
pub fn rr(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = vec![0xC0, 12];
    r.extend_from_slice(&rtype.to_be_bytes());
    r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

pub fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

/// The first label of the queried name, lower-cased: tests script replies by it.
pub fn first_label(q: &Message) -> String {
    q.queries
        .first()
        .and_then(|q| {
            q.name()
                .iter()
                .next()
                .map(|l| String::from_utf8_lossy(l).to_lowercase())
        })
        .unwrap_or_default()
}

/// The built binary, run with a clean environment.
pub fn mxlookup() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mxlookup"));
    cmd.env_clear();
    cmd.stdin(Stdio::null());
    cmd
}

/// Run the binary with these arguments and (if given) this stdin.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = mxlookup();
    cmd.args(args);
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mxlookup");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().expect("mxlookup ran")
}

/// Start the binary with these arguments, stdout and stderr piped, for a
/// test that signals it, reads it as it goes, or closes a pipe on it.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Child {
    mxlookup()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mxlookup")
}

/// A [`proxy`] in front of `upstream`, on its own thread, until dropped.
pub struct Proxy {
    pub addr: SocketAddr,
    pub stats: Arc<proxy::ProxyStats>,
    _stop: oneshot::Sender<()>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr, netem: proxy::Netem) -> Proxy {
        let stats = Arc::new(proxy::ProxyStats::default());
        let st = stats.clone();
        let (addr, stop) = spawn_server(move |udp, _tcp, stop| async move {
            tokio::select! {
                _ = stop => {}
                _ = proxy::serve(udp, upstream, netem, st) => {}
            }
        });
        Proxy {
            addr,
            stats,
            _stop: stop,
        }
    }
}

/// A loopback port with nothing listening on it (UDP): a socket is bound
/// to find a free one, then closed.
pub fn closed_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap()
}

/// Run the binary with these flags followed by these domains.
pub fn run_names(flags: &[&str], names: &[String]) -> Output {
    let mut args = flags.to_vec();
    args.extend(names.iter().map(String::as_str));
    run(&args, None)
}

/// Parse NDJSON output into objects.
pub fn ndjson(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line {l:?}: {e}")))
        .collect()
}

/// Results by domain, asserting each domain appears exactly once.
pub fn by_domain(results: &[serde_json::Value]) -> HashMap<String, serde_json::Value> {
    let mut map = HashMap::new();
    for r in results {
        let d = r["domain"].as_str().unwrap().to_string();
        assert!(
            map.insert(d.clone(), r.clone()).is_none(),
            "{d} reported twice"
        );
    }
    map
}

pub fn status(results: &HashMap<String, serde_json::Value>, domain: &str) -> String {
    results
        .get(domain)
        .unwrap_or_else(|| panic!("{domain} missing from {results:?}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `(preference, exchange)` pairs of one result.
pub fn mx_of(results: &HashMap<String, serde_json::Value>, domain: &str) -> Vec<(u64, String)> {
    results[domain]["mx"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["preference"].as_u64().unwrap(),
                m["exchange"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Where a program from Debian's packages is, or a failing test that says
/// how to install it. CI installs them (`.ci/run`); these tests are never
/// skipped in silence.
pub fn program(names: &[&str], package: &str) -> String {
    names
        .iter()
        .flat_map(|n| [format!("/usr/sbin/{n}"), format!("/usr/bin/{n}")])
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!(
                "{} is not installed: this test needs it (Debian: apt-get install {package}; .ci/run installs it)",
                names[0]
            )
        })
}

/// A free port on `ip` for both UDP and TCP.
fn free_port(ip: IpAddr) -> u16 {
    loop {
        let u = std::net::UdpSocket::bind((ip, 0)).unwrap();
        let p = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind((ip, p)).is_ok() {
            return p;
        }
    }
}

/// A server process the test started: killed and reaped when dropped.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `program` with `args` and wait until `addr` accepts TCP
/// connections; `None` if it exits or does not get there in time.
fn start_daemon(program: &str, args: &[&str], addr: SocketAddr) -> Option<Daemon> {
    let mut child = Daemon(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.0.try_wait() {
            return None;
        }
        if std::net::TcpStream::connect(addr).is_ok() {
            // Zones load just after the listener opens.
            std::thread::sleep(Duration::from_millis(300));
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A Knot DNS server (knotd) serving zones the test writes. Stopped when
/// dropped.
pub struct Knot {
    pub addr: SocketAddr,
    _daemon: Daemon,
    dir: tempfile::TempDir,
}

impl Knot {
    /// On a free port of 127.0.0.1. `zones`: (origin, zone file text). A
    /// zone whose text is not a valid zone file fails to load, and knotd
    /// answers SERVFAIL for it.
    pub fn start(zones: &[(&str, String)]) -> Knot {
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..20 {
            if let Some(k) = Self::start_at(SocketAddr::new(ip, free_port(ip)), zones, &[]) {
                return k;
            }
        }
        panic!("knotd did not start on any port");
    }

    /// Like [`Knot::start`], with the zones named in `signed` signed by
    /// knotd itself (`dnssec-signing: on`, ECDSA P-256, NSEC); their trust
    /// anchors come from [`Knot::ds`].
    pub fn start_signed(zones: &[(&str, String)], signed: &[&str]) -> Knot {
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..20 {
            if let Some(k) = Self::start_at(SocketAddr::new(ip, free_port(ip)), zones, signed) {
                return k;
            }
        }
        panic!("knotd did not start on any port");
    }

    /// The DS record of a signed zone's key-signing key, as a trust anchor
    /// for a validating resolver (`sec.test. DS 12345 13 2 ABCD...`), from
    /// knotd's own key store (keymgr).
    pub fn ds(&self, zone: &str) -> String {
        let keymgr = program(&["keymgr"], "knot");
        let conf = self.dir.path().join("knot.conf");
        let out = Command::new(keymgr)
            .arg("-c")
            .arg(&conf)
            .args([zone, "ds"])
            .output()
            .expect("run keymgr");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find(|l| l.contains(" DS ") && l.contains(" 13 2 "))
            .unwrap_or_else(|| panic!("no SHA-256 DS for {zone} from keymgr: {text}"))
            .trim()
            .to_string()
    }

    /// On port 53 of a free address in 127.0.0.0/8, where a recursive
    /// resolver finds a delegated zone's server by its glue (resolvers ask
    /// port 53). Needs root.
    pub fn start_on_port_53(zones: &[(&str, String)]) -> Knot {
        for x in 0..200u8 {
            let ip = IpAddr::from([127, 0, (std::process::id() % 200) as u8 + 20, 20 + x]);
            let addr = SocketAddr::new(ip, 53);
            if std::net::UdpSocket::bind(addr).is_err()
                || std::net::TcpListener::bind(addr).is_err()
            {
                continue;
            }
            if let Some(k) = Self::start_at(addr, zones, &[]) {
                return k;
            }
        }
        panic!("knotd could not listen on port 53 of any loopback address (is this root?)");
    }

    fn start_at(addr: SocketAddr, zones: &[(&str, String)], signed: &[&str]) -> Option<Knot> {
        let knotd = program(&["knotd"], "knot");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let mut zone_conf = String::new();
        for (origin, text) in zones {
            let file = format!("{d}/{origin}zone");
            std::fs::write(&file, text).unwrap();
            zone_conf.push_str(&format!("  - domain: {origin}\n    file: {file}\n"));
            if signed.contains(origin) {
                zone_conf.push_str("    dnssec-signing: on\n    dnssec-policy: test\n");
            }
        }
        let conf = format!(
            "server:\n    listen: {}@{}\n    rundir: {d}\n    udp-workers: 2\n    tcp-workers: 2\n\
             database:\n    storage: {d}\n\
             policy:\n  - id: test\n    algorithm: ecdsap256sha256\n    nsec3: off\n\
             template:\n  - id: default\n    storage: {d}\n    zonefile-sync: -1\n    journal-content: none\n    semantic-checks: off\n\
             zone:\n{zone_conf}\
             log:\n  - target: stderr\n    any: error\n",
            addr.ip(),
            addr.port()
        );
        let conf_path = format!("{d}/knot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let daemon = start_daemon(&knotd, &["-c", &conf_path], addr)?;
        Some(Knot {
            addr,
            _daemon: daemon,
            dir,
        })
    }
}

/// An Unbound recursive resolver on a free loopback port, answering from
/// the zones of `stubs` (zone, server): the resolver users actually query.
/// With [`Unbound::start_encrypted`], also DNS over TLS and over HTTPS.
/// Stopped when dropped.
pub struct Unbound {
    pub addr: SocketAddr,
    /// DNS over TLS, when started with certificates.
    pub tls: Option<SocketAddr>,
    /// DNS over HTTPS (path /dns-query), when started with certificates.
    pub https: Option<SocketAddr>,
    _daemon: Daemon,
    _dir: tempfile::TempDir,
}

impl Unbound {
    pub fn start(stubs: &[(&str, SocketAddr)], extra: &str) -> Unbound {
        Self::start_with(stubs, extra, None)
    }

    /// A validating resolver (DNSSEC, with Extended DNS Errors) that
    /// trusts the keys of `anchors` (DS records, see [`Knot::ds`]): names
    /// under them are secure or bogus, every other name insecure.
    pub fn start_validating(stubs: &[(&str, SocketAddr)], anchors: &[String]) -> Unbound {
        let mut extra = String::from("    module-config: \"validator iterator\"\n    ede: yes\n");
        for a in anchors {
            extra.push_str(&format!("    trust-anchor: \"{a}\"\n"));
        }
        Self::start_with(stubs, &extra, None)
    }

    /// Also serving DoT and DoH with the certificate of `certs`.
    pub fn start_encrypted(stubs: &[(&str, SocketAddr)], certs: &TestCa) -> Unbound {
        Self::start_with(stubs, "", Some(certs))
    }

    fn start_with(stubs: &[(&str, SocketAddr)], extra: &str, certs: Option<&TestCa>) -> Unbound {
        let unbound = program(&["unbound"], "unbound");
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().display().to_string();
            let port = free_port(ip);
            let modules = if extra.contains("module-config") {
                ""
            } else {
                "    module-config: \"iterator\"\n"
            };
            let mut conf = format!(
                "server:\n    interface: 127.0.0.1@{port}\n    do-ip6: no\n\
                 \x20   do-not-query-localhost: no\n    username: \"\"\n    chroot: \"\"\n\
                 \x20   directory: \"{d}\"\n    pidfile: \"{d}/unbound.pid\"\n    use-syslog: no\n\
                 \x20   logfile: \"\"\n    verbosity: 0\n{modules}\
                 \x20   access-control: 127.0.0.0/8 allow\n    num-threads: 1\n\
                 \x20   local-zone: \"test.\" nodefault\n{extra}"
            );
            let (mut tls, mut https) = (None, None);
            if let Some(c) = certs {
                let (t, h) = (free_port(ip), free_port(ip));
                if t == h || t == port || h == port {
                    continue;
                }
                conf.push_str(&format!(
                    "    interface: 127.0.0.1@{t}\n    interface: 127.0.0.1@{h}\n\
                     \x20   tls-port: {t}\n    https-port: {h}\n\
                     \x20   tls-service-key: \"{}\"\n    tls-service-pem: \"{}\"\n\
                     \x20   http-endpoint: \"/dns-query\"\n    incoming-num-tcp: 100\n",
                    c.key, c.cert
                ));
                tls = Some(SocketAddr::new(ip, t));
                https = Some(SocketAddr::new(ip, h));
            }
            for (zone, server) in stubs {
                conf.push_str(&format!(
                    "stub-zone:\n    name: \"{zone}\"\n    stub-addr: {}@{}\n",
                    server.ip(),
                    server.port()
                ));
            }
            let path = format!("{d}/unbound.conf");
            std::fs::write(&path, conf).unwrap();
            let addr = SocketAddr::new(ip, port);
            if let Some(daemon) = start_daemon(&unbound, &["-d", "-c", &path], addr) {
                return Unbound {
                    addr,
                    tls,
                    https,
                    _daemon: daemon,
                    _dir: dir,
                };
            }
        }
        panic!("unbound did not start on any port");
    }
}

/// A certificate authority made for one test, and a server certificate it
/// signed for 127.0.0.1 and `dns.test`: PEM files in a directory of their
/// own.
pub struct TestCa {
    pub ca: String,
    pub cert: String,
    pub key: String,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        Self::with_names(&["dns.test", "127.0.0.1"])
    }

    /// A CA, and a server certificate it signed for `names` (DNS names or
    /// IP addresses).
    pub fn with_names(names: &[&str]) -> TestCa {
        Self::issue(names, false)
    }

    /// The same, with a certificate that expired yesterday.
    pub fn expired(names: &[&str]) -> TestCa {
        Self::issue(names, true)
    }

    fn issue(names: &[&str], expired: bool) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mxlookup test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &ca).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        TestCa {
            ca: write("ca.pem", ca.pem()),
            cert: write("cert.pem", cert.pem()),
            key: write("key.pem", key.serialize_pem()),
            _dir: dir,
        }
    }
}

/// nginx serving static files over HTTPS on a free port of 127.0.0.1,
/// one virtual server per name (the test's own certificate), the files of
/// each under its own root. Stopped when dropped, by its PID.
pub struct Nginx {
    pub port: u16,
    _daemon: Daemon,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// `sites`: (server name, [(path, content)]); a site with no files
    /// answers 404.
    pub fn start(ca: &TestCa, sites: &[(&str, Vec<(&str, String)>)]) -> Nginx {
        let nginx = program(&["nginx"], "nginx");
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().display().to_string();
            let port = free_port(ip);
            let mut servers = String::new();
            for (i, (name, files)) in sites.iter().enumerate() {
                let root = format!("{d}/site{i}");
                for (path, content) in files {
                    let file = format!("{root}{path}");
                    std::fs::create_dir_all(std::path::Path::new(&file).parent().unwrap()).unwrap();
                    std::fs::write(&file, content).unwrap();
                }
                std::fs::create_dir_all(&root).unwrap();
                servers.push_str(&format!(
                    "  server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name {name};\n    root {root};\n\
                     \x20   ssl_certificate {};\n    ssl_certificate_key {};\n  }}\n",
                    ca.cert, ca.key
                ));
            }
            let conf = format!(
                "user root;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\n\
                 error_log {d}/error.log error;\nevents {{ worker_connections 256; }}\n\
                 http {{\n  types {{ text/plain txt; text/html html; }}\n  default_type application/octet-stream;\n\
                 \x20 access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
                 \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{servers}}}\n"
            );
            let path = format!("{d}/nginx.conf");
            std::fs::write(&path, conf).unwrap();
            if let Some(daemon) = start_daemon(
                &nginx,
                &["-c", &path, "-p", &d, "-e", &format!("{d}/error.log")],
                SocketAddr::new(ip, port),
            ) {
                return Nginx {
                    port,
                    _daemon: daemon,
                    _dir: dir,
                };
            }
        }
        panic!("nginx did not start on any port");
    }
}

/// A TCP relay in front of `upstream` that counts the connections made
/// through it (to see that connections are reused). Stopped when dropped.
pub struct TcpCounter {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

impl TcpCounter {
    pub fn start(upstream: SocketAddr) -> TcpCounter {
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let (addr, stop) = spawn_server(move |_udp, tcp, stop| async move {
            let relay = async move {
                loop {
                    let Ok((mut client, _)) = tcp.accept().await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            };
            tokio::select! {
                _ = stop => {}
                _ = relay => {}
            }
        });
        TcpCounter {
            addr,
            connections,
            _stop: stop,
        }
    }
}

/// A UDP server on a fixed loopback port that can go away for a while
/// and come back on the same port, as a resolver does when it restarts:
/// while it is away, the port answers ICMP "unreachable". Stopped when
/// dropped.
pub struct Restartable {
    pub addr: SocketAddr,
    paused_until: Arc<Mutex<Option<Instant>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Restartable {
    pub fn start(handler: impl Fn(&Message) -> Reply + Send + 'static) -> Restartable {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let paused_until: Arc<Mutex<Option<Instant>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (paused, stopping) = (paused_until.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut socket = Some(socket);
            let mut buf = vec![0u8; 65535];
            while !stopping.load(Ordering::Relaxed) {
                let away = paused.lock().unwrap().is_some_and(|t| Instant::now() < t);
                if away {
                    socket = None;
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let s = match &socket {
                    Some(s) => s,
                    None => match std::net::UdpSocket::bind(addr) {
                        Ok(s) => socket.insert(s),
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    },
                };
                s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
                let Ok((n, peer)) = s.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                if let Reply::Message(m) = handler(&q) {
                    let _ = s.send_to(&m.to_vec().unwrap(), peer);
                }
            }
        });
        Restartable {
            addr,
            paused_until,
            stop,
        }
    }

    /// Go away now for `away`, then come back on the same port.
    pub fn pause(&self, away: Duration) {
        *self.paused_until.lock().unwrap() = Some(Instant::now() + away);
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Start the binary with these arguments, stdin, stdout and stderr piped.
pub fn spawn_piped<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Child {
    mxlookup()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mxlookup")
}
