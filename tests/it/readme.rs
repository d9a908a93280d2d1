//! The README stays true: its examples are run against the zone they were
//! made from (examples/example.zone) and must print what it shows; its
//! table of findings says what the code says, code by code; its table of
//! flags names every flag `--help` has.

use crate::support::*;

const README: &str = include_str!("../../README.md");

/// The README's shell examples against 127.0.0.1:5300: the command's
/// arguments and the lines it shows.
fn examples() -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    let mut lines = README.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(command) = line.strip_prefix("$ mxlookup @127.0.0.1:5300 ") else {
            continue;
        };
        let mut shown = Vec::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("```") || next.starts_with("$ ") {
                break;
            }
            shown.push(lines.next().unwrap().to_string());
        }
        found.push((split(command), shown));
    }
    found
}

/// Words, with "double quotes" keeping spaces.
fn split(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn the_examples_print_what_the_readme_shows() {
    let zone = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/example.zone"
    ))
    .unwrap();
    let server = ZoneServer::start("example.", &zone);
    let examples = examples();
    assert!(examples.len() >= 5, "{} examples found", examples.len());
    for (args, shown) in examples {
        let out = mxlookup()
            .arg(format!("@{}", server.addr))
            .args(&args)
            .env("COLUMNS", "200")
            .output()
            .unwrap();
        // Timings differ from run to run; everything else must not.
        let keep = |l: &&str| !l.contains("lookups/s");
        let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .filter(keep)
            .map(|l| l.replace(&server.addr.to_string(), "127.0.0.1:5300"))
            .collect();
        let mut want: Vec<String> = shown
            .iter()
            .map(String::as_str)
            .filter(keep)
            .map(String::from)
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "mxlookup {}", args.join(" "));
    }
}

#[test]
fn the_table_of_findings_is_the_code_s() {
    use mxlookup::outcome::{Code, Severity};
    for code in Code::ALL {
        let severity = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Unknown => "unknown",
        };
        let row = format!("| `{}` | {severity} | {} |", code.as_str(), code.meaning());
        assert!(
            README.contains(&row),
            "the README lacks, or says otherwise:\n{row}"
        );
    }
}

#[test]
fn the_table_of_flags_names_every_flag() {
    let help = String::from_utf8(mxlookup().arg("--help").output().unwrap().stdout).unwrap();
    let flags = README
        .split("## Flags")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    for word in help.split_whitespace() {
        let flag = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        if flag.starts_with("--") && flag.len() > 2 && !["--help", "--version"].contains(&flag) {
            let flag = flag.split('=').next().unwrap();
            let named = [' ', '`', ',']
                .iter()
                .any(|end| flags.contains(&format!("{flag}{end}")));
            assert!(named, "{flag} is not in the README's flags");
        }
    }
}
