//! The DNS codec: write a query for any question, and read a response as a
//! small typed view over its bytes ([`Message`]): named flags, the combined
//! (extended) response code, the question, and the records of each section
//! with their owner, type, class, TTL and data. Nothing is copied until a
//! caller asks for a record's data.
//!
//! [`decode`] checks the whole structure once, the way hickory-proto's full
//! decoder reads it (a differential property test and the `answer` fuzz
//! target hold the two together): compression pointers must point before
//! the name that holds them, labels are at most 63 bytes and names 255,
//! every record must fit in the message, the data of the types mxlookup
//! uses (A, AAAA, MX, CNAME, DNAME, NS, SOA names) must fill RDATA exactly,
//! and there is at most one OPT record, in the additional section, owned by
//! the root. It is laxer only about the contents of records it does not use.

use crate::name::{DomainName, MAX_WIRE};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Length of the DNS header.
pub(crate) const HEADER: usize = 12;
/// The most of an Extended DNS Error's extra text that is kept.
pub(crate) const MAX_EDE_TEXT: usize = 200;
/// EDNS payload size advertised (the DNS flag day 2020 value).
pub(crate) const EDNS_PAYLOAD: u16 = 1232;
/// Class IN, the only class mxlookup asks about.
pub(crate) const CLASS_IN: u16 = 1;

/// A record type, by its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u16);

impl RecordType {
    /// An IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// An authoritative nameserver.
    pub const NS: RecordType = RecordType(2);
    /// An alias.
    pub const CNAME: RecordType = RecordType(5);
    /// The start of a zone.
    pub const SOA: RecordType = RecordType(6);
    /// A mail exchange.
    pub const MX: RecordType = RecordType(15);
    /// An IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
    /// An alias for a whole subtree (RFC 6672).
    pub const DNAME: RecordType = RecordType(39);
    /// The EDNS pseudo-record (RFC 6891).
    pub const OPT: RecordType = RecordType(41);
    /// Text strings (MTA-STS, TLS-RPT).
    pub const TXT: RecordType = RecordType(16);
    /// A DANE certificate association (RFC 6698).
    pub const TLSA: RecordType = RecordType(52);

    /// The type's mnemonic, for the types mxlookup knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            RecordType::A => "A",
            RecordType::NS => "NS",
            RecordType::CNAME => "CNAME",
            RecordType::SOA => "SOA",
            RecordType::MX => "MX",
            RecordType::AAAA => "AAAA",
            RecordType::DNAME => "DNAME",
            RecordType::OPT => "OPT",
            RecordType::TLSA => "TLSA",
            RecordType::TXT => "TXT",
            _ => return None,
        })
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// A response code, with the upper bits from the OPT record when there is
/// one (RFC 6891 §6.1.3): 12 bits in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Rcode(pub u16);

impl Rcode {
    pub(crate) const NOERROR: Rcode = Rcode(0);
    pub(crate) const FORMERR: Rcode = Rcode(1);
    pub(crate) const SERVFAIL: Rcode = Rcode(2);
    pub(crate) const NXDOMAIN: Rcode = Rcode(3);
    pub(crate) const NOTIMP: Rcode = Rcode(4);
    pub(crate) const REFUSED: Rcode = Rcode(5);
    /// Extended RCODE 16 in a response's OPT record: the server does not
    /// implement the EDNS version asked for (RFC 6891). The same number
    /// means BADSIG only inside a TSIG record, which mxlookup never sends.
    pub(crate) const BADVERS: Rcode = Rcode(16);

    pub(crate) fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            11 => "DSOTYPENI",
            16 => "BADVERS",
            23 => "BADCOOKIE",
            _ => return None,
        })
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "RCODE{}", self.0),
        }
    }
}

/// The header flags, by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// QR: this is a response.
    pub response: bool,
    pub opcode: u8,
    /// AA: the answer comes from a server authoritative for it.
    pub authoritative: bool,
    /// TC: the answer was cut to fit; ask over TCP.
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    /// AD: the server validated the answer with DNSSEC.
    pub authentic_data: bool,
    pub checking_disabled: bool,
}

impl Flags {
    fn read(hi: u8, lo: u8) -> Flags {
        Flags {
            response: hi & 0x80 != 0,
            opcode: (hi >> 3) & 0x0F,
            authoritative: hi & 0x04 != 0,
            truncated: hi & 0x02 != 0,
            recursion_desired: hi & 0x01 != 0,
            recursion_available: lo & 0x80 != 0,
            authentic_data: lo & 0x20 != 0,
            checking_disabled: lo & 0x10 != 0,
        }
    }
}

/// The opcode of an ordinary query.
pub(crate) const OPCODE_QUERY: u8 = 0;

/// Write a query for (`name`, `qtype`, IN) with ID `id` into `out` (cleared
/// first): RD set, and an EDNS(0) OPT record advertising [`EDNS_PAYLOAD`]
/// when `edns` is true. The question name starts at [`HEADER`], in the
/// lower case of [`DomainName`]; see [`randomize_case`].
pub(crate) fn encode_query(
    id: u16,
    name: &DomainName,
    qtype: RecordType,
    edns: bool,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    let [hi, lo] = id.to_be_bytes();
    // ID, flags (RD), QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 or 0.
    out.extend_from_slice(&[hi, lo, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)]);
    name.write_wire(out)?;
    let [t1, t2] = qtype.0.to_be_bytes();
    out.extend_from_slice(&[t1, t2, 0, CLASS_IN as u8]);
    if edns {
        // OPT: root owner, type 41, class = payload size, extended RCODE 0,
        // version 0, no flags, no options.
        let [p1, p2] = EDNS_PAYLOAD.to_be_bytes();
        out.extend_from_slice(&[0, 0, RecordType::OPT.0 as u8, p1, p2, 0, 0, 0, 0, 0, 0]);
    }
    Ok(())
}

/// Ask for DNSSEC in a query made by [`encode_query`] with EDNS: the DO bit
/// in its OPT record (send signatures), and the AD bit in its header (RFC
/// 6840 §5.7: the client understands AD, so a validating resolver says
/// whether it validated).
pub(crate) fn set_dnssec(query: &mut [u8]) {
    if !has_edns(query) || query.len() < HEADER + 11 {
        return;
    }
    query[3] |= 0x20;
    let flags = query.len() - 4;
    query[flags] |= 0x80;
}

/// Whether a query asked for DNSSEC ([`set_dnssec`]): only then does a
/// response's AD bit mean anything to mxlookup.
pub(crate) fn asks_dnssec(query: &[u8]) -> bool {
    query.get(3).is_some_and(|b| b & 0x20 != 0)
}

/// Write a new ID into a query made by [`encode_query`].
pub(crate) fn set_id(query: &mut [u8], id: u16) {
    query[..2].copy_from_slice(&id.to_be_bytes());
}

/// The question name of a query made by [`encode_query`], in wire form.
pub(crate) fn question_name(query: &[u8]) -> &[u8] {
    let mut end = HEADER;
    while let Some(&len) = query.get(end) {
        end += 1 + usize::from(len);
        if len == 0 {
            break;
        }
    }
    &query[HEADER.min(query.len())..end.min(query.len())]
}

/// The question type of a query made by [`encode_query`].
pub(crate) fn question_type(query: &[u8]) -> RecordType {
    let end = HEADER + question_name(query).len();
    let b = query.get(end..end + 2).unwrap_or(&[0, 0]);
    RecordType(u16::from_be_bytes([b[0], b[1]]))
}

/// The largest answer over UDP that a query made by [`encode_query`]
/// allows: [`EDNS_PAYLOAD`] with EDNS, 512 bytes without (RFC 1035).
pub(crate) fn max_payload(query: &[u8]) -> usize {
    if has_edns(query) {
        usize::from(EDNS_PAYLOAD)
    } else {
        512
    }
}

/// Whether a query made by [`encode_query`] carries an OPT record.
pub(crate) fn has_edns(query: &[u8]) -> bool {
    query.get(11).is_some_and(|&ar| ar > 0)
}

/// DNS 0x20 (draft-vixie-dnsext-dns0x20): flip the case of the question's
/// letters by the bits of `bits`, one bit per letter, so that an off-path
/// spoofer must guess them as well as the ID and port. Returns how many
/// letters there were (bits of entropy added, at most 64).
pub(crate) fn randomize_case(query: &mut [u8], mut bits: u64) -> u32 {
    let end = HEADER + question_name(query).len();
    let mut letters = 0;
    // Length octets are at most 63, never letters: every letter in the
    // question's bytes belongs to a label. One bit per letter, without a
    // branch; past 64 letters the bits have run out and nothing flips.
    for b in &mut query[HEADER..end] {
        let letter = u8::from((*b | 0x20).wrapping_sub(b'a') < 26);
        *b ^= (bits as u8 & letter) << 5;
        bits >>= letter;
        letters += u32::from(letter);
    }
    letters.min(64)
}

/// Why a message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A name read from a message: wire form, in the case it was written.
/// ASCII case folding is safe on the whole buffer, since length octets are
/// at most 63 and so never letters. Kept on the stack, never zeroed first.
#[derive(Clone, Default)]
pub(crate) struct NameBuf(arrayvec::ArrayVec<u8, MAX_WIRE>);

impl fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_name())
    }
}

impl NameBuf {
    pub(crate) fn as_wire(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn set(&mut self, wire: &[u8]) {
        self.0.clear();
        let _ = self
            .0
            .try_extend_from_slice(&wire[..wire.len().min(MAX_WIRE)]);
    }

    /// The same name, ignoring ASCII case (RFC 4343).
    pub(crate) fn same(&self, wire: &[u8]) -> bool {
        self.as_wire().eq_ignore_ascii_case(wire)
    }

    pub(crate) fn to_name(&self) -> DomainName {
        DomainName::from_wire(self.as_wire())
    }

    /// Append a length octet and its label, or `None` past 255 bytes
    /// (counting the root octet still to come).
    fn push_label(&mut self, label: &[u8]) -> Option<()> {
        if self.0.len() + 1 + label.len() + 1 > MAX_WIRE {
            return None;
        }
        self.0.push(label.len() as u8);
        self.0.try_extend_from_slice(label).ok()
    }

    fn push_root(&mut self) {
        let _ = self.0.try_push(0);
    }
}

/// `name` is `ancestor` or below it (both in wire form), ignoring case.
pub(crate) fn is_within(name: &[u8], ancestor: &[u8]) -> bool {
    let mut rest = name;
    loop {
        if rest.eq_ignore_ascii_case(ancestor) {
            return true;
        }
        match rest.first() {
            Some(&len) if len > 0 => rest = rest.get(1 + usize::from(len)..).unwrap_or(&[]),
            _ => return false,
        }
    }
}

/// Walk the name at `pos`, handing each label to `label`. Returns the
/// offset just past the name's own bytes (up to and including its first
/// pointer).
///
/// Every pointer must point before the part of the name that holds it, and
/// labels reached through a pointer must end before that part: so a name
/// cannot loop, and it is read exactly as hickory-proto reads it. A name is
/// at most 255 bytes in wire form.
fn walk_name(msg: &[u8], mut pos: usize, mut label: impl FnMut(&[u8])) -> Result<usize, Malformed> {
    let mut part_start = pos;
    let mut limit = msg.len();
    let mut end = None;
    let mut wire_len = 1;
    loop {
        if pos >= limit {
            return Err(Malformed("a name runs past the end of the message"));
        }
        let len = msg[pos];
        match len & 0xC0 {
            0x00 if len == 0 => return Ok(end.unwrap_or(pos + 1)),
            0x00 => {
                let l = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(Malformed("a label runs past the end of the message"))?;
                wire_len += 1 + l.len();
                if wire_len > MAX_WIRE {
                    return Err(Malformed("a name is longer than 255 bytes"));
                }
                label(l);
                pos += 1 + l.len();
            }
            0xC0 => {
                let low = *msg
                    .get(pos + 1)
                    .ok_or(Malformed("a name runs past the end of the message"))?;
                let target = usize::from(len & 0x3F) << 8 | usize::from(low);
                if target >= part_start {
                    return Err(Malformed(
                        "a compression pointer points forwards or at itself",
                    ));
                }
                end.get_or_insert(pos + 2);
                limit = part_start;
                part_start = target;
                pos = target;
            }
            _ => return Err(Malformed("a label has an unknown type")),
        }
    }
}

/// Read the name at `pos` into `out` (see [`walk_name`]).
pub(crate) fn read_name(msg: &[u8], pos: usize, out: &mut NameBuf) -> Result<usize, Malformed> {
    out.0.clear();
    let end = walk_name(msg, pos, |l| {
        // Cannot fail: walk_name keeps names within 255 bytes.
        let _ = out.push_label(l);
    })?;
    out.push_root();
    Ok(end)
}

/// Check the name at `pos` without keeping it.
fn skip_name(msg: &[u8], pos: usize) -> Result<usize, Malformed> {
    walk_name(msg, pos, |_| {})
}

/// A name already checked: where it starts and ends.
#[derive(Clone, Copy, Debug)]
struct Checked {
    at: usize,
    end: usize,
}

/// [`skip_name`], at once for the usual owner: a lone pointer to a name
/// already checked that lies wholly before it (the question).
fn skip_owner(msg: &[u8], pos: usize, known: Option<Checked>) -> Result<usize, Malformed> {
    if let (Some(k), Some(&[hi, lo])) = (known, msg.get(pos..pos + 2))
        && hi & 0xC0 == 0xC0
        && (usize::from(hi & 0x3F) << 8 | usize::from(lo)) == k.at
        && k.end <= pos
    {
        return Ok(pos + 2);
    }
    skip_name(msg, pos)
}

/// Whether the (already checked) name at `pos` is `wire`: exactly, or
/// ignoring ASCII case.
fn name_is(msg: &[u8], pos: usize, wire: &[u8], exact: bool) -> bool {
    let mut at = 0;
    let mut same = true;
    let walked = walk_name(msg, pos, |l| {
        if !same {
            return;
        }
        let theirs = wire.get(at + 1..at + 1 + l.len());
        same = wire.get(at) == Some(&(l.len() as u8))
            && theirs.is_some_and(|t| {
                if exact {
                    t == l
                } else {
                    t.eq_ignore_ascii_case(l)
                }
            });
        at += 1 + l.len();
    });
    walked.is_ok() && same && wire.get(at) == Some(&0) && wire.len() == at + 1
}

/// The question of a response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Question {
    /// Where its name starts.
    name_at: usize,
    pub qtype: RecordType,
    pub qclass: u16,
}

/// How a response's question compares with the one asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Same {
    Exactly,
    /// The same name in other letter case.
    ButCase,
    No,
}

/// One resource record, read in place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rr {
    owner_at: usize,
    pub rtype: RecordType,
    pub class: u16,
    pub ttl: u32,
    pub rdata: (usize, usize),
}

/// The three record sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Answer,
    Authority,
    Additional,
}

/// A response read in place: the header, the question and where each
/// section's records are. Made by [`decode`], which has checked every
/// record, so reading them again cannot fail.
pub(crate) struct Message<'a> {
    bytes: &'a [u8],
    pub flags: Flags,
    /// The response code, combined with the OPT record's upper bits.
    pub rcode: Rcode,
    /// How many questions the header announces.
    pub qdcount: u16,
    /// The question, if there is exactly one.
    pub question: Option<Question>,
    /// Where each section starts, and how many records it has.
    sections: [(usize, u16); 3],
    /// The question's name, checked.
    known: Option<Checked>,
    /// The class of the first record of a class other than IN, if any.
    pub foreign_class: Option<u16>,
    /// The answer section holds a CNAME or DNAME.
    pub has_aliases: bool,
    /// The OPT record's data (its options), if there is one.
    opt: Option<(usize, usize)>,
}

/// Read the header and the question only: enough to tell whether a message
/// answers a query, even when the rest of it is broken. Returns the flags,
/// QDCOUNT, the question if there is one, and where the question ends.
pub(crate) fn decode_question(
    bytes: &[u8],
) -> Result<(Flags, u16, Option<Question>, usize), Malformed> {
    let header = bytes
        .get(..HEADER)
        .ok_or(Malformed("shorter than a DNS header"))?;
    let flags = Flags::read(header[2], header[3]);
    let qdcount = u16::from_be_bytes([header[4], header[5]]);
    let mut pos = HEADER;
    let mut question = None;
    for _ in 0..qdcount {
        let name_at = pos;
        pos = skip_name(bytes, pos)?;
        let t = bytes
            .get(pos..pos + 4)
            .ok_or(Malformed("the question runs past the end of the message"))?;
        pos += 4;
        if qdcount == 1 {
            question = Some(Question {
                name_at,
                qtype: RecordType(u16::from_be_bytes([t[0], t[1]])),
                qclass: u16::from_be_bytes([t[2], t[3]]),
            });
        }
    }
    Ok((flags, qdcount, question, pos))
}

/// Whether `question` (from [`decode_question`] on `bytes`) names `wire`.
pub(crate) fn question_is(bytes: &[u8], question: &Question, wire: &[u8]) -> Same {
    if name_is(bytes, question.name_at, wire, true) {
        Same::Exactly
    } else if name_is(bytes, question.name_at, wire, false) {
        Same::ButCase
    } else {
        Same::No
    }
}

/// Read one record's fixed fields after its owner, at `pos`.
fn record_at(
    bytes: &[u8],
    owner_at: usize,
    known: Option<Checked>,
) -> Result<(Rr, usize), Malformed> {
    let pos = skip_owner(bytes, owner_at, known)?;
    let f = bytes
        .get(pos..pos + 10)
        .ok_or(Malformed("a record runs past the end of the message"))?;
    let len = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let start = pos + 10;
    let end = start + len;
    if end > bytes.len() {
        return Err(Malformed(
            "a record's data runs past the end of the message",
        ));
    }
    let rr = Rr {
        owner_at,
        rtype: RecordType(u16::from_be_bytes([f[0], f[1]])),
        class: u16::from_be_bytes([f[2], f[3]]),
        ttl: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
        rdata: (start, end),
    };
    Ok((rr, end))
}

/// Read and check a whole message.
pub(crate) fn decode(bytes: &[u8]) -> Result<Message<'_>, Malformed> {
    let (flags, qdcount, question, mut pos) = decode_question(bytes)?;
    let known = question.as_ref().map(|q| Checked {
        at: q.name_at,
        end: skip_name(bytes, q.name_at).unwrap_or(usize::MAX),
    });
    let count = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
    let counts = [count(6), count(8), count(10)];
    let mut sections = [(0, 0); 3];
    let mut rcode_high = None;
    let mut foreign_class = None;
    let mut has_aliases = false;
    let mut opt = None;
    for (i, section) in [Section::Answer, Section::Authority, Section::Additional]
        .into_iter()
        .enumerate()
    {
        sections[i] = (pos, counts[i]);
        for _ in 0..counts[i] {
            let (rr, end) = record_at(bytes, pos, known)?;
            check_rdata(bytes, rr.rtype, rr.rdata.0, rr.rdata.1)?;
            has_aliases |= section == Section::Answer
                && matches!(rr.rtype, RecordType::CNAME | RecordType::DNAME);
            if rr.class != CLASS_IN && rr.rtype != RecordType::OPT {
                foreign_class.get_or_insert(rr.class);
            }
            if rr.rtype == RecordType::OPT {
                if section != Section::Additional || bytes[pos] != 0 {
                    return Err(Malformed(
                        "an OPT record outside the additional section or not owned by the root",
                    ));
                }
                if rcode_high.is_some() {
                    return Err(Malformed("more than one OPT record"));
                }
                rcode_high = Some((rr.ttl >> 24) as u8);
                opt = Some(rr.rdata);
            }
            pos = end;
        }
    }
    let rcode = Rcode(u16::from(rcode_high.unwrap_or(0)) << 4 | u16::from(bytes[3] & 0x0F));
    Ok(Message {
        bytes,
        flags,
        rcode,
        qdcount,
        question,
        sections,
        known,
        foreign_class,
        has_aliases,
        opt,
    })
}

/// Check the data of the record types mxlookup reads, as hickory-proto
/// would: fixed sizes, and names that fill RDATA exactly.
fn check_rdata(msg: &[u8], rtype: RecordType, start: usize, end: usize) -> Result<(), Malformed> {
    let len = end - start;
    // An empty RDATA is how hickory-proto reads an update's "delete" record;
    // it carries no data, and is skipped like any record of no use.
    if len == 0 {
        return Ok(());
    }
    let name_at = |skip: usize| -> Result<(), Malformed> {
        let stop = skip_name(&msg[..end], start + skip)?;
        if stop != end {
            return Err(Malformed("a name does not fill its record's data"));
        }
        Ok(())
    };
    match rtype {
        RecordType::A if len != 4 => Err(Malformed("an A record's data is not 4 bytes")),
        RecordType::AAAA if len != 16 => Err(Malformed("an AAAA record's data is not 16 bytes")),
        RecordType::MX if len < 3 => Err(Malformed("an MX record's data is too short")),
        RecordType::MX => name_at(2),
        RecordType::CNAME | RecordType::DNAME | RecordType::NS => name_at(0),
        RecordType::TXT => {
            // Character-strings, each a length and that many bytes, that
            // fill the data exactly.
            let mut at = start;
            while at < end {
                at += 1 + usize::from(msg[at]);
            }
            if at != end {
                return Err(Malformed("a TXT record's strings do not fill its data"));
            }
            Ok(())
        }
        RecordType::TLSA if len < 3 => Err(Malformed("a TLSA record's data is too short")),
        RecordType::SOA => {
            let mut at = skip_name(&msg[..end], start)?;
            at = skip_name(&msg[..end], at)?;
            if end - at != 20 {
                return Err(Malformed("an SOA record's data has the wrong size"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The records of one section, read in place (OPT left out).
pub(crate) struct Records<'m> {
    bytes: &'m [u8],
    pos: usize,
    left: u16,
    known: Option<Checked>,
}

impl Iterator for Records<'_> {
    type Item = Rr;

    fn next(&mut self) -> Option<Rr> {
        while self.left > 0 {
            self.left -= 1;
            // Checked by `decode`.
            let (rr, end) = record_at(self.bytes, self.pos, self.known).ok()?;
            self.pos = end;
            if rr.rtype != RecordType::OPT {
                return Some(rr);
            }
        }
        None
    }
}

impl<'a> Message<'a> {
    /// The records of one section, in order.
    pub(crate) fn records(&self, section: Section) -> Records<'a> {
        let (pos, left) = self.sections[section as usize];
        Records {
            bytes: self.bytes,
            pos,
            left,
            known: self.known,
        }
    }

    /// Whether a record's owner is `wire`, ignoring case.
    pub(crate) fn owner_is(&self, rr: &Rr, wire: &[u8]) -> bool {
        name_is(self.bytes, rr.owner_at, wire, false)
    }

    /// Whether a record's owner is the question's name: at once when it
    /// is a pointer to the question (the usual compression), by comparing
    /// otherwise.
    pub(crate) fn owner_is_question(&self, rr: &Rr) -> bool {
        let Some(q) = &self.question else {
            return false;
        };
        let pointer = [0xC0 | (q.name_at >> 8) as u8, q.name_at as u8];
        if q.name_at < 0x4000 && self.bytes.get(rr.owner_at..rr.owner_at + 2) == Some(&pointer) {
            return true;
        }
        let mut wire = NameBuf::default();
        let _ = read_name(self.bytes, q.name_at, &mut wire);
        self.owner_is(rr, wire.as_wire())
    }

    /// Read a record's owner into `out`.
    pub(crate) fn owner(&self, rr: &Rr, out: &mut NameBuf) {
        // Checked by `decode`.
        let _ = read_name(self.bytes, rr.owner_at, out);
    }

    /// An empty RDATA (see `check_rdata`) carries nothing to read.
    pub(crate) fn has_data(&self, rr: &Rr) -> bool {
        rr.rdata.1 > rr.rdata.0
    }

    fn target_at(&self, rr: &Rr) -> usize {
        rr.rdata.0 + if rr.rtype == RecordType::MX { 2 } else { 0 }
    }

    /// The target of a CNAME, DNAME or NS record, or the exchange of an MX.
    pub(crate) fn target(&self, rr: &Rr, out: &mut NameBuf) {
        let _ = read_name(&self.bytes[..rr.rdata.1], self.target_at(rr), out);
    }

    /// The same, as a name.
    pub(crate) fn target_name(&self, rr: &Rr) -> DomainName {
        let mut wire = NameBuf::default();
        self.target(rr, &mut wire);
        DomainName::from_wire(wire.as_wire())
    }

    /// An MX record's preference.
    pub(crate) fn preference(&self, rr: &Rr) -> u16 {
        let b = &self.bytes[rr.rdata.0..];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The Extended DNS Errors (RFC 8914) among the OPT record's options:
    /// (info-code, extra text), at most a few, the text cut to
    /// [`MAX_EDE_TEXT`] bytes. Malformed options are passed over.
    pub(crate) fn ede(&self) -> Vec<(u16, Vec<u8>)> {
        let Some((start, end)) = self.opt else {
            return Vec::new();
        };
        let data = &self.bytes[start..end];
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(head) = data.get(at..at + 4) {
            let code = u16::from_be_bytes([head[0], head[1]]);
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let Some(value) = data.get(at + 4..at + 4 + len) else {
                break;
            };
            if code == 15 && len >= 2 && out.len() < 4 {
                let info = u16::from_be_bytes([value[0], value[1]]);
                let text = &value[2..value.len().min(2 + MAX_EDE_TEXT)];
                out.push((info, text.to_vec()));
            }
            at += 4 + len;
        }
        out
    }

    /// A TXT record's strings, joined (RFC 8461 §3.1, RFC 8460 §3).
    pub(crate) fn txt(&self, rr: &Rr) -> Box<[u8]> {
        let data = &self.bytes[rr.rdata.0..rr.rdata.1];
        let mut out = Vec::with_capacity(data.len());
        let mut at = 0;
        while let Some(&len) = data.get(at) {
            let s = data.get(at + 1..at + 1 + usize::from(len)).unwrap_or(&[]);
            out.extend_from_slice(s);
            at += 1 + usize::from(len);
        }
        out.into_boxed_slice()
    }

    /// A TLSA record's fields (checked to be at least 3 bytes).
    pub(crate) fn tlsa(&self, rr: &Rr) -> (u8, u8, u8, Box<[u8]>) {
        let d = &self.bytes[rr.rdata.0..rr.rdata.1];
        match d {
            [u, s, m, rest @ ..] => (*u, *s, *m, rest.into()),
            _ => (0, 0, 0, Box::default()),
        }
    }

    pub(crate) fn ipv4(&self, rr: &Rr) -> Ipv4Addr {
        let b: [u8; 4] = self.bytes[rr.rdata.0..rr.rdata.1]
            .try_into()
            .unwrap_or([0; 4]);
        Ipv4Addr::from(b)
    }

    pub(crate) fn ipv6(&self, rr: &Rr) -> Ipv6Addr {
        let b: [u8; 16] = self.bytes[rr.rdata.0..rr.rdata.1]
            .try_into()
            .unwrap_or([0; 16]);
        Ipv6Addr::from(b)
    }

    /// An SOA record's MINIMUM field (the negative-caching TTL, RFC 2308).
    pub(crate) fn soa_minimum(&self, rr: &Rr) -> u32 {
        let b = &self.bytes[rr.rdata.1 - 4..rr.rdata.1];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// How the question compares with `wire` ([`Same::No`] without one).
    pub(crate) fn question_is(&self, wire: &[u8]) -> Same {
        self.question
            .as_ref()
            .map_or(Same::No, |q| question_is(self.bytes, q, wire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: RecordType, edns: bool) -> Vec<u8> {
        let mut q = Vec::new();
        encode_query(
            0x1234,
            &DomainName::parse_ascii(name).unwrap(),
            qtype,
            edns,
            &mut q,
        )
        .unwrap();
        q
    }

    #[test]
    fn queries_are_what_hickory_would_send() {
        use hickory_proto::op::{Edns, Message as HMessage, Query};
        use hickory_proto::rr::{Name, RecordType as HType};
        for (qtype, htype) in [
            (RecordType::MX, HType::MX),
            (RecordType::A, HType::A),
            (RecordType::AAAA, HType::AAAA),
            (RecordType::CNAME, HType::CNAME),
        ] {
            for edns in [true, false] {
                let ours = query("a\\.b.Example\\032x", qtype, edns);
                let mut msg = HMessage::query();
                msg.metadata.id = 0x1234;
                msg.metadata.recursion_desired = true;
                let mut n =
                    Name::from_labels(vec![b"a.b".to_vec(), b"example x".to_vec()]).unwrap();
                n.set_fqdn(true);
                msg.add_query(Query::query(n, htype));
                if edns {
                    let mut e = Edns::new();
                    e.set_max_payload(EDNS_PAYLOAD);
                    msg.set_edns(e);
                }
                assert_eq!(ours, msg.to_vec().unwrap(), "{qtype} edns={edns}");
                assert_eq!(question_name(&ours), b"\x03a.b\x09example x\x00");
                assert_eq!(question_type(&ours), qtype);
                assert_eq!(has_edns(&ours), edns);
            }
        }
    }

    #[test]
    fn case_randomisation_flips_only_letters() {
        let mut q = query("ab-1.example", RecordType::MX, true);
        let original = q.clone();
        let letters = randomize_case(&mut q, u64::MAX);
        assert_eq!(letters, 9);
        assert_eq!(question_name(&q), b"\x04AB-1\x07EXAMPLE\x00");
        assert_eq!(q[..HEADER], original[..HEADER]);
        assert_eq!(q[HEADER + 14..], original[HEADER + 14..]);
        assert!(question_name(&q).eq_ignore_ascii_case(question_name(&original)));
        let mut q2 = original.clone();
        randomize_case(&mut q2, 0b10);
        assert_eq!(question_name(&q2), b"\x04aB-1\x07example\x00");
    }

    #[test]
    fn pointers_must_point_backwards() {
        let mut buf = NameBuf::default();
        let looped = [0u8; 12]
            .iter()
            .copied()
            .chain([0xC0, 14, 0xC0, 12])
            .collect::<Vec<_>>();
        assert!(read_name(&looped, 12, &mut buf).is_err());
        assert!(read_name(&looped, 14, &mut buf).is_err());
        let selfref = [
            0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 15, 0, 1,
        ];
        assert!(decode(&selfref).is_err());
    }

    #[test]
    fn decodes_flags_rcodes_and_sections() {
        // Header: ID 0x1234, QR AA RD RA AD, NXDOMAIN with an OPT whose
        // upper rcode bits are 1: the combined code is 19.
        let mut m = vec![0x12, 0x34, 0x85, 0xA3, 0, 1, 0, 1, 0, 1, 0, 1];
        m.extend_from_slice(b"\x01A\x07example\x00\x00\x0f\x00\x01");
        m.extend_from_slice(&[
            0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 6, 0, 10, 2, b'm', b'x', 0,
        ]);
        m.extend_from_slice(&[0xC0, 14, 0, 2, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12]);
        m.extend_from_slice(&[0, 0, 41, 0x10, 0, 1, 0, 0, 0, 0, 0]);
        let msg = decode(&m).unwrap();
        assert!(msg.flags.response && msg.flags.authoritative && msg.flags.recursion_available);
        assert!(msg.flags.authentic_data && !msg.flags.truncated);
        assert_eq!(msg.rcode, Rcode(19));
        let q = msg.question.as_ref().unwrap();
        assert_eq!(msg.question_is(b"\x01A\x07example\x00"), Same::Exactly);
        assert_eq!(msg.question_is(b"\x01a\x07example\x00"), Same::ButCase);
        assert_eq!(msg.question_is(b"\x01b\x07example\x00"), Same::No);
        assert_eq!(q.qtype, RecordType::MX);
        let answers: Vec<_> = msg.records(Section::Answer).collect();
        assert_eq!(answers.len(), 1);
        let mut n = NameBuf::default();
        msg.target(&answers[0], &mut n);
        assert_eq!(n.as_wire(), b"\x02mx\x00");
        assert_eq!(msg.target_name(&answers[0]).as_str(), "mx");
        assert!(msg.owner_is(&answers[0], b"\x01a\x07EXAMPLE\x00"));
        assert_eq!(msg.preference(&answers[0]), 10);
        assert_eq!(msg.records(Section::Authority).count(), 1);
        assert_eq!(
            msg.records(Section::Additional).count(),
            0,
            "OPT is not a record"
        );
        // A second OPT record is an error.
        let mut two = m.clone();
        two[11] = 2;
        two.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode(&two).err(),
            Some(Malformed("more than one OPT record"))
        );
    }

    #[test]
    fn lying_lengths_and_counts_are_malformed() {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(b"\x01a\x07example\x00\x00\x0f\x00\x01");
        m.extend_from_slice(&[
            0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 6, 0, 10, 2, b'm', b'x', 0,
        ]);
        // ANCOUNT says 2, one is present.
        assert!(decode(&m).is_err());
        m[7] = 1;
        assert!(decode(&m).is_ok());
        // RDLENGTH claims more than the MX name.
        let mut lying = m.clone();
        let at = lying.len() - 7;
        lying[at] = 7;
        lying.push(0);
        assert_eq!(
            decode(&lying).err(),
            Some(Malformed("a name does not fill its record's data"))
        );
    }

    #[test]
    fn within_compares_suffixes_by_label() {
        assert!(is_within(b"\x01a\x07example\x00", b"\x07EXAMPLE\x00"));
        assert!(is_within(b"\x07example\x00", b"\x07example\x00"));
        assert!(is_within(b"\x07example\x00", b"\x00"));
        assert!(!is_within(b"\x02xa\x00", b"\x01a\x00"));
    }
}
