//! The HTML report in a real browser: headless Chromium (Debian's) loads
//! the file mxlookup wrote, runs its script, and the test reads what it
//! rendered (--dump-dom) and takes a screenshot. The content comes from a
//! real run (Knot signing a zone, Unbound validating) and from a hostile
//! saved file whose every string tries to become markup.

use crate::support::*;

/// Chromium, headless, with nothing that reaches the network; a profile
/// of its own; killed if it has not finished within a minute.
fn chromium(args: &[&str]) -> std::process::Output {
    let chromium = program(&["chromium"], "chromium");
    let profile = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chromium");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "chromium did not finish: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn dump(file: &std::path::Path, hash: &str) -> String {
    let url = format!("file://{}{hash}", file.display());
    let out = chromium(&["--dump-dom", &url]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_hostile_saved_run_renders_as_text_never_as_markup() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("evil.ndjson");
    let markup =
        r#"<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"#;
    let lines = [
        serde_json::json!({"domain":"a.example","status":"timeout","mx":[],"error":format!("late {markup}"),"source":"list.txt:1"}),
        serde_json::json!({"domain":"b.example","status":"ok","mx":[{"preference":10,"exchange":"mx.b.example","addresses":["192.0.2.1"]}],"error":null,"source":"list.txt:2",
            "problems":[{"code":"cname_target","exchange":"mx.b.example","message":format!("alias </td></tr></table>{markup}")}]}),
        serde_json::json!({"domain":format!("c{markup}.example"),"status":"invalid","mx":[],"error":format!("bad \u{1b}[2J {markup}"),"input":"x","source":"list.txt:3"}),
    ];
    std::fs::write(
        &saved,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let out = mxlookup()
        .args(["report", "--format", "html"])
        .arg(&saved)
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    let page = dir.path().join("evil.html");
    std::fs::write(&page, &html).unwrap();
    // One script, the report's own; the hostile text is escaped.
    assert_eq!(html.matches("<script>").count(), 1, "{html}");
    assert!(html.contains("&#60;img src=x"), "{html}");
    let dom = dump(&page, "");
    assert!(
        dom.contains("<title>mxlookup report: 3 domains</title>"),
        "{dom}"
    );
    assert!(!dom.contains("pwned</title>"));
    assert!(
        !dom.contains("<img"),
        "markup from the saved file became an element: {dom}"
    );
    assert_eq!(dom.matches("<script>").count(), 1);
    // The text is there, as text, and the table held together.
    assert!(
        dom.contains("alias &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img"),
        "{dom}"
    );
    // Two header rows, one provider, three domains: nothing closed early.
    assert_eq!(dom.matches("<tr>").count(), 2 + 1 + 3, "{dom}");
    assert!(!dom.contains('\u{1b}'));
}

#[test]
fn the_report_of_a_real_audit_searches_sorts_and_shows_its_charts() {
    let w = crate::dane::world();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let domains = [
        "good.sec.test",
        "one.sec.test",
        "pkix.sec.test",
        "partial.sec.test",
        "bogus.sec.test",
        "plain.test",
        "lapsed.test",
        "lapsed2.test",
    ];
    let out = mxlookup()
        .args([
            "-n",
            &w.unbound.addr.to_string(),
            "--audit",
            "--format",
            "html",
        ])
        .args(domains)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    std::fs::write(&page, &out.stdout).unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    // Self-contained: nothing to fetch.
    for outside in ["http://", "https://", "src=", "href="] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
    let dom = dump(&page, "");
    assert!(dom.contains("8 of 8 shown"), "the script ran: {dom}");
    // The charts: a bar per status and per finding, with its count.
    assert!(dom.contains(r#"<span>servfail</span>"#), "{dom}");
    assert!(dom.contains("dane_no_rollover"), "{dom}");
    assert!(dom.contains("exchange_domain_unregistered"), "{dom}");
    // Providers by registrable domain: sec.test carries four domains'
    // mail (the fifth's lookup failed), gone.test two.
    assert!(
        dom.contains(r#"<td class="mono">sec.test</td><td class="n">4</td>"#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"<td class="mono">gone.test</td><td class="n">2</td>"#),
        "{dom}"
    );
    // DNSSEC and DANE per domain.
    assert!(
        dom.contains("DNSSEC secure · DANE mx.good.sec.test usable (2 TLSA)"),
        "{dom}"
    );
    // Search, from the address: one row shown, the others hidden.
    let found = dump(&page, "#q=lapsed2");
    assert!(found.contains("1 of 8 shown"), "{found}");
    assert_eq!(found.matches("<tr hidden=\"\">").count(), 7, "{found}");
    // Sort by the findings column, most first.
    let sorted = dump(&page, "#sort=-5");
    let body = sorted.split("<tbody>").nth(2).unwrap();
    let counts: Vec<usize> = body
        .split("</tr>")
        .filter_map(|row| row.split("data-value=\"").nth(1))
        .map(|v| v[..v.find('"').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 8, "{body}");
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(counts[0] >= 2, "{counts:?}");
    assert!(sorted.contains(r#"aria-sort="descending""#), "{sorted}");
    // And a picture of it.
    let png = dir.path().join("report.png");
    chromium(&[
        &format!("--screenshot={}", png.display()),
        &format!("file://{}", page.display()),
    ]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    // The README's picture is this one: MXLOOKUP_README_SCREENSHOT=docs/report.png.
    if let Ok(to) = std::env::var("MXLOOKUP_README_SCREENSHOT") {
        std::fs::write(to, &bytes).unwrap();
    }
}
