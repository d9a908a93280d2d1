//! The wire engine's own DNS codec: it writes the one query mxlookup sends
//! and reads the few parts of an answer that matter, straight from the
//! datagram, without building a full message. The full decoder
//! (hickory-proto, see [`super::classify_answer_reference`]) costs about as
//! much CPU as the rest of a lookup together; this one costs a fraction.
//!
//! It gives the same [`Answer`] as the reference for every message the
//! reference can decode (a differential property test in
//! `tests/properties.rs` and the `answer` fuzz target check this). It reads
//! names the same way: compression pointers must point before the name
//! that holds them, labels are at most 63 bytes and names 255, and the MX
//! and CNAME data must fill their RDATA exactly. It is laxer only about
//! the contents of records it does not use, so an answer with, say, a
//! malformed SOA in its authority section still counts.

use super::Answer;
use crate::name::{DomainName, MAX_LABEL, MAX_WIRE, escape_text};
use crate::outcome::{Mx, Outcome};

/// Length of the DNS header.
pub const HEADER: usize = 12;
/// EDNS payload size we advertise (the DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

const TYPE_CNAME: u16 = 5;
const TYPE_MX: u16 = 15;
const TYPE_OPT: u16 = 41;
/// A CNAME chain longer than this is a loop or an attack; stop following.
const MAX_CHAIN: usize = 16;

/// Write an MX query for `name` with ID `id` and an EDNS(0) OPT record into
/// `out` (cleared first). The question name starts at [`HEADER`] and is in
/// lower case, as [`DomainName`] is.
pub fn encode_query(id: u16, name: &DomainName, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let [hi, lo] = id.to_be_bytes();
    // ID, flags (RD), QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1.
    out.extend_from_slice(&[hi, lo, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    name.write_wire(out)?;
    // QTYPE MX, QCLASS IN.
    out.extend_from_slice(&[0, TYPE_MX as u8, 0, 1]);
    // OPT: root owner, type 41, class = payload size, extended RCODE 0,
    // version 0, no flags, no options.
    let [p1, p2] = EDNS_PAYLOAD.to_be_bytes();
    out.extend_from_slice(&[0, 0, TYPE_OPT as u8, p1, p2, 0, 0, 0, 0, 0, 0]);
    Ok(())
}

/// The question name of a query made by [`encode_query`].
pub fn question(query: &[u8]) -> &[u8] {
    let mut end = HEADER;
    while let Some(&len) = query.get(end) {
        end += 1 + usize::from(len);
        if len == 0 {
            break;
        }
    }
    &query[HEADER.min(query.len())..end.min(query.len())]
}

/// Classify a datagram or TCP message received for an MX query whose
/// question name is `qname` (wire form, lower case, as [`question`] gives
/// it). Matching the ID is the caller's job. Never panics.
pub fn classify(qname: &[u8], msg: &[u8]) -> Answer {
    read(qname, msg).unwrap_or(Answer::Ignore)
}

/// A decoded name: wire form, ASCII letters folded to lower case.
struct NameBuf {
    bytes: [u8; MAX_WIRE],
    len: usize,
}

impl NameBuf {
    fn new() -> NameBuf {
        NameBuf {
            bytes: [0; MAX_WIRE],
            len: 0,
        }
    }

    fn as_wire(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Append a length octet and its label, or `None` past 255 bytes
    /// (counting the root octet still to come).
    fn push_label(&mut self, label: &[u8]) -> Option<()> {
        let end = self.len + 1 + label.len();
        if end + 1 > MAX_WIRE {
            return None;
        }
        self.bytes[self.len] = label.len() as u8;
        for (dst, src) in self.bytes[self.len + 1..end].iter_mut().zip(label) {
            *dst = src.to_ascii_lowercase();
        }
        self.len = end;
        Some(())
    }

    fn push_root(&mut self) {
        self.bytes[self.len] = 0;
        self.len += 1;
    }
}

/// Read the name at `pos` into `out`. Returns the offset just past the
/// name's own bytes (up to and including its first pointer).
///
/// Every pointer must point before the part of the name that holds it, and
/// labels reached through a pointer must end before that part: so a name
/// cannot loop, and it is read exactly as hickory-proto reads it.
fn read_name(msg: &[u8], mut pos: usize, out: &mut NameBuf) -> Option<usize> {
    out.len = 0;
    let mut part_start = pos;
    let mut limit = msg.len();
    let mut end = None;
    loop {
        if pos >= limit {
            return None;
        }
        let len = msg[pos];
        match len & 0xC0 {
            0x00 if len == 0 => {
                out.push_root();
                return Some(end.unwrap_or(pos + 1));
            }
            0x00 => {
                let label = msg.get(pos + 1..pos + 1 + usize::from(len))?;
                if label.len() > MAX_LABEL {
                    return None;
                }
                out.push_label(label)?;
                pos += 1 + label.len();
            }
            0xC0 => {
                let low = *msg.get(pos + 1)?;
                let target = usize::from(len & 0x3F) << 8 | usize::from(low);
                if target >= part_start {
                    return None;
                }
                end.get_or_insert(pos + 2);
                limit = part_start;
                part_start = target;
                pos = target;
            }
            _ => return None,
        }
    }
}

/// A cursor over the message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u16(&mut self) -> Option<u16> {
        let b = self.msg.get(self.pos..self.pos + 2)?;
        self.pos += 2;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.msg.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn name(&mut self, out: &mut NameBuf) -> Option<()> {
        self.pos = read_name(self.msg, self.pos, out)?;
        Some(())
    }

    /// One resource record: its owner into `owner`; returns its type, TTL
    /// and RDATA range.
    fn record(&mut self, owner: &mut NameBuf) -> Option<Record> {
        self.name(owner)?;
        let rtype = self.u16()?;
        let _class = self.u16()?;
        let ttl = self.u32()?;
        let len = usize::from(self.u16()?);
        let start = self.pos;
        if start + len > self.msg.len() {
            return None;
        }
        self.pos += len;
        Some(Record {
            rtype,
            ttl,
            rdata: start..start + len,
        })
    }
}

struct Record {
    rtype: u16,
    ttl: u32,
    rdata: std::ops::Range<usize>,
}

/// The name that fills an RDATA exactly (CNAME target, MX exchange after
/// `skip` bytes), or `None` if it is malformed or does not fill it.
fn rdata_name(
    msg: &[u8],
    rdata: &std::ops::Range<usize>,
    skip: usize,
    out: &mut NameBuf,
) -> Option<()> {
    // Only the RDATA's own bytes may hold the name's labels; pointers may
    // reach back into the message, as on the wire.
    let end = read_name(&msg[..rdata.end], rdata.start + skip, out)?;
    (end == rdata.end).then_some(())
}

/// An MX record's preference: the first two bytes of its RDATA.
fn preference(msg: &[u8], rdata: &std::ops::Range<usize>) -> Option<u16> {
    let b = msg.get(rdata.start..rdata.start + 2)?;
    (rdata.len() >= 2).then(|| u16::from_be_bytes([b[0], b[1]]))
}

/// As [`classify`], but `None` when the bytes are not a well-formed DNS
/// message at all.
pub fn read(qname: &[u8], msg: &[u8]) -> Option<Answer> {
    let header = msg.get(..HEADER)?;
    let count = |i: usize| usize::from(u16::from_be_bytes([header[i], header[i + 1]]));
    let (flags, rcode_low) = (header[2], header[3] & 0x0F);
    let (qdcount, ancount, nscount, arcount) = (count(4), count(6), count(8), count(10));
    let mut r = Reader { msg, pos: HEADER };
    let mut name = NameBuf::new();

    // The question: exactly one, for our name, type MX.
    let mut asked = qdcount == 1;
    for _ in 0..qdcount {
        r.name(&mut name)?;
        let qtype = r.u16()?;
        let _class = r.u16()?;
        asked &= qtype == TYPE_MX && name.as_wire() == qname;
    }

    // The answer section: check its structure, and gather the MX records
    // owned by the name asked about. A CNAME means a second, slower pass.
    let answers = r.pos;
    let mut mx = Vec::new();
    let mut cname = false;
    let mut target = NameBuf::new();
    for _ in 0..ancount {
        let rr = r.record(&mut name)?;
        match rr.rtype {
            TYPE_MX if !rr.rdata.is_empty() => {
                let preference = preference(msg, &rr.rdata)?;
                rdata_name(msg, &rr.rdata, 2, &mut target)?;
                if name.as_wire() == qname {
                    mx.push(Mx {
                        preference,
                        exchange: presentation(target.as_wire()),
                    });
                }
            }
            TYPE_CNAME if !rr.rdata.is_empty() => {
                rdata_name(msg, &rr.rdata, 0, &mut target)?;
                cname = true;
            }
            TYPE_OPT => return None,
            _ => {}
        }
    }

    // Authority and additional sections: structure only, and the OPT
    // record's upper bits of the response code.
    let mut rcode_high = 0u8;
    for i in 0..nscount + arcount {
        let rr = r.record(&mut name)?;
        if rr.rtype == TYPE_OPT {
            if i < nscount || name.as_wire() != [0] {
                return None;
            }
            rcode_high = (rr.ttl >> 24) as u8;
        }
    }

    if !asked || flags & 0x80 == 0 {
        return Some(Answer::Ignore);
    }
    if flags & 0x02 != 0 {
        return Some(Answer::Truncated);
    }
    let rcode = u16::from(rcode_high) << 4 | u16::from(rcode_low);
    Some(match rcode {
        0 => {
            if cname {
                mx = chased_mx(qname, msg, answers, ancount)?;
            }
            Answer::Final(Outcome::from_mx(mx))
        }
        3 => Answer::Final(Outcome::Nxdomain),
        2 => Answer::Retry(Outcome::Servfail),
        5 => Answer::Final(Outcome::Refused),
        other => {
            let code = hickory_resolver::proto::op::ResponseCode::from(
                (other >> 4) as u8,
                (other & 0x0F) as u8,
            );
            Answer::Final(Outcome::Error(format!(
                "the server answered {}",
                escape_text(&code.to_string())
            )))
        }
    })
}

/// The MX records for `qname` when the answer holds CNAMEs: follow the
/// chain from `qname`; an MX counts if its owner is `qname`, the chain's
/// end, or the target of any CNAME in the answer.
fn chased_mx(qname: &[u8], msg: &[u8], answers: usize, ancount: usize) -> Option<Vec<Mx>> {
    // (owner, type, data) for every CNAME and MX: names in wire form.
    struct Rr {
        owner: Vec<u8>,
        cname: bool,
        preference: u16,
        data: Vec<u8>,
    }
    let mut r = Reader { msg, pos: answers };
    let (mut owner, mut data) = (NameBuf::new(), NameBuf::new());
    let mut rrs = Vec::new();
    for _ in 0..ancount {
        let rr = r.record(&mut owner)?;
        let (cname, preference) = match rr.rtype {
            TYPE_CNAME if !rr.rdata.is_empty() => (true, 0),
            TYPE_MX if !rr.rdata.is_empty() => (false, preference(msg, &rr.rdata)?),
            _ => continue,
        };
        rdata_name(msg, &rr.rdata, if cname { 0 } else { 2 }, &mut data)?;
        rrs.push(Rr {
            owner: owner.as_wire().to_vec(),
            cname,
            preference,
            data: data.as_wire().to_vec(),
        });
    }
    let mut end: &[u8] = qname;
    for _ in 0..MAX_CHAIN {
        match rrs.iter().find(|rr| rr.cname && rr.owner == end) {
            Some(rr) if rr.data != end => end = &rr.data,
            _ => break,
        }
    }
    let member = |n: &[u8]| n == qname || n == end || rrs.iter().any(|rr| rr.cname && rr.data == n);
    Some(
        rrs.iter()
            .filter(|rr| !rr.cname && member(&rr.owner))
            .map(|rr| Mx {
                preference: rr.preference,
                exchange: presentation(&rr.data),
            })
            .collect(),
    )
}

/// Presentation form of a wire-format name (see [`crate::name`]); the root
/// is `"."`.
fn presentation(wire: &[u8]) -> String {
    crate::name::presentation(std::iter::from_fn({
        let mut rest = wire;
        move || {
            let (&len, tail) = rest.split_first()?;
            let label = tail.get(..usize::from(len)).filter(|l| !l.is_empty())?;
            rest = &tail[label.len()..];
            Some(label)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qname(s: &str) -> Vec<u8> {
        let mut q = Vec::new();
        encode_query(1, &DomainName::parse_ascii(s).unwrap(), &mut q).unwrap();
        question(&q).to_vec()
    }

    #[test]
    fn the_query_is_what_hickory_would_send() {
        use hickory_resolver::proto::op::{Edns, Message, Query};
        use hickory_resolver::proto::rr::{Name, RecordType};
        let name = DomainName::parse_ascii("a\\.b.Example\\032x").unwrap();
        let mut ours = Vec::new();
        encode_query(0x1234, &name, &mut ours).unwrap();
        let mut msg = Message::query();
        msg.metadata.id = 0x1234;
        msg.metadata.recursion_desired = true;
        let mut n = Name::from_labels(vec![b"a.b".to_vec(), b"example x".to_vec()]).unwrap();
        n.set_fqdn(true);
        msg.add_query(Query::query(n, RecordType::MX));
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        msg.set_edns(edns);
        assert_eq!(ours, msg.to_vec().unwrap());
        assert_eq!(question(&ours), b"\x03a.b\x09example x\x00");
    }

    #[test]
    fn pointers_must_point_backwards() {
        let q = qname("a.example");
        // Header, then a question whose name is a pointer to itself.
        let msg = [
            0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 15, 0, 1,
        ];
        assert_eq!(classify(&q, &msg), Answer::Ignore);
        // A pointer loop between two names.
        let mut buf = NameBuf::new();
        let looped = [0u8; 12]
            .iter()
            .copied()
            .chain([0xC0, 14, 0xC0, 12])
            .collect::<Vec<_>>();
        assert!(read_name(&looped, 12, &mut buf).is_none());
        assert!(read_name(&looped, 14, &mut buf).is_none());
    }

    #[test]
    fn owners_match_in_any_case() {
        // The server spells the owner in upper case, uncompressed.
        let q = qname("a.example");
        let mut msg = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        msg.extend_from_slice(b"\x01A\x07EXAMPLE\x00\x00\x0f\x00\x01");
        msg.extend_from_slice(
            b"\x01A\x07Example\x00\x00\x0f\x00\x01\x00\x00\x00\x3c\x00\x06\x00\x0a\x02MX\x00",
        );
        assert_eq!(
            classify(&q, &msg),
            Answer::Final(Outcome::Ok(vec![Mx {
                preference: 10,
                exchange: "mx".into()
            }]))
        );
    }

    #[test]
    fn a_cname_at_the_very_end_of_the_message_is_read_safely() {
        // Found by the differential proptest: a CNAME to the root whose
        // one-byte RDATA is the last byte of the message.
        let q = qname("a.example");
        let mut msg = vec![0x12, 0x34, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        msg.extend_from_slice(b"\x01a\x07example\x00\x00\x0f\x00\x01");
        msg.extend_from_slice(&[0xC0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 1, 0]);
        assert_eq!(classify(&q, &msg), Answer::Final(Outcome::NoMx));
    }

    #[test]
    fn presentation_escapes_and_names_the_root() {
        assert_eq!(presentation(b"\x00"), ".");
        assert_eq!(presentation(b"\x03a.b\x02\x1bX\x00"), "a\\.b.\\027x");
    }
}
