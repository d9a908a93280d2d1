//! Scale and limits: 200,000 domains without loss, a
//! concurrency above the open-file limit (signals: tests/lifecycle.rs).

use crate::support::*;
use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

fn fast_server() -> ScriptServer {
    ScriptServer::start(|_, q| Reply::Message(mx_response(q, &[(10, name("mx.bulk.example."))])))
}

#[test]
fn two_hundred_thousand_domains_give_exactly_two_hundred_thousand_results() {
    const N: usize = 200_000;
    let server = fast_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let list: String = (0..N)
        .map(|i| format!("host{i}.bulk{}.example\n", i % 97))
        .collect();
    std::fs::write(&path, list).unwrap();
    let out = mxlookup()
        .args([
            "-n",
            &server.addr.to_string(),
            "--format",
            "ndjson",
            "-c",
            "256",
            "-f",
            path.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = HashSet::with_capacity(N);
    let mut ok = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            seen.insert(v["domain"].as_str().unwrap().to_string()),
            "duplicate {line}"
        );
        if v["status"] == "ok" {
            ok += 1;
        }
    }
    assert_eq!(seen.len(), N);
    assert_eq!(ok, N, "every domain answered");
    for i in (0..N).step_by(9973) {
        assert!(seen.contains(&format!("host{i}.bulk{}.example", i % 97)));
    }
}

#[allow(unsafe_code)]
fn with_file_limit(cmd: &mut std::process::Command, soft: u64, hard: u64) {
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard));
    }
}

#[test]
fn a_concurrency_above_the_soft_file_limit_raises_the_limit_and_works() {
    let server = fast_server();
    let names: Vec<String> = (0..2000).map(|i| format!("n{i}.example")).collect();
    let mut cmd = mxlookup();
    cmd.args([
        "-n",
        &server.addr.to_string(),
        "--format",
        "ndjson",
        "-c",
        "1000",
        "--tcp",
    ])
    .args(&names);
    with_file_limit(&mut cmd, 64, 4096);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), 2000);
    assert!(results.values().all(|r| r["status"] == "ok"));
}

#[test]
fn a_concurrency_the_hard_file_limit_cannot_carry_fails_at_once_with_a_clear_message() {
    let server = fast_server();
    let mut cmd = mxlookup();
    cmd.args(["-n", &server.addr.to_string(), "-c", "1000", "a.example"]);
    with_file_limit(&mut cmd, 128, 128);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--concurrency 1000") && err.contains("128") && err.contains("ulimit -n"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        server
            .stats
            .udp_queries
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no lookup was started"
    );
}
