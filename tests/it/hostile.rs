//! What no real server sends: answers that lie, loop, point at the wrong
//! records, or cannot be read. Each name's first label picks the answer;
//! both engines must give the status the README promises, the same one,
//! and settle at once (not at the deadline).

use crate::support::*;
use hickory_server::proto::op::{Edns, Message, OpCode, ResponseCode};
use hickory_server::proto::rr::rdata::{CNAME, MX, NS, SOA};
use hickory_server::proto::rr::{DNSClass, Name, RData, Record};
use std::collections::HashMap;

/// The question's name, as asked.
fn qname(q: &Message) -> Name {
    q.queries[0].name().clone()
}

fn rec(owner: Name, data: RData) -> Record {
    Record::from_rdata(owner, 300, data)
}

fn good(q: &Message) -> Message {
    mx_response(q, &[(10, name("mx.good.example."))])
}

/// An MX record for the question (owner a pointer to it) with this RDATA.
fn mx_rr(rdlength: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = vec![0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60];
    r.extend_from_slice(&rdlength.to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

fn reply(transport: Transport, q: &Message) -> Reply {
    let label = first_label(q);
    let has_edns = q.edns.is_some();
    let m = |msg: Message| Reply::Message(msg);
    match label.as_str() {
        "unrelated" => {
            let mut r = response(q, ResponseCode::NoError);
            r.add_answer(rec(name("x.other."), RData::CNAME(CNAME(name("y.other.")))));
            r.add_answer(rec(
                name("y.other."),
                RData::MX(MX::new(1, name("mail.attacker."))),
            ));
            m(r)
        }
        "sidechain" => {
            let mut r = good(q);
            r.add_answer(rec(name("x.other."), RData::CNAME(CNAME(name("y.other.")))));
            r.add_answer(rec(
                name("y.other."),
                RData::MX(MX::new(1, name("mail.attacker."))),
            ));
            m(r)
        }
        "loop1" => {
            let mut r = response(q, ResponseCode::NoError);
            r.add_answer(rec(qname(q), RData::CNAME(CNAME(qname(q)))));
            m(r)
        }
        "loop2" => {
            let b = name("b.loop2.hostile.example.");
            let mut r = response(q, ResponseCode::NoError);
            r.add_answer(rec(qname(q), RData::CNAME(CNAME(b.clone()))));
            r.add_answer(rec(b, RData::CNAME(CNAME(qname(q)))));
            m(r)
        }
        "tendot" => m(mx_response(q, &[(10, Name::root())])),
        "mixednull" => m(mx_response(
            q,
            &[(0, Name::root()), (10, name("mx.good.example."))],
        )),
        "dupnull" => m(mx_response(q, &[(0, Name::root()), (0, Name::root())])),
        "chclass" => {
            let mut r = response(q, ResponseCode::NoError);
            let mut rr = rec(qname(q), RData::MX(MX::new(1, name("mail.attacker."))));
            rr.dns_class = DNSClass::CH;
            r.add_answer(rr);
            m(r)
        }
        "notify" => {
            let mut r = good(q);
            r.metadata.op_code = OpCode::Notify;
            m(r)
        }
        "noqrefused" => Reply::Raw({
            let mut b = q.metadata.id.to_be_bytes().to_vec();
            b.extend_from_slice(&[0x81, 0x85, 0, 0, 0, 0, 0, 0, 0, 0]);
            b
        }),
        "noqformerr" => Reply::Raw({
            let mut b = q.metadata.id.to_be_bytes().to_vec();
            b.extend_from_slice(&[0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
            b
        }),
        // FORMERR to a query with EDNS; a good answer without.
        "noedns" if has_edns => m(response(q, ResponseCode::FormErr)),
        "noedns" => m(good(q)),
        // BADVERS (extended code 16) to a query with EDNS.
        "badvers" if has_edns => {
            let mut r = response(q, ResponseCode::BADVERS);
            let mut e = Edns::new();
            e.set_rcode_high(1);
            r.set_edns(e);
            m(r)
        }
        "badvers" => m(good(q)),
        "twoopt" => Reply::Raw(raw(
            q,
            [0x81, 0x80],
            [0, 0, 2],
            &[
                0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0,
            ],
        )),
        "ptrloop" => Reply::Raw({
            // The exchange is a pointer to itself.
            let mut m = raw(q, [0x81, 0x80], [1, 0, 0], &mx_rr(4, &[0, 10, 0, 0]));
            let at = m.len() - 2;
            m[at] = 0xC0 | (at >> 8) as u8;
            m[at + 1] = at as u8;
            m
        }),
        "fwdptr" => Reply::Raw(raw(
            q,
            [0x81, 0x80],
            [1, 0, 0],
            &mx_rr(4, &[0, 10, 0xC0, 0xF0]),
        )),
        "ptrpastend" => Reply::Raw(raw(q, [0x81, 0x80], [1, 0, 0], &{
            let mut r = vec![0xC0, 0xFF, 0, 15, 0, 1, 0, 0, 0, 60, 0, 3];
            r.extend_from_slice(&[0, 10, 0]);
            r
        })),
        "badlabel" => Reply::Raw(raw(
            q,
            [0x81, 0x80],
            [1, 0, 0],
            &mx_rr(5, &[0, 10, 0x41, b'x', 0]),
        )),
        "longname" => Reply::Raw(raw(q, [0x81, 0x80], [1, 0, 0], &{
            let mut name = Vec::new();
            for _ in 0..5 {
                name.push(60);
                name.extend_from_slice(&[b'a'; 60]);
            }
            name.push(0);
            let mut rd = vec![0, 10];
            rd.extend_from_slice(&name);
            mx_rr(rd.len() as u16, &rd)
        })),
        "countlie" => Reply::Raw(raw(
            q,
            [0x81, 0x80],
            [3, 0, 0],
            &mx_rr(5, &[0, 10, 1, b'm', 0]),
        )),
        "rdlenlie" => Reply::Raw(raw(
            q,
            [0x81, 0x80],
            [1, 0, 0],
            &mx_rr(40, &[0, 10, 1, b'm', 0]),
        )),
        "zerordlen" => Reply::Raw(raw(q, [0x81, 0x80], [1, 0, 0], &mx_rr(0, &[]))),
        "referral" => {
            let mut r = response(q, ResponseCode::NoError);
            r.metadata.recursion_available = false;
            r.authorities.push(rec(
                name("hostile.example."),
                RData::NS(NS(name("ns.elsewhere.example."))),
            ));
            m(r)
        }
        // A CNAME out of this server's zone, without the target's data: the
        // target is asked about next.
        "outzone" => {
            let mut r = response(q, ResponseCode::NoError);
            r.metadata.authoritative = true;
            r.add_answer(rec(
                qname(q),
                RData::CNAME(CNAME(name("target.elsewhere.example."))),
            ));
            m(r)
        }
        "outzonefail" => {
            let mut r = response(q, ResponseCode::NoError);
            r.metadata.authoritative = true;
            r.add_answer(rec(
                qname(q),
                RData::CNAME(CNAME(name("broken.elsewhere.example."))),
            ));
            m(r)
        }
        "target" => m(mx_response(q, &[(5, name("mx.target.example."))])),
        "broken" => m(response(q, ResponseCode::ServFail)),
        // An unfinished DNAME: hostile.example -> dname.example, and no
        // CNAME synthesised; the name it gives is asked about next.
        "dname"
            if q.queries[0]
                .name()
                .to_ascii()
                .to_lowercase()
                .ends_with("hostile.example.") =>
        {
            let mut owner = Vec::new();
            for l in ["hostile", "example"] {
                owner.push(l.len() as u8);
                owner.extend_from_slice(l.as_bytes());
            }
            owner.push(0);
            let target = b"\x05dname\x07example\x00";
            let mut rr = owner.clone();
            rr.extend_from_slice(&[0, 39, 0, 1, 0, 0, 0, 60, 0, target.len() as u8]);
            rr.extend_from_slice(target);
            Reply::Raw(raw(q, [0x81, 0x80], [1, 0, 0], &rr))
        }
        "dname" => m(good(q)),
        "nodatasoa" => {
            let mut r = response(q, ResponseCode::NoError);
            r.metadata.authoritative = true;
            let z = name("hostile.example.");
            r.authorities.push(rec(
                z.clone(),
                RData::SOA(SOA::new(z.clone(), z, 1, 2, 3, 4, 60)),
            ));
            m(r)
        }
        _ if transport == Transport::Tcp => m(good(q)),
        _ => m(good(q)),
    }
}

/// (first label, status both engines must give, MX exchanges if ok, a
/// word the message must hold)
const CASES: &[(&str, &str, &[&str], &str)] = &[
    ("unrelated", "no_mx", &[], ""),
    ("sidechain", "ok", &["mx.good.example"], ""),
    ("loop1", "error", &[], "loop"),
    ("loop2", "error", &[], "loop"),
    ("tendot", "ok", &["."], ""),
    ("mixednull", "ok", &[".", "mx.good.example"], ""),
    ("dupnull", "null_mx", &[], ""),
    ("chclass", "error", &[], "class"),
    ("notify", "error", &[], "opcode"),
    ("noqrefused", "refused", &[], ""),
    ("noqformerr", "error", &[], "FORMERR"),
    ("noedns", "ok", &["mx.good.example"], ""),
    ("badvers", "ok", &["mx.good.example"], ""),
    ("twoopt", "error", &[], "malformed"),
    ("ptrloop", "error", &[], "malformed"),
    ("fwdptr", "error", &[], "malformed"),
    ("ptrpastend", "error", &[], "malformed"),
    ("badlabel", "error", &[], "malformed"),
    ("longname", "error", &[], "malformed"),
    ("countlie", "error", &[], "malformed"),
    ("rdlenlie", "error", &[], "malformed"),
    ("zerordlen", "error", &[], "malformed"),
    ("referral", "error", &[], "not recursive"),
    ("outzone", "ok", &["mx.target.example"], ""),
    ("outzonefail", "servfail", &[], "broken.elsewhere.example"),
    ("dname", "ok", &["mx.good.example"], ""),
    ("nodatasoa", "no_mx", &[], ""),
];

fn check(engine: &str, server: &ScriptServer, skip: &[&str]) -> HashMap<String, serde_json::Value> {
    let addr = server.addr.to_string();
    let names: Vec<String> = CASES
        .iter()
        .map(|(label, ..)| format!("{label}.hostile.example"))
        .collect();
    let mut flags = vec![
        "--engine",
        engine,
        "-n",
        &addr,
        "--format",
        "ndjson",
        "--timeout",
        "3s",
    ];
    flags.extend(names.iter().map(String::as_str));
    let out = run(&flags, None);
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), CASES.len(), "{}", stderr(&out));
    let mut wrong = Vec::new();
    for (label, want, exchanges, word) in CASES {
        if skip.contains(label) {
            continue;
        }
        let d = format!("{label}.hostile.example");
        let r = &results[&d];
        let got: Vec<String> = mx_of(&results, &d).into_iter().map(|(_, e)| e).collect();
        let msg = r["error"].as_str().unwrap_or("");
        // Settled by the answer, not by the 3 s deadline.
        let quick = r["time_ms"].as_f64().unwrap() < 1500.0;
        if status(&results, &d) != *want || got != *exchanges || !msg.contains(word) || !quick {
            wrong.push(format!(
                "{engine}: {d}: want {want} {exchanges:?} {word:?}, got {r}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    results
}

/// A response without a question section never reaches hickory's caller:
/// its transport drops it. These are the only answers on which the
/// engines differ (the README says so).
const HICKORY_DROPS: &[&str] = &["noqrefused", "noqformerr"];

#[test]
fn both_engines_give_the_same_status_for_every_hostile_answer() {
    let server = ScriptServer::start(reply);
    let wire = check("wire", &server, &[]);
    let hickory = check("hickory", &server, HICKORY_DROPS);
    for (d, w) in &wire {
        if HICKORY_DROPS
            .iter()
            .any(|l| d.starts_with(&format!("{l}.")))
        {
            assert_eq!(hickory[d]["status"], "timeout", "{d}");
            continue;
        }
        assert_eq!(w["status"], hickory[d]["status"], "{d}");
        assert_eq!(w["mx"], hickory[d]["mx"], "{d}");
    }
}
