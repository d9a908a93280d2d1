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

/// Run `cmd` to the end, its output to a file: (exit code, CPU time it
/// used, user and system, wall time).
#[allow(unsafe_code)]
fn cpu_used(cmd: &mut std::process::Command, out: &std::path::Path) -> (i32, f64, f64) {
    let start = std::time::Instant::now();
    let child = cmd
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mxlookup");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the child is ours and not yet waited for (std's Child is
    // never waited: it is forgotten below); status and usage are valid.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    assert!(waited > 0, "wait4 failed");
    let wall = start.elapsed().as_secs_f64();
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    (libc::WEXITSTATUS(status), cpu, wall)
}

/// While it waits on a server 20 ms away, the engine sleeps: it uses a
/// small part of the wall time in CPU. An engine that polled its sockets
/// instead of sleeping (as massdns does) would use all of it: with a
/// poller that ran for such servers, this run used 0.85 s of CPU in
/// 1.08 s (docs/DESIGN.md, "Waking up").
#[test]
fn waiting_on_a_slow_server_leaves_the_cpu_idle() {
    let server = fast_server();
    let path = Proxy::start(
        server.addr,
        proxy::Netem {
            delay: std::time::Duration::from_millis(10),
            // Spread, so that answers come all the time, not in bursts.
            jitter: std::time::Duration::from_millis(5),
            loss: 0.0,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("slow.txt");
    let names: String = (0..3000)
        .map(|i| format!("host{i}.slow.example\n"))
        .collect();
    std::fs::write(&list, names).unwrap();
    let out = dir.path().join("out.ndjson");
    let addr = path.addr.to_string();
    let mut cmd = mxlookup();
    cmd.args(["-n", &addr, "--format", "ndjson", "-c", "64"])
        .arg("-f")
        .arg(&list);
    let (code, cpu, wall) = cpu_used(&mut cmd, &out);
    assert_eq!(code, 0);
    let results = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        results
            .lines()
            .filter(|l| l.contains(r#""status":"ok""#))
            .count(),
        3000
    );
    assert!(
        cpu < 0.3 * wall,
        "{cpu:.2} s of CPU in {wall:.2} s waiting on a 20 ms server: the engine polled"
    );
}
