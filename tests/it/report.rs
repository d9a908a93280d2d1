//! `mxlookup report`: saved runs written again in any format, shards of
//! one job merged in input order with one summary and the job's exit
//! status, and the README's GNU parallel example end to end. Also
//! `completions` and `man`.

use crate::support::*;
use hickory_server::proto::op::ResponseCode;
use std::path::Path;
use std::process::Stdio;

const ZONE: &str = "
$TTL 300
@         IN SOA ns.test. admin.test. 1 3600 600 86400 60
@         IN NS  ns.test.
ns        IN A   127.0.0.1
null      IN MX  0 .
nodata    IN A   192.0.2.1
mx1       IN A   93.184.215.14
";

/// A zone of `n` domains with MX records, some with two, and a few of
/// every other answer, and the input file listing them (with a comment,
/// a blank line, an invalid line and a duplicate).
fn world(dir: &Path, n: usize) -> (ZoneServer, String) {
    let mut zone = ZONE.to_string();
    let mut input = String::from("# the job\n\nnull.test\nnodata.test\nmissing.test\n");
    for i in 0..n {
        zone.push_str(&format!("d{i} IN MX {} mx1.test.\n", i % 4 * 10));
        if i % 3 == 0 {
            zone.push_str(&format!("d{i} IN MX 50 backup{i}.test.\n"));
        }
        input.push_str(&format!("d{i}.test\n"));
        if i == 7 {
            input.push_str("not a domain\nd3.test\n");
        }
    }
    let z = ZoneServer::start("test.", &zone);
    let path = dir.join("all.txt");
    std::fs::write(&path, input).unwrap();
    (z, path.display().to_string())
}

fn save(dir: &Path, name: &str, out: &std::process::Output) -> String {
    let path = dir.join(name);
    std::fs::write(&path, &out.stdout).unwrap();
    path.display().to_string()
}

/// Records in the order written, without the lookup's timing.
fn records(out: &std::process::Output) -> Vec<serde_json::Value> {
    ndjson(out)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("time_ms");
            r
        })
        .collect()
}

/// Sort records by input line.
fn by_line(mut v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    v.sort_by_key(|r| {
        let s = r["source"].as_str().unwrap().to_string();
        s.rsplit_once(':').unwrap().1.parse::<u64>().unwrap()
    });
    v
}

#[test]
fn a_saved_run_is_written_again_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (z, all) = world(dir.path(), 60);
    let ns = z.addr.to_string();
    let base = ["-n", ns.as_str(), "-f", all.as_str(), "--audit"];
    let run_as = |format: &str| {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        run(&args, None)
    };
    let saved_out = run_as("ndjson");
    let saved = save(dir.path(), "run.ndjson", &saved_out);
    let report = |file: &str, format: &str| run(&["report", file, "--format", format], None);

    // NDJSON again: the same records, now in input order.
    let again = report(&saved, "ndjson");
    assert_eq!(records(&again), by_line(records(&saved_out)));
    // The run's exit status and summary (without timing).
    assert_eq!(again.status.code(), saved_out.status.code());
    let e = stderr(&again);
    assert!(e.contains("64 domains: "), "{e}");
    assert!(!e.contains("lookups/s"), "{e}");
    assert!(e.contains("problems: "), "{e}");

    // JSON: one document, the same records, time_ms kept exactly.
    let json = report(&saved, "json");
    let arr: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(arr, by_line(ndjson(&saved_out)));
    // JSON read back gives the same JSON.
    let saved_json = save(dir.path(), "run.json", &json);
    assert_eq!(report(&saved_json, "json").stdout, json.stdout);

    // Table, plain and CSV: what the run itself writes in that format.
    for format in ["plain", "table"] {
        let direct = run_as(format);
        assert_eq!(
            String::from_utf8_lossy(&report(&saved, format).stdout),
            String::from_utf8_lossy(&direct.stdout),
            "{format}"
        );
    }
    let rows = |out: &std::process::Output| {
        let mut r: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        r.sort();
        r
    };
    assert_eq!(rows(&report(&saved, "csv")), rows(&run_as("csv")));
}

#[test]
fn shards_merge_into_the_whole_job_with_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let (z, all) = world(dir.path(), 300);
    let ns = z.addr.to_string();
    let whole = run(&["-n", &ns, "-f", &all, "--format", "ndjson"], None);
    let mut parts = Vec::new();
    for k in 0..4 {
        let shard = format!("{k}/4");
        let out = run(
            &[
                "-n", &ns, "-f", &all, "--format", "ndjson", "--shard", &shard,
            ],
            None,
        );
        parts.push(save(dir.path(), &format!("part-{k}.ndjson"), &out));
    }
    let mut args = vec!["report", "--format", "ndjson"];
    args.extend(parts.iter().map(String::as_str));
    let merged = run(&args, None);
    assert_eq!(
        records(&merged),
        by_line(records(&whole)),
        "exactly the whole job, in input order"
    );
    // nxdomain and invalid: the whole job exits 1, and so does the merge.
    assert_eq!(whole.status.code(), Some(1));
    assert_eq!(merged.status.code(), Some(1));
    assert!(
        stderr(&merged).starts_with("304 domains: "),
        "{}",
        stderr(&merged)
    );
    // A shard given twice is not counted twice.
    args.push(parts[0].as_str());
    let twice = run(&args, None);
    assert_eq!(records(&twice), records(&merged));
    assert!(
        stderr(&twice).contains("written once"),
        "{}",
        stderr(&twice)
    );
    // --require-mx applies to the whole job.
    let ok_only = run(
        &["-n", &ns, "--format", "ndjson", "d1.test", "d2.test"],
        None,
    );
    let ok_file = save(dir.path(), "ok.ndjson", &ok_only);
    assert_eq!(run(&["report", &ok_file], None).status.code(), Some(0));
    let with_null = run(
        &["-n", &ns, "--format", "ndjson", "d1.test", "null.test"],
        None,
    );
    let null_file = save(dir.path(), "null.ndjson", &with_null);
    assert_eq!(
        run(&["report", &ok_file, &null_file], None).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&["report", "--require-mx", &ok_file, &null_file], None)
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn drift_and_failures_keep_their_exit_status_through_report() {
    let dir = tempfile::tempdir().unwrap();
    let z = ScriptServer::start(|_, q| match first_label(q).as_str() {
        "broken" => Reply::Message(response(q, ResponseCode::ServFail)),
        _ => Reply::Message(mx_response(q, &[(10, name("mx.example."))])),
    });
    let ns = z.addr.to_string();
    let base = run(&["-n", &ns, "--format", "ndjson", "a.example"], None);
    let base_file = save(dir.path(), "base.ndjson", &base);
    let drift = run(
        &[
            "-n",
            &ns,
            "--format",
            "ndjson",
            "--baseline",
            &base_file,
            "a.example",
            "b.example",
        ],
        None,
    );
    assert_eq!(drift.status.code(), Some(3));
    let drift_file = save(dir.path(), "drift.ndjson", &drift);
    let out = run(&["report", &drift_file], None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("baseline: 1 domain changed, 1 of them new"),
        "{}",
        stderr(&out)
    );
    let failed = run(&["-n", &ns, "--format", "ndjson", "broken.example"], None);
    let failed_file = save(dir.path(), "failed.ndjson", &failed);
    let out = run(
        &["report", &drift_file, &failed_file, "--format", "csv"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failure wins over drift: {}",
        stderr(&out)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",changes"), "{csv}");
    assert!(csv.contains("broken.example,servfail"), "{csv}");
}

#[test]
fn what_is_not_a_saved_run_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"domain":"a.example","status":"ok","mx":[{"preference":1,"exchange":"mx.example"}],"error":null,"source":"in.txt:1"}"#;
    for (name, text, want) in [
        (
            "bad.ndjson",
            format!("{good}\n{{\"domain\":\"b\"}}\n"),
            "bad.ndjson:2: not an mxlookup record",
        ),
        ("table.txt", "DOMAIN  PREF\n".to_string(), "table.txt:1:"),
        (
            "long.ndjson",
            "{".repeat(2 << 20),
            "long.ndjson:1: a line longer than 1 MiB",
        ),
        (
            "lying.ndjson",
            r#"{"domain":"a.example","status":"ok","mx":[],"error":null}"#.to_string(),
            "status ok without MX records",
        ),
        (
            "badname.ndjson",
            r#"{"domain":"a..example","status":"no_mx","mx":[],"error":null}"#.to_string(),
            "badname.ndjson:1: 'a..example'",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = run(&["report", path.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(want), "{name}: {}", stderr(&out));
    }
    let out = run(&["report", "/nonexistent/part.ndjson"], None);
    assert_eq!(out.status.code(), Some(2));
    // A jq-formatted JSON array reads too; stdin with `-`.
    let pretty = "[\n  {\n    \"domain\": \"a.example\", \"status\": \"ok\",\n    \"mx\": [{\"preference\": 1, \"exchange\": \"mx.example\"}],\n    \"error\": null\n  }\n]\n";
    let out = run(&["report", "-", "--format", "plain"], Some(pretty));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a.example  mx.example\n",
        "{}",
        stderr(&out)
    );
}

/// The README's example, end to end: GNU parallel runs the shards, `mxlookup
/// report` merges them.
#[test]
fn the_readme_parallel_example_runs_end_to_end() {
    let parallel = program(&["parallel"], "parallel");
    let dir = tempfile::tempdir().unwrap();
    let (z, all) = world(dir.path(), 400);
    let bin = env!("CARGO_BIN_EXE_mxlookup");
    let script = format!(
        "{parallel} -j4 '{bin} -q -n {ns} --shard {{}}/4 -f {all} --format ndjson > part-{{}}.ndjson' ::: 0 1 2 3; \
         {bin} report part-*.ndjson --format ndjson > all.ndjson",
        ns = z.addr
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the job has an nxdomain and an invalid line: {}",
        stderr(&out)
    );
    let merged = std::fs::read_to_string(dir.path().join("all.ndjson")).unwrap();
    let whole = run(
        &["-n", &z.addr.to_string(), "-f", &all, "--format", "ndjson"],
        None,
    );
    let strip = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("time_ms");
                v
            })
            .collect()
    };
    assert_eq!(
        strip(&merged),
        by_line(strip(&String::from_utf8_lossy(&whole.stdout)))
    );
}

#[test]
fn completions_and_the_manual_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("nameserver") && text.contains("report"),
            "{shell}"
        );
    }
    let out = run(&["completions", "tcsh"], None);
    assert_eq!(out.status.code(), Some(2));
    let man = run(&["man"], None);
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") && page.contains(".TH mxlookup 1"),
        "{page}"
    );
    assert!(page.contains("nameserver"), "roff with every flag");
    // Sections of their own, and cross-references only to pages that
    // exist (no mxlookup-report(1): the commands are described inline).
    for section in [
        ".SH COMMANDS",
        ".SH EXIT STATUS",
        ".SH FINDINGS",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(section), "{section} in\n{page}");
    }
    assert!(!page.contains("mxlookup\\-report(1)"), "{page}");
    let refs: Vec<&str> = page
        .split("\\fR(")
        .skip(1)
        .map(|after| &after[..1])
        .collect();
    assert_eq!(refs, ["1", "5"], "only dig(1) and resolv.conf(5): {page}");
    for code in ["no_route", "dane_partial", "exchange_domain_unregistered"] {
        assert!(page.contains(&code.replace('-', "\\-")), "{code}");
    }
}

/// A block scalar (`key: |`) of the ConfigMap in a manifest, unindented.
fn script(manifest: &str, key: &str) -> String {
    let start = format!("  {key}: |");
    let mut lines = manifest.lines().skip_while(|l| *l != start).skip(1);
    let mut out = String::new();
    for l in lines.by_ref() {
        if !l.starts_with("    ") && !l.trim().is_empty() {
            break;
        }
        out.push_str(l.strip_prefix("    ").unwrap_or(""));
        out.push('\n');
    }
    assert!(!out.trim().is_empty(), "no {key} in the manifest");
    out
}

/// The Kubernetes manifest's scripts, run as the Indexed Job would run
/// them: each index in turn, then the merge.
#[test]
fn the_kubernetes_job_scripts_shard_and_merge() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/mxlookup-job.yaml"),
    )
    .unwrap();
    let (shard, merge) = (script(&manifest, "shard.sh"), script(&manifest, "merge.sh"));
    let dir = tempfile::tempdir().unwrap();
    let (z, _) = world(dir.path(), 200);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mxlookup")).parent().unwrap();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let sh = |text: &str, index: Option<u32>| {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(text)
            .env_clear()
            .env("PATH", &path)
            .env("DATA", dir.path())
            .env("SHARDS", "3")
            .env("MXLOOKUP_NAMESERVER", z.addr.to_string())
            .stdin(Stdio::null());
        if let Some(i) = index {
            cmd.env("JOB_COMPLETION_INDEX", i.to_string());
        }
        cmd.output().unwrap()
    };
    // Two shards of three: the merge refuses to give a partial result.
    for i in 0..2 {
        let out = sh(&shard, Some(i));
        assert_eq!(out.status.code(), Some(0), "shard {i}: {}", stderr(&out));
    }
    let out = sh(&merge, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("only 2 of 3 shards finished"),
        "{}",
        stderr(&out)
    );
    let out = sh(&shard, Some(2));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Every shard: the whole job, in input order, and its exit status.
    let out = sh(&merge, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an nxdomain and an invalid line: {}",
        stderr(&out)
    );
    let merged: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/all.json")).unwrap()).unwrap();
    let all = dir.path().join("all.txt");
    let whole = run(
        &[
            "-n",
            &z.addr.to_string(),
            "-f",
            all.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    let strip = |v: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        v.into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("time_ms");
                r
            })
            .collect()
    };
    let whole: Vec<serde_json::Value> = serde_json::from_slice(&whole.stdout).unwrap();
    assert_eq!(strip(merged), strip(whole));
}
