//! Reading datagrams in batches: on Linux one `recvmmsg` call returns every
//! answer waiting on the socket (up to [`BATCH`]), instead of one system
//! call per answer. Elsewhere it falls back to one `recv_from` per call.
//!
//! One of the few audited places with `unsafe`: the `recvmmsg` call and the
//! buffers it writes into, each with a SAFETY note.
#![allow(unsafe_code)]

use std::io;
use tokio::net::UdpSocket;

/// Datagrams read per system call, at most.
pub(super) const BATCH: usize = 32;
/// Room for one datagram. mxlookup advertises 1232 bytes (EDNS), 512
/// without; some servers ignore that and send up to 4096. A datagram that
/// does not fit is reported as cut short ([`Datagram::cut`]), and its query
/// is asked again over TCP.
pub(super) const SIZE: usize = 8192;

/// One datagram of a batch.
pub(super) struct Datagram<'a> {
    pub bytes: &'a [u8],
    /// Longer than [`SIZE`]: only its start is here.
    pub cut: bool,
}

/// Buffers for one batch of datagrams, reused from call to call.
pub(super) struct Batch {
    bufs: Vec<u8>,
    received: Vec<(usize, bool)>,
    #[cfg(target_os = "linux")]
    sys: Box<Sys>,
}

/// The kernel's view of the buffers. The headers point at the iovecs and
/// the iovecs at `bufs`, whose memory never moves (it is never resized).
#[cfg(target_os = "linux")]
struct Sys {
    iovecs: [libc::iovec; BATCH],
    headers: [libc::mmsghdr; BATCH],
}

// SAFETY: the raw pointers in `Sys` point into memory owned by the same
// `Batch` (its `bufs` and its own boxed `Sys`), which moves between threads
// as a whole; nothing else holds them.
#[cfg(target_os = "linux")]
unsafe impl Send for Sys {}

impl Batch {
    pub(super) fn new() -> Batch {
        let mut bufs = vec![0u8; BATCH * SIZE];
        #[cfg(target_os = "linux")]
        let sys = {
            // SAFETY: all-zero bytes are a valid value of these plain C structs.
            let mut sys: Box<Sys> = Box::new(unsafe { std::mem::zeroed() });
            let Sys { iovecs, headers } = &mut *sys;
            for ((buf, iov), header) in bufs
                .chunks_exact_mut(SIZE)
                .zip(iovecs.iter_mut())
                .zip(headers.iter_mut())
            {
                *iov = libc::iovec {
                    iov_base: buf.as_mut_ptr().cast(),
                    iov_len: SIZE,
                };
                header.msg_hdr.msg_iov = iov;
                header.msg_hdr.msg_iovlen = 1;
            }
            sys
        };
        Batch {
            bufs,
            received: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            sys,
        }
    }

    /// Wait for datagrams and read as many as are waiting (at least one).
    pub(super) async fn recv(&mut self, socket: &UdpSocket) -> io::Result<()> {
        self.received.clear();
        #[cfg(target_os = "linux")]
        {
            let (sys, received) = (&mut self.sys, &mut self.received);
            // ERROR too: an ICMP error on a connected socket (the server's
            // port is closed) is reported as an error event only.
            let interest = tokio::io::Interest::READABLE.add(tokio::io::Interest::ERROR);
            socket
                .async_io(interest, || read_waiting(socket, sys, received))
                .await
        }
        #[cfg(not(target_os = "linux"))]
        {
            let (bufs, received) = (&mut self.bufs, &mut self.received);
            socket
                .async_io(tokio::io::Interest::READABLE, || {
                    let len = socket.try_recv(&mut bufs[..SIZE])?;
                    received.push((len, false));
                    Ok(())
                })
                .await
        }
    }

    /// How many datagrams the last batch read.
    pub(super) fn len(&self) -> usize {
        self.received.len()
    }

    /// The `i`th datagram of the last batch.
    pub(super) fn datagram(&self, i: usize) -> Datagram<'_> {
        let (len, cut) = self.received[i];
        Datagram {
            bytes: &self.bufs[i * SIZE..i * SIZE + len.min(SIZE)],
            cut,
        }
    }
}

/// Read the datagrams waiting on a connected socket. Sources are not asked
/// for: the kernel delivers only the connected peer's datagrams.
#[cfg(target_os = "linux")]
fn read_waiting(
    socket: &UdpSocket,
    sys: &mut Sys,
    received: &mut Vec<(usize, bool)>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    for h in sys.headers.iter_mut() {
        h.msg_hdr.msg_flags = 0;
        h.msg_len = 0;
    }
    // SAFETY: every header points at its own iovec, and every iovec at its
    // own SIZE-byte part of the batch's buffer; all outlive the call.
    let n = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            sys.headers.as_mut_ptr(),
            BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    for h in sys.headers.iter().take(n as usize) {
        let cut = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        received.push((h.msg_len as usize, cut));
    }
    Ok(())
}
