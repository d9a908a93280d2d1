//! Property tests of the answer reader: no bytes cause a panic, and its
//! reading of a message agrees with hickory-proto's full decoder on every
//! message that decoder accepts, for every query type mxlookup asks.

use super::classify::{Step, Verdict, classify};
use super::codec::{self, RecordType};
use crate::name::DomainName;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TLSA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType as HType};
use hickory_proto::serialize::binary::BinEncodable;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classify_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), qtype in qtype()) {
        let _ = classify(&query(qtype), &bytes);
    }

    #[test]
    fn classify_survives_mutated_real_answers(flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..8), cut in 0usize..200) {
        let mut bytes = real_answer();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut.max(12));
        if let Verdict::Done(Step::Answer(a)) = classify(&query(RecordType::MX), &bytes) {
            for r in &a.records {
                if let crate::resolver::Rdata::Mx { exchange, .. } = r {
                    prop_assert!(!exchange.as_str().bytes().any(|b| b.is_ascii_control() || b >= 0x7f));
                }
            }
        }
    }
}

fn qtype() -> impl Strategy<Value = RecordType> {
    prop_oneof![
        4 => Just(RecordType::MX),
        1 => Just(RecordType::A),
        1 => Just(RecordType::AAAA),
        1 => Just(RecordType::CNAME),
        1 => Just(RecordType::TXT),
        1 => Just(RecordType::TLSA),
    ]
}

/// The query mxlookup sends for a.example.
fn query(qtype: RecordType) -> Vec<u8> {
    let mut q = Vec::new();
    codec::encode_query(
        0x1234,
        &DomainName::parse_ascii("a.example").unwrap(),
        qtype,
        true,
        &mut q,
    )
    .unwrap();
    q
}

/// The reference: hickory-proto decodes the message, encodes what it
/// understood, and that is classified. Where mxlookup's reader and
/// hickory's decoder understand a message alike, the two agree.
fn reference(query: &[u8], bytes: &[u8]) -> Option<Verdict> {
    let msg = Message::from_vec(bytes).ok()?;
    let again = msg.to_vec().ok()?;
    Some(classify(query, &again))
}

/// A name from a small pool, so that owners, targets and the question
/// often coincide (in any letter case), plus the odd random one.
fn pool_name() -> impl Strategy<Value = Name> {
    let label = prop_oneof![
        Just(b"a".to_vec()),
        Just(b"A".to_vec()),
        Just(b"example".to_vec()),
        Just(b"EXample".to_vec()),
        Just(b"alias".to_vec()),
        Just(b"real".to_vec()),
        Just(b"mx".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..12),
    ];
    prop_oneof![
        3 => prop_oneof![Just("a.example."), Just("alias.example."), Just("ALIAS.example."), Just("real.example."), Just("b.example."), Just("example."), Just(".")]
            .prop_map(|s| Name::from_ascii(s).unwrap()),
        1 => proptest::collection::vec(label, 0..4).prop_map(|labels| Name::from_labels(labels).unwrap()),
    ]
}

/// A record, mostly of the type asked for and owned by the question's
/// name, an alias of it, or a name near it.
fn record(qtype: RecordType) -> impl Strategy<Value = Record> {
    let asked = match qtype {
        RecordType::A => any::<[u8; 4]>()
            .prop_map(|b| RData::A(A::new(b[0], b[1], b[2], b[3])))
            .boxed(),
        RecordType::AAAA => any::<[u8; 16]>()
            .prop_map(|b| RData::AAAA(AAAA::from(std::net::Ipv6Addr::from(b))))
            .boxed(),
        RecordType::CNAME => pool_name().prop_map(|n| RData::CNAME(CNAME(n))).boxed(),
        RecordType::TXT => {
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4)
                .prop_map(|strings| {
                    RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
                })
                .boxed()
        }
        RecordType::TLSA => (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..70),
        )
            .prop_map(|(u, s, m, d)| RData::TLSA(TLSA::new(u.into(), s.into(), m.into(), d)))
            .boxed(),
        _ => (prop_oneof![3 => 0u16..30, 1 => any::<u16>()], pool_name())
            .prop_map(|(p, n)| RData::MX(MX::new(p, n)))
            .boxed(),
    };
    let data = prop_oneof![
        6 => asked,
        2 => pool_name().prop_map(|n| RData::CNAME(CNAME(n))),
        1 => (any::<u16>(), pool_name()).prop_map(|(p, n)| RData::MX(MX::new(p, n))),
        1 => any::<[u8; 4]>().prop_map(|b| RData::A(A::new(b[0], b[1], b[2], b[3]))),
        1 => pool_name().prop_map(|n| RData::NS(NS(n))),
        1 => "[ -~]{0,20}".prop_map(|t| RData::TXT(TXT::new(vec![t]))),
    ];
    let owner = prop_oneof![
        4 => Just(Name::from_ascii("a.example.").unwrap()),
        1 => Just(Name::from_ascii("A.Example.").unwrap()),
        3 => pool_name(),
    ];
    (owner, data, prop_oneof![19 => Just(1u16), 1 => Just(3u16)]).prop_map(
        |(owner, data, class)| {
            let mut r = Record::from_rdata(owner, 300, data);
            r.dns_class = class.into();
            r
        },
    )
}

/// A message built by hickory-proto for a query of `qtype` about
/// a.example: mostly a real answer to it (the right question, QR, QUERY,
/// IN, records owned by the question's name or its aliases), with every
/// kind of deviation mixed in: other questions, several or none, other
/// opcodes and classes, TC, every response code, EDNS with an extended
/// code, authority NS and SOA, any flags.
fn message(qtype: RecordType) -> impl Strategy<Value = Vec<u8>> {
    let htype = HType::from(qtype.0);
    let question = prop_oneof![
        8 => Just(Query::query(Name::from_ascii("a.example.").unwrap(), htype)),
        1 => Just(Query::query(Name::from_ascii("A.EXAMPLE.").unwrap(), htype)),
        1 => (pool_name(), prop_oneof![Just(HType::MX), Just(HType::A), Just(HType::AAAA), Just(HType::CNAME)])
            .prop_map(|(n, t)| Query::query(n, t)),
    ];
    let rcode = prop_oneof![
        12 => Just(0u16),
        3 => Just(3u16),
        1 => 1u16..6,
        1 => prop_oneof![Just(9u16), Just(16u16), Just(23u16)],
    ];
    (
        prop_oneof![18 => Just(1usize), 1 => Just(0usize), 1 => Just(2usize)],
        proptest::collection::vec(question, 2),
        proptest::collection::vec(record(qtype), 0..6),
        proptest::collection::vec(record(qtype), 0..3),
        (
            prop::bool::weighted(0.95),
            prop::bool::weighted(0.1),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        rcode,
        prop_oneof![18 => Just(OpCode::Query), 1 => Just(OpCode::Notify), 1 => Just(OpCode::Update)],
    )
        .prop_map(
            |(qd, questions, answers, authority, (response, tc, edns, soa, aa), rcode, opcode)| {
                let mut m = Message::new(
                    0x1234,
                    if response {
                        MessageType::Response
                    } else {
                        MessageType::Query
                    },
                    opcode,
                );
                m.metadata.truncation = tc;
                m.metadata.authoritative = aa;
                for q in questions.into_iter().take(qd) {
                    m.add_query(q);
                }
                for r in answers {
                    m.add_answer(r);
                }
                m.authorities.extend(authority);
                if soa {
                    let zone = Name::from_ascii("example.").unwrap();
                    m.authorities.push(Record::from_rdata(
                        zone.clone(),
                        60,
                        RData::SOA(SOA::new(zone.clone(), zone, 1, 2, 3, 4, 5)),
                    ));
                }
                m.metadata.response_code =
                    ResponseCode::from((rcode >> 4) as u8, (rcode & 0xF) as u8);
                if edns || rcode > 15 {
                    let mut e = Edns::new();
                    e.set_rcode_high((rcode >> 4) as u8);
                    m.set_edns(e);
                }
                m.to_vec().unwrap()
            },
        )
}

/// A type and a message for it.
fn case() -> impl Strategy<Value = (RecordType, Vec<u8>)> {
    qtype().prop_flat_map(|t| (Just(t), message(t)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_reader_agrees_with_hickory_on_generated_answers((qtype, bytes) in case()) {
        let q = query(qtype);
        if let Some(expected) = reference(&q, &bytes) {
            prop_assert_eq!(classify(&q, &bytes), expected);
        }
    }

    #[test]
    fn the_reader_agrees_with_hickory_on_damaged_answers(
        (qtype, bytes) in case(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
    ) {
        let mut bytes = bytes;
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        if cut % 3 == 0 {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        let q = query(qtype);
        // Where hickory cannot decode the message, mxlookup's reader may
        // still read it (it ignores records it has no use for).
        if let Some(expected) = reference(&q, &bytes) {
            prop_assert_eq!(classify(&q, &bytes), expected);
        }
    }

    #[test]
    fn wire_names_are_what_hickory_encodes(text in r"([a-zA-Z0-9_-]{1,20}|\\[0-9]{3}|\\.)(\.([a-zA-Z0-9_-]{1,20}|\\[0-9]{3}|\\.)){0,6}") {
        if let Ok(name) = DomainName::parse_ascii(&text) {
            let mut ours = Vec::new();
            name.write_wire(&mut ours).unwrap();
            let labels = name.labels();
            let mut hickory = Name::from_labels(labels).unwrap();
            hickory.set_fqdn(true);
            prop_assert_eq!(ours, hickory.to_bytes().unwrap());
        }
    }
}

/// A genuine answer (with ID 0x1234): two MX records for a.example.
fn real_answer() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    let qname = b"\x01a\x07example\x00";
    m.extend_from_slice(qname);
    m.extend_from_slice(&[0, 15, 0, 1]);
    for (pref, exch) in [
        (10u16, &b"\x03mx1\xc0\x0c"[..]),
        (20, &b"\x03mx2\xc0\x0c"[..]),
    ] {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 0x2c]);
        m.extend_from_slice(&((exch.len() + 2) as u16).to_be_bytes());
        m.extend_from_slice(&pref.to_be_bytes());
        m.extend_from_slice(exch);
    }
    m
}

#[test]
fn the_real_answer_is_real() {
    match classify(&query(RecordType::MX), &real_answer()) {
        Verdict::Done(Step::Answer(a)) => assert_eq!(a.records.len(), 2, "{a:?}"),
        other => panic!("{other:?}"),
    }
}
