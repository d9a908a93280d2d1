//! The TCP transport: one query over a connection of its own, so that a
//! server that breaks one connection, desyncs a stream or sends garbage
//! affects only the name it was answering. Messages are framed by a
//! two-byte length (RFC 1035 §4.2.2, RFC 7766). Queries over TCP keep
//! their question in lower case: an off-path attacker cannot inject into
//! a connection, so 0x20 adds nothing there.

use super::answer::{Failure, Phase};
use super::classify::{Verdict, classify};
use super::codec::HEADER;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// How every connection-level failure message starts.
pub(super) const CONNECTION: &str = "connection to the nameserver failed";

/// Ask `query` (its ID already set) over a new TCP connection to `server`,
/// and return what the first message that answers it means. `Err` when no
/// message answered it: the connection failed, or `until` passed.
pub(super) async fn exchange(
    server: SocketAddr,
    query: &[u8],
    until: Instant,
) -> Result<Verdict, Failure> {
    let mut stream = match timeout_at(until, TcpStream::connect(server)).await {
        Err(_) => return Err(Failure::timeout()),
        Ok(Err(e)) => return Err(connection_failure("TCP connect", &e)),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    match timeout_at(until, write_framed(&mut stream, query)).await {
        Err(_) => return Err(Failure::timeout()),
        Ok(Err(e)) => return Err(connection_failure("TCP write", &e)),
        Ok(Ok(())) => {}
    }
    let mut body = Vec::new();
    loop {
        match timeout_at(until, read_framed(&mut stream, &mut body)).await {
            Err(_) => return Err(Failure::timeout()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(Failure::error(
                    Phase::Network,
                    format!("{CONNECTION}: the TCP connection closed in the middle of the answer"),
                ));
            }
            Ok(Err(e)) => return Err(connection_failure("TCP read", &e)),
            Ok(Ok(())) => {}
        }
        if body.len() < HEADER || body[..2] != query[..2] {
            continue;
        }
        match classify(query, &body) {
            Verdict::Ignore(_) => continue,
            Verdict::Truncated => {
                return Ok(Verdict::Fail(Failure::error(
                    Phase::Protocol,
                    "the answer was truncated even over TCP",
                )));
            }
            verdict => return Ok(verdict),
        }
    }
}

pub(super) fn connection_failure(what: &str, e: &io::Error) -> Failure {
    Failure::error(Phase::Network, crate::safe!("{CONNECTION}: {what}: {e}"))
}

/// Write one message with its two-byte length, in one write.
pub(super) async fn write_framed<W: AsyncWrite + Unpin>(w: &mut W, msg: &[u8]) -> io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| io::Error::other("a query too long for TCP"))?;
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(msg);
    w.write_all(&framed).await?;
    w.flush().await
}

/// Read one length-framed message into `body`.
pub(super) async fn read_framed<R: AsyncRead + Unpin>(
    r: &mut R,
    body: &mut Vec<u8>,
) -> io::Result<()> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len).await?;
    body.clear();
    body.resize(usize::from(u16::from_be_bytes(len)), 0);
    r.read_exact(body).await?;
    Ok(())
}
