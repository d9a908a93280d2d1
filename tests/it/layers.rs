//! The layers of `src/`, bottom to top, as `docs/DESIGN.md` describes
//! them: every `crate::` path in the library's code points to its own
//! room or to a room below it, so no two rooms import each other and no
//! import climbs. Unit-test modules (`mod tests` at the end of a file,
//! `properties.rs`, `testing.rs`) may reach anywhere. Run it alone with
//! `cargo test --test it layers`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Rooms (top-level files and folders of `src/`), bottom first.
const LAYERS: &[&str] = &[
    "text", "name", "error", "resolver", "outcome", "limiter", "input", "engine", "audit",
    "pipeline", "saved", "report",
];

/// Rooms that are not layers: the crate root, test and fuzz helpers, and
/// the binary's command line (which imports the library as `mxlookup::`).
const OUTSIDE: &[&str] = &["lib", "main", "testing", "fuzzing", "cli"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_import_points_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut climbs = BTreeSet::new();
    let mut rooms_seen = BTreeSet::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let room = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let file = rel.file_name().unwrap().to_string_lossy().to_string();
        if OUTSIDE.contains(&room.as_str()) || file == "properties.rs" {
            continue;
        }
        let rank = LAYERS.iter().position(|l| *l == room).unwrap_or_else(|| {
            panic!(
                "{room} (src/{}) is in no layer: add it to LAYERS and to docs/DESIGN.md",
                rel.display()
            )
        });
        rooms_seen.insert(room.clone());
        let text = code(&std::fs::read_to_string(&path).unwrap());
        for (i, _) in text.match_indices("crate::") {
            let target: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let Some(to) = LAYERS.iter().position(|l| *l == target) else {
                // A macro (`crate::safe!`) or an item of the root.
                continue;
            };
            if to > rank {
                climbs.insert(format!("src/{} ({room}) imports {target}", rel.display()));
            }
        }
    }
    assert!(
        climbs.is_empty(),
        "imports that climb a layer:\n{}",
        climbs.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        rooms_seen.len(),
        LAYERS.len(),
        "every layer has code: {rooms_seen:?}"
    );
}

#[test]
fn the_design_document_names_the_layers_in_order() {
    let design =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/DESIGN.md"))
            .unwrap();
    let mut at = 0;
    for layer in LAYERS {
        let needle = format!("`{layer}");
        let found = design[at..].find(&needle).unwrap_or_else(|| {
            panic!("docs/DESIGN.md does not name `{layer}` after the layers before it")
        });
        at += found;
    }
}
