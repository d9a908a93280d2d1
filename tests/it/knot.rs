//! Interoperability with DNS software nobody here wrote, started by the
//! tests on loopback: Knot DNS as the authoritative server (a parent zone
//! with a delegation to a second knotd, out-of-zone aliases, a DNAME, a
//! zone that fails to load), and Unbound as the recursive resolver users
//! actually query, with stub zones at that Knot. What mxlookup reports must
//! match the zones exactly, through either engine, over UDP and TCP, asked
//! directly or through Unbound.
//!
//! These tests need `knotd` and `unbound` (Debian: apt-get install knot
//! unbound), and root for the child server on port 53 of a loopback
//! address (where a resolver looks for a delegated zone). `.ci/run`
//! installs them; without them the tests fail and say so.

use crate::support::*;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What one domain should come to: status, MX records, and a word the
/// error message must hold.
#[derive(Clone, Debug)]
struct Expect {
    status: &'static str,
    mx: Vec<(u64, String)>,
    word: &'static str,
}

fn ok(mx: Vec<(u64, String)>) -> Expect {
    Expect {
        status: "ok",
        mx,
        word: "",
    }
}

fn plain(status: &'static str) -> Expect {
    Expect {
        status,
        mx: vec![],
        word: "",
    }
}

fn failed(status: &'static str, word: &'static str) -> Expect {
    Expect {
        status,
        mx: vec![],
        word,
    }
}

/// One input line, the domain it names, and what it should come to asked
/// of Knot directly and through Unbound (`None`: not asked of Unbound).
struct Case {
    input: String,
    domain: String,
    direct: Expect,
    recursive: Option<Expect>,
}

struct World {
    zones: Vec<(&'static str, String)>,
    child: (String, String),
    cases: Vec<Case>,
}

/// A case with the same answer directly and through Unbound.
fn both(cases: &mut Vec<Case>, input: &str, domain: &str, e: Expect) {
    cases.push(Case {
        input: input.into(),
        domain: domain.into(),
        direct: e.clone(),
        recursive: Some(e),
    });
}

/// The zones and what mxlookup should report for each input line. The
/// child zone's server is at `child_ip` (port 53).
fn world(child_ip: IpAddr) -> World {
    let mut zone = String::from(
        "$ORIGIN interop.test.\n$TTL 300\n\
         @ IN SOA ns.interop.test. admin.interop.test. 1 3600 600 86400 60\n\
         @ IN NS ns.interop.test.\nns IN A 127.0.0.1\n",
    );
    let mut cases = Vec::new();
    // Many domains with several MX each, preferences out of order in the zone.
    for i in 0..150u64 {
        let n = 1 + i % 4;
        let mut mx: Vec<(u64, String)> = (0..n)
            .map(|k| ((k * 7 + i) % 5 * 10, format!("mx{k}.host{i}.interop.test")))
            .collect();
        for (p, e) in mx.iter().rev() {
            zone.push_str(&format!("d{i} IN MX {p} {e}.\n"));
        }
        mx.sort();
        let d = format!("d{i}.interop.test");
        both(&mut cases, &d, &d, ok(mx));
    }
    zone.push_str("null IN MX 0 .\n");
    both(
        &mut cases,
        "null.interop.test",
        "null.interop.test",
        plain("null_mx"),
    );
    // The null-MX shapes RFC 7505 does not allow are reported as published.
    zone.push_str("tendot IN MX 10 .\n");
    both(
        &mut cases,
        "tendot.interop.test",
        "tendot.interop.test",
        ok(vec![(10, ".".into())]),
    );
    zone.push_str("mixednull IN MX 0 .\nmixednull IN MX 10 mx.interop.test.\n");
    both(
        &mut cases,
        "mixednull.interop.test",
        "mixednull.interop.test",
        ok(vec![(0, ".".into()), (10, "mx.interop.test".into())]),
    );
    zone.push_str("nodata IN A 192.0.2.1\n");
    both(
        &mut cases,
        "nodata.interop.test",
        "nodata.interop.test",
        plain("no_mx"),
    );
    both(
        &mut cases,
        "missing.interop.test",
        "missing.interop.test",
        plain("nxdomain"),
    );
    // An MX target that is a CNAME (RFC 2181 says it must not be): reported as published.
    zone.push_str("cnmx IN MX 10 alias.interop.test.\nalias IN CNAME real.interop.test.\nreal IN A 192.0.2.2\n");
    both(
        &mut cases,
        "cnmx.interop.test",
        "cnmx.interop.test",
        ok(vec![(10, "alias.interop.test".into())]),
    );
    // An answer too big for UDP: 60 long exchange names.
    let mut big = Vec::new();
    for k in 0..60u64 {
        let e = format!("exchange-number-{k:02}.with-a-long-name-to-overflow-udp.interop.test");
        zone.push_str(&format!("big IN MX {k} {e}.\n"));
        big.push((k, e));
    }
    both(&mut cases, "big.interop.test", "big.interop.test", ok(big));
    // Internationalised names, written in Unicode in the input.
    zone.push_str("xn--bcher-kva IN MX 10 mail.xn--bcher-kva.interop.test.\n");
    both(
        &mut cases,
        "Bücher.interop.test",
        "xn--bcher-kva.interop.test",
        ok(vec![(10, "mail.xn--bcher-kva.interop.test".into())]),
    );
    zone.push_str("xn--r8jz45g IN MX 5 xn--r8jz45g.interop.test.\n");
    both(
        &mut cases,
        "例え.interop.test",
        "xn--r8jz45g.interop.test",
        ok(vec![(5, "xn--r8jz45g.interop.test".into())]),
    );
    // Unusual but legal bytes, in owner names and exchanges.
    zone.push_str("odd\\032name IN MX 10 mx\\007bell.interop.test.\n");
    both(
        &mut cases,
        "odd\\032name.interop.test",
        "odd\\032name.interop.test",
        ok(vec![(10, "mx\\007bell.interop.test".into())]),
    );
    zone.push_str("\\200high IN MX 20 dot\\.in\\.label.interop.test.\n");
    both(
        &mut cases,
        "\\200high.interop.test",
        "\\200high.interop.test",
        ok(vec![(20, "dot\\.in\\.label.interop.test".into())]),
    );
    zone.push_str("under_score IN MX 30 MiXeD.Case.interop.test.\n");
    both(
        &mut cases,
        "UNDER_score.interop.test",
        "under_score.interop.test",
        ok(vec![(30, "mixed.case.interop.test".into())]),
    );
    // An alias to a zone of its own (on the same server): Knot stops at
    // the edge of the zone; mxlookup asks again at the canonical name.
    zone.push_str("cnout IN CNAME target.other.test.\n");
    both(
        &mut cases,
        "cnout.interop.test",
        "cnout.interop.test",
        ok(vec![(10, "mx.other.test".into())]),
    );
    // A DNAME to that zone: Knot synthesises the CNAME, not its target.
    zone.push_str("legacy IN DNAME other.test.\n");
    both(
        &mut cases,
        "x.legacy.interop.test",
        "x.legacy.interop.test",
        ok(vec![(20, "mx.x.other.test".into())]),
    );
    // A delegation to a second server. Knot answers with a referral: it is
    // not recursive. Unbound follows it.
    zone.push_str(&format!(
        "child IN NS ns.child.interop.test.\nns.child IN A {child_ip}\n"
    ));
    cases.push(Case {
        input: "mail.child.interop.test".into(),
        domain: "mail.child.interop.test".into(),
        direct: failed("error", "not recursive"),
        recursive: Some(ok(vec![(10, "mx.child.interop.test".into())])),
    });
    // An alias into the delegated zone: the failure names the target.
    zone.push_str("cnchild IN CNAME mail.child.interop.test.\n");
    cases.push(Case {
        input: "cnchild.interop.test".into(),
        domain: "cnchild.interop.test".into(),
        direct: failed("error", "alias target mail.child.interop.test"),
        recursive: Some(ok(vec![(10, "mx.child.interop.test".into())])),
    });
    // A CNAME loop: mxlookup sees it; Unbound answers SERVFAIL.
    zone.push_str("loopa IN CNAME loopb.interop.test.\nloopb IN CNAME loopa.interop.test.\n");
    cases.push(Case {
        input: "loopa.interop.test".into(),
        domain: "loopa.interop.test".into(),
        direct: failed("error", "loop"),
        recursive: Some(plain("servfail")),
    });
    // Outside every zone: Knot refuses. (Unbound would go to the root.)
    cases.push(Case {
        input: "outside.example".into(),
        domain: "outside.example".into(),
        direct: plain("refused"),
        recursive: None,
    });
    // A zone that failed to load: SERVFAIL, directly and through Unbound.
    both(
        &mut cases,
        "www.broken.test",
        "www.broken.test",
        plain("servfail"),
    );

    // For the audit (no cases here: see `the_audit_through_unbound...`).
    zone.push_str(
        "brokenmx IN MX 10 mx.broken.test.\nloopmx IN MX 10 loopa.interop.test.\n\
         good IN MX 10 mx.other.test.\ngood IN MX 20 mx.child.interop.test.\n\
         private IN MX 10 mx.private.interop.test.\nmx.private IN A 10.0.0.25\n",
    );

    let other = "$ORIGIN other.test.\n$TTL 300\n\
         @ IN SOA ns.other.test. admin.other.test. 1 3600 600 86400 60\n\
         @ IN NS ns.other.test.\nns IN A 127.0.0.1\n\
         target IN MX 10 mx.other.test.\nx IN MX 20 mx.x.other.test.\n\
         mx IN A 93.184.215.31\nmx IN AAAA 2606:2800::31\n"
        .to_string();
    let child = format!(
        "$ORIGIN child.interop.test.\n$TTL 300\n\
         @ IN SOA ns.child.interop.test. admin.child.interop.test. 1 3600 600 86400 60\n\
         @ IN NS ns.child.interop.test.\nns IN A {child_ip}\n\
         mail IN MX 10 mx.child.interop.test.\nmx IN A 93.184.215.30\n"
    );
    World {
        zones: vec![
            ("interop.test.", zone),
            ("other.test.", other),
            ("broken.test.", "this is not a zone file {\n".to_string()),
        ],
        child: ("child.interop.test.".into(), child),
        cases,
    }
}

/// The servers of the world: the parent Knot, the child Knot on port 53.
struct Servers {
    parent: Knot,
    _child: Knot,
    world: World,
}

fn servers() -> Servers {
    // The child's address must be in the parent's glue: start the child
    // first, on a placeholder world, then write the real zones.
    let probe = world(IpAddr::from([127, 0, 0, 1]));
    let child = Knot::start_on_port_53(&[(probe.child.0.as_str(), probe.child.1.clone())]);
    let real = world(child.addr.ip());
    let child_zone = real.child.clone();
    drop(child);
    let child = Knot::start_on_port_53(&[(child_zone.0.as_str(), child_zone.1)]);
    let real = world(child.addr.ip());
    let parent = Knot::start(&real.zones);
    Servers {
        parent,
        _child: child,
        world: real,
    }
}

/// Ask `server` about every case that has an expectation there, with
/// `flags`, and check every result.
fn check(server: &str, recursive: bool, cases: &[Case], flags: &[&str]) {
    let wanted: BTreeMap<&str, (&Expect, &str)> = cases
        .iter()
        .filter_map(|c| {
            let e = if recursive {
                c.recursive.as_ref()?
            } else {
                &c.direct
            };
            Some((c.domain.as_str(), (e, c.input.as_str())))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    let inputs: Vec<&str> = wanted.values().map(|(_, i)| *i).collect();
    std::fs::write(&list, inputs.join("\n")).unwrap();
    let mut args = vec![
        "-n",
        server,
        "--format",
        "ndjson",
        "--timeout",
        "4s",
        "-f",
        list.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let out = run(&args, None);
    let results = by_domain(&ndjson(&out));
    assert_eq!(
        results.len(),
        wanted.len(),
        "one result per domain: {}",
        stderr(&out)
    );
    let mut wrong = Vec::new();
    for (domain, (e, _)) in &wanted {
        let r = &results[*domain];
        let msg = r["error"].as_str().unwrap_or("");
        if status(&results, domain) != e.status
            || mx_of(&results, domain) != e.mx
            || !msg.contains(e.word)
        {
            wrong.push(format!("{flags:?} {domain}: want {e:?}, got {r}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "refused, servfail and errors make the run fail"
    );
}

#[test]
fn knot_answers_are_reported_exactly_by_both_engines_over_udp_and_tcp() {
    let s = servers();
    let addr = s.parent.addr.to_string();
    for flags in [
        &["--engine", "wire"][..],
        &["--engine", "wire", "--tcp"],
        &["--engine", "hickory"],
    ] {
        check(&addr, false, &s.world.cases, flags);
    }
}

/// Unbound with stub zones at the parent knotd, as a user's resolver.
fn unbound_in_front_of(s: &Servers) -> Unbound {
    let stubs: Vec<(&str, std::net::SocketAddr)> = ["interop.test.", "other.test.", "broken.test."]
        .into_iter()
        .map(|z| (z, s.parent.addr))
        .collect();
    Unbound::start(&stubs, "")
}

#[test]
fn unbound_in_front_of_knot_gives_the_same_answers_and_follows_the_delegation() {
    let s = servers();
    let unbound = unbound_in_front_of(&s);
    let addr = unbound.addr.to_string();
    for flags in [
        &["--engine", "wire"][..],
        &["--engine", "wire", "--tcp"],
        &["--engine", "hickory"],
    ] {
        check(&addr, true, &s.world.cases, flags);
    }
}

/// A problem's code and the exchange it is about.
type Problem = (&'static str, Option<&'static str>);

/// The audit through Unbound in front of Knot: exchanges in another zone,
/// across a delegation, behind an alias, in a zone that fails to load, in
/// a CNAME loop; null MX shapes; implicit MX; special addresses.
#[test]
fn the_audit_through_unbound_in_front_of_knot_finds_every_problem() {
    let s = servers();
    let unbound = unbound_in_front_of(&s);
    let addr = unbound.addr.to_string();
    let want: Vec<(&str, Vec<Problem>)> = vec![
        ("good.interop.test", vec![]),
        ("mail.child.interop.test", vec![]),
        ("cnout.interop.test", vec![]),
        ("null.interop.test", vec![]),
        ("missing.interop.test", vec![]),
        (
            "cnmx.interop.test",
            vec![
                ("cname_target", Some("alias.interop.test")),
                ("no_route", None),
                ("special_address", Some("alias.interop.test")),
            ],
        ),
        (
            "tendot.interop.test",
            vec![("invalid_null_mx", Some(".")), ("no_route", None)],
        ),
        (
            "mixednull.interop.test",
            vec![
                ("dangling_exchange", Some("mx.interop.test")),
                ("invalid_null_mx", Some(".")),
                ("no_route", None),
            ],
        ),
        (
            "nodata.interop.test",
            vec![
                ("implicit_mx", None),
                ("no_route", None),
                ("special_address", Some("nodata.interop.test")),
            ],
        ),
        (
            "brokenmx.interop.test",
            vec![("unresolved_exchange", Some("mx.broken.test"))],
        ),
        (
            "loopmx.interop.test",
            vec![("unresolved_exchange", Some("loopa.interop.test"))],
        ),
        (
            "private.interop.test",
            vec![
                ("no_route", None),
                ("special_address", Some("mx.private.interop.test")),
            ],
        ),
        (
            "d1.interop.test",
            vec![
                ("dangling_exchange", Some("mx0.host1.interop.test")),
                ("dangling_exchange", Some("mx1.host1.interop.test")),
                ("no_route", None),
            ],
        ),
    ];
    for engine in ["wire", "hickory"] {
        let mut args = vec![
            "-n",
            &addr,
            "--engine",
            engine,
            "--format",
            "ndjson",
            "--audit",
            "--timeout",
            "4s",
        ];
        args.extend(want.iter().map(|(d, _)| *d));
        let out = run(&args, None);
        let results = by_domain(&ndjson(&out));
        assert_eq!(results.len(), want.len(), "{}", stderr(&out));
        let mut wrong = Vec::new();
        for (domain, problems) in &want {
            let r = &results[*domain];
            let mut got: Vec<(String, Option<String>)> = r["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["code"].as_str().unwrap().into(),
                        p["exchange"].as_str().map(Into::into),
                    )
                })
                .collect();
            got.sort();
            let want: Vec<(String, Option<String>)> = problems
                .iter()
                .map(|(c, e)| (c.to_string(), e.map(Into::into)))
                .collect();
            if got != want {
                wrong.push(format!("{engine} {domain}: want {want:?}, got {r}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let addresses = |d: &str, i: usize| results[d]["mx"][i]["addresses"].clone();
        assert_eq!(
            addresses("good.interop.test", 0),
            serde_json::json!(["93.184.215.31", "2606:2800::31"])
        );
        assert_eq!(
            addresses("good.interop.test", 1),
            serde_json::json!(["93.184.215.30"]),
            "across the delegation"
        );
        assert_eq!(
            addresses("cnout.interop.test", 0),
            serde_json::json!(["93.184.215.31", "2606:2800::31"])
        );
        assert_eq!(
            results["nodata.interop.test"]["addresses"],
            serde_json::json!(["192.0.2.1"])
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
}
