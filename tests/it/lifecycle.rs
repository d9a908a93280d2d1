//! The run as a process: signals, pipes that close, a stderr that fails,
//! input that trickles in or never ends, flags at their extremes, and text
//! that tries to reach the terminal.

use crate::support::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn slow_server() -> ScriptServer {
    ScriptServer::start(|_, q| {
        Reply::Delay(
            Duration::from_millis(100),
            Box::new(Reply::Message(mx_response(
                q,
                &[(10, name("mx.slow.example."))],
            ))),
        )
    })
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s{i}.example")).collect()
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// What a JSON or CSV output says about each domain: (domain, status).
fn parsed(format: &str, stdout: &[u8]) -> Vec<(String, String)> {
    match format {
        "json" => serde_json::from_slice::<serde_json::Value>(stdout)
            .expect("valid JSON")
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["domain"].as_str().unwrap().into(),
                    r["status"].as_str().unwrap().into(),
                )
            })
            .collect(),
        _ => csv::Reader::from_reader(stdout)
            .records()
            .map(|r| {
                let r = r.expect("valid CSV");
                (r[0].to_string(), r[1].to_string())
            })
            .collect(),
    }
}

/// Ctrl-C, or the SIGTERM that Kubernetes, CI runners and `timeout` send:
/// no new lookups, those in flight settle, what settled is written as valid
/// JSON/CSV with each domain once, a summary, and the signal's exit status.
#[test]
fn a_signal_stops_new_lookups_and_writes_what_settled_validly_with_a_summary() {
    let server = slow_server();
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        for format in ["json", "csv"] {
            let addr = server.addr.to_string();
            let mut args = vec!["-n".to_string(), addr, "--format".into(), format.into()];
            args.extend(["-c".to_string(), "10".into()]);
            args.extend(names(1000));
            let child = spawn(&args);
            std::thread::sleep(Duration::from_millis(700));
            signal(&child, sig);
            let out = child.wait_with_output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(code), "{sig} {format}: {err}");
            let results = parsed(format, &out.stdout);
            assert!(
                results.len() >= 30 && results.len() < 1000,
                "{sig} {format}: {}",
                results.len()
            );
            assert!(
                results.iter().all(|(_, s)| s == "ok"),
                "in-flight lookups settle, they are not cut off"
            );
            let unique: HashSet<_> = results.iter().map(|(d, _)| d).collect();
            assert_eq!(unique.len(), results.len(), "each domain once");
            assert!(
                err.contains("interrupted") && err.contains(" domains: ") && err.contains(" ok"),
                "the summary: {err}"
            );
        }
    }
}

#[test]
fn a_second_signal_settles_lookups_in_flight_at_once_and_the_json_stays_valid() {
    let silent = ScriptServer::start(|_, _| Reply::Drop);
    let mut args: Vec<String> = ["-n", &silent.addr.to_string(), "--format", "json"]
        .map(String::from)
        .to_vec();
    args.extend(["-c", "10", "--timeout", "60s"].map(String::from));
    args.extend(names(100));
    let child = spawn(&args);
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 10, "the ten in flight, each reported");
    for r in arr {
        assert_eq!(r["status"], "error");
        assert!(r["error"].as_str().unwrap().contains("interrupted"), "{r}");
    }
    assert!(stderr(&out).contains("stopping now"), "{}", stderr(&out));
}

#[test]
fn a_failing_stderr_never_costs_the_results() {
    let z = slow_server();
    let addr = z.addr.to_string();
    // stderr is /dev/full: every write to it fails.
    let out = mxlookup()
        .args([
            "-n",
            &addr,
            "--format",
            "ndjson",
            "good.example",
            "not a name",
            "other.example",
        ])
        .stdout(Stdio::piped())
        .stderr(
            std::fs::File::options()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the invalid line, not a panic");
    assert_eq!(by_domain(&ndjson(&out)).len(), 3);
    // stderr is a pipe closed at once.
    let mut child = spawn(&[
        "-n",
        &addr,
        "--format",
        "ndjson",
        "good.example",
        "not a name",
    ]);
    drop(child.stderr.take());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout.lines().count(), 2);
}

#[test]
fn every_format_into_a_pipe_that_closes_ends_quietly_with_success() {
    let z = ScriptServer::start(|_, q| {
        Reply::Message(mx_response(q, &[(10, name("mx.fast.example."))]))
    });
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("many.txt");
    // More output than the pipe and the output buffer hold together.
    std::fs::write(&list, names(20_000).join("\n")).unwrap();
    for format in ["csv", "ndjson", "json", "table", "plain"] {
        let addr = z.addr.to_string();
        let list = list.to_str().unwrap();
        let mut child = spawn(&["-n", &addr, "--format", format, "-c", "100", "-f", list]);
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{format}");
    }
}

#[test]
fn lines_that_arrive_together_are_all_looked_up_before_more_input() {
    let z = slow_server();
    let mut child = mxlookup()
        .args(["-n", &z.addr.to_string(), "--format", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"a.example\nb.example\nc.example\n")
        .unwrap();
    stdin.flush().unwrap();
    // The pipe stays open; three results must come anyway.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < 3 && start.elapsed() < Duration::from_secs(5) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            got.push(line);
        }
    }
    assert_eq!(got.len(), 3, "{got:?}");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn an_endless_line_gives_up_on_that_input_and_the_run_goes_on() {
    let z = slow_server();
    let start = Instant::now();
    let out = run(
        &[
            "-n",
            &z.addr.to_string(),
            "--format",
            "json",
            "first.example",
            "-f",
            "/dev/zero",
            "-f",
            "-",
        ],
        Some("last.example\n"),
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["source"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("argument 1", "ok"),
            ("/dev/zero:1", "invalid"),
            ("stdin:1", "ok")
        ]
    );
    assert!(stderr(&out).contains("/dev/zero:1"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a list of domains"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn flags_at_their_extremes_are_range_errors_not_panics() {
    for args in [
        ["--timeout", "1e30"],
        ["--timeout", "1e19"],
        ["--timeout", "0"],
        ["--rate", "1e-20"],
        ["--rate", "1e300"],
        ["-c", "0"],
        ["--retries", "99"],
    ] {
        let out = run(&[args[0], args[1], "-n", "127.0.0.1:9", "a.example"], None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains(args[0]) || err.contains(args[1]),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_non_utf8_argument_is_an_invalid_result_that_names_its_position() {
    use std::os::unix::ffi::OsStrExt;
    let z = slow_server();
    let out = mxlookup()
        .arg("-n")
        .arg(z.addr.to_string())
        .args(["--format", "ndjson", "good.example"])
        .arg(std::ffi::OsStr::from_bytes(b"bad\xffname"))
        .output()
        .unwrap();
    let results = ndjson(&out);
    assert_eq!(results.len(), 2);
    let bad = results.iter().find(|r| r["status"] == "invalid").unwrap();
    assert_eq!(bad["source"], "argument 2");
    assert!(bad["error"].as_str().unwrap().contains("UTF-8"));
    assert!(stderr(&out).contains("argument 2"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn invisible_and_bidi_characters_in_input_never_reach_the_terminal_raw() {
    let z = slow_server();
    let dir = tempfile::tempdir().unwrap();
    // A file whose name holds an escape sequence, with lines that hold
    // bidi, invisible and separator characters.
    let path = dir.path().join("list\u{1b}[31m.txt");
    let hostile = [
        "a\u{61c}b.example",
        "c\u{2028}d.example",
        "e\u{2060}f.example",
        "g\u{202e}h.example",
        "i\u{ad}j.example",
        "k\u{e0041}l.example",
    ];
    std::fs::write(&path, hostile.join("\n")).unwrap();
    for format in ["table", "ndjson", "csv", "plain"] {
        let out = run(
            &[
                "-n",
                &z.addr.to_string(),
                "--format",
                format,
                "-f",
                path.to_str().unwrap(),
            ],
            None,
        );
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            for c in [
                '\u{61c}',
                '\u{2028}',
                '\u{2060}',
                '\u{202e}',
                '\u{ad}',
                '\u{e0041}',
                '\u{1b}',
            ] {
                assert!(
                    !text.contains(c),
                    "{format} {stream} holds U+{:04X}:\n{text}",
                    c as u32
                );
            }
        }
        let err = stderr(&out);
        assert!(err.contains("list\\u{1b}[31m.txt:1"), "{err}");
    }
    // A missing file whose name holds an escape sequence.
    let out = run(&["-f", "/nonexistent/\u{1b}]0;pwned\u{7}"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
    // Flag values and nameservers quoted back in usage errors, by clap and
    // by mxlookup: a bidi override and an escape sequence.
    for args in [
        &["--timeout", "1\u{202e}s", "a.example"][..],
        &["--shard", "x\u{202e}/2", "a.example"],
        &["-n", "1.2.3.4\u{1b}[31m", "a.example"],
        &["@1.2.3.4\u{202e}", "a.example"],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("\\u{"), "the value is quoted, escaped: {err}");
        assert!(!err.contains(['\u{202e}', '\u{1b}']), "{err}");
    }
}

#[test]
fn csv_cells_that_look_like_formulas_are_made_inert() {
    let z = slow_server();
    let out = run(
        &["-n", &z.addr.to_string(), "--format", "csv"],
        // From stdin: as arguments, `+x` and `@x` are dig's options and
        // servers.
        Some("=HYPERLINK(\"http://x\")\n+cmd|' /C calc'!A0\n@SUM(1+1)\ngood.example\n"),
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !matches!(
                    cell.chars().next(),
                    Some('=' | '+' | '-' | '@' | '\t' | '\r')
                ),
                "{r:?}"
            );
        }
    }
    assert!(rows.iter().any(|r| &r[0] == "'=HYPERLINK(\"http://x\")"));
}

#[test]
fn a_fatal_error_with_stderr_at_dev_full_exits_2_not_101() {
    for args in [
        &["-f", "/nonexistent/list.txt"][..],
        &["--concurrency", "many", "x.example"][..],
        &["report", "/nonexistent.ndjson"][..],
    ] {
        let out = mxlookup()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::options()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_line_over_a_mebibyte_is_skipped_and_the_next_line_still_read() {
    let z = slow_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.txt");
    let mut text = "x".repeat(5 << 20);
    text.push_str("\nafter.example\n");
    std::fs::write(&path, text).unwrap();
    let out = run(
        &[
            "-n",
            &z.addr.to_string(),
            "--format",
            "ndjson",
            "-f",
            path.to_str().unwrap(),
        ],
        None,
    );
    let r = ndjson(&out);
    assert_eq!(r.len(), 2, "{}", stderr(&out));
    assert_eq!(r.iter().filter(|v| v["status"] == "invalid").count(), 1);
    assert!(
        r.iter()
            .any(|v| v["domain"] == "after.example" && v["status"] == "ok")
    );
}

/// A saved run is untrusted input: terminal escapes and bidi characters in
/// its messages, exchanges, servers and sources never reach the table, the
/// plain lines or a CSV cell raw.
#[test]
fn report_escapes_what_it_reads_from_a_saved_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.ndjson");
    let evil = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}";
    let lines = [
        serde_json::json!({"domain":"a.example","status":"timeout","mx":[],"error":format!("late {evil}"),"source":format!("list{evil}.txt:1"),"server":format!("1.2.3.4{evil}")}),
        serde_json::json!({"domain":"b.example","status":"ok","mx":[{"preference":1,"exchange":"mx.example"}],"error":null,"source":"list.txt:2","problems":[{"code":"cname_target","exchange":"mx.example","message":format!("alias {evil}")}]}),
        serde_json::json!({"domain":"c.example","status":"invalid","mx":[],"error":format!("bad {evil}"),"input":format!("c {evil}"),"source":"list.txt:3"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    for format in ["table", "plain", "csv", "json", "ndjson"] {
        let out = run(
            &[
                "report",
                path.to_str().unwrap(),
                "--format",
                format,
                "--color",
                "never",
            ],
            None,
        );
        let all = [out.stdout.clone(), out.stderr.clone()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{format}: {text:?}"
        );
        assert!(
            text.contains("pwned"),
            "{format}: the text is there, escaped: {text}"
        );
    }
}

/// Run mxlookup with its stdin and stderr on a terminal (a pseudo-terminal
/// python3 makes), `typed` written to it and then Ctrl-D; what appeared on
/// the terminal, as bytes.
fn on_a_terminal(args: &[&str], typed: &str) -> String {
    let script = r#"
import os, pty, subprocess, sys, time
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=slave, stderr=slave, stdout=subprocess.DEVNULL)
os.close(slave)
time.sleep(0.3)
os.write(master, sys.argv[1].encode() + b"\x04")
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
sys.stdout.write(out.decode("utf-8", "replace"))
"#;
    let bin = env!("CARGO_BIN_EXE_mxlookup");
    let out = std::process::Command::new(program(&["python3"], "python3"))
        .args(["-c", script, typed, bin])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn on_a_terminal_stdin_is_announced_and_no_eta_before_anything_settled() {
    let server = slow_server();
    let ns = server.addr.to_string();
    // `mxlookup -` with the terminal as stdin says what it waits for.
    let seen = on_a_terminal(&["-n", &ns, "-"], "s1.example\n");
    assert!(
        seen.contains("reading domains from the terminal, one per line; Ctrl-D ends the list"),
        "{seen:?}"
    );
    assert!(seen.contains("1 domain: 1 ok"), "{seen:?}");
    // The progress line, with a known total: an ETA only once something
    // has settled (indicatif would say "ETA 0s" before).
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, names(30).join("\n")).unwrap();
    let seen = on_a_terminal(&["-n", &ns, "-c", "1", "-f", list.to_str().unwrap()], "");
    assert!(seen.contains("/30 settled"), "a progress line: {seen:?}");
    let before: Vec<&str> = seen
        .split('\r')
        .filter(|f| f.contains(" 0/30 settled") || f.contains(" 0 settled"))
        .collect();
    assert!(
        !before.is_empty(),
        "no frame before the first result: {seen:?}"
    );
    for frame in before {
        assert!(!frame.contains("ETA"), "{frame:?}");
    }
    assert!(seen.contains("30 domains: 30 ok"), "{seen:?}");
}
