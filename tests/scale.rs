//! Scale, limits and interruption: 200,000 domains without loss, a
//! concurrency above the open-file limit, and Ctrl-C.

mod support;

use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::Duration;
use support::*;

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

#[test]
fn ctrl_c_stops_new_lookups_writes_what_settled_and_exits_130() {
    let server = ScriptServer::start(|_, q| {
        Reply::Delay(
            Duration::from_millis(100),
            Box::new(Reply::Message(mx_response(
                q,
                &[(10, name("mx.slow.example."))],
            ))),
        )
    });
    for format in ["json", "csv"] {
        let names: Vec<String> = (0..1000).map(|i| format!("s{i}.example")).collect();
        let child = mxlookup()
            .args([
                "-n",
                &server.addr.to_string(),
                "--format",
                format,
                "-c",
                "10",
            ])
            .args(&names)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let killed = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{format}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("interrupted"), "{err}");
        assert!(
            err.contains(" domains: ") && err.contains(" ok"),
            "the summary: {err}"
        );
        let settled: Vec<String> = match format {
            "json" => {
                let v: serde_json::Value =
                    serde_json::from_slice(&out.stdout).expect("valid JSON after Ctrl-C");
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        assert_eq!(
                            r["status"], "ok",
                            "in-flight lookups settle, they are not cut off"
                        );
                        r["domain"].as_str().unwrap().to_string()
                    })
                    .collect()
            }
            _ => {
                let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
                rdr.records()
                    .map(|r| r.expect("valid CSV after Ctrl-C")[0].to_string())
                    .collect()
            }
        };
        let unique: HashSet<_> = settled.iter().collect();
        assert_eq!(unique.len(), settled.len());
        assert!(
            settled.len() >= 10 && settled.len() < 1000,
            "{format}: {} settled",
            settled.len()
        );
    }
}
