//! The binary against DNS servers on loopback that each test starts: every
//! status, the limiter, --rate, TCP fallback, input handling, every format,
//! exit codes and escaping.

use crate::support::*;
use hickory_server::proto::op::ResponseCode;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const ZONE: &str = "
$TTL 300
@         IN SOA ns.test. admin.test. 1 3600 600 86400 60
@         IN NS  ns.test.
ns        IN A   127.0.0.1
multi     IN MX  20 mx2.multi.test.
multi     IN MX  10 mx1.multi.test.
multi     IN MX  30 backup.other.example.
multi     IN MX  10 mx0.multi.test.
null      IN MX  0 .
nodata    IN A   192.0.2.1
alias     IN CNAME multi.test.
xn--bcher-kva IN MX 5 mail.xn--bcher-kva.test.
";

fn zone() -> ZoneServer {
    ZoneServer::start("test.", ZONE)
}

/// A server for the failures: each name's first label says what happens.
fn faults() -> ScriptServer {
    ScriptServer::start(|transport, q| match first_label(q).as_str() {
        "servfail" => Reply::Message(response(q, ResponseCode::ServFail)),
        "refused" => Reply::Message(response(q, ResponseCode::Refused)),
        "silent" => Reply::Drop,
        "evil" => Reply::Message(mx_response(
            q,
            &[(
                10,
                hickory_server::proto::rr::Name::from_labels(vec![
                    b"mx\x1b[31m\x07".to_vec(),
                    b"line\nbreak\r".to_vec(),
                    b"example".to_vec(),
                ])
                .unwrap(),
            )],
        )),
        "big" if transport == Transport::Udp => {
            let mut m = response(q, ResponseCode::NoError);
            m.metadata.truncation = true;
            Reply::Message(m)
        }
        "big" => {
            let records: Vec<_> = (0..40u16)
                .map(|i| {
                    (
                        i,
                        name(&format!(
                            "mx{i:02}.a-rather-long-exchange-name-to-fill-the-packet.example."
                        )),
                    )
                })
                .collect();
            Reply::Message(mx_response(q, &records))
        }
        label if label.starts_with("slow") => Reply::Delay(
            Duration::from_millis(150),
            Box::new(Reply::Message(mx_response(
                q,
                &[(10, name("mx.slow.example."))],
            ))),
        ),
        _ => Reply::Message(mx_response(q, &[(10, name("mx.example."))])),
    })
}

fn ns(addr: std::net::SocketAddr) -> String {
    addr.to_string()
}

#[test]
fn every_answer_status_from_a_real_zone_with_either_engine() {
    let z = zone();
    for engine in ["wire", "hickory"] {
        let out = run(
            &[
                "--engine",
                engine,
                "-n",
                &ns(z.addr),
                "--format",
                "ndjson",
                "multi.test",
                "null.test",
                "nodata.test",
                "missing.test",
                "alias.test",
            ],
            None,
        );
        let results = by_domain(&ndjson(&out));
        assert_eq!(results.len(), 5);
        assert_eq!(status(&results, "multi.test"), "ok");
        assert_eq!(
            mx_of(&results, "multi.test"),
            vec![
                (10, "mx0.multi.test".to_string()),
                (10, "mx1.multi.test".to_string()),
                (20, "mx2.multi.test".to_string()),
                (30, "backup.other.example".to_string()),
            ],
            "sorted by preference, then exchange"
        );
        assert_eq!(status(&results, "null.test"), "null_mx");
        assert_eq!(mx_of(&results, "null.test"), vec![]);
        assert_eq!(status(&results, "nodata.test"), "no_mx");
        assert_eq!(status(&results, "missing.test"), "nxdomain");
        assert_eq!(status(&results, "alias.test"), "ok", "a CNAME is followed");
        assert_eq!(mx_of(&results, "alias.test").len(), 4);
        for r in results.values() {
            assert!(r["error"].is_null(), "{r}");
        }
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

#[test]
fn servfail_refused_and_timeout_are_failures_not_missing_records() {
    let f = faults();
    let start = Instant::now();
    let out = run(
        &[
            "-n",
            &ns(f.addr),
            "--format",
            "ndjson",
            "--timeout",
            "1s",
            "--retries",
            "1",
            "servfail.fault",
            "refused.fault",
            "silent.fault",
            "fine.fault",
        ],
        None,
    );
    let took = start.elapsed();
    let results = by_domain(&ndjson(&out));
    assert_eq!(status(&results, "servfail.fault"), "servfail");
    assert_eq!(status(&results, "refused.fault"), "refused");
    assert_eq!(status(&results, "silent.fault"), "timeout");
    assert_eq!(status(&results, "fine.fault"), "ok");
    for d in ["servfail.fault", "refused.fault", "silent.fault"] {
        assert!(
            results[d]["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{d} has a message"
        );
    }
    assert_eq!(out.status.code(), Some(1));
    // The run ends within the deadline (plus start-up slack), however long
    // the silent server stays silent.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    // SERVFAIL was retried once: two queries for it.
    assert_eq!(f.stats.queries_for("servfail.fault."), 2);
}

#[test]
fn invalid_lines_are_reported_with_their_line_and_good_lines_still_resolve() {
    let z = zone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("domains.txt");
    let long_label = format!("{}.test", "a".repeat(64));
    std::fs::write(
        &path,
        format!("multi.test\nexa mple.test\na..b.test\n{long_label}\nhttp://null.test/\nnull.test\nuser@\n"),
    )
    .unwrap();
    let out = run(
        &[
            "-n",
            &ns(z.addr),
            "--format",
            "json",
            "-f",
            path.to_str().unwrap(),
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    let got: Vec<(&str, &str)> = arr
        .iter()
        .map(|r| (r["domain"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("multi.test", "ok"),
            ("exa mple.test", "invalid"),
            ("a..b.test", "invalid"),
            (long_label.as_str(), "invalid"),
            ("http://null.test/", "invalid"),
            ("null.test", "null_mx"),
            ("user@", "invalid"),
        ]
    );
    let err = stderr(&out);
    let p = path.display();
    assert!(
        err.contains(&format!("{p}:2: \"exa mple.test\": contains a space")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:3: \"a..b.test\": empty label")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:4:")) && err.contains("longer than 63"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:5:")) && err.contains("':'"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:7:")) && err.contains("nothing after the @"),
        "{err}"
    );
    assert_eq!(arr[1]["source"], format!("{p}:2"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_limiter_caps_lookups_in_flight_and_reaches_the_cap() {
    let f = faults();
    let names: Vec<String> = (0..24).map(|i| format!("slow{i}.fault")).collect();
    let out = run_names(
        &["-n", &ns(f.addr), "-c", "4", "--format", "ndjson"],
        &names,
    );
    assert_eq!(ndjson(&out).len(), 24);
    assert_eq!(
        f.stats
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        4
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn rate_spaces_lookups_out() {
    let f = faults();
    let names: Vec<String> = (0..11).map(|i| format!("r{i}.fault")).collect();
    let out = run_names(&["-n", &ns(f.addr), "--rate", "20", "-c", "50"], &names);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let arrivals = f.stats.arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 11);
    // Ten intervals of 50 ms: the queries cannot arrive over less than that.
    let span = arrivals.last().unwrap().1 - arrivals.first().unwrap().1;
    assert!(
        span >= Duration::from_millis(450),
        "11 queries at 20/s arrived within {span:?}"
    );
    let min_gap = arrivals.windows(2).map(|w| w[1].1 - w[0].1).min().unwrap();
    assert!(
        min_gap >= Duration::from_millis(20),
        "a burst: two queries {min_gap:?} apart"
    );
}

#[test]
fn a_truncated_udp_answer_is_retried_over_tcp_and_every_record_reported() {
    let f = faults();
    let out = run(
        &["-n", &ns(f.addr), "--format", "ndjson", "big.fault"],
        None,
    );
    let results = by_domain(&ndjson(&out));
    assert_eq!(status(&results, "big.fault"), "ok");
    assert_eq!(mx_of(&results, "big.fault").len(), 40);
    assert!(
        f.stats
            .tcp_queries
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn idn_email_duplicates_comments_stdin_and_several_files() {
    let z = zone();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(
        &a,
        "# first file\nBücher.test\n\nops@multi.test   # the ops list\n",
    )
    .unwrap();
    std::fs::write(&b, "MULTI.test.\r\nnull.test\r\n").unwrap();
    let server = ns(z.addr);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let run_lists = |extra: &[&str]| {
        let mut flags = vec!["-n", &server, "--format", "ndjson"];
        flags.extend_from_slice(extra);
        flags.extend(["-f", a, "-f", b, "-f", "-"]);
        run(&flags, Some("nodata.test\nbücher.TEST\n"))
    };
    let out = run_lists(&[]);
    let results = ndjson(&out);
    let domains: Vec<&str> = results
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    let mut sorted = domains.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "multi.test",
            "nodata.test",
            "null.test",
            "xn--bcher-kva.test"
        ]
    );
    let results = by_domain(&results);
    assert_eq!(status(&results, "xn--bcher-kva.test"), "ok");
    assert_eq!(
        mx_of(&results, "xn--bcher-kva.test"),
        vec![(5, "mail.xn--bcher-kva.test".to_string())]
    );
    assert_eq!(results["xn--bcher-kva.test"]["input"], "Bücher.test");
    assert_eq!(
        results["multi.test"]["input"],
        "ops@multi.test   # the ops list"
    );
    assert_eq!(status(&results, "nodata.test"), "no_mx");
    assert!(
        results["nodata.test"]["source"]
            .as_str()
            .unwrap()
            .starts_with("stdin:")
    );
    assert_eq!(out.status.code(), Some(0));

    // With --keep-duplicates every line is looked up and reported.
    let out = run_lists(&["--keep-duplicates"]);
    let mut domains: Vec<String> = ndjson(&out)
        .iter()
        .map(|r| format!("{} {}", r["domain"].as_str().unwrap(), r["status"]))
        .collect();
    domains.sort();
    assert_eq!(
        domains,
        [
            "multi.test \"ok\"",
            "multi.test \"ok\"",
            "nodata.test \"no_mx\"",
            "null.test \"null_mx\"",
            "xn--bcher-kva.test \"ok\"",
            "xn--bcher-kva.test \"ok\""
        ]
    );
}

#[test]
fn stdin_is_read_when_no_domains_are_given() {
    let z = zone();
    let out = run(
        &["-n", &ns(z.addr), "--format", "plain"],
        Some("multi.test\nnull.test\n"),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "multi.test  mx0.multi.test\nmulti.test  mx1.multi.test\nmulti.test  mx2.multi.test\nmulti.test  backup.other.example\nnull.test   [null_mx] accepts no mail (null MX)\n"
    );
}

#[test]
fn every_format_has_one_entry_per_input_domain() {
    let z = zone();
    let domains = [
        "multi.test",
        "null.test",
        "nodata.test",
        "missing.test",
        "bad name",
    ];
    let run_as = |format: &str| {
        let mut args = vec![
            "-n",
            &*Box::leak(ns(z.addr).into_boxed_str()),
            "--format",
            format,
            "--color",
            "always",
        ];
        args.extend(domains);
        run(&args, None)
    };

    let json: serde_json::Value = serde_json::from_slice(&run_as("json").stdout).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, domains, "JSON is in input order");

    let nd = run_as("ndjson");
    assert_eq!(by_domain(&ndjson(&nd)).len(), 5);

    let csv_out = run_as("csv");
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "domain",
            "status",
            "preference",
            "exchange",
            "error",
            "source"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        4 + 4,
        "4 rows for multi.test, one for each other domain"
    );
    let mut seen: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    assert!(
        !String::from_utf8_lossy(&csv_out.stdout).contains('\u{1b}'),
        "machine formats are never coloured"
    );

    let table = String::from_utf8(run_as("table").stdout).unwrap();
    for d in domains {
        let rows = table
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("{d} ")))
            .count();
        assert_eq!(rows, 1, "{d} starts one row in\n{table}");
    }
    assert!(
        table.contains("\u{1b}[32mok"),
        "--color always colours the table"
    );

    let plain = String::from_utf8(run_as("plain").stdout).unwrap();
    assert_eq!(plain.lines().count(), 8);
}

#[test]
fn exit_codes() {
    let z = zone();
    let f = faults();
    let code = |args: &[&str]| run(args, None).status.code();
    let zn = ns(z.addr);
    assert_eq!(
        code(&[
            "-n",
            &zn,
            "multi.test",
            "null.test",
            "nodata.test",
            "missing.test"
        ]),
        Some(0)
    );
    assert_eq!(code(&["-n", &zn, "--require-mx", "multi.test"]), Some(0));
    assert_eq!(
        code(&["-n", &zn, "--require-mx", "multi.test", "null.test"]),
        Some(1)
    );
    assert_eq!(
        code(&["-n", &zn, "--require-mx", "multi.test", "missing.test"]),
        Some(1)
    );
    assert_eq!(
        code(&["-n", &ns(f.addr), "fine.fault", "servfail.fault"]),
        Some(1)
    );
    assert_eq!(code(&["-n", &zn, "multi.test", "not a domain"]), Some(1));

    // Exit 2: the run could not be done.
    let no_domains = run(&["-n", &zn], Some("# only a comment\n\n"));
    assert_eq!(no_domains.status.code(), Some(2));
    assert!(
        stderr(&no_domains).contains("no domains"),
        "{}",
        stderr(&no_domains)
    );
    let missing = run(&["-n", &zn, "-f", "/nonexistent/list.txt"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/list.txt"));
    let dir = tempfile::tempdir().unwrap();
    let is_dir = run(&["-n", &zn, "-f", dir.path().to_str().unwrap()], None);
    assert_eq!(is_dir.status.code(), Some(2));
    assert!(
        stderr(&is_dir).contains("is a directory"),
        "{}",
        stderr(&is_dir)
    );
    assert_eq!(code(&["-n", &zn, "-c", "0", "multi.test"]), Some(2));
    assert_eq!(code(&["-n", "not-an-ip", "multi.test"]), Some(2));
    assert_eq!(
        code(&["-n", &zn, "--timeout", "soon", "multi.test"]),
        Some(2)
    );
    assert_eq!(code(&["-n", &zn, "--format", "xml", "multi.test"]), Some(2));
}

#[test]
fn control_characters_from_the_network_are_escaped_in_every_format() {
    let f = faults();
    for format in ["table", "plain", "json", "ndjson", "csv"] {
        let out = run(
            &[
                "-n",
                &ns(f.addr),
                "--format",
                format,
                "--color",
                "never",
                "evil.fault",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        let bad: Vec<u8> = out
            .stdout
            .iter()
            .copied()
            .filter(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f)
            .collect();
        assert!(bad.is_empty(), "{format} wrote raw control bytes {bad:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        // JSON escapes the backslash itself; the name is the same text.
        let expected = "mx\\027\\09131m\\007.line\\010break\\013.example";
        let unescaped = text.replace("\\\\", "\\");
        assert!(unescaped.contains(expected), "{format}: {text}");
    }
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let f = faults();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.txt");
    let list: String = (0..5000).map(|i| format!("d{i}.fault\n")).collect();
    std::fs::write(&path, list).unwrap();
    let mut child = mxlookup()
        .args([
            "-n",
            &ns(f.addr),
            "--format",
            "ndjson",
            "-c",
            "64",
            "-f",
            path.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // The reader is gone now; mxlookup must notice and stop without noise.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}

/// The hickory-resolver engine (`--engine hickory`) reports the same
/// failures for the same answers (its answers are checked above).
#[test]
fn the_hickory_engine_agrees_on_every_failure() {
    let f = faults();
    let out = run(
        &[
            "--engine",
            "hickory",
            "-n",
            &ns(f.addr),
            "--format",
            "ndjson",
            "--timeout",
            "1s",
            "servfail.fault",
            "refused.fault",
            "silent.fault",
            "big.fault",
            "evil.fault",
        ],
        None,
    );
    let results = by_domain(&ndjson(&out));
    assert_eq!(status(&results, "servfail.fault"), "servfail");
    assert_eq!(status(&results, "refused.fault"), "refused");
    assert_eq!(status(&results, "silent.fault"), "timeout");
    assert_eq!(mx_of(&results, "big.fault").len(), 40);
    assert_eq!(
        mx_of(&results, "evil.fault")[0].1,
        "mx\\027\\09131m\\007.line\\010break\\013.example"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn shards_split_a_job_so_every_domain_lands_in_exactly_one() {
    let f = faults();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.txt");
    let mut list: String = (0..300).map(|i| format!("d{i}.fault\n")).collect();
    list.push_str("not valid\nD7.FAULT.\n");
    std::fs::write(&path, list).unwrap();
    let mut all = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let out = run(
            &[
                "-n",
                &ns(f.addr),
                "--format",
                "ndjson",
                "--shard",
                &shard,
                "-f",
                path.to_str().unwrap(),
            ],
            None,
        );
        let part = ndjson(&out);
        assert!(part.len() > 50, "shard {shard} got {}", part.len());
        all.extend(part);
    }
    let results = by_domain(&all);
    assert_eq!(
        results.len(),
        301,
        "300 distinct domains and one invalid line, each in one shard"
    );
    assert_eq!(status(&results, "not valid"), "invalid");
    assert_eq!(
        run(&["--shard", "3/3", "a.example"], None).status.code(),
        Some(2)
    );
}

#[test]
fn report_knows_a_missing_shard_and_a_shard_of_another_job() {
    let f = faults();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("job.txt");
    std::fs::write(
        &list,
        (0..200)
            .map(|i| format!("d{i}.fault\n"))
            .collect::<String>(),
    )
    .unwrap();
    let shard = |k: u64, extra: &[&str]| {
        let mut args = vec![
            "-n".to_string(),
            ns(f.addr),
            "--format".into(),
            "ndjson".into(),
        ];
        args.extend([
            "--shard".into(),
            format!("{k}/4"),
            "-f".into(),
            list.display().to_string(),
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = mxlookup().args(&args).output().unwrap();
        let path = dir.path().join(format!("shard{k}{}.ndjson", extra.len()));
        std::fs::write(&path, &out.stdout).unwrap();
        path.display().to_string()
    };
    let files: Vec<String> = (0..4).map(|k| shard(k, &[])).collect();
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        first
            .lines()
            .next()
            .unwrap()
            .contains(r#""shard":"0/4","job":""#),
        "{first}"
    );
    let report = |files: &[&String]| {
        mxlookup()
            .args(["report", "--format", "ndjson"])
            .args(files)
            .output()
            .unwrap()
    };
    // Every shard: the whole job.
    let whole = report(&files.iter().collect::<Vec<_>>());
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    assert_eq!(ndjson(&whole).len(), 200);
    // Two of four: written, but said, and exit 4.
    let half = report(&[&files[0], &files[2]]);
    assert_eq!(half.status.code(), Some(4), "{}", stderr(&half));
    assert!(
        stderr(&half).contains("incomplete job: shards 1, 3 of 4 missing"),
        "{}",
        stderr(&half)
    );
    assert!(!ndjson(&half).is_empty());
    // A shard of the same input with other checks is another job: exit 2.
    let other = shard(1, &["--audit", "--checks", "routing"]);
    let mixed = report(&[&files[0], &other, &files[2], &files[3]]);
    assert_eq!(mixed.status.code(), Some(2), "{}", stderr(&mixed));
    assert!(
        stderr(&mixed).contains("shards of different jobs"),
        "{}",
        stderr(&mixed)
    );
}

/// A dig command line does what dig would, against the server it names,
/// never the system's resolver; what mxlookup cannot do is an error.
#[test]
fn dig_habits_are_understood() {
    let z = zone();
    let at = format!("@{}", z.addr);
    // `@SERVER` anywhere, `MX` after the domain, `-t MX`, `-J`.
    for args in [
        vec![at.as_str(), "multi.test", "MX", "-J"],
        vec!["multi.test", "mx", at.as_str(), "--json"],
        vec!["-t", "MX", "multi.test", at.as_str(), "-J"],
        vec!["--type=mx", at.as_str(), "IN", "MX", "multi.test", "-J"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
        let arr = v.as_array().unwrap();
        assert_eq!(arr.len(), 1, "{args:?}: only the domain is looked up: {v}");
        assert_eq!(arr[0]["domain"], "multi.test");
        assert_eq!(arr[0]["status"], "ok");
        assert_eq!(
            arr[0]["server"],
            z.addr.to_string(),
            "the named server answered"
        );
    }
    // +short prints what dig +short prints (dig orders as the server
    // does, mxlookup by preference: compared as sets), and no summary.
    let dig = program(&["dig"], "bind9-dnsutils");
    for name in [
        "multi.test",
        "null.test",
        "nodata.test",
        "missing.test",
        "alias.test",
    ] {
        let short = run(&[&at, name, "+short"], None);
        let theirs = std::process::Command::new(&dig)
            .args([
                &format!("@{}", z.addr.ip()),
                "-p",
                &z.addr.port().to_string(),
                name,
                "MX",
                "+short",
            ])
            .output()
            .unwrap();
        let lines = |b: &[u8]| {
            let mut l: Vec<String> = String::from_utf8_lossy(b)
                .lines()
                .map(String::from)
                .collect();
            l.sort();
            l
        };
        assert_eq!(lines(&short.stdout), lines(&theirs.stdout), "{name}");
        assert_eq!(stderr(&short), "", "{name}: no summary");
        assert_eq!(short.status.code(), Some(0));
    }
    // Another record type, another dig option, a server that is not an
    // address: exit 2 with the reason, and nothing looked up.
    for (args, why) in [
        (vec![at.as_str(), "multi.test", "A"], "'A' is a record type"),
        (
            vec![at.as_str(), "-t", "TXT", "multi.test"],
            "MX records only, not 'TXT'",
        ),
        (
            vec![at.as_str(), "multi.test", "+trace"],
            "'+trace' is a dig option",
        ),
        (vec!["@dns.example", "multi.test"], "by its address"),
        (
            vec![at.as_str(), "-J", "--format", "csv", "multi.test"],
            "cannot be used with",
        ),
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Argument numbers still count every argument.
    let out = run(&[&at, "MX", "bad..name", "--format", "ndjson"], None);
    let r = ndjson(&out);
    assert_eq!(r[0]["source"], "argument 3", "{r:?}");
}

#[test]
fn environment_variables_stand_for_flags() {
    let z = zone();
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_NAMESERVER", z.addr.to_string())
        .env("MXLOOKUP_FORMAT", "ndjson")
        .env("MXLOOKUP_CONCURRENCY", "4")
        .args(["multi.test", "null.test"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = by_domain(&ndjson(&out));
    assert_eq!(status(&r, "null.test"), "null_mx");
    // A flag wins over its variable.
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_NAMESERVER", "127.0.0.1:1")
        .env("MXLOOKUP_FORMAT", "csv")
        .args(["-n", &z.addr.to_string(), "--format", "ndjson", "null.test"]);
    let out = cmd.output().unwrap();
    assert_eq!(ndjson(&out)[0]["status"], "null_mx", "{}", stderr(&out));
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_CONCURRENCY", "many").arg("null.test");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("many"), "{}", stderr(&out));
    // CLICOLOR_FORCE colours the table even into a pipe; NO_COLOR wins.
    let table = |vars: &[(&str, &str)]| {
        let mut cmd = mxlookup();
        cmd.args(["-n", &z.addr.to_string(), "multi.test"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    assert!(!table(&[]).contains('\x1b'));
    assert!(table(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'));
    assert!(!table(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

/// A thousand bad lines do not flood stderr: the first 20 are named, the
/// rest counted; every one of them is in the output, and good lines still
/// resolve.
#[test]
fn invalid_line_messages_are_capped_but_every_line_is_in_the_output() {
    let z = zone();
    let mut input: String = (0..30).map(|i| format!("bad name {i}\n")).collect();
    input.push_str("null.test\n");
    let out = run(&["-n", &ns(z.addr), "--format", "ndjson"], Some(&input));
    let results = ndjson(&out);
    assert_eq!(results.len(), 31);
    assert_eq!(
        results.iter().filter(|r| r["status"] == "invalid").count(),
        30
    );
    assert!(results.iter().any(|r| r["status"] == "null_mx"));
    let err = stderr(&out);
    let named = err
        .lines()
        .filter(|l| l.contains("contains a space"))
        .count();
    assert_eq!(named, 20, "{err}");
    assert!(err.contains("stdin:20: \"bad name 19\""), "{err}");
    assert!(!err.contains("bad name 20"), "{err}");
    assert!(
        err.contains("10 more invalid lines not shown here (all are in the output)"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_name_what_the_user_typed_or_set() {
    // A bad value from a variable names the variable.
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_CONCURRENCY", "many").arg("null.test");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("MXLOOKUP_CONCURRENCY"),
        "{}",
        stderr(&out)
    );
    // The same value typed as a flag: no variable to name.
    let out = run(&["--concurrency", "many", "null.test"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("MXLOOKUP_"), "{}", stderr(&out));
    let mut cmd = mxlookup();
    cmd.env("MXLOOKUP_TIMEOUT", "soon").arg("null.test");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("MXLOOKUP_TIMEOUT"),
        "{}",
        stderr(&out)
    );
    // A TLS name no certificate can hold is refused at start-up.
    for bad in ["", "dns server.example", "a..b"] {
        let out = run(
            &["-n", "tls://127.0.0.1:853", "--tls-name", bad, "null.test"],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--tls-name"), "{}", stderr(&out));
    }
    // +short with another format: a usage error, not a silent choice.
    for format in [&["--format", "json"][..], &["-J"][..]] {
        let mut args = vec!["null.test", "+short"];
        args.extend_from_slice(format);
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{format:?}");
        assert!(stderr(&out).contains("+short"), "{}", stderr(&out));
    }
}

#[test]
fn settings_that_cannot_apply_are_warnings() {
    let z = zone();
    let out = run(
        &[
            "-n",
            &z.addr.to_string(),
            "--tls-name",
            "dns.example",
            "--ca-file",
            "/nonexistent.pem",
            "null.test",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("warning: --tls-name has no effect"), "{e}");
    assert!(e.contains("warning: --ca-file has no effect"), "{e}");
}

#[test]
fn resolv_conf_as_in_the_wild_link_local_lines_and_options() {
    // A host configured by router advertisements: a scoped link-local
    // server on an interface this host lacks, one without its interface,
    // and a working server (Knot on port 53 of a loopback address). The
    // unusable ones are skipped with a warning each; the run goes on.
    let knot = Knot::start_on_port_53(&[("test.", ZONE.to_string())]);
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("resolv.conf");
    std::fs::write(
        &conf,
        format!(
            "# from the router\nnameserver fe80::1%nosuchif0\nnameserver fe80::2\nnameserver {}\nsearch example.org\noptions rotate ndots:3\n",
            knot.addr.ip()
        ),
    )
    .unwrap();
    let out = mxlookup()
        .env("MXLOOKUP_RESOLV_CONF", &conf)
        .args(["--format", "ndjson", "multi.test"])
        .output()
        .unwrap();
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{e}");
    assert_eq!(ndjson(&out)[0]["status"], "ok", "{e}");
    assert!(
        e.contains(":2: 'fe80::1%nosuchif0': this host has no network interface 'nosuchif0'"),
        "{e}"
    );
    assert!(
        e.contains(":3: 'fe80::2': a link-local address needs its interface"),
        "{e}"
    );
    // Only unusable servers: exit 2, saying why.
    std::fs::write(&conf, "nameserver fe80::1%nosuchif0\n").unwrap();
    let out = mxlookup()
        .env("MXLOOKUP_RESOLV_CONF", &conf)
        .arg("multi.test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no nameserver mxlookup can use"),
        "{}",
        stderr(&out)
    );
    // options timeout:1 attempts:2 make the default deadline 2 s: a server
    // that never answers (a socket on port 53 that nobody reads) times out
    // then, not at mxlookup's own default of 5 s. --timeout still wins.
    let silent = (20..250u8)
        .find_map(|x| {
            let ip = std::net::Ipv4Addr::new(127, 0, 99, x);
            std::net::UdpSocket::bind((ip, 53)).ok()
        })
        .expect("a free port 53 on a loopback address (this test needs root)");
    let ip = silent.local_addr().unwrap().ip();
    std::fs::write(
        &conf,
        format!("nameserver {ip}\noptions timeout:1 attempts:2\n"),
    )
    .unwrap();
    for (flags, seconds) in [(&[][..], 2.0), (&["--timeout", "1s"][..], 1.0)] {
        let out = mxlookup()
            .env("MXLOOKUP_RESOLV_CONF", &conf)
            .args(["--format", "ndjson"])
            .args(flags)
            .arg("multi.test")
            .output()
            .unwrap();
        let r = &ndjson(&out)[0];
        assert_eq!(r["status"], "timeout", "{r}");
        let ms = r["time_ms"].as_f64().unwrap();
        assert!((ms - seconds * 1000.0).abs() < 400.0, "{flags:?}: {ms} ms");
    }
}

#[test]
fn a_scoped_link_local_nameserver_answers_in_a_network_namespace() {
    // A network namespace this test makes (the host's network is not
    // touched): its loopback gets the link-local address fe80::53, knotd
    // listens there on port 53, and mxlookup asks it by -n with the zone,
    // in both forms, and through a resolv.conf line, as hosts configured
    // by router advertisements have it.
    let knotd = program(&["knotd"], "knot");
    let ip = program(&["ip"], "iproute2");
    let unshare = program(&["unshare"], "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    std::fs::write(format!("{d}/test.zone"), ZONE).unwrap();
    std::fs::write(
        format!("{d}/knot.conf"),
        format!(
            "server:\n    listen: ::@53\n    rundir: {d}\ndatabase:\n    storage: {d}\n\
             zone:\n  - domain: test.\n    file: {d}/test.zone\n"
        ),
    )
    .unwrap();
    std::fs::write(format!("{d}/resolv.conf"), "nameserver fe80::53%lo\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_mxlookup");
    let script = format!(
        "{ip} link set lo up && {ip} -6 addr add fe80::53/64 dev lo nodad || exit 3\n\
         {knotd} -c {d}/knot.conf >/dev/null 2>&1 & k=$!\n\
         trap 'kill $k; wait $k' EXIT\n\
         for i in $(seq 50); do {bin} -q -n 'fe80::53%lo' --timeout 200ms +short null.test >/dev/null 2>&1 && break; sleep 0.1; done\n\
         {bin} -n 'fe80::53%lo' +short multi.test\n\
         {bin} -n '[fe80::53%lo]:53' +short multi.test\n\
         MXLOOKUP_RESOLV_CONF={d}/resolv.conf {bin} +short multi.test\n"
    );
    let out = std::process::Command::new(unshare)
        .args(["--net", "sh", "-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert_eq!(
        text.matches("10 mx0.multi.test.").count(),
        3,
        "{text}\n{}",
        stderr(&out)
    );
}

#[test]
fn a_link_local_nameserver_on_a_missing_interface_is_refused() {
    // A zone naming an interface this host lacks: exit 2, saying which.
    let out = mxlookup()
        .args(["-n", "fe80::1%nosuchif0", "a.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no network interface 'nosuchif0'"),
        "{}",
        stderr(&out)
    );
}
