//! A failed lookup is "unknown, and why", at every layer: never a removal
//! in `--baseline`, never a violation of `--expect`, never a dangling
//! exchange or a lack of route in `--audit`; contradicting answers are
//! reported as a contradiction; `mxlookup report` prefers a settled answer
//! to a failure and reports conflicts; an empty shard is a valid run.

use crate::support::*;
use hickory_server::proto::op::{Message, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA};
use hickory_server::proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn a(q: &Message, ip: [u8; 4]) -> Message {
    let mut m = response(q, ResponseCode::NoError);
    m.add_answer(Record::from_rdata(
        q.queries[0].name().clone(),
        300,
        RData::A(A::new(ip[0], ip[1], ip[2], ip[3])),
    ));
    m
}

fn aaaa(q: &Message, ip: &str) -> Message {
    let mut m = response(q, ResponseCode::NoError);
    m.add_answer(Record::from_rdata(
        q.queries[0].name().clone(),
        300,
        RData::AAAA(AAAA(ip.parse().unwrap())),
    ));
    m
}

/// A resolver whose answers the test scripts by name and type; `broken`
/// makes `flaky.unknown.example`'s MX lookup and `mx6.unknown.example`'s
/// AAAA lookup fail.
fn server(broken: Arc<AtomicBool>) -> ScriptServer {
    ScriptServer::start(move |_, q| {
        let qname = q.queries[0].name().to_ascii().to_lowercase();
        let qtype = q.queries[0].query_type();
        let down = broken.load(Ordering::Relaxed);
        let fail = || Reply::Message(response(q, ResponseCode::ServFail));
        match (qname.as_str(), qtype) {
            ("flaky.unknown.example.", RecordType::MX) if down => fail(),
            (
                "flaky.unknown.example." | "ruled.unknown.example." | "v6.unknown.example.",
                RecordType::MX,
            ) => Reply::Message(mx_response(q, &[(10, name("mx6.unknown.example."))])),
            ("mx6.unknown.example.", RecordType::A) => Reply::Message(a(q, [93, 184, 215, 14])),
            ("mx6.unknown.example.", RecordType::AAAA) if down => fail(),
            ("mx6.unknown.example.", RecordType::AAAA) => {
                Reply::Message(aaaa(q, "2606:2800:21f::1"))
            }
            ("twofaced.unknown.example.", RecordType::MX) => {
                Reply::Message(mx_response(q, &[(10, name("mx2f.unknown.example."))]))
            }
            ("mx2f.unknown.example.", RecordType::A) => {
                Reply::Message(response(q, ResponseCode::NXDomain))
            }
            ("mx2f.unknown.example.", RecordType::AAAA) => {
                Reply::Message(aaaa(q, "2606:2800:21f::2"))
            }
            _ => Reply::Message(response(q, ResponseCode::NXDomain)),
        }
    })
}

fn results(out: &std::process::Output) -> HashMap<String, serde_json::Value> {
    by_domain(&ndjson(out))
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

#[test]
fn a_baseline_compared_with_failed_lookups_reports_unchecked_not_removed() {
    let broken = Arc::new(AtomicBool::new(false));
    let s = server(broken.clone());
    let ns = s.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let names = ["flaky.unknown.example", "v6.unknown.example"];
    let mut args = vec!["-n", &ns, "--audit", "--format", "ndjson"];
    args.extend(names);
    let before = run(&args, None);
    assert_eq!(before.status.code(), Some(0), "{}", stderr(&before));
    let base = dir.path().join("base.ndjson");
    std::fs::write(&base, &before.stdout).unwrap();

    // Now the MX lookup of one domain and an AAAA lookup fail.
    broken.store(true, Ordering::Relaxed);
    let base_arg = base.to_str().unwrap().to_string();
    let mut args = vec![
        "-n",
        &ns,
        "--audit",
        "--format",
        "ndjson",
        "--retries",
        "0",
        "--baseline",
        &base_arg,
    ];
    args.extend(names);
    let now = run(&args, None);
    let r = results(&now);
    let flaky = r["flaky.unknown.example"]["changes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(flaky.len(), 1, "{flaky:?}");
    assert_eq!(flaky[0]["kind"], "unchecked");
    assert_eq!(flaky[0]["what"], "mx");
    assert_eq!(flaky[0]["side"], "now");
    assert!(
        flaky[0]["reason"].as_str().unwrap().contains("servfail"),
        "{flaky:?}"
    );
    // The exchange's IPv6 addresses are unknown now, not removed; IPv4 is
    // compared and unchanged.
    let v6 = r["v6.unknown.example"]["changes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(v6.len(), 1, "{v6:?}");
    assert_eq!(v6[0]["kind"], "unchecked");
    assert_eq!(v6[0]["what"], "addresses");
    assert_eq!(v6[0]["exchange"], "mx6.unknown.example");
    assert!(!now.stdout.windows(15).any(|w| w == b"exchange_remove"));
    // A failed lookup: exit 1, and the summary counts it apart from drift.
    assert_eq!(now.status.code(), Some(1));
    let e = stderr(&now);
    assert!(
        e.contains("baseline: 0 domains changed") && e.contains("2 could not be compared"),
        "{e}"
    );
    // An AAAA failure beside IPv4 addresses is a warning naming the family.
    assert_eq!(codes(&r["v6.unknown.example"]), vec!["unresolved_family"]);
    assert!(r["v6.unknown.example"]["mx"][0]["unresolved"] == serde_json::json!(["AAAA"]));

    // The other way round: the baseline's lookup failed, this one works.
    let failed_base = dir.path().join("failed.ndjson");
    std::fs::write(&failed_base, &now.stdout).unwrap();
    broken.store(false, Ordering::Relaxed);
    let failed_arg = failed_base.to_str().unwrap().to_string();
    let mut args = vec![
        "-n",
        &ns,
        "--audit",
        "--format",
        "ndjson",
        "--baseline",
        &failed_arg,
    ];
    args.extend(names);
    let again = run(&args, None);
    let r = results(&again);
    assert_eq!(r["flaky.unknown.example"]["changes"][0]["side"], "baseline");
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing failed now, nothing changed that is known: {}",
        stderr(&again)
    );
}

#[test]
fn an_expectation_on_a_failed_lookup_is_unchecked_not_violated() {
    let broken = Arc::new(AtomicBool::new(true));
    let s = server(broken);
    let out = run(
        &[
            "-n",
            &s.addr.to_string(),
            "--retries",
            "0",
            "--format",
            "ndjson",
            "--expect",
            "*.unknown.example=*.elsewhere.example",
            "flaky.unknown.example",
            "ruled.unknown.example",
        ],
        None,
    );
    let r = results(&out);
    assert_eq!(
        codes(&r["flaky.unknown.example"]),
        vec!["expectation_unchecked"]
    );
    assert_eq!(
        codes(&r["ruled.unknown.example"]),
        vec!["unexpected_exchange"]
    );
    let unchecked = &r["flaky.unknown.example"]["problems"][0]["message"];
    assert!(
        unchecked.as_str().unwrap().contains("not checked"),
        "{unchecked}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn contradicting_answers_are_reported_as_a_contradiction() {
    let s = server(Arc::new(AtomicBool::new(false)));
    let out = run(
        &[
            "-n",
            &s.addr.to_string(),
            "--audit",
            "--format",
            "ndjson",
            "twofaced.unknown.example",
        ],
        None,
    );
    let r = results(&out);
    let d = &r["twofaced.unknown.example"];
    assert_eq!(codes(d), vec!["inconsistent_answers"], "{d}");
    assert!(!out.stdout.windows(14).any(|w| w == b"does not exist\""));
    assert_eq!(
        d["mx"][0]["addresses"],
        serde_json::json!(["2606:2800:21f::2"])
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning: mail still reaches it over IPv6"
    );
}

#[test]
fn report_prefers_a_settled_answer_to_a_failure_and_reports_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path.to_str().unwrap().to_string()
    };
    let ok = r#"{"domain":"a.example","status":"ok","mx":[{"preference":10,"exchange":"mx.example"}],"error":null,"source":"list.txt:1"}"#;
    let timeout = r#"{"domain":"a.example","status":"timeout","mx":[],"error":"no answer within the deadline","source":"list.txt:1"}"#;
    let other = r#"{"domain":"a.example","status":"ok","mx":[{"preference":10,"exchange":"mx.other.example"}],"error":null,"source":"list.txt:1"}"#;
    // A timeout in the shard, an answer in its retry (either order).
    for files in [
        [
            write("shard.ndjson", &[timeout]),
            write("retry.ndjson", &[ok]),
        ],
        [
            write("retry2.ndjson", &[ok]),
            write("shard2.ndjson", &[timeout]),
        ],
    ] {
        let out = run(
            &["report", "--format", "ndjson", &files[0], &files[1]],
            None,
        );
        let r = results(&out);
        assert_eq!(r["a.example"]["status"], "ok", "{}", stderr(&out));
        assert_eq!(out.status.code(), Some(0));
        assert!(
            stderr(&out).contains("got a definite answer in another"),
            "{}",
            stderr(&out)
        );
    }
    // Two definite answers that differ: a conflict, named and counted.
    let (x, y) = (write("x.ndjson", &[ok]), write("y.ndjson", &[other]));
    let out = run(&["report", "--format", "ndjson", &x, &y], None);
    let e = stderr(&out);
    assert!(
        e.contains("conflict") && e.contains("x.ndjson") && e.contains("y.ndjson"),
        "{e}"
    );
    assert!(
        e.contains("1 conflict"),
        "the summary counts conflicts: {e}"
    );
    assert_eq!(
        results(&out)["a.example"]["mx"][0]["exchange"],
        "mx.other.example"
    );
}

#[test]
fn an_empty_shard_writes_valid_empty_output_that_report_accepts() {
    let s = server(Arc::new(AtomicBool::new(false)));
    let ns = s.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("one.txt");
    std::fs::write(&list, "v6.unknown.example\n").unwrap();
    let list = list.to_str().unwrap();
    // Which shard of 8 holds the one domain: the others are empty.
    let full = (0..8)
        .find(|k| {
            let out = run(
                &[
                    "-n",
                    &ns,
                    "--shard",
                    &format!("{k}/8"),
                    "-f",
                    list,
                    "--format",
                    "csv",
                ],
                None,
            );
            out.stdout.lines().count() > 1
        })
        .unwrap();
    let empty = (full + 1) % 8;
    for (format, want) in [
        ("ndjson", ""),
        ("json", "[]\n"),
        ("csv", "domain,status,preference,exchange,error,source\n"),
    ] {
        let out = run(
            &[
                "-n",
                &ns,
                "--shard",
                &format!("{empty}/8"),
                "-f",
                list,
                "--format",
                format,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{format}");
    }
    let part = dir.path().join("empty.ndjson");
    std::fs::write(&part, "").unwrap();
    let out = run(
        &["report", part.to_str().unwrap(), "--format", "ndjson"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The README's recipe with 8 shards, most of them empty.
    let parallel = program(&["parallel"], "parallel");
    let bin = env!("CARGO_BIN_EXE_mxlookup");
    let script = format!(
        "{parallel} -j4 '{bin} -q -n {ns} --shard {{}}/8 -f {list} --format ndjson > part-{{}}.ndjson' ::: 0 1 2 3 4 5 6 7; \
         {bin} report part-*.ndjson --format ndjson > all.ndjson"
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = std::fs::read_to_string(dir.path().join("all.ndjson")).unwrap();
    assert_eq!(merged.lines().count(), 1, "{merged}");
}

trait Lines {
    fn lines(&self) -> std::str::Lines<'_>;
}

impl Lines for Vec<u8> {
    fn lines(&self) -> std::str::Lines<'_> {
        std::str::from_utf8(self).unwrap().lines()
    }
}
