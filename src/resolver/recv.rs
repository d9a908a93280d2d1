//! Reading datagrams in batches: on Linux one `recvmmsg` call returns every
//! answer waiting on the socket (up to [`BATCH`]), instead of one system
//! call per answer. Elsewhere it falls back to one `recv_from` per call.

use std::io;
use std::net::SocketAddr;
use tokio::net::UdpSocket;

/// Datagrams read per system call, at most.
pub const BATCH: usize = 32;
/// Room for the largest datagram, so that none is ever cut short. The
/// memory is only touched as far as datagrams reach, so it costs a page or
/// so per buffer in practice.
const SIZE: usize = 65536;

/// Buffers for one batch of datagrams.
pub struct Batch {
    bufs: Vec<u8>,
    received: Vec<(usize, SocketAddr)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            bufs: vec![0; BATCH * SIZE],
            received: Vec::with_capacity(BATCH),
        }
    }

    /// Wait for datagrams and read as many as are waiting (at least one).
    pub async fn recv(&mut self, socket: &UdpSocket) -> io::Result<()> {
        self.received.clear();
        let (bufs, received) = (&mut self.bufs, &mut self.received);
        socket
            .async_io(tokio::io::Interest::READABLE, || {
                read_waiting(socket, bufs, received)
            })
            .await
    }

    /// The datagrams of the last batch, with where they came from.
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.received
            .iter()
            .enumerate()
            .map(|(i, &(len, from))| (&self.bufs[i * SIZE..i * SIZE + len], from))
    }
}

#[cfg(target_os = "linux")]
fn read_waiting(
    socket: &UdpSocket,
    bufs: &mut [u8],
    received: &mut Vec<(usize, SocketAddr)>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: all-zero bytes are a valid value of these plain C structs.
    let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { std::mem::zeroed() };
    let mut iovecs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
    let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    for ((buf, iov), (addr, header)) in bufs
        .chunks_exact_mut(SIZE)
        .zip(iovecs.iter_mut())
        .zip(addrs.iter_mut().zip(headers.iter_mut()))
    {
        *iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: SIZE,
        };
        header.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
        header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        header.msg_hdr.msg_iov = iov;
        header.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: every header points at its own address slot and iovec, and
    // every iovec at its own SIZE-byte part of `bufs`; all outlive the call.
    let n = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    for (header, addr) in headers.iter().zip(&addrs).take(n as usize) {
        // A datagram from an address we cannot read is no answer of ours;
        // keep its place so that buffers and lengths stay in step.
        let from = socket_addr(addr).unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        received.push((header.msg_len as usize, from));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn socket_addr(addr: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match i32::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in, which fits in the storage.
            let a =
                unsafe { &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6, which fits in the storage.
            let a =
                unsafe { &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn read_waiting(
    socket: &UdpSocket,
    bufs: &mut [u8],
    received: &mut Vec<(usize, SocketAddr)>,
) -> io::Result<()> {
    let (len, from) = socket.try_recv_from(&mut bufs[..SIZE])?;
    received.push((len, from));
    Ok(())
}
