//! The one place that decides what a response means for the query it
//! answers: not ours, truncated, retry elsewhere, ask without EDNS, a
//! failure, or an answer with its evidence (aliases followed, records,
//! TTL, AD bit). Both engines feed their responses through here, so they
//! agree on every answer.
//!
//! The rules, in order:
//! - Not a response, or a question that is not the one asked (name, type,
//!   class; the name in the exact letter case sent when it went out in
//!   random case, for 0x20), or more than one question: not an answer; keep
//!   waiting.
//! - The question matches but the message cannot be read: an `error`.
//!   A response without a question counts only if it reports a failure
//!   (FORMERR, SERVFAIL, NOTIMP, REFUSED, ...).
//! - An opcode other than QUERY, or a record of a class other than IN: an
//!   `error`.
//! - TC: ask again over TCP. FORMERR, NOTIMP or BADVERS to a query with an
//!   OPT record: ask again without it (RFC 6891 §7).
//! - SERVFAIL and REFUSED: worth asking again (at the next server).
//! - A referral (no answer, not authoritative, NS records and no SOA in the
//!   authority section; RFC 2308 §2.2) where recursion was asked for: the
//!   server is not recursive for this name; worth asking the next server.
//! - NOERROR and NXDOMAIN: follow the aliases from the question's name only
//!   (CNAME, and DNAME by substitution, RFC 6672), rejecting loops; take
//!   the records of the type asked for that the canonical name owns. A
//!   chain that ends without records and without an SOA covering its end
//!   (a server that stopped at the edge of its zone) is to be followed by a
//!   new query for the canonical name (RFC 1034 §5.3.3).
//! - Any other response code: an `error` naming it.

use super::answer::{Answer, Ede, Failure, Phase, Rdata};
use super::codec::{
    self, CLASS_IN, Message, NameBuf, OPCODE_QUERY, Rcode, RecordType, Same, Section,
};
use crate::name::{DomainName, MAX_WIRE};
use crate::text::SafeText;

/// The longest chain of aliases followed for one question.
pub(crate) const MAX_ALIASES: usize = 16;

/// Why a message is not an answer to a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// Shorter than a header, or a query rather than a response.
    NotResponse,
    /// Another question (name, type or class), or several.
    Question,
    /// The question's letters came back in another case than sent: the
    /// server does not preserve case, or this is a spoofing attempt (0x20).
    Case,
    /// No question, and nothing that would make sense without one.
    NoQuestion,
}

/// What one response means for the query it was matched to by ID and
/// source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ignore(Mismatch),
    /// Cut short to fit: ask again over TCP.
    Truncated,
    /// The server does not understand EDNS: ask again without OPT.
    NoEdns,
    /// The server could not or would not answer: ask again, at the next
    /// server while there is one.
    Retry(Failure),
    /// The question is settled: an answer, or an alias to follow.
    Done(Step),
    /// The question failed for good.
    Fail(Failure),
}

/// A settled question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Answer(Answer),
    /// The chain of aliases ended at `next`, which this server does not
    /// answer for: ask about `next` (the evidence so far is in `partial`).
    Follow {
        partial: Answer,
        next: DomainName,
    },
}

/// Classify `response` for `query` (as sent: see [`codec::encode_query`]).
/// Matching the ID and the source address is the caller's job. Never
/// panics, whatever the bytes.
pub(crate) fn classify(query: &[u8], response: &[u8]) -> Verdict {
    let qname = codec::question_name(query);
    let qtype = codec::question_type(query);
    if response.len() < codec::HEADER || response[2] & 0x80 == 0 {
        return Verdict::Ignore(Mismatch::NotResponse);
    }
    let msg = match codec::decode(response) {
        Ok(m) => m,
        // Broken: an error if it is about this question, else not ours.
        Err(m) => {
            return match codec::decode_question(response) {
                Ok((_, 1, Some(q), _))
                    if q.qtype == qtype
                        && q.qclass == CLASS_IN
                        && match codec::question_is(response, &q, qname) {
                            Same::Exactly => true,
                            Same::ButCase => !mixed_case(qname),
                            Same::No => false,
                        } =>
                {
                    malformed(m)
                }
                Ok((_, 0 | 1, _, _)) | Err(_) => malformed_if_ours(m, response, qname),
                Ok(_) => Verdict::Ignore(Mismatch::Question),
            };
        }
    };
    let verdict = judge(&msg, query, qname, qtype);
    // What the server says of its failure or answer (RFC 8914) goes with it.
    let ede = msg.ede();
    if ede.is_empty() {
        return verdict;
    }
    let ede: Vec<Ede> = ede
        .into_iter()
        .map(|(code, text)| Ede {
            code,
            text: SafeText::new(&String::from_utf8_lossy(&text)),
        })
        .collect();
    match verdict {
        Verdict::Retry(f) => Verdict::Retry(f.with_ede(ede)),
        Verdict::Fail(f) => Verdict::Fail(f.with_ede(ede)),
        Verdict::Done(Step::Answer(mut a)) => {
            a.ede = ede;
            Verdict::Done(Step::Answer(a))
        }
        Verdict::Done(Step::Follow { mut partial, next }) => {
            partial.ede = ede;
            Verdict::Done(Step::Follow { partial, next })
        }
        other => other,
    }
}

/// What a response read whole means for the query it answers.
fn judge(msg: &Message<'_>, query: &[u8], qname: &[u8], qtype: RecordType) -> Verdict {
    match (msg.qdcount, &msg.question) {
        (1, Some(q)) => {
            if q.qtype != qtype || q.qclass != CLASS_IN {
                return Verdict::Ignore(Mismatch::Question);
            }
            match msg.question_is(qname) {
                Same::Exactly => {}
                // A question sent in random case (0x20) must come back in
                // exactly that case; one sent in lower case (no 0x20: a
                // server that does not keep case, TCP, the hickory engine)
                // in any case (RFC 4343).
                Same::ButCase if mixed_case(qname) => return Verdict::Ignore(Mismatch::Case),
                Same::ButCase => {}
                Same::No => return Verdict::Ignore(Mismatch::Question),
            }
        }
        (0, _) => {}
        _ => return Verdict::Ignore(Mismatch::Question),
    }
    if msg.flags.opcode != OPCODE_QUERY {
        return Verdict::Fail(Failure::error(
            Phase::Protocol,
            format!(
                "the answer has opcode {}, not QUERY",
                opcode_name(msg.flags.opcode)
            ),
        ));
    }
    if msg.question.is_none() && matches!(msg.rcode, Rcode::NOERROR | Rcode::NXDOMAIN) {
        return Verdict::Ignore(Mismatch::NoQuestion);
    }
    if let Some(class) = msg.foreign_class {
        return Verdict::Fail(Failure::error(
            Phase::Protocol,
            format!("the answer holds a record of class {class}, not IN"),
        ));
    }
    if msg.flags.truncated {
        return Verdict::Truncated;
    }
    match msg.rcode {
        Rcode::FORMERR | Rcode::NOTIMP | Rcode::BADVERS if codec::has_edns(query) => {
            Verdict::NoEdns
        }
        Rcode::SERVFAIL => Verdict::Retry(Failure::servfail()),
        Rcode::REFUSED => Verdict::Retry(Failure::refused()),
        Rcode::NOERROR | Rcode::NXDOMAIN => answer(msg, query, qname, qtype),
        other => Verdict::Fail(Failure::error(
            Phase::Server,
            format!("the server answered {other}"),
        )),
    }
}

/// Whether a question went out with letters in random case (0x20): it
/// has an upper-case letter (names are lower case otherwise).
fn mixed_case(qname: &[u8]) -> bool {
    qname.iter().any(u8::is_ascii_uppercase)
}

/// A broken message whose question cannot be read (or that has none):
/// the sender has the query's ID and address, and says it is a response,
/// so it is the answer, broken; unless it is so broken that even its
/// question section is missing and it claims success (then it answers
/// nothing).
fn malformed_if_ours(m: codec::Malformed, response: &[u8], _qname: &[u8]) -> Verdict {
    let qdcount = u16::from_be_bytes([response[4], response[5]]);
    let rcode = response[3] & 0x0F;
    if qdcount == 0 && (rcode == 0 || rcode == 3) {
        return Verdict::Ignore(Mismatch::NoQuestion);
    }
    malformed(m)
}

fn malformed(m: codec::Malformed) -> Verdict {
    Verdict::Fail(Failure::error(
        Phase::Protocol,
        format!("malformed answer: {m}"),
    ))
}

fn opcode_name(op: u8) -> String {
    match op {
        1 => "IQUERY".into(),
        2 => "STATUS".into(),
        4 => "NOTIFY".into(),
        5 => "UPDATE".into(),
        6 => "DSO".into(),
        n => n.to_string(),
    }
}

/// The aliases (CNAME, DNAME) followed from the question's name, and only
/// from it, in wire form; the last is the current name. A verdict when the
/// chain is broken: an empty record, a loop, too long.
fn follow_aliases(
    msg: &Message<'_>,
    qname: &[u8],
    qtype: RecordType,
    ttl: &mut Option<u32>,
) -> Result<Vec<NameBuf>, Verdict> {
    let mut chain: Vec<NameBuf> = Vec::new();
    if qtype != RecordType::CNAME && msg.has_aliases {
        loop {
            let current = chain.last().map_or(qname, NameBuf::as_wire);
            let mut next = None;
            for rr in msg.records(Section::Answer) {
                if rr.rtype != RecordType::CNAME || !msg.owner_is(&rr, current) {
                    continue;
                }
                if !msg.has_data(&rr) {
                    return Err(empty_record(RecordType::CNAME));
                }
                let mut target = NameBuf::default();
                msg.target(&rr, &mut target);
                lower(ttl, rr.ttl);
                next = Some(target);
                break;
            }
            if next.is_none() {
                let mut owner = NameBuf::default();
                for rr in msg.records(Section::Answer) {
                    if rr.rtype != RecordType::DNAME {
                        continue;
                    }
                    msg.owner(&rr, &mut owner);
                    if owner.same(current) || !codec::is_within(current, owner.as_wire()) {
                        continue;
                    }
                    if !msg.has_data(&rr) {
                        return Err(empty_record(RecordType::DNAME));
                    }
                    let mut target = NameBuf::default();
                    msg.target(&rr, &mut target);
                    lower(ttl, rr.ttl);
                    match substitute(current, &owner, &target) {
                        Some(n) => next = Some(n),
                        None => {
                            return Err(Verdict::Fail(Failure::error(
                                Phase::Protocol,
                                format!(
                                    "the DNAME substitution for {} is longer than 255 bytes",
                                    DomainName::from_wire(current)
                                ),
                            )));
                        }
                    }
                    break;
                }
            }
            let Some(next) = next else { break };
            if next.same(qname) || chain.iter().any(|n| n.same(next.as_wire())) {
                chain.push(next);
                return Err(Verdict::Fail(loop_failure(qname, &chain)));
            }
            if chain.len() == MAX_ALIASES {
                return Err(Verdict::Fail(Failure::error(
                    Phase::Protocol,
                    format!("a chain of more than {MAX_ALIASES} aliases"),
                )));
            }
            chain.push(next);
        }
    }
    Ok(chain)
}

/// The records of the question's type at the end of the chain.
fn records_at(
    msg: &Message<'_>,
    chain: &[NameBuf],
    current: &[u8],
    qtype: RecordType,
    ttl: &mut Option<u32>,
) -> Result<Vec<Rdata>, Verdict> {
    let mut records = Vec::new();
    for rr in msg.records(Section::Answer) {
        if rr.rtype != qtype {
            continue;
        }
        // The question was checked to be `qname`, in the case sent.
        let owned = if chain.is_empty() {
            msg.owner_is_question(&rr)
        } else {
            msg.owner_is(&rr, current)
        };
        if !owned {
            continue;
        }
        // A TXT record of no strings has no data; any other record must.
        if !msg.has_data(&rr) && qtype != RecordType::TXT {
            return Err(empty_record(qtype));
        }
        lower(ttl, rr.ttl);
        records.push(match qtype {
            RecordType::MX => Rdata::Mx {
                preference: msg.preference(&rr),
                exchange: msg.target_name(&rr),
            },
            RecordType::A => Rdata::A(msg.ipv4(&rr)),
            RecordType::AAAA => Rdata::Aaaa(msg.ipv6(&rr)),
            RecordType::TXT => Rdata::Txt(msg.txt(&rr)),
            RecordType::TLSA => {
                let (usage, selector, matching, data) = msg.tlsa(&rr);
                Rdata::Tlsa {
                    usage,
                    selector,
                    matching,
                    data,
                }
            }
            _ => Rdata::Cname(msg.target_name(&rr)),
        });
    }
    Ok(records)
}

/// The lower of a TTL so far and another.
fn lower(t: &mut Option<u32>, v: u32) {
    *t = Some(t.map_or(v, |x| x.min(v)));
}

/// A NOERROR or NXDOMAIN response to a matching question.
fn answer(msg: &Message<'_>, query: &[u8], qname: &[u8], qtype: RecordType) -> Verdict {
    let mut ttl: Option<u32> = None;
    let chain = match follow_aliases(msg, qname, qtype, &mut ttl) {
        Ok(chain) => chain,
        Err(v) => return v,
    };
    let current = chain.last().map_or(qname, NameBuf::as_wire);
    let mut records = match records_at(msg, &chain, current, qtype, &mut ttl) {
        Ok(records) => records,
        Err(v) => return v,
    };
    records.sort_unstable();
    records.dedup();

    // The SOA that proves a negative answer for the end of the chain.
    let soa = if records.is_empty() {
        let mut owner = NameBuf::default();
        msg.records(Section::Authority).find(|rr| {
            rr.rtype == RecordType::SOA && {
                msg.owner(rr, &mut owner);
                codec::is_within(current, owner.as_wire())
            }
        })
    } else {
        None
    };
    if let Some(soa) = &soa {
        ttl = Some(soa.ttl.min(msg.soa_minimum(soa)));
    }
    let aliases: Vec<DomainName> = chain.iter().map(NameBuf::to_name).collect();
    let answer = Answer {
        nxdomain: records.is_empty() && msg.rcode == Rcode::NXDOMAIN,
        aliases,
        records,
        ttl,
        // AD means something only when the query asked for it (DO and
        // AD set): otherwise it is a server's claim nobody asked for.
        authenticated: msg.flags.authentic_data && codec::asks_dnssec(query),
        server: None,
        ede: Vec::new(),
    };
    if !answer.records.is_empty() || answer.nxdomain || soa.is_some() {
        return Verdict::Done(Step::Answer(answer));
    }
    if !chain.is_empty() {
        return Verdict::Done(Step::Follow {
            next: DomainName::from_wire(current),
            partial: answer,
        });
    }
    if let Some(zone) = referral(msg) {
        return Verdict::Retry(Failure::error(
            Phase::Server,
            format!(
                "the server is not recursive for {}: it answered with a referral to the nameservers of {zone}",
                DomainName::from_wire(qname)
            ),
        ));
    }
    Verdict::Done(Step::Answer(answer))
}

/// A referral (RFC 2308 §2.2): not authoritative, NS records in the
/// authority section and no SOA. Returns the zone referred to.
fn referral(msg: &Message<'_>) -> Option<DomainName> {
    if msg.flags.authoritative {
        return None;
    }
    let mut owner = NameBuf::default();
    let mut zone = None;
    for rr in msg.records(Section::Authority) {
        match rr.rtype {
            RecordType::SOA => return None,
            RecordType::NS if zone.is_none() => {
                msg.owner(&rr, &mut owner);
                zone = Some(owner.to_name());
            }
            _ => {}
        }
    }
    zone
}

fn empty_record(rtype: RecordType) -> Verdict {
    Verdict::Fail(Failure::error(
        Phase::Protocol,
        format!("malformed answer: an {rtype} record with no data"),
    ))
}

fn loop_failure(qname: &[u8], chain: &[NameBuf]) -> Failure {
    let mut path = DomainName::from_wire(qname).to_string();
    for n in chain {
        path.push_str(" → ");
        path.push_str(n.to_name().as_str());
    }
    Failure::error(Phase::Protocol, crate::safe!("an alias loop: {path}"))
}

/// RFC 6672: replace the `owner` suffix of `name` with `target`.
fn substitute(name: &[u8], owner: &NameBuf, target: &NameBuf) -> Option<NameBuf> {
    let prefix = name.len() - owner.as_wire().len();
    let len = prefix + target.as_wire().len();
    if len > MAX_WIRE {
        return None;
    }
    let mut wire = Vec::with_capacity(len);
    wire.extend_from_slice(&name[..prefix]);
    wire.extend_from_slice(target.as_wire());
    let mut out = NameBuf::default();
    out.set(&wire);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::answer::FailureKind;

    /// A small message builder: names are written uncompressed.
    struct Msg {
        header: [u8; 12],
        question: Vec<u8>,
        sections: [Vec<u8>; 3],
        counts: [u16; 3],
    }

    fn wire(name: &str) -> Vec<u8> {
        if name == "." {
            return vec![0];
        }
        let mut out = Vec::new();
        for label in name.trim_end_matches('.').split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        out
    }

    impl Msg {
        fn response(qname: &str, qtype: u16, rcode: u8) -> Msg {
            let mut question = wire(qname);
            question.extend_from_slice(&qtype.to_be_bytes());
            question.extend_from_slice(&[0, 1]);
            Msg {
                header: [0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 0],
                question,
                sections: Default::default(),
                counts: [0; 3],
            }
        }

        fn rr(mut self, section: usize, owner: &str, rtype: u16, class: u16, data: &[u8]) -> Msg {
            let s = &mut self.sections[section];
            s.extend_from_slice(&wire(owner));
            s.extend_from_slice(&rtype.to_be_bytes());
            s.extend_from_slice(&class.to_be_bytes());
            s.extend_from_slice(&300u32.to_be_bytes());
            s.extend_from_slice(&(data.len() as u16).to_be_bytes());
            s.extend_from_slice(data);
            self.counts[section] += 1;
            self
        }

        fn mx(self, owner: &str, pref: u16, exchange: &str) -> Msg {
            let mut d = pref.to_be_bytes().to_vec();
            d.extend_from_slice(&wire(exchange));
            self.rr(0, owner, 15, 1, &d)
        }

        fn cname(self, owner: &str, target: &str) -> Msg {
            self.rr(0, owner, 5, 1, &wire(target))
        }

        fn soa(self, zone: &str) -> Msg {
            let mut d = wire(&format!("ns.{zone}"));
            d.extend_from_slice(&wire(&format!("admin.{zone}")));
            for v in [1u32, 2, 3, 4, 60] {
                d.extend_from_slice(&v.to_be_bytes());
            }
            self.rr(1, zone, 6, 1, &d)
        }

        fn flags(mut self, hi: u8, lo: u8) -> Msg {
            self.header[2] = hi;
            self.header[3] = lo;
            self
        }

        fn bytes(&self) -> Vec<u8> {
            let mut h = self.header;
            for (i, c) in self.counts.iter().enumerate() {
                h[6 + 2 * i..8 + 2 * i].copy_from_slice(&c.to_be_bytes());
            }
            let mut out = h.to_vec();
            out.extend_from_slice(&self.question);
            for s in &self.sections {
                out.extend_from_slice(s);
            }
            out
        }
    }

    fn query(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut q = Vec::new();
        codec::encode_query(
            0x1234,
            &DomainName::parse_ascii(name).unwrap(),
            qtype,
            true,
            &mut q,
        )
        .unwrap();
        q
    }

    fn mx_query() -> Vec<u8> {
        query("a.example", RecordType::MX)
    }

    fn done(v: Verdict) -> Answer {
        match v {
            Verdict::Done(Step::Answer(a)) => a,
            other => panic!("not an answer: {other:?}"),
        }
    }

    fn mx(p: u16, e: &str) -> Rdata {
        Rdata::Mx {
            preference: p,
            exchange: DomainName::from_wire(&wire(e)),
        }
    }

    #[test]
    fn records_are_sorted_and_owned_by_the_question() {
        let m = Msg::response("a.example", 15, 0)
            .mx("a.example", 20, "b.mx")
            .mx("A.EXAMPLE", 10, "z.mx")
            .mx("a.example", 10, "a.mx")
            .mx("a.example", 20, "b.mx")
            .mx("other.example", 1, "evil.mx");
        let a = done(classify(&mx_query(), &m.bytes()));
        assert_eq!(
            a.records,
            vec![mx(10, "a.mx"), mx(10, "z.mx"), mx(20, "b.mx")]
        );
        assert!(a.aliases.is_empty() && !a.nxdomain);
        assert_eq!(a.ttl, Some(300));
    }

    #[test]
    fn unrelated_chains_are_not_followed() {
        // Only x.other → y.other and y.other's MX: nothing to do with a.example.
        let m = Msg::response("a.example", 15, 0)
            .cname("x.other", "y.other")
            .mx("y.other", 1, "mail.attacker");
        let v = classify(&mx_query(), &m.bytes());
        let a = done(v);
        assert!(a.records.is_empty(), "{a:?}");
        // The same beside a real answer.
        let m = Msg::response("a.example", 15, 0)
            .mx("a.example", 10, "mx.example")
            .cname("x.other", "y.other")
            .mx("y.other", 1, "mail.attacker");
        assert_eq!(
            done(classify(&mx_query(), &m.bytes())).records,
            vec![mx(10, "mx.example")]
        );
    }

    #[test]
    fn chains_are_followed_from_the_question_and_loops_fail() {
        let m = Msg::response("a.example", 15, 0)
            .cname("a.example", "b.example")
            .cname("b.example", "c.other")
            .mx("c.other", 5, "mx.other")
            .mx("b.example", 1, "not.the.end");
        let a = done(classify(&mx_query(), &m.bytes()));
        assert_eq!(a.records, vec![mx(5, "mx.other")]);
        let names: Vec<_> = a.aliases.iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["b.example", "c.other"]);
        for m in [
            Msg::response("a.example", 15, 0).cname("a.example", "a.example"),
            Msg::response("a.example", 15, 0)
                .cname("a.example", "b.example")
                .cname("b.example", "a.example"),
        ] {
            match classify(&mx_query(), &m.bytes()) {
                Verdict::Fail(f) => {
                    assert_eq!(f.kind, FailureKind::Error);
                    assert!(f.message.contains("alias loop"), "{f}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_chain_that_leaves_the_zone_is_followed_by_a_new_query() {
        let m = Msg::response("a.example", 15, 0).cname("a.example", "b.other");
        match classify(&mx_query(), &m.bytes()) {
            Verdict::Done(Step::Follow { next, partial }) => {
                assert_eq!(next.as_str(), "b.other");
                assert_eq!(partial.aliases.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        // With the target zone's SOA, it is NODATA for the target.
        let m = Msg::response("a.example", 15, 0)
            .cname("a.example", "b.other")
            .soa("other");
        let a = done(classify(&mx_query(), &m.bytes()));
        assert!(a.records.is_empty() && !a.nxdomain);
        assert_eq!(a.ttl, Some(60));
        // NXDOMAIN speaks of the chain's end.
        let m = Msg::response("a.example", 15, 3).cname("a.example", "b.other");
        assert!(done(classify(&mx_query(), &m.bytes())).nxdomain);
    }

    #[test]
    fn an_unfinished_dname_is_substituted() {
        let m = Msg::response("a.example", 15, 0).rr(0, "example", 39, 1, &wire("target.test"));
        match classify(&mx_query(), &m.bytes()) {
            Verdict::Done(Step::Follow { next, .. }) => assert_eq!(next.as_str(), "a.target.test"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn referrals_are_not_nodata() {
        let m = Msg::response("a.example", 15, 0).flags(0x81, 0x00).rr(
            1,
            "example",
            2,
            1,
            &wire("ns.example"),
        );
        match classify(&mx_query(), &m.bytes()) {
            Verdict::Retry(f) => {
                assert_eq!(f.kind, FailureKind::Error);
                assert!(f.message.contains("not recursive"), "{f}");
            }
            other => panic!("{other:?}"),
        }
        // Authoritative NODATA with the zone's SOA is an answer.
        let m = Msg::response("a.example", 15, 0)
            .flags(0x85, 0x00)
            .soa("example");
        assert!(done(classify(&mx_query(), &m.bytes())).records.is_empty());
    }

    #[test]
    fn rcodes_edns_and_truncation() {
        let q = mx_query();
        let v = |rcode: u8| classify(&q, &Msg::response("a.example", 15, rcode).bytes());
        assert_eq!(v(2), Verdict::Retry(Failure::servfail()));
        assert_eq!(v(5), Verdict::Retry(Failure::refused()));
        assert_eq!(v(1), Verdict::NoEdns);
        assert_eq!(v(4), Verdict::NoEdns);
        assert!(matches!(v(9), Verdict::Fail(f) if f.message.contains("NOTAUTH")));
        // Without EDNS in the query, FORMERR is a failure.
        let plain = {
            let mut q = Vec::new();
            codec::encode_query(
                1,
                &DomainName::parse_ascii("a.example").unwrap(),
                RecordType::MX,
                false,
                &mut q,
            )
            .unwrap();
            q
        };
        assert!(matches!(
            classify(&plain, &Msg::response("a.example", 15, 1).bytes()),
            Verdict::Fail(_)
        ));
        let tc = Msg::response("a.example", 15, 0).flags(0x83, 0x80);
        assert_eq!(classify(&q, &tc.bytes()), Verdict::Truncated);
        // BADVERS: extended rcode 16 in the OPT record.
        let badvers = Msg::response("a.example", 15, 0).rr(2, ".", 41, 1232, &[]);
        let mut b = badvers.bytes();
        let n = b.len();
        b[n - 6] = 1; // extended RCODE high bits: 1 << 4 = 16
        assert_eq!(classify(&q, &b), Verdict::NoEdns);
    }

    #[test]
    fn questions_opcodes_and_classes() {
        let q = mx_query();
        let other = Msg::response("b.example", 15, 0).mx("b.example", 1, "x");
        assert_eq!(
            classify(&q, &other.bytes()),
            Verdict::Ignore(Mismatch::Question)
        );
        let a_type = Msg::response("a.example", 1, 0);
        assert_eq!(
            classify(&q, &a_type.bytes()),
            Verdict::Ignore(Mismatch::Question)
        );
        // 0x20: a question sent in random case must come back in that
        // case; one sent in lower case may come back in any.
        let mut mixed = query("a.example", RecordType::MX);
        mixed[codec::HEADER + 3] = b'E';
        let case = Msg::response("a.example", 15, 0);
        assert_eq!(
            classify(&mixed, &case.bytes()),
            Verdict::Ignore(Mismatch::Case)
        );
        let shouted = Msg::response("A.EXAMPLE", 15, 0).mx("A.EXAMPLE", 1, "mx.example");
        assert_eq!(
            done(classify(&q, &shouted.bytes())).records,
            vec![mx(1, "mx.example")]
        );
        assert_eq!(
            classify(&mixed, &shouted.bytes()),
            Verdict::Ignore(Mismatch::Case)
        );
        let mut notify = Msg::response("a.example", 15, 0).bytes();
        notify[2] = 0x80 | (4 << 3);
        assert!(matches!(classify(&q, &notify), Verdict::Fail(f) if f.message.contains("NOTIFY")));
        let ch = Msg::response("a.example", 15, 0).rr(0, "a.example", 15, 3, &[0, 1, 0]);
        assert!(
            matches!(classify(&q, &ch.bytes()), Verdict::Fail(f) if f.message.contains("class 3"))
        );
        // No question: a failure code counts, NOERROR does not.
        let mut refused = vec![0x12, 0x34, 0x81, 0x85, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(classify(&q, &refused), Verdict::Retry(Failure::refused()));
        refused[3] = 0x80;
        assert_eq!(
            classify(&q, &refused),
            Verdict::Ignore(Mismatch::NoQuestion)
        );
        refused[3] = 0x81;
        assert_eq!(classify(&q, &refused), Verdict::NoEdns);
        // A query is not a response.
        assert_eq!(classify(&q, &q), Verdict::Ignore(Mismatch::NotResponse));
    }

    #[test]
    fn malformed_answers_to_the_question_fail_at_once() {
        let q = mx_query();
        let good = Msg::response("a.example", 15, 0)
            .mx("a.example", 10, "mx.example")
            .bytes();
        let mut lying_count = good.clone();
        lying_count[7] = 3;
        let mut cut = good.clone();
        cut.truncate(good.len() - 3);
        let empty_mx = Msg::response("a.example", 15, 0)
            .rr(0, "a.example", 15, 1, &[])
            .bytes();
        for bad in [lying_count, cut, empty_mx] {
            assert!(
                matches!(classify(&q, &bad), Verdict::Fail(f) if f.kind == FailureKind::Error && f.phase == Phase::Protocol),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn addresses_and_null_mx_shapes_are_kept_as_received() {
        let q = query("mx.example", RecordType::A);
        let m = Msg::response("mx.example", 1, 0)
            .rr(0, "mx.example", 1, 1, &[192, 0, 2, 2])
            .rr(0, "mx.example", 1, 1, &[192, 0, 2, 1]);
        let a = done(classify(&q, &m.bytes()));
        assert_eq!(
            a.records,
            vec![
                Rdata::A([192, 0, 2, 1].into()),
                Rdata::A([192, 0, 2, 2].into())
            ]
        );
        let m = Msg::response("a.example", 15, 0)
            .mx("a.example", 0, ".")
            .mx("a.example", 0, ".")
            .mx("a.example", 10, ".");
        let a = done(classify(&mx_query(), &m.bytes()));
        assert_eq!(a.records, vec![mx(0, "."), mx(10, ".")]);
    }
}
