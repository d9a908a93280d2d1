//! A hostile network: a loopback server that injects one fault per name,
//! over UDP and TCP. Every domain must settle exactly once, with the right
//! status, within its deadline; good names must be unaffected; nothing may
//! panic; the process must end.

use crate::support::*;
use hickory_server::proto::op::ResponseCode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GOOD: usize = 20;

fn good_mx() -> Vec<(u16, hickory_server::proto::rr::Name)> {
    vec![
        (10, name("mx1.good.example.")),
        (20, name("mx2.good.example.")),
    ]
}

/// The fault server: the first label of each name picks the fault.
fn hostile(tcp: Tcp) -> ScriptServer {
    let tries: Mutex<HashMap<String, usize>> = Mutex::default();
    ScriptServer::start_with(tcp, move |transport, q| {
        let good = || Reply::Message(mx_response(q, &good_mx()));
        let evil = || mx_response(q, &[(1, name("evil.example."))]);
        let label = first_label(q);
        match label.as_str() {
            "drop" => Reply::Drop,
            "late" => Reply::Delay(Duration::from_millis(300), Box::new(good())),
            "toolate" => Reply::Delay(Duration::from_secs(10), Box::new(good())),
            "twice" => Reply::Many(vec![good(), good()]),
            "wrongid" => {
                let mut m = evil();
                m.metadata.id = q.metadata.id.wrapping_add(1);
                Reply::Many(vec![
                    Reply::Message(m),
                    Reply::Delay(Duration::from_millis(50), Box::new(good())),
                ])
            }
            "wrongq" => {
                let mut m = evil();
                m.queries[0].set_name(name("elsewhere.example."));
                m.answers[0].name = name("elsewhere.example.");
                Reply::Many(vec![
                    Reply::Message(m),
                    Reply::Delay(Duration::from_millis(50), Box::new(good())),
                ])
            }
            "spoofed" => Reply::Many(vec![
                // The right ID and question, but from a port not asked.
                Reply::Elsewhere(Box::new(Reply::Message(evil()))),
                Reply::Delay(Duration::from_millis(50), Box::new(good())),
            ]),
            "garbage" => Reply::Many(vec![
                Reply::Raw(b"\x13\x37 this is not DNS \xff\xfe".to_vec()),
                Reply::Delay(Duration::from_millis(50), Box::new(good())),
            ]),
            "garbageonly" => {
                // A header that claims to answer, with the right ID, and then junk.
                let id = q.metadata.id.to_be_bytes();
                Reply::Raw(vec![
                    id[0], id[1], 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 0xc0, 0xff, 0xff,
                ])
            }
            "trunc" if transport == Transport::Udp => {
                let mut m = response(q, ResponseCode::NoError);
                m.metadata.truncation = true;
                Reply::Message(m)
            }
            "cut" if transport == Transport::Tcp => Reply::Cut(mx_response(q, &good_mx())),
            "flaky" => {
                let mut t = tries.lock().unwrap();
                let n = t
                    .entry(q.queries[0].name().to_ascii().to_lowercase())
                    .or_default();
                *n += 1;
                if *n == 1 {
                    Reply::Message(response(q, ResponseCode::ServFail))
                } else {
                    good()
                }
            }
            _ => good(),
        }
    })
}

struct Run {
    results: HashMap<String, serde_json::Value>,
    took: Duration,
    code: Option<i32>,
    stderr: String,
}

fn run_against(server: &ScriptServer, extra: &[&str], names: &[String]) -> Run {
    run_against_all(&[server], extra, names)
}

/// As `run_against`, asking each server in turn (`-n` for each).
fn run_against_all(servers: &[&ScriptServer], extra: &[&str], names: &[String]) -> Run {
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
    let mut flags: Vec<&str> = addrs.iter().flat_map(|a| ["-n", a.as_str()]).collect();
    flags.extend(["--format", "ndjson", "--timeout", "2s", "--retries", "2"]);
    flags.extend_from_slice(extra);
    let start = Instant::now();
    let out = run_names(&flags, names);
    let took = start.elapsed();
    let lines = ndjson(&out);
    assert_eq!(
        lines.len(),
        names.len(),
        "one result per domain:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The fault matrix, for `cargo test --test faults -- --nocapture`.
    for l in &lines {
        if !l["domain"].as_str().unwrap().starts_with("good") {
            println!(
                "fault matrix [{}]: {} -> {} ({})",
                extra.join(" "),
                l["domain"],
                l["status"],
                l["error"]
            );
        }
    }
    Run {
        results: by_domain(&lines),
        took,
        code: out.status.code(),
        stderr: stderr(&out),
    }
}

fn names(faults: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = faults
        .iter()
        .map(|f| format!("{f}.hostile.example"))
        .collect();
    v.extend((0..GOOD).map(|i| format!("good{i}.hostile.example")));
    v
}

fn assert_good(r: &Run, domain: &str) {
    assert_eq!(
        status(&r.results, domain),
        "ok",
        "{domain}: {}",
        r.results[domain]
    );
    assert_eq!(
        mx_of(&r.results, domain),
        vec![
            (10, "mx1.good.example".to_string()),
            (20, "mx2.good.example".to_string())
        ],
        "{domain}"
    );
}

#[test]
fn udp_faults_each_settle_once_with_the_right_status() {
    let server = hostile(Tcp::Serve);
    let faults = [
        "drop",
        "late",
        "toolate",
        "twice",
        "wrongid",
        "wrongq",
        "spoofed",
        "garbage",
        "garbageonly",
        "trunc",
        "flaky",
    ];
    let all = names(&faults);
    let r = run_against(&server, &[], &all);

    let d = |f: &str| format!("{f}.hostile.example");
    assert_eq!(status(&r.results, &d("drop")), "timeout");
    assert_eq!(status(&r.results, &d("toolate")), "timeout");
    for f in [
        "late", "twice", "wrongid", "wrongq", "spoofed", "garbage", "trunc", "flaky",
    ] {
        assert_good(&r, &d(f));
    }
    // A response from the server with the query's ID that cannot be read
    // is an error at once, not a wait for the deadline.
    assert_eq!(status(&r.results, &d("garbageonly")), "error");
    let garbage = &r.results[&d("garbageonly")];
    assert!(
        garbage["error"].as_str().unwrap().contains("malformed"),
        "{garbage}"
    );
    assert!(garbage["time_ms"].as_f64().unwrap() < 1000.0, "{garbage}");
    for i in 0..GOOD {
        assert_good(&r, &format!("good{i}.hostile.example"));
    }
    assert!(
        server
            .stats
            .tcp_queries
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1,
        "trunc went to TCP"
    );
    assert!(
        server.stats.queries_for("flaky.hostile.example.") >= 2,
        "flaky was retried"
    );
    // Every domain's deadline is 2 s; the run must end soon after.
    assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
    assert_eq!(r.code, Some(1));
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn truncation_with_tcp_refused_is_an_error_and_with_tcp_hanging_a_timeout() {
    for (tcp, expected) in [(Tcp::Refuse, "error"), (Tcp::Blackhole, "timeout")] {
        let server = hostile(tcp);
        let all = names(&["trunc"]);
        let r = run_against(&server, &[], &all);
        assert_eq!(
            status(&r.results, "trunc.hostile.example"),
            expected,
            "{tcp:?}"
        );
        assert!(
            r.results["trunc.hostile.example"]["error"]
                .as_str()
                .is_some()
        );
        for i in 0..GOOD {
            assert_good(&r, &format!("good{i}.hostile.example"));
        }
        assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
        assert_eq!(r.code, Some(1));
    }
}

#[test]
fn tcp_faults_each_settle_once_with_the_right_status() {
    let server = hostile(Tcp::Serve);
    let faults = ["drop", "late", "toolate", "garbageonly", "flaky"];
    let all = names(&faults);
    let r = run_against(&server, &["--tcp"], &all);
    let d = |f: &str| format!("{f}.hostile.example");
    assert_eq!(status(&r.results, &d("drop")), "timeout");
    assert_eq!(status(&r.results, &d("toolate")), "timeout");
    assert_good(&r, &d("late"));
    assert_good(&r, &d("flaky"));
    // Bytes that are not a DNS message are not an answer: keep waiting.
    assert_eq!(status(&r.results, &d("garbageonly")), "timeout");
    for i in 0..GOOD {
        assert_good(&r, &format!("good{i}.hostile.example"));
    }
    assert_eq!(
        server
            .stats
            .udp_queries
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "--tcp sent UDP"
    );
    assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
    assert_eq!(r.code, Some(1));
}

/// A connection closed mid-answer takes down every query in flight on it
/// (hickory multiplexes one TCP connection); those are asked again on a new
/// connection, so only the name that breaks the connection fails.
#[test]
fn a_tcp_connection_closed_mid_answer_fails_only_its_own_name() {
    let server = hostile(Tcp::Serve);
    let all = names(&["cut"]);
    let r = run_against(&server, &["--tcp"], &all);
    assert_eq!(status(&r.results, "cut.hostile.example"), "error");
    for i in 0..GOOD {
        assert_good(&r, &format!("good{i}.hostile.example"));
    }
    assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
    assert_eq!(r.code, Some(1));
}

/// A lost UDP packet is sent again after a few round trips (at least
/// 150 ms), not after a third of the deadline.
#[test]
fn a_lost_query_is_sent_again_quickly() {
    let seen: Mutex<HashMap<String, usize>> = Mutex::default();
    let server = ScriptServer::start(move |_, q| {
        let mut s = seen.lock().unwrap();
        let n = s
            .entry(q.queries[0].name().to_ascii().to_lowercase())
            .or_default();
        *n += 1;
        if first_label(q) == "lossy" && *n == 1 {
            Reply::Drop
        } else {
            Reply::Message(mx_response(q, &good_mx()))
        }
    });
    // Warm-up answers teach the engine the round-trip time.
    let mut names: Vec<String> = (0..50).map(|i| format!("warm{i}.example")).collect();
    names.push("lossy.example".into());
    let addr = server.addr.to_string();
    let out = run_names(
        &[
            "-n",
            &addr,
            "--format",
            "ndjson",
            "--timeout",
            "6s",
            "-c",
            "1",
        ],
        &names,
    );
    let results = by_domain(&ndjson(&out));
    assert_good(
        &Run {
            results,
            took: Duration::ZERO,
            code: None,
            stderr: String::new(),
        },
        "lossy.example",
    );
    let arrivals = server.stats.arrivals.lock().unwrap();
    let lossy: Vec<Instant> = arrivals
        .iter()
        .filter(|(n, _)| n == "lossy.example.")
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(lossy.len(), 2);
    let gap = lossy[1] - lossy[0];
    assert!(
        gap >= Duration::from_millis(90) && gap < Duration::from_secs(1),
        "resent after {gap:?}"
    );
}

/// With two nameservers (so the socket is not connected to either), a
/// silent one costs a retransmission, not the answer, and a datagram from
/// an address not asked is still no answer.
#[test]
fn a_silent_nameserver_is_passed_over_for_the_next() {
    let silent = ScriptServer::start_with(Tcp::Refuse, |_, _| Reply::Drop);
    let server = hostile(Tcp::Serve);
    let all = names(&["spoofed", "late"]);
    let r = run_against_all(&[&silent, &server], &[], &all);
    for d in &all {
        assert_good(&r, d);
    }
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        silent
            .stats
            .udp_queries
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    assert!(r.took < Duration::from_secs(3), "took {:?}", r.took);
}

/// A silent IPv4 server next to a healthy IPv6 one, in either order (the
/// usual resolv.conf with one server down): every domain is answered, by
/// the healthy server, well before the deadline.
#[test]
fn a_silent_server_of_one_family_beside_a_healthy_one_of_the_other() {
    let silent = ScriptServer::start_with(Tcp::Refuse, |_, _| Reply::Drop);
    let healthy = ScriptServer::start_at(
        std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        Tcp::Serve,
        |_, q| Reply::Message(mx_response(q, &good_mx())),
    );
    assert!(healthy.addr.is_ipv6());
    let names: Vec<String> = (0..100).map(|i| format!("good{i}.mixed.example")).collect();
    for order in [[&silent, &healthy], [&healthy, &silent]] {
        let r = run_against_all(&order, &[], &names);
        for d in &names {
            assert_good(&r, d);
        }
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(r.took < Duration::from_secs(2), "took {:?}", r.took);
        // Only questions sent before the silence was noticed wait out a
        // retransmission; after three losses the silent server is passed
        // over.
        let slow = r
            .results
            .values()
            .filter(|v| v["time_ms"].as_f64().unwrap() > 100.0)
            .count();
        assert!(slow < 40, "{slow} of 100 waited for a retransmission");
    }
}

/// REFUSED from one server sends the question to the next one.
#[test]
fn refused_from_one_server_fails_over_to_the_next() {
    let refusing = ScriptServer::start(|_, q| Reply::Message(response(q, ResponseCode::Refused)));
    let healthy = hostile(Tcp::Serve);
    let names: Vec<String> = (0..60)
        .map(|i| format!("good{i}.hostile.example"))
        .collect();
    for order in [[&refusing, &healthy], [&healthy, &refusing]] {
        // Even with --retries 0: every server is asked once.
        let (a, b) = (order[0].addr.to_string(), order[1].addr.to_string());
        let mut flags = vec![
            "-n",
            a.as_str(),
            "-n",
            b.as_str(),
            "--retries",
            "0",
            "--format",
            "ndjson",
        ];
        flags.extend(names.iter().map(String::as_str));
        let out = run(&flags, None);
        let results = by_domain(&ndjson(&out));
        assert_eq!(results.len(), names.len());
        for d in &names {
            assert_eq!(status(&results, d), "ok", "{}", results[d]);
        }
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // With only the refusing server, the status is the last answer's.
    let r = run_against(&refusing, &[], &names[..3]);
    assert_eq!(status(&r.results, &names[0]), "refused");
}

/// Nothing listening at the nameserver's port: an error at once, saying
/// so, for every domain, not a wait for the deadline; and with a second,
/// healthy server, every domain is answered.
#[test]
fn a_port_with_nothing_listening_fails_fast_or_fails_over() {
    let closed = closed_port().to_string();
    let names: Vec<String> = (0..200)
        .map(|i| format!("good{i}.hostile.example"))
        .collect();
    let start = Instant::now();
    let mut flags = vec![
        "-n",
        closed.as_str(),
        "--format",
        "ndjson",
        "--timeout",
        "5s",
    ];
    flags.extend(names.iter().map(String::as_str));
    let out = run(&flags, None);
    let took = start.elapsed();
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), 200);
    for d in &names {
        assert_eq!(status(&results, d), "error", "{}", results[d]);
        let msg = results[d]["error"].as_str().unwrap();
        assert!(msg.contains("refused") && msg.contains(&closed), "{msg}");
    }
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(out.status.code(), Some(1));

    let healthy = hostile(Tcp::Serve);
    let good = healthy.addr.to_string();
    let mut flags = vec![
        "-n",
        closed.as_str(),
        "-n",
        good.as_str(),
        "--format",
        "ndjson",
    ];
    flags.extend(names.iter().map(String::as_str));
    let out = run(&flags, None);
    let results = by_domain(&ndjson(&out));
    for d in &names {
        assert_eq!(status(&results, d), "ok", "{}", results[d]);
    }
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn port_zero_and_the_unspecified_address_are_refused_up_front() {
    for bad in ["127.0.0.1:0", "0.0.0.0", "[::]:53"] {
        let out = run(&["-n", bad, "a.example"], None);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains(bad), "{}", stderr(&out));
    }
}

/// Lost datagrams are sent again until the deadline: through a path that
/// drops 10% each way, every domain is answered, even with --retries 0
/// (which counts SERVFAIL/REFUSED answers, not lost packets).
///
/// A round trip is lost 19% of the time. Resends back off (150 ms doubling
/// to 1 s, plus up to half again), so a 5 s deadline holds about six sends:
/// all six are lost for 1 domain in 21,000, which made one run in eleven of
/// 2,000 domains fail. A 10 s deadline holds about ten sends: 1 in 16
/// million (one run in 8,000), so a failure here means resends stopped
/// early.
#[test]
fn lost_datagrams_are_sent_again_until_the_deadline() {
    let server = ScriptServer::start(|_, q| Reply::Message(mx_response(q, &good_mx())));
    let path = Proxy::start(server.addr, proxy::Netem::lossy(0.10));
    let names: Vec<String> = (0..2000)
        .map(|i| format!("good{i}.lossy.example"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("lossy.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let addr = path.addr.to_string();
    let out = run(
        &[
            "-n",
            &addr,
            "--format",
            "ndjson",
            "--retries",
            "0",
            "--timeout",
            "10s",
            "-c",
            "64",
            "-f",
            list.to_str().unwrap(),
        ],
        None,
    );
    let results = by_domain(&ndjson(&out));
    assert_eq!(results.len(), 2000);
    let bad: Vec<_> = results.values().filter(|r| r["status"] != "ok").collect();
    assert!(bad.is_empty(), "{} not ok, e.g. {}", bad.len(), bad[0]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        path.stats
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            > 200
    );
    assert!(
        stderr(&out).contains("resent"),
        "the summary says what was resent: {}",
        stderr(&out)
    );
}

/// Queries go out from several ports, renewed as the run goes on, with
/// their letters in random case (0x20); and a server that does not keep
/// case still gets every question answered.
#[test]
fn queries_spread_over_random_ports_and_random_case() {
    let seen: Arc<Mutex<(HashSet<u16>, usize, usize)>> = Arc::default();
    let record = seen.clone();
    let server = ScriptServer::start_observing(
        move |peer, q| {
            let name = q.queries[0].name().to_ascii();
            let mut s = record.lock().unwrap();
            s.0.insert(peer.port());
            s.1 += 1;
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                s.2 += 1;
            }
        },
        |_, q| Reply::Message(mx_response(q, &good_mx())),
    );
    let names: Vec<String> = (0..10_000).map(|i| format!("spread{i}.example")).collect();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("spread.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let out = run(
        &[
            "-n",
            &server.addr.to_string(),
            "--format",
            "ndjson",
            "-c",
            "64",
            "-f",
            list.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        ndjson(&out).iter().filter(|r| r["status"] == "ok").count(),
        10_000
    );
    let s = seen.lock().unwrap();
    // A socket renewed after 512 queries: 10,000 queries use at least
    // 10,000 / 512 ports.
    assert!(s.0.len() >= 19, "only {} source ports", s.0.len());
    assert!(
        s.2 > s.1 * 9 / 10,
        "{} of {} questions had upper-case letters",
        s.2,
        s.1
    );

    // A server that answers every question in lower case.
    let lower = ScriptServer::start(|_, q| {
        let mut r = mx_response(q, &good_mx());
        let lowered = name(&q.queries[0].name().to_ascii().to_lowercase());
        r.queries[0].set_name(lowered.clone());
        for a in &mut r.answers {
            a.name = lowered.clone();
        }
        Reply::Message(r)
    });
    let start = Instant::now();
    let out = run(
        &[
            "-n",
            &lower.addr.to_string(),
            "--format",
            "ndjson",
            "-c",
            "8",
            "-f",
            list.to_str().unwrap(),
        ],
        None,
    );
    let ok = ndjson(&out).iter().filter(|r| r["status"] == "ok").count();
    assert_eq!(ok, 10_000, "{}", stderr(&out));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
