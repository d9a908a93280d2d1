//! MTA-STS and TLS-RPT against real software: Knot DNS serves the zone,
//! Unbound resolves it, nginx serves the policies over HTTPS with a
//! certificate the test makes. Every code of the policy checks, a correct
//! policy that covers everything (no finding), the pattern rules that
//! checkdmarc and mailauth get wrong, and `--baseline` and `--expect` on
//! policies.

use crate::support::*;
use std::collections::HashMap;

const ZONE: &str = r#"
$TTL 300
@                 IN SOA ns.sts.test. admin.sts.test. 1 3600 600 86400 60
@                 IN NS  ns.sts.test.
ns                IN A   127.0.0.1
mx1.provider      IN A   93.184.215.14
mx2.provider      IN A   93.184.215.15

good              IN MX  10 mx1.provider.sts.test.
good              IN MX  20 mx2.provider.sts.test.
_mta-sts.good     IN TXT "v=STSv1; id=20261206T0900"
mta-sts.good      IN A   127.0.0.1
_smtp._tls.good   IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.sts.test"

split             IN MX  10 mx1.provider.sts.test.
_mta-sts.split    IN TXT "v=STSv1; " "id=split1"
mta-sts.split     IN A   127.0.0.1

viacname          IN MX  10 mx1.provider.sts.test.
_mta-sts.viacname IN CNAME _mta-sts.good.sts.test.
mta-sts.viacname  IN A   127.0.0.1

implicit          IN A   93.184.215.20
_mta-sts.implicit IN TXT "v=STSv1; id=i1"
mta-sts.implicit  IN A   127.0.0.1

uncovered         IN MX  10 mx1.provider.sts.test.
uncovered         IN MX  20 mx2.provider.sts.test.
_mta-sts.uncovered IN TXT "v=STSv1; id=u1"
mta-sts.uncovered IN A   127.0.0.1

nonecovered       IN MX  10 mx1.provider.sts.test.
_mta-sts.nonecovered IN TXT "v=STSv1; id=n1"
mta-sts.nonecovered IN A 127.0.0.1

testing           IN MX  10 mx1.provider.sts.test.
_mta-sts.testing  IN TXT "v=STSv1; id=t1"
mta-sts.testing   IN A   127.0.0.1

regex             IN MX  10 mx1.provider.sts.test.evil.sts.test.
mx1.provider.sts.test.evil IN A 93.184.215.17
_mta-sts.regex    IN TXT "v=STSv1; id=r1"
mta-sts.regex     IN A   127.0.0.1

suffix            IN MX  10 mx.suffix.sts.test.
mx.suffix         IN A   93.184.215.16
_mta-sts.suffix   IN TXT "v=STSv1; id=s1"
mta-sts.suffix    IN A   127.0.0.1

tworecords        IN MX  10 mx1.provider.sts.test.
_mta-sts.tworecords IN TXT "v=STSv1; id=a"
_mta-sts.tworecords IN TXT "v=STSv1; id=b"
mta-sts.tworecords IN A  127.0.0.1

badpolicy         IN MX  10 mx1.provider.sts.test.
_mta-sts.badpolicy IN TXT "v=STSv1; id=bp1"
mta-sts.badpolicy IN A   127.0.0.1

nohost            IN MX  10 mx1.provider.sts.test.
_mta-sts.nohost   IN TXT "v=STSv1; id=nh1"

gone              IN MX  10 mx1.provider.sts.test.
_mta-sts.gone     IN TXT "v=STSv1; id=g1"
mta-sts.gone      IN A   127.0.0.1

short             IN MX  10 mx1.provider.sts.test.
_mta-sts.short    IN TXT "v=STSv1; id=sh1"
mta-sts.short     IN A   127.0.0.1
_smtp._tls.short  IN TXT "v=TLSRPTv1; rua=https://reports.sts.test/tls"

badrpt            IN MX  10 mx1.provider.sts.test.
_smtp._tls.badrpt IN TXT "v=TLSRPTv1; rua=http://reports.sts.test/tls"

plain             IN MX  10 mx1.provider.sts.test.
"#;

fn policy(mode: &str, max_age: u32, mx: &[&str]) -> String {
    let mut p = format!("version: STSv1\r\nmode: {mode}\r\n");
    for m in mx {
        p.push_str(&format!("mx: {m}\r\n"));
    }
    p.push_str(&format!("max_age: {max_age}\r\n"));
    p
}

struct World {
    _knot: Knot,
    unbound: Unbound,
    nginx: Nginx,
    ca: TestCa,
}

fn world() -> World {
    let hosts = [
        "good",
        "split",
        "viacname",
        "implicit",
        "uncovered",
        "nonecovered",
        "testing",
        "regex",
        "suffix",
        "tworecords",
        "badpolicy",
        "gone",
        "short",
    ];
    let names: Vec<String> = hosts
        .iter()
        .map(|h| format!("mta-sts.{h}.sts.test"))
        .collect();
    let ca = TestCa::with_names(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let week = 604_800;
    let path = "/.well-known/mta-sts.txt";
    let both = ["mx1.provider.sts.test", "*.provider.sts.test"];
    let sites: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            names[0].as_str(),
            vec![(path, policy("enforce", week, &both))],
        ),
        (
            names[1].as_str(),
            vec![(path, policy("enforce", week, &["mx1.provider.sts.test"]))],
        ),
        (
            names[2].as_str(),
            vec![(path, policy("enforce", week, &["*.provider.sts.test"]))],
        ),
        // LF line endings here: both endings are read.
        (
            names[3].as_str(),
            vec![(
                path,
                "version: STSv1\nmode: enforce\nmx: implicit.sts.test\nmax_age: 604800\n".into(),
            )],
        ),
        (
            names[4].as_str(),
            vec![(path, policy("enforce", week, &["mx1.provider.sts.test"]))],
        ),
        (
            names[5].as_str(),
            vec![(path, policy("enforce", week, &["*.elsewhere.test"]))],
        ),
        (
            names[6].as_str(),
            vec![(path, policy("testing", week, &["*.elsewhere.test"]))],
        ),
        // checkdmarc's unanchored regular expression would call this covered.
        (
            names[7].as_str(),
            vec![(path, policy("enforce", week, &["mx1.provider.sts.test"]))],
        ),
        // mailauth's suffix match would call this covered.
        (
            names[8].as_str(),
            vec![(path, policy("enforce", week, &["suffix.sts.test"]))],
        ),
        (
            names[9].as_str(),
            vec![(path, policy("enforce", week, &both))],
        ),
        (
            names[10].as_str(),
            vec![(
                path,
                "version: STSv1\nmode: strict\nmx: *.provider.sts.test\nmax_age: 604800\n".into(),
            )],
        ),
        (names[11].as_str(), vec![]),
        (
            names[12].as_str(),
            vec![(path, policy("enforce", 3600, &both))],
        ),
    ];
    let knot = Knot::start(&[("sts.test.", ZONE.to_string())]);
    let unbound = Unbound::start(&[("sts.test.", knot.addr)], "");
    let nginx = Nginx::start(&ca, &sites);
    World {
        _knot: knot,
        unbound,
        nginx,
        ca,
    }
}

fn audit(
    w: &World,
    extra: &[&str],
    domains: &[&str],
) -> (std::process::Output, HashMap<String, serde_json::Value>) {
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_MTA_STS_PORT", w.nginx.port.to_string())
        .args([
            "-n",
            &w.unbound.addr.to_string(),
            "--audit",
            "--ca-file",
            &w.ca.ca,
            "--format",
            "ndjson",
        ])
        .args(extra)
        .args(domains.iter().map(|d| format!("{d}.sts.test")));
    let out = cmd.output().unwrap();
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

const DOMAINS: [&str; 16] = [
    "good",
    "split",
    "viacname",
    "implicit",
    "uncovered",
    "nonecovered",
    "testing",
    "regex",
    "suffix",
    "tworecords",
    "badpolicy",
    "nohost",
    "gone",
    "short",
    "badrpt",
    "plain",
];

#[test]
fn every_policy_code_from_knot_unbound_and_nginx() {
    let w = world();
    let (out, r) = audit(&w, &[], &DOMAINS);
    let e = stderr(&out);
    let d = |name: &str| &r[&format!("{name}.sts.test")];
    let want: &[(&str, &[&str])] = &[
        ("good", &[]),
        ("split", &[]),
        ("viacname", &[]),
        ("implicit", &["implicit_mx"]),
        ("uncovered", &["mta_sts_mx_uncovered"]),
        ("nonecovered", &["mta_sts_no_covered_mx"]),
        ("testing", &["mta_sts_testing_uncovered", "tls_rpt_missing"]),
        ("regex", &["mta_sts_no_covered_mx"]),
        ("suffix", &["mta_sts_no_covered_mx"]),
        ("tworecords", &["mta_sts_invalid"]),
        ("badpolicy", &["mta_sts_invalid"]),
        ("nohost", &["mta_sts_unreachable"]),
        ("gone", &["mta_sts_unreachable"]),
        ("short", &["mta_sts_short_max_age"]),
        ("badrpt", &["tls_rpt_invalid"]),
        ("plain", &[]),
    ];
    for (name, codes_wanted) in want {
        let got = codes(d(name));
        let mut wanted: Vec<String> = codes_wanted.iter().map(|c| c.to_string()).collect();
        wanted.sort();
        assert_eq!(got, wanted, "{name}: {}\n{e}", d(name));
    }
    // The correct policy, as read.
    let good = &d("good")["mta_sts"];
    assert_eq!(good["state"], "ok");
    assert_eq!(good["id"], "20261206T0900");
    assert_eq!(good["mode"], "enforce");
    assert_eq!(good["max_age"], 604800);
    assert_eq!(
        good["mx"],
        serde_json::json!(["mx1.provider.sts.test", "*.provider.sts.test"])
    );
    assert_eq!(
        d("good")["tls_rpt"]["rua"],
        serde_json::json!(["mailto:tlsrpt@good.sts.test"])
    );
    assert_eq!(
        d("split")["mta_sts"]["id"],
        "split1",
        "the strings of one TXT record are joined"
    );
    assert_eq!(
        d("viacname")["mta_sts"]["id"],
        "20261206T0900",
        "the record is found through a CNAME"
    );
    assert_eq!(d("plain")["mta_sts"]["state"], "none");
    assert_eq!(d("plain")["tls_rpt"]["state"], "none");
    // Why each is unreachable or invalid, in words.
    assert!(
        d("gone")["mta_sts"]["error"]
            .as_str()
            .unwrap()
            .contains("404"),
        "{}",
        d("gone")
    );
    assert!(
        d("nohost")["mta_sts"]["error"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{}",
        d("nohost")
    );
    assert!(
        d("tworecords")["mta_sts"]["error"]
            .as_str()
            .unwrap()
            .contains("exactly one")
    );
    assert!(
        d("badpolicy")["mta_sts"]["error"]
            .as_str()
            .unwrap()
            .contains("strict")
    );
    assert!(e.contains("MTA-STS policies:"), "{e}");
    assert_eq!(out.status.code(), Some(1), "errors and an unknown exit 1");
}

#[test]
fn checks_narrow_the_audit_and_dns_only_fetches_nothing() {
    let w = world();
    let (out, r) = audit(&w, &["--checks", "routing"], &["good", "nonecovered"]);
    assert!(r["good.sts.test"].get("mta_sts").is_none());
    assert_eq!(codes(&r["nonecovered.sts.test"]), Vec::<String>::new());
    assert_eq!(out.status.code(), Some(0));
    let (out, r) = audit(&w, &["--checks", "dns"], &["good", "nonecovered", "nohost"]);
    assert_eq!(r["good.sts.test"]["mta_sts"]["state"], "ok");
    assert!(
        r["good.sts.test"]["mta_sts"].get("mode").is_none(),
        "not fetched"
    );
    assert_eq!(codes(&r["nohost.sts.test"]), vec!["mta_sts_unreachable"]);
    assert!(!stderr(&out).contains("MTA-STS policies:"));
    // Without --audit or --checks, the output is unchanged.
    let plain = run(
        &[
            "-n",
            &w.unbound.addr.to_string(),
            "--format",
            "ndjson",
            "good.sts.test",
        ],
        None,
    );
    let v = &ndjson(&plain)[0];
    assert!(
        v.get("mta_sts").is_none() && v.get("problems").is_none(),
        "{v}"
    );
}

#[test]
fn the_table_and_csv_show_policies_compactly() {
    let w = world();
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_MTA_STS_PORT", w.nginx.port.to_string())
        .args([
            "-n",
            &w.unbound.addr.to_string(),
            "--audit",
            "--ca-file",
            &w.ca.ca,
            "--format",
            "csv",
            "good.sts.test",
            "plain.sts.test",
        ]);
    let out = cmd.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",mta_sts,tls_rpt,dnssec,dane"),
        "{text}"
    );
    assert!(text.contains(",enforce,ok,insecure,none"), "{text}");
    assert!(text.contains(",none,none,insecure,none"), "{text}");
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_MTA_STS_PORT", w.nginx.port.to_string())
        .args([
            "-n",
            &w.unbound.addr.to_string(),
            "--audit",
            "--ca-file",
            &w.ca.ca,
            "good.sts.test",
        ]);
    let table = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    assert!(
        table.contains("MTA-STS enforce (max_age 604800 s")
            && table.contains("TLS-RPT mailto:tlsrpt@good.sts.test"),
        "{table}"
    );
}

#[test]
fn expect_a_mode_and_baseline_a_policy_that_changed_without_a_new_id() {
    let w = world();
    let (out, r) = audit(
        &w,
        &["--expect", "*.sts.test=mta-sts:enforce"],
        &["good", "testing", "plain"],
    );
    assert!(!codes(&r["good.sts.test"]).contains(&"unexpected_policy".to_string()));
    assert!(codes(&r["testing.sts.test"]).contains(&"unexpected_policy".to_string()));
    assert!(codes(&r["plain.sts.test"]).contains(&"unexpected_policy".to_string()));
    assert_eq!(out.status.code(), Some(1));
    // A baseline in which good's policy had other mx patterns and the same
    // id: the policy changed, and senders that cached it keep the old one.
    let (out, _) = audit(&w, &[], &["good"]);
    let mut saved: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    saved["mta_sts"]["mx"] = serde_json::json!(["old.provider.sts.test"]);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.ndjson");
    std::fs::write(&base, format!("{saved}\n")).unwrap();
    let (out, r) = audit(&w, &["--baseline", base.to_str().unwrap()], &["good"]);
    let good = &r["good.sts.test"];
    assert_eq!(good["changes"][0]["kind"], "mta_sts", "{good}");
    assert!(
        good["changes"][0]["from"]
            .as_str()
            .unwrap()
            .contains("old.provider.sts.test")
    );
    assert_eq!(codes(good), vec!["mta_sts_id_unchanged"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a warning and drift: {}",
        stderr(&out)
    );
}

/// What no real web server sends: each ends as a clear finding within the
/// deadline, in bounded memory, with nothing unescaped on the terminal.
#[test]
fn a_hostile_policy_server_gives_clear_findings_within_the_deadline() {
    use crate::support::https::{Behaviour, Blackhole, HostileHttps};
    use hickory_server::proto::op::ResponseCode;
    use hickory_server::proto::rr::rdata::{A, TXT};
    use hickory_server::proto::rr::{RData, Record, RecordType};
    let cases = [
        ("good", "", ""),
        ("redirect", "mta_sts_unreachable", "redirect"),
        ("redirects", "mta_sts_unreachable", "redirect"),
        ("huge", "mta_sts_unreachable", "larger than 64 KiB"),
        ("endless", "mta_sts_unreachable", "larger than 64 KiB"),
        ("stall", "mta_sts_unknown", "deadline"),
        ("blackhole", "mta_sts_unknown", "did not begin TLS within"),
        ("html", "mta_sts_unreachable", "text/html"),
        ("junk", "mta_sts_invalid", "not text"),
        ("dupkeys", "mta_sts_invalid", "twice"),
        ("nul", "mta_sts_invalid", "control"),
        ("escapes", "mta_sts_invalid", "control"),
        ("wrongname", "mta_sts_unreachable", "TLS"),
        ("expired", "mta_sts_unreachable", "TLS"),
    ];
    let hosts: Vec<String> = cases
        .iter()
        .map(|(c, ..)| format!("mta-sts.{c}.hostile.test"))
        .collect();
    let ca = TestCa::with_names(&hosts.iter().map(String::as_str).collect::<Vec<_>>());
    let good = "version: STSv1\nmode: enforce\nmx: mx.hostile.test\nmax_age: 86400\n";
    let response = |ctype: &str, body: &[u8]| {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let main = HostileHttps::start([127, 0, 0, 1].into(), 0, &ca, move |host| {
        let case = host.split('.').nth(1).unwrap_or("");
        let policy = |p: &str| Behaviour::Raw(response("text/plain", p.as_bytes()));
        match case {
            "good" => policy(good),
            "redirect" => Behaviour::Raw(b"HTTP/1.1 302 Found\r\nLocation: http://mta-sts.good.hostile.test/.well-known/mta-sts.txt\r\nContent-Length: 0\r\n\r\n".to_vec()),
            "redirects" => Behaviour::Raw(b"HTTP/1.1 301 Moved\r\nLocation: https://mta-sts.good.hostile.test/.well-known/mta-sts.txt\r\nContent-Length: 0\r\n\r\n".to_vec()),
            "huge" => Behaviour::Raw(response("text/plain", &vec![b'x'; 10 << 20])),
            "endless" => Behaviour::Endless,
            "stall" => Behaviour::Silent,
            "html" => Behaviour::Raw(response("text/html", good.as_bytes())),
            "junk" => Behaviour::Raw(response("text/plain", b"\xff\xfe\x00\x01binary\x9b[2J")),
            "dupkeys" => policy("version: STSv1\nmode: enforce\nmode: testing\nmx: mx.hostile.test\nmax_age: 86400\n"),
            "nul" => policy("version: STSv1\nmode: enforce\nmx: mx.hos\0tile.test\nmax_age: 86400\n"),
            "escapes" => policy("version: STSv1\nmode: enforce\nmx: \x1b[2J\x1b]0;pwned\x07.hostile.test\nmax_age: 86400\n"),
            _ => Behaviour::Raw(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec()),
        }
    });
    let port = main.addr.port();
    let other = TestCa::with_names(&["somewhere.else.test"]);
    let _wrong = HostileHttps::start([127, 0, 0, 2].into(), port, &other, |_| {
        Behaviour::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n".to_vec(),
        )
    });
    let expired = TestCa::expired(&["mta-sts.expired.hostile.test"]);
    let _expired =
        HostileHttps::start([127, 0, 0, 3].into(), port, &expired, |_| Behaviour::Silent);
    let _hole = Blackhole::start([127, 0, 0, 4].into(), port);
    let dns = ScriptServer::start(|_, q| {
        let qname = q.queries[0].name().to_ascii().to_lowercase();
        let qtype = q.queries[0].query_type();
        let label = |n: usize| qname.split('.').nth(n).unwrap_or("").to_string();
        let mut m = response_to(q);
        let owner = q.queries[0].name().clone();
        match qtype {
            RecordType::MX
                if qname.ends_with(".hostile.test.")
                    && !qname.starts_with("_")
                    && !qname.starts_with("mta-sts.")
                    && !qname.starts_with("mx.") =>
            {
                return Reply::Message(mx_response(q, &[(10, name("mx.hostile.test."))]));
            }
            RecordType::TXT if label(0) == "_mta-sts" => {
                m.add_answer(Record::from_rdata(
                    owner,
                    60,
                    RData::TXT(TXT::new(vec!["v=STSv1; id=1".into()])),
                ));
            }
            RecordType::A if qname == "mx.hostile.test." => {
                m.add_answer(Record::from_rdata(
                    owner,
                    60,
                    RData::A(A::new(93, 184, 215, 14)),
                ));
            }
            RecordType::A if label(0) == "mta-sts" => {
                let last = match label(1).as_str() {
                    "wrongname" => 2,
                    "expired" => 3,
                    "blackhole" => 4,
                    _ => 1,
                };
                m.add_answer(Record::from_rdata(
                    owner,
                    60,
                    RData::A(A::new(127, 0, 0, last)),
                ));
            }
            _ => {}
        }
        Reply::Message(m)
    });
    fn response_to(q: &hickory_server::proto::op::Message) -> hickory_server::proto::op::Message {
        crate::support::response(q, ResponseCode::NoError)
    }
    let domains: Vec<String> = cases
        .iter()
        .map(|(c, ..)| format!("{c}.hostile.test"))
        .collect();
    for format in ["ndjson", "table", "csv"] {
        let start = std::time::Instant::now();
        let mut cmd = mxlookup();
        cmd.env("MXLOOKUP_MTA_STS_PORT", port.to_string())
            .args([
                "-n",
                &dns.addr.to_string(),
                "--checks",
                "mta-sts",
                "--ca-file",
                &ca.ca,
                "--timeout",
                "2s",
                "--format",
                format,
            ])
            .args(&domains);
        let out = cmd.output().unwrap();
        let took = start.elapsed();
        let all =
            String::from_utf8_lossy(&[out.stdout.clone(), out.stderr.clone()].concat()).to_string();
        assert!(
            !all.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r'),
            "{format}: {all:?}"
        );
        assert!(
            took < std::time::Duration::from_secs(8),
            "{format}: {took:?}"
        );
        if format != "ndjson" {
            continue;
        }
        let r = by_domain(&ndjson(&out));
        for (case, code, word) in cases {
            let d = &r[&format!("{case}.hostile.test")];
            let got: Vec<&str> = d["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["code"].as_str().unwrap())
                .collect();
            if code.is_empty() {
                assert!(got.is_empty(), "{case}: {d}");
                assert_eq!(d["mta_sts"]["mode"], "enforce", "{case}: {d}");
                continue;
            }
            assert_eq!(got, vec![code], "{case}: {d}");
            let why = d["mta_sts"]["error"].as_str().unwrap();
            assert!(why.contains(word), "{case}: {why}");
            assert!(
                d["time_ms"].as_f64().unwrap() < 3000.0,
                "{case}: within the deadline: {d}"
            );
        }
        assert!(all.contains("pwned"), "the escapes are shown, escaped");
    }
}
