//! DNSSEC, DANE and takeover against real software: Knot signs `sec.test`
//! itself, Unbound validates with a trust anchor taken from that Knot (and
//! sends Extended DNS Errors), and two zones below `sec.test` are served
//! unsigned under a DS record that does not match: bogus on purpose. Every
//! code of the issue, a fully correct signed domain with DANE (no finding),
//! and what no real server sends, from a hostile in-process server.

use crate::support::*;
use hickory_server::proto::op::{Message, ResponseCode};
use std::collections::HashMap;

const KEY1: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const KEY2: &str = "0202020202020202020202020202020202020202020202020202020202020202";
const FAKE_DS: &str = "12345 13 2 0303030303030303030303030303030303030303030303030303030303030303";

/// The parent: unsigned, so every name outside `sec.test` is insecure.
fn test_zone() -> String {
    format!(
        r#"
$TTL 300
@                   IN SOA ns.test. admin.test. 1 3600 600 86400 60
@                   IN NS  ns.test.
ns                  IN A   127.0.0.1
mx.plain            IN A   93.184.215.50
_25._tcp.mx.plain   IN TLSA 3 1 1 {KEY1}
plain               IN MX  10 mx.plain.test.
lapsed              IN MX  10 mx.gone.test.
lapsed2             IN MX  10 mx2.gone.test.
"#
    )
}

/// Signed by knotd.
fn sec_zone() -> String {
    format!(
        r#"
$TTL 300
@                   IN SOA ns.sec.test. admin.sec.test. 1 3600 600 86400 60
@                   IN NS  ns.sec.test.
ns                  IN A   127.0.0.1

good                IN MX  10 mx.good.sec.test.
_smtp._tls.good     IN TXT "v=TLSRPTv1; rua=mailto:tls@good.sec.test"
mx.good             IN A   93.184.215.10
mx.good             IN AAAA 2606:2800:21f:cb07:6820:80da:af6b:8b2c
_25._tcp.mx.good    IN TLSA 3 1 1 {KEY1}
_25._tcp.mx.good    IN TLSA 3 1 1 {KEY2}

one                 IN MX  10 mx.one.sec.test.
mx.one              IN A   93.184.215.11
_25._tcp.mx.one     IN TLSA 3 1 1 {KEY1}

pkix                IN MX  10 mx.pkix.sec.test.
mx.pkix             IN A   93.184.215.12
_25._tcp.mx.pkix    IN TLSA 0 0 1 {KEY1}
_25._tcp.mx.pkix    IN TLSA 1 1 1 {KEY2}

malformed           IN MX  10 mx.malformed.sec.test.
mx.malformed        IN A   93.184.215.13
_25._tcp.mx.malformed IN TLSA 3 2 1 {KEY1}
_25._tcp.mx.malformed IN TLSA 3 1 1 0101010101010101010101010101010101010101
_25._tcp.mx.malformed IN TLSA 3 1 2 {KEY2}

aliased             IN MX  10 mx.aliased.sec.test.
mx.aliased          IN CNAME host.sec.test.
host                IN A   93.184.215.14
_25._tcp.host       IN TLSA 2 0 1 {KEY1}
_25._tcp.host       IN TLSA 2 0 1 {KEY2}

partial             IN MX  10 mx.good.sec.test.
partial             IN MX  10 mx.nodane.sec.test.
_smtp._tls.partial  IN TXT "v=TLSRPTv1; rua=mailto:tls@good.sec.test"
mx.nodane           IN A   93.184.215.15

ineffective         IN MX  10 mx.plain.test.

failing             IN MX  10 mx.failing.sec.test.
mx.failing          IN A   93.184.215.16
_tcp.mx.failing     IN NS  ns.sec.test.
_tcp.mx.failing     IN DS  {FAKE_DS}

bogus               IN NS  ns.sec.test.
bogus               IN DS  {FAKE_DS}
"#
    )
}

/// Served unsigned below a DS: bogus.
const BOGUS_ZONE: &str = r#"
$TTL 300
@   IN SOA ns.sec.test. admin.sec.test. 1 3600 600 86400 60
@   IN NS  ns.sec.test.
@   IN MX  10 mx.good.sec.test.
"#;

fn failing_zone() -> String {
    format!(
        r#"
$TTL 300
@   IN SOA ns.sec.test. admin.sec.test. 1 3600 600 86400 60
@   IN NS  ns.sec.test.
_25 IN TLSA 3 1 1 {KEY1}
"#
    )
}

pub(crate) struct World {
    _knot: Knot,
    pub(crate) unbound: Unbound,
}

pub(crate) fn world() -> World {
    let knot = Knot::start_signed(
        &[
            ("test.", test_zone()),
            ("sec.test.", sec_zone()),
            ("bogus.sec.test.", BOGUS_ZONE.to_string()),
            ("_tcp.mx.failing.sec.test.", failing_zone()),
        ],
        &["sec.test."],
    );
    let anchor = knot.ds("sec.test.");
    let unbound =
        Unbound::start_validating(&[("test.", knot.addr), ("sec.test.", knot.addr)], &[anchor]);
    World {
        _knot: knot,
        unbound,
    }
}

fn run_audit(
    w: &World,
    extra: &[&str],
    domains: &[&str],
) -> (std::process::Output, HashMap<String, serde_json::Value>) {
    let out = mxlookup()
        .args(["-n", &w.unbound.addr.to_string(), "--format", "ndjson"])
        .args(extra)
        .args(domains)
        .output()
        .unwrap();
    let r = by_domain(&ndjson(&out));
    (out, r)
}

fn codes(r: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = r["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| p["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    c.sort();
    c
}

fn message(r: &serde_json::Value, code: &str) -> String {
    r["problems"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["code"] == code))
        .map(|p| p["message"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {code} in {r}"))
}

#[test]
fn every_dnssec_dane_and_takeover_code_from_knot_and_a_validating_unbound() {
    let w = world();
    let domains = [
        "good.sec.test",
        "one.sec.test",
        "pkix.sec.test",
        "malformed.sec.test",
        "aliased.sec.test",
        "partial.sec.test",
        "ineffective.sec.test",
        "failing.sec.test",
        "bogus.sec.test",
        "plain.test",
        "lapsed.test",
    ];
    let (out, r) = run_audit(&w, &["--audit"], &domains);
    let e = stderr(&out);
    assert_eq!(r.len(), domains.len(), "{e}");
    let want: &[(&str, &[&str])] = &[
        // Fully correct: signed, two DANE-EE keys, TLS-RPT: no finding.
        ("good.sec.test", &[]),
        ("one.sec.test", &["dane_no_rollover", "tls_rpt_missing"]),
        ("pkix.sec.test", &["tlsa_unusable"]),
        (
            "malformed.sec.test",
            &[
                "tlsa_malformed",
                "tlsa_malformed",
                "tlsa_malformed",
                "tlsa_unusable",
            ],
        ),
        ("aliased.sec.test", &["cname_target", "tls_rpt_missing"]),
        ("partial.sec.test", &["dane_partial"]),
        ("ineffective.sec.test", &["dane_ineffective"]),
        ("failing.sec.test", &["dane_lookup_failed"]),
        ("bogus.sec.test", &[]),
        ("plain.test", &["dane_ineffective"]),
        (
            "lapsed.test",
            &[
                "dangling_exchange",
                "exchange_domain_unregistered",
                "no_route",
            ],
        ),
    ];
    for (domain, wanted) in want {
        let mut wanted: Vec<String> = wanted.iter().map(|c| c.to_string()).collect();
        wanted.sort();
        assert_eq!(codes(&r[*domain]), wanted, "{domain}: {}\n{e}", r[*domain]);
    }
    // The DNSSEC state of the domain and of each exchange.
    let good = &r["good.sec.test"];
    assert_eq!(good["dnssec"], "secure");
    assert_eq!(good["mx"][0]["dnssec"], "secure");
    assert_eq!(good["mx"][0]["dane"]["state"], "usable");
    let tlsa: Vec<&str> = good["mx"][0]["dane"]["tlsa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tlsa,
        [
            format!("3 1 1 {}", KEY1.to_uppercase()),
            format!("3 1 1 {}", KEY2.to_uppercase())
        ]
    );
    assert_eq!(r["plain.test"]["dnssec"], "insecure");
    assert_eq!(r["plain.test"]["mx"][0]["dane"]["state"], "ineffective");
    assert_eq!(r["ineffective.sec.test"]["dnssec"], "secure");
    assert_eq!(r["ineffective.sec.test"]["mx"][0]["dnssec"], "insecure");
    // RFC 7672 §2.2.3: the CNAME-expanded name's records count.
    let aliased = &r["aliased.sec.test"]["mx"][0]["dane"];
    assert_eq!(aliased["state"], "usable", "{aliased}");
    assert_eq!(aliased["base"], "host.sec.test");
    assert_eq!(r["pkix.sec.test"]["mx"][0]["dane"]["state"], "unusable");
    let said = |domain: &str, what: &str| {
        r[domain]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains(what))
    };
    for what in [
        "selector 2 is neither",
        "a SHA-256 digest of 20 bytes",
        "a SHA-512 digest of 32 bytes",
    ] {
        assert!(said("malformed.sec.test", what), "{what}");
    }
    // A bogus zone: SERVFAIL with the validator's reason, DNSSEC unknown.
    let bogus = &r["bogus.sec.test"];
    assert_eq!(bogus["status"], "servfail");
    assert!(
        !bogus["ede"].as_array().unwrap().is_empty(),
        "no EDE in {bogus}"
    );
    let error = bogus["error"].as_str().unwrap();
    assert!(
        error.contains("DNSSEC Bogus") || error.contains("DNSKEY Missing"),
        "{error}"
    );
    assert_eq!(bogus["dnssec"], "unknown");
    // The TLSA lookup of a secure exchange failed: DANE senders defer.
    let failing = message(&r["failing.sec.test"], "dane_lookup_failed");
    assert!(failing.contains("SERVFAIL"), "{failing}");
    assert_eq!(r["failing.sec.test"]["mx"][0]["dane"]["state"], "failed");
    assert!(message(&r["lapsed.test"], "exchange_domain_unregistered").contains("gone.test"));
    // Errors and a failed lookup: exit 1.
    assert_eq!(out.status.code(), Some(1), "{e}");
    // Each TLSA base name and each registrable domain once per run.
    assert!(e.contains("TLSA: "), "{e}");
    assert!(e.contains("registrable domains: "), "{e}");
}

#[test]
fn a_correct_signed_domain_passes_and_shared_exchanges_are_looked_up_once() {
    let w = world();
    // good and partial share mx.good.sec.test: one TLSA query for it.
    let (out, r) = run_audit(
        &w,
        &["--audit", "--checks", "dnssec,dane,takeover"],
        &["good.sec.test", "partial.sec.test", "one.sec.test"],
    );
    let e = stderr(&out);
    assert_eq!(codes(&r["good.sec.test"]), Vec::<String>::new(), "{e}");
    // Three domains, four exchanges: four TLSA names, three looked up.
    assert!(e.contains("TLSA: 4 names asked for, 3 looked up"), "{e}");
    // --checks without routing: no routing finding, still the addresses.
    assert!(r["good.sec.test"]["mx"][0]["addresses"].is_array());
    // Only an exchange with no address can be taken over: two of them
    // under one registrable domain, asked for once.
    let (out, r) = run_audit(
        &w,
        &["--audit", "--checks", "takeover"],
        &["lapsed.test", "lapsed2.test", "good.sec.test"],
    );
    let e = stderr(&out);
    assert_eq!(codes(&r["lapsed2.test"]), ["exchange_domain_unregistered"]);
    assert_eq!(codes(&r["good.sec.test"]), Vec::<String>::new());
    assert!(
        e.contains("registrable domains: 2 names asked for, 1 looked up"),
        "{e}"
    );
}

#[test]
fn a_failed_registrable_lookup_is_unknown_never_unregistered() {
    // mx.dangling.example does not exist; its registrable domain's lookup
    // fails (SERVFAIL); so does the next one's, times out.
    let server = ScriptServer::start(|_t, q: &Message| {
        let qtype = u16::from(q.queries[0].query_type());
        let owner = q.queries[0].name().to_string().to_ascii_lowercase();
        match qtype {
            15 => Reply::Message(mx_response(
                q,
                &[(10, name(&format!("mx.{}", q.queries[0].name())))],
            )),
            1 | 28 => Reply::Message(response(q, ResponseCode::NXDomain)),
            _ if owner.starts_with("slow") => Reply::Drop,
            _ => Reply::Message(response(q, ResponseCode::ServFail)),
        }
    });
    let out = mxlookup()
        .args(["-n", &server.addr.to_string(), "--timeout", "1"])
        .args(["--audit", "--checks", "takeover", "--format", "ndjson"])
        .args(["dangling.example", "slow.example"])
        .output()
        .unwrap();
    let r = by_domain(&ndjson(&out));
    for d in ["dangling.example", "slow.example"] {
        assert_eq!(codes(&r[d]), ["takeover_unknown"], "{}", r[d]);
    }
    // Unknown: exit 1, like a failed lookup; never the error finding.
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn dnssec_for_plain_lookups_and_the_table() {
    let w = world();
    let (out, r) = run_audit(&w, &["--dnssec"], &["good.sec.test", "plain.test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(r["good.sec.test"]["dnssec"], "secure");
    assert_eq!(r["good.sec.test"]["mx"][0]["dnssec"], "secure");
    assert_eq!(r["plain.test"]["dnssec"], "insecure");
    // --dnssec alone reports, and finds nothing.
    assert_eq!(codes(&r["plain.test"]), Vec::<String>::new());
    let table = mxlookup()
        .args(["-n", &w.unbound.addr.to_string(), "--audit"])
        .args(["good.sec.test", "one.sec.test"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("DNSSEC secure · DANE mx.good.sec.test usable (2 TLSA)"),
        "{text}"
    );
    assert!(text.contains("dane_no_rollover"), "{text}");
    let csv = mxlookup()
        .args([
            "-n",
            &w.unbound.addr.to_string(),
            "--audit",
            "--format",
            "csv",
        ])
        .args(["good.sec.test"])
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&csv.stdout);
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",dnssec,dane"), "{header}");
    assert!(
        csv.lines().nth(1).unwrap().ends_with(",secure,usable"),
        "{csv}"
    );
}

/// The hostile server's answer for one query: by the first label.
fn hostile(t: Transport, q: &Message) -> Reply {
    let qtype = u16::from(q.queries[0].query_type());
    let do_bit = q.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
    match ((), qtype) {
        // Every domain: one exchange under the name itself.
        (_, 15) => {
            let mut m = mx_response(q, &[(10, name(&format!("mx.{}", q.queries[0].name())))]);
            m.metadata.authentic_data = do_bit;
            Reply::Message(m)
        }
        (_, 1) => Reply::Raw(raw(q, [0x85, 0xA0], [1, 0, 0], &rr(1, &[93, 184, 215, 1]))),
        (_, 28) => Reply::Raw(raw(q, [0x85, 0xA0], [0, 0, 0], &[])),
        // The registrable domains exist.
        (_, 2) => Reply::Raw(raw(q, [0x85, 0xA0], [0, 0, 0], &[])),
        (_, 52) => {
            let owner = q.queries[0].name().to_string().to_ascii_lowercase();
            if owner.contains(".lying.") {
                // A TLSA record whose RDLENGTH runs past the message.
                let mut r = rr(52, &[3, 1, 1]);
                let n = r.len();
                r[n - 5..n - 3].copy_from_slice(&400u16.to_be_bytes());
                Reply::Raw(raw(q, [0x85, 0xA0], [1, 0, 0], &r))
            } else if owner.contains(".short.") {
                // A TLSA record of two bytes: no room for its fields.
                Reply::Raw(raw(q, [0x85, 0xA0], [1, 0, 0], &rr(52, &[3, 1])))
            } else if owner.contains(".big.") && t == Transport::Udp {
                // Too big for a datagram: truncated (TC).
                Reply::Raw(raw(q, [0x87, 0xA0], [0, 0, 0], &[]))
            } else if owner.contains(".big.") {
                // 60 records of 64-byte digests: 4,000 bytes, over TCP.
                let mut tail = Vec::new();
                for i in 0..60u8 {
                    let mut data = vec![3, 1, 2];
                    data.extend(std::iter::repeat_n(i, 64));
                    tail.extend(rr(52, &data));
                }
                let body = raw(q, [0x85, 0xA0], [60, 0, 0], &tail);
                // Raw bytes go out as they are: over TCP, framed here.
                let mut framed = (body.len() as u16).to_be_bytes().to_vec();
                framed.extend(body);
                Reply::Raw(framed)
            } else if owner.contains(".junk.") {
                // SERVFAIL with EDE options: junk text with terminal escapes
                // and a bidi override, then one whose length runs past the
                // OPT record.
                let mut text = b"bogus \x1b[31mred\x1b[0m \xe2\x80\xae".to_vec();
                text.extend(std::iter::repeat_n(b'x', 900));
                Reply::Raw(raw(q, [0x85, 0x82], [0, 0, 1], &opt_with_ede(6, &text)))
            } else if owner.contains(".slow.") {
                Reply::Drop
            } else {
                Reply::Raw(raw(q, [0x85, 0xA0], [0, 0, 0], &[]))
            }
        }
        _ => Reply::Message(response(q, ResponseCode::Refused)),
    }
}

/// An OPT record holding one EDE option (code, text), then a second EDE
/// option that claims 500 bytes and runs past the record.
fn opt_with_ede(code: u16, text: &[u8]) -> Vec<u8> {
    let mut option = vec![0, 15];
    option.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
    option.extend_from_slice(&code.to_be_bytes());
    option.extend_from_slice(text);
    option.extend_from_slice(&[0, 15, 0x01, 0xF4, 0, 6]);
    let mut r = vec![0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0];
    r.extend_from_slice(&(option.len() as u16).to_be_bytes());
    r.extend(option);
    r
}

#[test]
fn what_no_real_server_sends_ends_as_a_clear_result() {
    let server = ScriptServer::start(hostile);
    for engine in ["wire", "hickory"] {
        let domains = [
            "lying.example",
            "short.example",
            "big.example",
            "junk.example",
            "slow.example",
        ];
        let out = mxlookup()
            .args(["-n", &server.addr.to_string(), "--engine", engine])
            .args([
                "--audit",
                "--checks",
                "dane",
                "--timeout",
                "1",
                "--format",
                "ndjson",
            ])
            .args(domains)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let e = stderr(&out);
        let r = by_domain(&ndjson(&out));
        assert_eq!(r.len(), domains.len(), "{engine}: {text}\n{e}");
        let state = |d: &str| r[d]["mx"][0]["dane"]["state"].as_str().unwrap().to_string();
        // Secure (the hostile server sets AD), so a TLSA lookup that fails
        // is dane_lookup_failed; one that times out is unknown.
        assert_eq!(
            state("lying.example"),
            "failed",
            "{engine}: {}",
            r["lying.example"]
        );
        assert_eq!(state("short.example"), "failed", "{engine}");
        assert_eq!(
            state("big.example"),
            "usable",
            "{engine}: {}",
            r["big.example"]
        );
        assert_eq!(
            r["big.example"]["mx"][0]["dane"]["tlsa"]
                .as_array()
                .unwrap()
                .len(),
            60
        );
        assert_eq!(state("junk.example"), "failed", "{engine}");
        assert_eq!(state("slow.example"), "unknown", "{engine}");
        assert!(codes(&r["slow.example"]).contains(&"dane_unknown".to_string()));
        let junk = message(&r["junk.example"], "dane_lookup_failed");
        assert!(
            junk.contains("\\u{1b}[31mred") && junk.contains("\\u{202e}"),
            "{junk}"
        );
        assert!(
            junk.len() < 1200,
            "EDE text not bounded: {} bytes",
            junk.len()
        );
        for raw in ['\u{1b}', '\u{202e}'] {
            assert!(
                !text.contains(raw) && !e.contains(raw),
                "{engine}: raw {raw:?}"
            );
        }
    }
}

#[test]
fn an_ad_bit_from_a_server_not_asked_with_do_is_not_trusted() {
    // FORMERR to any EDNS query; to the query without EDNS (no DO, no AD)
    // an answer with AD set anyway.
    let server = ScriptServer::start(|_t, q: &Message| {
        if q.edns.is_some() {
            return Reply::Message(response(q, ResponseCode::FormErr));
        }
        let mut m = mx_response(q, &[(10, name("mx.example."))]);
        m.metadata.authentic_data = true;
        Reply::Message(m)
    });
    for engine in ["wire", "hickory"] {
        let out = mxlookup()
            .args(["-n", &server.addr.to_string(), "--engine", engine])
            .args(["--dnssec", "--format", "ndjson", "ad.example"])
            .output()
            .unwrap();
        let r = by_domain(&ndjson(&out));
        assert_eq!(
            r["ad.example"]["status"],
            "ok",
            "{engine}: {}",
            stderr(&out)
        );
        assert_eq!(r["ad.example"]["dnssec"], "insecure", "{engine}");
    }
}

#[test]
fn the_exchanges_view_live_and_from_a_saved_run() {
    let w = world();
    let domains = [
        "good.sec.test",
        "partial.sec.test",
        "one.sec.test",
        "lapsed.test",
        "lapsed2.test",
    ];
    let grouped = |out: &std::process::Output| -> HashMap<String, serde_json::Value> {
        ndjson(out)
            .into_iter()
            .map(|v| (v["exchange"].as_str().unwrap().to_string(), v))
            .collect()
    };
    let run = |extra: &[&str]| {
        mxlookup()
            .args([
                "-n",
                &w.unbound.addr.to_string(),
                "--format",
                "ndjson",
                "--audit",
            ])
            .args(extra)
            .args(domains)
            .output()
            .unwrap()
    };
    let live = run(&["--by-exchange"]);
    let g = grouped(&live);
    let good = &g["mx.good.sec.test"];
    assert_eq!(good["domains"], 2, "{good}");
    assert_eq!(good["sole"], 1);
    assert_eq!(good["sole_examples"], serde_json::json!(["good.sec.test"]));
    assert_eq!(good["dane"], "usable");
    assert_eq!(good["addresses"][0], "93.184.215.10");
    assert_eq!(g["mx.one.sec.test"]["findings"]["dane_no_rollover"], 1);
    assert_eq!(
        g["mx.gone.test"]["findings"]["exchange_domain_unregistered"],
        1
    );
    assert_eq!(g.len(), 5, "{g:?}");
    // The most depended-on exchange first.
    assert_eq!(ndjson(&live)[0]["exchange"], "mx.good.sec.test");
    // The same view from a saved run.
    let saved = run(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.ndjson");
    std::fs::write(&file, &saved.stdout).unwrap();
    let report = mxlookup()
        .args(["report", "--by-exchange", "--format", "ndjson"])
        .arg(&file)
        .output()
        .unwrap();
    let from_file = grouped(&report);
    assert_eq!(from_file["mx.good.sec.test"], g["mx.good.sec.test"]);
    let table = mxlookup()
        .args(["report", "--by-exchange"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("ONLY MX OF") && text.contains("mx.good.sec.test"),
        "{text}"
    );
}
