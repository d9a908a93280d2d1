//! `--audit`, `--expect` and `--baseline` against DNS servers on loopback:
//! a zone with every problem the audit knows, a server that counts the
//! queries for shared exchanges, and baselines good and bad.

use crate::support::*;
use hickory_server::proto::op::{Message, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, MX};
use hickory_server::proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::io::Write;

/// Every case of the audit, in a zone small enough to answer quickly.
/// Addresses outside the special-purpose ranges stand for real servers;
/// they are data only: nothing is ever sent to them.
const ZONE: &str = "
$TTL 300
@            IN SOA ns.audit. admin.audit. 1 3600 600 86400 60
@            IN NS  ns.audit.
ns           IN A   127.0.0.1
good         IN MX  10 mx1.provider.audit.
good         IN MX  20 mx2.provider.audit.
mx1.provider IN A    93.184.215.14
mx1.provider IN AAAA 2606:2800:21f:cb07:6820:80da:af6b:8b2c
mx2.provider IN A    93.184.215.15
v6only       IN MX  10 mx6.audit.
mx6          IN AAAA 2001:4860:4860:0:0:0:0:8888
implicit     IN A   93.184.215.20
noroute      IN TXT \"nothing for mail\"
null         IN MX  0 .
nullbeside   IN MX  0 .
nullbeside   IN MX  10 mx1.provider.audit.
nullpref     IN MX  10 .
alias        IN MX  10 mxalias.audit.
mxalias      IN CNAME mx1.provider.audit.
literal      IN MX  10 192.0.2.1.
dangling     IN MX  10 gone.audit.
dangling     IN MX  20 noaddr.audit.
noaddr       IN TXT \"no address here\"
half         IN MX  10 gone.audit.
half         IN MX  20 mx1.provider.audit.
loopback     IN MX  10 lo.audit.
lo           IN A   127.0.0.1
private      IN MX  10 mx.private.audit.
mx.private   IN A   10.1.2.3
unresolved   IN MX  10 mx.elsewhere.example.
";

const DOMAINS: [&str; 16] = [
    "good.audit",
    "v6only.audit",
    "implicit.audit",
    "noroute.audit",
    "null.audit",
    "nullbeside.audit",
    "nullpref.audit",
    "alias.audit",
    "literal.audit",
    "dangling.audit",
    "half.audit",
    "loopback.audit",
    "private.audit",
    "unresolved.audit",
    "missing.audit",
    "mxalias.audit",
];

fn codes(r: &serde_json::Value) -> Vec<(String, Option<String>)> {
    let mut v: Vec<(String, Option<String>)> = r["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems key: {r}"))
        .iter()
        .map(|p| {
            assert!(!p["message"].as_str().unwrap().is_empty(), "{p}");
            (
                p["code"].as_str().unwrap().to_string(),
                p["exchange"].as_str().map(str::to_string),
            )
        })
        .collect();
    v.sort();
    v
}

fn p(code: &str, exchange: Option<&str>) -> (String, Option<String>) {
    (code.to_string(), exchange.map(str::to_string))
}

fn addresses(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an address list: {v}"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn audit_zone(
    engine: &str,
    extra: &[&str],
) -> (std::process::Output, HashMap<String, serde_json::Value>) {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let mut args = vec![
        "--engine",
        engine,
        "-n",
        &server,
        "--format",
        "ndjson",
        "--audit",
        "--timeout",
        "2s",
    ];
    args.extend(extra);
    args.extend(DOMAINS);
    let out = run(&args, None);
    let results = by_domain(&ndjson(&out));
    (out, results)
}

#[test]
fn every_problem_from_a_real_zone_with_either_engine() {
    for engine in ["wire", "hickory"] {
        let (out, r) = audit_zone(engine, &[]);
        assert_eq!(r.len(), DOMAINS.len(), "one result per domain");
        let e = stderr(&out);

        // A healthy domain: addresses per exchange, IPv4 first, IPv6 in
        // RFC 5952 form; no problems.
        assert_eq!(codes(&r["good.audit"]), vec![], "{engine}");
        let mx = r["good.audit"]["mx"].as_array().unwrap();
        assert_eq!(
            addresses(&mx[0]["addresses"]),
            vec!["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
        );
        assert_eq!(addresses(&mx[1]["addresses"]), vec!["93.184.215.15"]);
        assert!(
            r["good.audit"].get("addresses").is_none(),
            "only implicit MX has domain addresses"
        );
        assert_eq!(codes(&r["v6only.audit"]), vec![]);
        assert_eq!(
            addresses(&r["v6only.audit"]["mx"][0]["addresses"]),
            vec!["2001:4860:4860::8888"]
        );

        // No MX: the domain's own addresses, in their own key.
        assert_eq!(status(&r, "implicit.audit"), "no_mx");
        assert_eq!(codes(&r["implicit.audit"]), vec![p("implicit_mx", None)]);
        assert_eq!(
            addresses(&r["implicit.audit"]["addresses"]),
            vec!["93.184.215.20"]
        );
        assert_eq!(codes(&r["noroute.audit"]), vec![p("no_route", None)]);
        assert_eq!(
            addresses(&r["noroute.audit"]["addresses"]),
            Vec::<String>::new()
        );

        // Null MX done right is not a problem; done wrong is.
        assert_eq!(status(&r, "null.audit"), "null_mx");
        assert_eq!(codes(&r["null.audit"]), vec![]);
        assert_eq!(
            codes(&r["nullbeside.audit"]),
            vec![p("invalid_null_mx", Some("."))]
        );
        assert_eq!(
            codes(&r["nullpref.audit"]),
            vec![p("invalid_null_mx", Some(".")), p("no_route", None)]
        );

        // An exchange that is an alias still delivers, with a warning.
        assert_eq!(
            codes(&r["alias.audit"]),
            vec![p("cname_target", Some("mxalias.audit"))]
        );
        assert_eq!(
            addresses(&r["alias.audit"]["mx"][0]["addresses"]),
            vec!["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
        );
        // An address written as a name; the server refuses it (it is not
        // in its zone), so whether it exists is unknown.
        assert_eq!(
            codes(&r["literal.audit"]),
            vec![
                p("ip_literal_target", Some("192.0.2.1")),
                p("unresolved_exchange", Some("192.0.2.1"))
            ]
        );
        // Exchanges that do not exist or have no address; gone.audit is
        // a registrable domain of its own (by the Public Suffix List's
        // default rule) that does not exist: anyone could register it.
        assert_eq!(
            codes(&r["dangling.audit"]),
            vec![
                p("dangling_exchange", Some("gone.audit")),
                p("dangling_exchange", Some("noaddr.audit")),
                p("exchange_domain_unregistered", Some("gone.audit")),
                p("no_route", None)
            ]
        );
        // One bad exchange of two: mail still has a route.
        assert_eq!(
            codes(&r["half.audit"]),
            vec![
                p("dangling_exchange", Some("gone.audit")),
                p("exchange_domain_unregistered", Some("gone.audit"))
            ]
        );
        assert_eq!(
            codes(&r["loopback.audit"]),
            vec![p("no_route", None), p("special_address", Some("lo.audit"))]
        );
        assert_eq!(
            codes(&r["private.audit"]),
            vec![
                p("no_route", None),
                p("special_address", Some("mx.private.audit"))
            ]
        );
        // The server refuses a name outside its zone: unknown, not bad.
        assert_eq!(
            codes(&r["unresolved.audit"]),
            vec![p("unresolved_exchange", Some("mx.elsewhere.example"))]
        );
        // An alias with no MX of its own: the target's addresses.
        assert_eq!(codes(&r["mxalias.audit"]), vec![p("implicit_mx", None)]);
        assert_eq!(
            r["mxalias.audit"]["aliases"],
            serde_json::json!(["mx1.provider.audit"])
        );
        // No MX lookup answer to audit: no problems, the status says it.
        assert_eq!(status(&r, "missing.audit"), "nxdomain");
        assert_eq!(codes(&r["missing.audit"]), vec![]);

        // Errors make the run exit 1; the summary counts every problem.
        assert_eq!(out.status.code(), Some(1), "{e}");
        for line in [
            "problems:",
            "5 no_route",
            "2 dangling_exchange",
            "2 invalid_null_mx",
            "2 unresolved_exchange",
            "1 cname_target",
            "1 ip_literal_target",
            "2 special_address",
            "2 implicit_mx",
        ] {
            assert!(e.contains(line), "{engine}: {line:?} not in {e}");
        }
        assert!(e.contains("% from the cache"), "{e}");
    }
}

#[test]
fn warnings_alone_exit_0_and_without_audit_the_output_is_unchanged() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let out = run(
        &[
            "-n",
            &server,
            "--format",
            "ndjson",
            "--audit",
            "alias.audit",
            "implicit.audit",
            "good.audit",
        ],
        None,
    );
    let r = by_domain(&ndjson(&out));
    assert_eq!(r.len(), 3);
    assert_eq!(
        out.status.code(),
        Some(0),
        "cname_target and implicit_mx are warnings: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 cname_target, 1 implicit_mx"),
        "{}",
        stderr(&out)
    );

    let out = run(
        &[
            "-n",
            &server,
            "--format",
            "ndjson",
            "dangling.audit",
            "implicit.audit",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "no audit, no audit errors");
    for r in ndjson(&out) {
        for key in ["problems", "addresses", "changes"] {
            assert!(r.get(key).is_none(), "{key} without --audit: {r}");
        }
        for m in r["mx"].as_array().unwrap() {
            assert!(m.get("addresses").is_none(), "{m}");
        }
    }
    let csv = run(&["-n", &server, "--format", "csv", "good.audit"], None);
    let header = String::from_utf8(csv.stdout).unwrap();
    assert!(!header.contains("problems"), "{header}");
}

#[test]
fn the_table_and_csv_show_addresses_and_problems() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let table = run(
        &[
            "-n",
            &server,
            "--format",
            "table",
            "--audit",
            "good.audit",
            "dangling.audit",
            "implicit.audit",
        ],
        None,
    );
    let t = String::from_utf8(table.stdout).unwrap();
    for needle in [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "dangling_exchange",
        "gone.audit",
        "implicit_mx",
        "93.184.215.20",
    ] {
        assert!(t.contains(needle), "{needle} not in the table:\n{t}");
    }
    let csv = run(
        &[
            "-n",
            &server,
            "--format",
            "csv",
            "--audit",
            "good.audit",
            "dangling.audit",
        ],
        None,
    );
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("no {n} column: {headers:?}"))
    };
    let (addr, probs) = (col("addresses"), col("problems"));
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert!(
        rows.iter().any(|r| r[addr].contains("93.184.215.14")),
        "{text}"
    );
    assert!(
        rows.iter().any(|r| r[probs].contains("dangling_exchange")),
        "{text}"
    );
}

/// A thousand domains at one provider, all in flight at once: the
/// provider's exchanges are looked up once each, not once per domain.
#[test]
fn shared_exchanges_are_resolved_once_under_full_concurrency() {
    let server = ScriptServer::start(|_, q: &Message| {
        let query = &q.queries[0];
        let qname = query.name().to_ascii().to_lowercase();
        let mut m = response(q, ResponseCode::NoError);
        m.metadata.authoritative = true;
        let name = query.name().clone();
        let rdata = match (query.query_type(), qname.as_str()) {
            (RecordType::MX, n) if n.starts_with('d') => Some(RData::MX(MX::new(
                10,
                crate::support::name("mx1.provider.example."),
            ))),
            (RecordType::A, "mx1.provider.example.") => Some(RData::A(A::new(93, 184, 215, 14))),
            (RecordType::AAAA, "mx1.provider.example.") => {
                Some(RData::AAAA(AAAA::new(0x2606, 0x2800, 0, 0, 0, 0, 0, 1)))
            }
            _ => None,
        };
        if let Some(r) = rdata {
            m.answers.push(Record::from_rdata(name, 300, r));
        }
        // Slow enough that every domain asks while the first lookup is in
        // flight.
        Reply::Delay(
            std::time::Duration::from_millis(20),
            Box::new(Reply::Message(m)),
        )
    });
    let names: Vec<String> = (0..1000).map(|i| format!("d{i}.example")).collect();
    let out = run_names(
        &[
            "-n",
            &server.addr.to_string(),
            "--format",
            "ndjson",
            "--audit",
            "-c",
            "1024",
        ],
        &names,
    );
    let r = by_domain(&ndjson(&out));
    assert_eq!(r.len(), 1000);
    for (d, v) in &r {
        assert_eq!(codes(v), vec![], "{d}");
        assert_eq!(
            addresses(&v["mx"][0]["addresses"]),
            vec!["93.184.215.14", "2606:2800::1"],
            "{d}"
        );
    }
    let s = &server.stats;
    assert_eq!(
        s.queries_for("mx1.provider.example."),
        2,
        "one A and one AAAA query"
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("addresses: 1000 names asked for, 1 looked up, 99.9% from the cache"),
        "{e}"
    );
}

#[test]
fn fail_on_chooses_what_fails_the_job() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let exit = |extra: &[&str], names: &[&str]| {
        let mut args = vec!["-n", server.as_str(), "--audit", "-q"];
        args.extend(extra);
        args.extend(names);
        run(&args, None).status.code()
    };
    // The README's CI recipe: a domain whose only exchange is loopback
    // cannot receive mail from the internet.
    assert_eq!(exit(&["--require-mx"], &["loopback.audit"]), Some(1));
    assert_eq!(exit(&["--require-mx"], &["good.audit"]), Some(0));
    // cname_target is a warning: it fails only when asked.
    assert_eq!(exit(&[], &["alias.audit"]), Some(0));
    assert_eq!(exit(&["--fail-on", "warning"], &["alias.audit"]), Some(1));
    assert_eq!(
        exit(&["--fail-on", "cname_target"], &["alias.audit"]),
        Some(1)
    );
    assert_eq!(
        exit(
            &["--fail-on", "special_address"],
            &["alias.audit", "good.audit"]
        ),
        Some(0)
    );
    // A list of codes: only those; an error not among them passes.
    assert_eq!(
        exit(&["--fail-on", "cname_target"], &["dangling.audit"]),
        Some(0)
    );
    // A lookup that fails always fails the job.
    assert_eq!(
        exit(&["--fail-on", "cname_target"], &["unresolved.audit"]),
        Some(1)
    );
    let bad = run(&["--fail-on", "nonsense", "good.audit"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("'nonsense'"), "{}", stderr(&bad));
}

#[test]
fn expectations_say_where_mail_must_go() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let run_expect = |rules: &[&str], names: &[&str]| {
        let mut args = vec!["-n", server.as_str(), "--format", "ndjson"];
        for r in rules {
            args.extend(["--expect", r]);
        }
        args.extend(names);
        run(&args, None)
    };
    let out = run_expect(
        &["*.audit=*.provider.audit"],
        &["good.audit", "alias.audit", "loopback.audit"],
    );
    let r = by_domain(&ndjson(&out));
    assert_eq!(codes(&r["good.audit"]), vec![]);
    // An alias is not the exchange the rule names.
    assert_eq!(
        codes(&r["alias.audit"]),
        vec![p("unexpected_exchange", None)]
    );
    assert_eq!(
        codes(&r["loopback.audit"]),
        vec![p("unexpected_exchange", None)]
    );
    // --expect alone looks no addresses up.
    assert!(
        r["good.audit"]["mx"][0].get("addresses").is_none(),
        "{}",
        r["good.audit"]
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Rules only apply to the domains they match; a rule that matches no
    // domain is a warning naming it (a typo would disable a check).
    let out = run_expect(
        &[
            "loopback.audit=lo.audit",
            "good.*=mx*.provider.audit",
            "goood.audit=*.provider.audit",
        ],
        &["good.audit", "loopback.audit", "alias.audit"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("--expect goood.audit=*.provider.audit: no domain of this run matches it"),
        "{e}"
    );
    assert!(!e.contains("--expect good.*"), "{e}");
    // --expect alone: no addresses column in the table.
    let table = run(
        &[
            "-n",
            &server,
            "--expect",
            "*.audit=*.provider.audit",
            "alias.audit",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(!text.contains("ADDRESSES"), "{text}");
    assert!(text.contains("unexpected_exchange"), "{text}");

    // From a file, with comments; a bad rule names its line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy");
    std::fs::write(&path, "# where mail goes\n*.audit = *.provider.audit\n\n").unwrap();
    let out = run(
        &[
            "-n",
            &server,
            "--format",
            "ndjson",
            "--expect-file",
            path.to_str().unwrap(),
            "good.audit",
            "literal.audit",
        ],
        None,
    );
    let r = by_domain(&ndjson(&out));
    assert_eq!(
        codes(&r["literal.audit"]),
        vec![p("unexpected_exchange", None)]
    );
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(&path, "*.audit=*.provider.audit\nno equals sign here\n").unwrap();
    let out = run(
        &[
            "-n",
            &server,
            "--expect-file",
            path.to_str().unwrap(),
            "good.audit",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("policy:2:"), "{}", stderr(&out));
}

/// Write `text` to a file in `dir`.
fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_baseline_reports_drift_with_its_own_exit_status() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let names = ["good.audit", "v6only.audit", "implicit.audit", "null.audit"];
    let dir = tempfile::tempdir().unwrap();

    // A run compared with itself: nothing changed, exit 0.
    let mut args = vec!["-n", server.as_str(), "--format", "ndjson", "--audit"];
    args.extend(names);
    let first = run(&args, None);
    let same = file(
        &dir,
        "same.ndjson",
        &String::from_utf8(first.stdout.clone()).unwrap(),
    );
    let mut again = args.clone();
    again.extend(["--baseline", same.as_str()]);
    let out = run(&again, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for r in ndjson(&out) {
        assert_eq!(r["changes"], serde_json::json!([]), "{r}");
    }
    assert!(
        stderr(&out).contains("baseline: 0 domains changed"),
        "{}",
        stderr(&out)
    );

    // An edited baseline: every kind of change, and exit 3.
    let mut edited = Vec::new();
    for mut r in ndjson(&first) {
        match r["domain"].as_str().unwrap() {
            "good.audit" => {
                r["mx"][0]["preference"] = 5.into();
                r["mx"][1]["addresses"] = serde_json::json!(["93.184.215.99"]);
            }
            "v6only.audit" => {
                r["mx"].as_array_mut().unwrap().push(serde_json::json!({
                    "preference": 30, "exchange": "old.provider.audit", "addresses": []
                }));
            }
            "implicit.audit" => r["addresses"] = serde_json::json!(["93.184.215.21"]),
            // null.audit is left out: new since the baseline.
            "null.audit" => continue,
            _ => {}
        }
        edited.push(r.to_string());
    }
    edited.push(r#"{"domain":"retired.audit","status":"nxdomain","mx":[],"error":null}"#.into());
    let base = file(&dir, "old.ndjson", &(edited.join("\n") + "\n"));
    let mut args2 = args.clone();
    args2.extend(["--baseline", base.as_str()]);
    let out = run(&args2, None);
    let r = by_domain(&ndjson(&out));
    assert_eq!(
        out.status.code(),
        Some(3),
        "drift, nothing broken: {}",
        stderr(&out)
    );
    let kinds = |d: &str| -> Vec<String> {
        r[d]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds("good.audit"), vec!["preference", "addresses"]);
    assert_eq!(
        r["good.audit"]["changes"][0],
        serde_json::json!({"kind":"preference","exchange":"mx1.provider.audit","from":5,"to":10})
    );
    assert_eq!(
        r["good.audit"]["changes"][1],
        serde_json::json!({"kind":"addresses","exchange":"mx2.provider.audit","added":["93.184.215.15"],"removed":["93.184.215.99"]})
    );
    assert_eq!(kinds("v6only.audit"), vec!["exchange_removed"]);
    assert_eq!(kinds("implicit.audit"), vec!["addresses"]);
    assert_eq!(kinds("null.audit"), vec!["new"]);
    let e = stderr(&out);
    assert!(
        e.contains("baseline: 4 domains changed, 1 of them new; 1 baseline domain not in this run"),
        "{e}"
    );

    // Broken beats drifted: with a failure as well, exit 1.
    let mut args3 = args2.clone();
    args3.push("dangling.audit");
    assert_eq!(run(&args3, None).status.code(), Some(1));

    // A status change, read from a JSON array baseline.
    let json = file(
        &dir,
        "old.json",
        r#"[{"domain":"null.audit","status":"ok","mx":[{"preference":10,"exchange":"mx.audit"}],"error":null}]"#,
    );
    let out = run(
        &[
            "-n",
            &server,
            "--format",
            "ndjson",
            "--baseline",
            &json,
            "null.audit",
        ],
        None,
    );
    let r = ndjson(&out);
    assert_eq!(
        r[0]["changes"][0],
        serde_json::json!({"kind":"status","from":"ok","to":"null_mx"})
    );
    assert_eq!(r[0]["changes"][1]["kind"], "exchange_removed");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_baseline_that_is_not_mxlookup_output_is_an_error_naming_its_line() {
    let z = ZoneServer::start("audit.", ZONE);
    let server = z.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        (
            "a.ndjson",
            "{\"domain\":\"a.audit\",\"status\":\"ok\",\"mx\":[],\"error\":null}\nnot json\n",
            ":2:",
        ),
        ("b.csv", "domain,status,preference,exchange\n", ":1:"),
        ("c.json", "[\n {\"domain\":\"a.audit\"}\n]", ":2:"),
        (
            "d.ndjson",
            &"x".repeat(2 << 20),
            ":1: a line longer than 1 MiB",
        ),
    ] {
        let path = file(&dir, name, text);
        let out = run(&["-n", &server, "--baseline", &path, "good.audit"], None);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let e = stderr(&out);
        assert!(
            e.contains("--baseline") && e.contains(name) && e.contains(line),
            "{name}: {e}"
        );
        assert!(out.stdout.is_empty(), "no lookups after a bad baseline");
    }
    let out = run(
        &[
            "-n",
            &server,
            "--baseline",
            "/nonexistent/base.json",
            "good.audit",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read /nonexistent/base.json"),
        "{}",
        stderr(&out)
    );
}
