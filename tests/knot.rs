//! Interoperability with a DNS server nobody here wrote: Knot DNS, started
//! by the test on a free loopback port with zones the test writes. What
//! mxlookup reports must match the zone exactly.
//!
//! These tests need `knotd` (Debian: `apt-get install knot`). They are
//! ignored by a plain `cargo test`, which says so; `cargo test -- --ignored`
//! runs them, and CI does.

mod support;

use std::collections::BTreeMap;
use support::*;

type Truth = BTreeMap<String, (&'static str, Vec<(u64, String)>)>;

/// The zone text and what mxlookup should report for each input line.
fn interop_zone() -> (String, Vec<String>, Truth) {
    let mut zone = String::from(
        "$ORIGIN interop.test.\n$TTL 300\n\
         @ IN SOA ns.interop.test. admin.interop.test. 1 3600 600 86400 60\n\
         @ IN NS ns.interop.test.\nns IN A 127.0.0.1\n",
    );
    let mut inputs = Vec::new();
    let mut truth = Truth::new();
    let mut expect = |input: &str, domain: &str, status: &'static str, mx: Vec<(u64, String)>| {
        inputs.push(input.to_string());
        truth.insert(domain.to_string(), (status, mx));
    };
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
        expect(
            &format!("d{i}.interop.test"),
            &format!("d{i}.interop.test"),
            "ok",
            mx,
        );
    }
    zone.push_str("null IN MX 0 .\n");
    expect("null.interop.test", "null.interop.test", "null_mx", vec![]);
    zone.push_str("nodata IN A 192.0.2.1\n");
    expect(
        "nodata.interop.test",
        "nodata.interop.test",
        "no_mx",
        vec![],
    );
    expect(
        "missing.interop.test",
        "missing.interop.test",
        "nxdomain",
        vec![],
    );
    expect("outside.example", "outside.example", "refused", vec![]);
    expect("www.broken.test", "www.broken.test", "servfail", vec![]);
    // An MX target that is a CNAME (RFC 2181 says it must not be): reported as published.
    zone.push_str("cnmx IN MX 10 alias.interop.test.\nalias IN CNAME real.interop.test.\nreal IN A 192.0.2.2\n");
    expect(
        "cnmx.interop.test",
        "cnmx.interop.test",
        "ok",
        vec![(10, "alias.interop.test".into())],
    );
    // An answer too big for UDP: 60 long exchange names.
    let mut big = Vec::new();
    for k in 0..60u64 {
        let e = format!("exchange-number-{k:02}.with-a-long-name-to-overflow-udp.interop.test");
        zone.push_str(&format!("big IN MX {k} {e}.\n"));
        big.push((k, e));
    }
    expect("big.interop.test", "big.interop.test", "ok", big);
    // Internationalised names, written in Unicode in the input.
    zone.push_str("xn--bcher-kva IN MX 10 mail.xn--bcher-kva.interop.test.\n");
    expect(
        "Bücher.interop.test",
        "xn--bcher-kva.interop.test",
        "ok",
        vec![(10, "mail.xn--bcher-kva.interop.test".into())],
    );
    zone.push_str("xn--r8jz45g IN MX 5 xn--r8jz45g.interop.test.\n");
    expect(
        "例え.interop.test",
        "xn--r8jz45g.interop.test",
        "ok",
        vec![(5, "xn--r8jz45g.interop.test".into())],
    );
    // Unusual but legal bytes, in owner names and exchanges.
    zone.push_str("odd\\032name IN MX 10 mx\\007bell.interop.test.\n");
    expect(
        "odd\\032name.interop.test",
        "odd\\032name.interop.test",
        "ok",
        vec![(10, "mx\\007bell.interop.test".into())],
    );
    zone.push_str("\\200high IN MX 20 dot\\.in\\.label.interop.test.\n");
    expect(
        "\\200high.interop.test",
        "\\200high.interop.test",
        "ok",
        vec![(20, "dot\\.in\\.label.interop.test".into())],
    );
    zone.push_str("under_score IN MX 30 MiXeD.Case.interop.test.\n");
    expect(
        "UNDER_score.interop.test",
        "under_score.interop.test",
        "ok",
        vec![(30, "mixed.case.interop.test".into())],
    );
    (zone, inputs, truth)
}

fn check_engine(engine: &str, extra: &[&str]) {
    let (zone, inputs, truth) = interop_zone();
    let knot = Knot::start(&[
        ("interop.test.", zone),
        ("broken.test.", "this is not a zone file {\n".to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(&list, inputs.join("\n")).unwrap();
    let addr = knot.addr.to_string();
    let mut args = vec![
        "--engine",
        engine,
        "-n",
        &addr,
        "--format",
        "ndjson",
        "--timeout",
        "3s",
        "-f",
        list.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args, None);
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), truth.len(), "one result per domain");
    for (domain, (expected_status, expected_mx)) in &truth {
        assert_eq!(
            &status(&results, domain),
            expected_status,
            "{engine} {extra:?}: {domain}: {}",
            results[domain]
        );
        assert_eq!(
            &mx_of(&results, domain),
            expected_mx,
            "{engine} {extra:?}: {domain}"
        );
    }
    assert_eq!(
        out.status.code(),
        Some(1),
        "refused and servfail make the run fail"
    );
}

#[test]
#[ignore = "needs Knot DNS (knotd): apt-get install knot, then cargo test -- --ignored"]
fn knot_answers_are_reported_exactly_by_the_wire_engine() {
    check_engine("wire", &[]);
}

#[test]
#[ignore = "needs Knot DNS (knotd): apt-get install knot, then cargo test -- --ignored"]
fn knot_answers_are_reported_exactly_over_tcp() {
    check_engine("wire", &["--tcp"]);
}

#[test]
#[ignore = "needs Knot DNS (knotd): apt-get install knot, then cargo test -- --ignored"]
fn knot_answers_are_reported_exactly_by_the_hickory_engine() {
    check_engine("hickory", &[]);
}
