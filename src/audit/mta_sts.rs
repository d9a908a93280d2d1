//! MTA-STS (RFC 8461), read exactly as a sending server reads it: the
//! `_mta-sts` TXT record (§3.1), the policy file (§3.2), and whether a
//! policy's `mx` patterns cover an exchange (§4.1). Pure: no I/O.

use crate::name::DomainName;
use crate::outcome::Mode;
use crate::text::SafeText;

/// The longest `max_age` a policy may give (about a year, §3.2).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// The most a policy file may be: past this, senders need not read it.
pub const MAX_POLICY: usize = 64 * 1024;

/// A `v=STSv1` record: its policy `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1 to 32 letters and digits; a new one tells senders to fetch the
    /// policy again.
    pub id: String,
}

/// What the `_mta-sts` TXT records say, per §3.1: only records that start
/// with `v=STSv1` count; exactly one must, and parse.
pub fn record(txts: &[&[u8]]) -> Result<Option<Record>, SafeText> {
    let counting: Vec<&[u8]> = txts
        .iter()
        .copied()
        .filter(|t| t.starts_with(b"v=STSv1"))
        .collect();
    match counting[..] {
        [] => Ok(None),
        [one] => parse_record(one).map(Some),
        _ => Err(crate::safe!(
            "{} TXT records start with v=STSv1; there must be exactly one",
            counting.len()
        )),
    }
}

/// One record: `v=STSv1` then `;`-separated fields (`*WSP ";" *WSP`), one
/// of them `id=`, others ignored if well-formed.
fn parse_record(bytes: &[u8]) -> Result<Record, SafeText> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SafeText::from_static("the v=STSv1 record is not ASCII text"))?;
    let quoted = || SafeText::new(text);
    let mut fields = text.split(';').map(|f| f.trim_matches([' ', '\t']));
    if fields.next() != Some("v=STSv1") {
        return Err(crate::safe!("'{}': it must begin 'v=STSv1;'", quoted()));
    }
    let mut id = None;
    for (i, field) in fields.enumerate() {
        if field.is_empty() {
            // A trailing delimiter is allowed, an empty field elsewhere is not.
            if text.trim_end_matches([' ', '\t']).ends_with(';') && i + 2 == text.split(';').count()
            {
                continue;
            }
            return Err(crate::safe!("'{}': an empty field", quoted()));
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(crate::safe!("'{}': a field without '='", quoted()));
        };
        if name == "id" {
            if id.is_some() {
                return Err(crate::safe!("'{}': id given twice", quoted()));
            }
            if value.is_empty()
                || value.len() > 32
                || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(crate::safe!(
                    "'{}': the id must be 1 to 32 letters and digits",
                    quoted()
                ));
            }
            id = Some(value.to_string());
        } else if !extension(name, value) {
            return Err(crate::safe!(
                "'{}': a malformed field '{}'",
                quoted(),
                SafeText::new(field)
            ));
        }
    }
    id.map(|id| Record { id })
        .ok_or_else(|| crate::safe!("'{}': no id", quoted()))
}

/// An extension field, `sts-ext-name "=" sts-ext-value`: a name of a
/// letter or digit then up to 31 of letters, digits, `_`, `-`, `.`; a
/// value of printable ASCII but `;` and `=`.
fn extension(name: &str, value: &str) -> bool {
    let n = name.as_bytes();
    !n.is_empty()
        && n.len() <= 32
        && n[0].is_ascii_alphanumeric()
        && n.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=')
}

/// A policy file, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `enforce`, `testing` or `none`.
    pub mode: Mode,
    /// How long senders may cache it, in seconds.
    pub max_age: u64,
    /// The `mx` patterns, in order (lower case, no trailing dot).
    pub mx: Vec<String>,
}

/// Parse a policy file (§3.2): `key: value` lines ending in LF or CRLF;
/// `version: STSv1`, a `mode`, a `max_age`, and `mx` patterns (at least
/// one unless the mode is `none`). Unknown keys are ignored; a known key
/// other than `mx` given twice is an error.
pub fn policy(bytes: &[u8]) -> Result<Policy, SafeText> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SafeText::from_static("the policy is not text (not UTF-8)"))?;
    let (mut version, mut mode, mut max_age) = (None, None, None);
    let mut mx = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(crate::safe!(
                "line {n}: a control character in '{}'",
                SafeText::new(line)
            ));
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(crate::safe!(
                "line {n}: '{}' is not 'key: value'",
                SafeText::new(line)
            ));
        };
        let value = value.trim_matches([' ', '\t']);
        let once = |slot: &mut Option<String>, key: &str| -> Result<(), SafeText> {
            if slot.replace(value.to_string()).is_some() {
                return Err(crate::safe!("line {n}: {key} given twice"));
            }
            Ok(())
        };
        match key {
            "version" => once(&mut version, key)?,
            "mode" => once(&mut mode, key)?,
            "max_age" => once(&mut max_age, key)?,
            "mx" => mx.push(pattern(value).ok_or_else(|| {
                crate::safe!(
                    "line {n}: '{}' is not an mx pattern (a name, or *. and a name)",
                    SafeText::new(value)
                )
            })?),
            // Unknown keys are ignored (§3.2), if they are keys.
            _ if !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => {}
            _ => {
                return Err(crate::safe!(
                    "line {n}: '{}' is not a key",
                    SafeText::new(key)
                ));
            }
        }
    }
    match version.as_deref() {
        Some("STSv1") => {}
        Some(v) => return Err(crate::safe!("version '{}', not STSv1", SafeText::new(v))),
        None => return Err(SafeText::from_static("no version (version: STSv1)")),
    }
    let mode = match mode.as_deref() {
        Some("enforce") => Mode::Enforce,
        Some("testing") => Mode::Testing,
        Some("none") => Mode::None,
        Some(m) => {
            return Err(crate::safe!(
                "mode '{}': not enforce, testing or none",
                SafeText::new(m)
            ));
        }
        None => return Err(SafeText::from_static("no mode")),
    };
    let max_age = match max_age.as_deref() {
        Some(a) if !a.is_empty() && a.len() <= 10 && a.bytes().all(|b| b.is_ascii_digit()) => {
            let v: u64 = a.parse().unwrap_or(u64::MAX);
            if v > MAX_AGE_LIMIT {
                return Err(crate::safe!("max_age {v} is more than {MAX_AGE_LIMIT}"));
            }
            v
        }
        Some(a) => {
            return Err(crate::safe!(
                "max_age '{}' is not a number of seconds",
                SafeText::new(a)
            ));
        }
        None => return Err(SafeText::from_static("no max_age")),
    };
    if mx.is_empty() && mode != Mode::None {
        return Err(crate::safe!(
            "no mx pattern, and the mode is {}",
            mode.as_str()
        ));
    }
    Ok(Policy { mode, max_age, mx })
}

/// An `mx` pattern: a domain name, optionally `*.` before it; lower case,
/// without a trailing dot. `None` if it is not one.
fn pattern(value: &str) -> Option<String> {
    let (wild, name) = match value.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if name.contains('*') || name.contains('\\') {
        return None;
    }
    let name = DomainName::parse_ascii(name).ok()?;
    Some(if wild {
        format!("*.{name}")
    } else {
        name.to_string()
    })
}

/// Whether the `mx` pattern `pattern` covers `host` (§4.1): the same name,
/// ignoring case and the trailing dot; or, for `*.rest`, `rest` with
/// exactly one more label in front. No suffix or substring matching; an
/// IP address written as a pattern matches nothing.
pub fn covers(pattern: &str, host: &DomainName) -> bool {
    let host = host.as_str();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => host == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> DomainName {
        DomainName::parse_ascii(s).unwrap()
    }

    #[test]
    fn the_record_must_be_exactly_one_v_stsv1_with_an_id() {
        assert_eq!(
            record(&[b"v=STSv1; id=20240101T00"]).unwrap().unwrap().id,
            "20240101T00"
        );
        assert_eq!(record(&[b"v=STSv1;id=abc;"]).unwrap().unwrap().id, "abc");
        assert_eq!(
            record(&[b"v=STSv1; id=abc; ext=foo.bar"])
                .unwrap()
                .unwrap()
                .id,
            "abc"
        );
        // Records that do not start with v=STSv1 do not count.
        assert_eq!(
            record(&[b"v=spf1 -all", b"v=STSv1; id=x1"])
                .unwrap()
                .unwrap()
                .id,
            "x1"
        );
        assert_eq!(record(&[b"v=spf1 -all"]).unwrap(), None);
        assert_eq!(record(&[]).unwrap(), None);
        for (bad, why) in [
            (
                &[&b"v=STSv1; id=a"[..], b"v=STSv1; id=b"][..],
                "exactly one",
            ),
            (&[&b"v=STSv1"[..]], "no id"),
            (&[&b"v=STSv1; id="[..]], "1 to 32"),
            (&[&b"v=STSv1; id=abc-def"[..]], "1 to 32"),
            (
                &[&b"v=STSv1; id=123456789012345678901234567890123"[..]],
                "1 to 32",
            ),
            (&[&b"v=STSv1; id=a; id=b"[..]], "twice"),
            (&[&b"v=STSv1; id=a;; x=y"[..]], "empty field"),
            (&[&b"v=STSv1; id=a; junk"[..]], "without '='"),
            (&[&b"v=STSv1x; id=a"[..]], "begin"),
            (&[&b"v=STSv1; id=a; e=a;b"[..]], ""),
            (&[&b"v=STSv1; id=\xff"[..]], "ASCII"),
        ] {
            let e = record(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_policy_is_read_with_either_line_ending_and_unknown_keys_ignored() {
        let p = policy(b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET.\r\nmax_age: 604800\r\nfuture: yes\r\n").unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.max_age, 604_800);
        assert_eq!(p.mx, vec!["mail.example.com", "*.example.net"]);
        let p = policy(b"version: STSv1\nmode: none\nmax_age: 0").unwrap();
        assert_eq!((p.mode, p.mx.len()), (Mode::None, 0));
        for (bad, why) in [
            (
                &b"mode: enforce\nmx: a.example\nmax_age: 1\n"[..],
                "no version",
            ),
            (
                b"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                "not STSv1",
            ),
            (
                b"version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",
                "not enforce",
            ),
            (b"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx"),
            (
                b"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
                "more than",
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
                "not a number",
            ),
            (
                b"version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n",
                "twice",
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a.exa\x00mple\nmax_age: 1\n",
                "control",
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: \x1b[2J.example\nmax_age: 1\n",
                "control",
            ),
            (
                b"version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
                "not an mx pattern",
            ),
            (
                b"version: STSv1\nmode: enforce\nmx a.example\nmax_age: 1\n",
                "key: value",
            ),
            (b"\xff\xfe binary", "not text"),
        ] {
            let e = policy(bad).unwrap_err();
            assert!(e.contains(why), "{:?}: {e}", String::from_utf8_lossy(bad));
            assert!(!e.chars().any(|c| c.is_control()), "{e:?}");
        }
    }

    #[test]
    fn patterns_match_exactly_one_extra_leftmost_label_and_nothing_else() {
        let covered = |p: &str, h: &str| covers(p, &name(h));
        assert!(covered("mail.example.com", "mail.example.com"));
        assert!(covered("Mail.Example.COM.", "mail.example.com"));
        assert!(covered("*.example.net", "a.example.net"));
        assert!(
            !covered("*.example.net", "a.b.example.net"),
            "one label, not several"
        );
        assert!(
            !covered("*.example.net", "example.net"),
            "one label, not none"
        );
        // checkdmarc's unanchored regular expression: a pattern covers a
        // longer name that merely contains it.
        assert!(!covered("mail.example.com", "mail.example.com.evil.net"));
        assert!(!covered("mail.example.com", "evilmail.example.com"));
        // mailauth's suffix match.
        assert!(!covered("example.com", "mx.example.com"));
        assert!(!covered("*.example.com", "evil-example.com"));
        assert!(
            !covered("192.0.2.1", "192.0.2.1"),
            "an IP address never matches"
        );
    }

    /// Found by the fuzzer: `*.` and a name of 251 bytes or more leaves no
    /// room for the label it stands for. Valid as written, so the policy
    /// stands (calling it invalid would be a false finding); it covers
    /// nothing, as an address written as a pattern does.
    #[test]
    fn a_wildcard_with_no_room_for_a_label_is_valid_and_covers_nothing() {
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(long.len(), 253);
        let text = format!("version: STSv1\nmode: enforce\nmx: *.{long}\nmax_age: 60\n");
        let p = policy(text.as_bytes()).expect("a valid policy");
        assert_eq!(p.mx, [format!("*.{long}")]);
        assert!(DomainName::parse_ascii(&format!("x.{long}")).is_err());
        assert!(!covers(&p.mx[0], &name(&long)));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn label() -> impl Strategy<Value = String> {
            "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
        }

        fn name() -> impl Strategy<Value = String> {
            proptest::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
        }

        proptest! {
            #[test]
            fn any_bytes_parse_or_say_why_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                if let Err(e) = policy(&bytes) {
                    prop_assert!(!e.chars().any(|c| c.is_control()));
                }
                let _ = record(&[&bytes]);
            }

            #[test]
            fn a_policy_written_out_reads_back(
                mode in prop_oneof![Just("enforce"), Just("testing")],
                max_age in 0u64..=MAX_AGE_LIMIT,
                mx in proptest::collection::vec((any::<bool>(), name()), 1..5),
                crlf in any::<bool>(),
            ) {
                let nl = if crlf { "\r\n" } else { "\n" };
                let patterns: Vec<String> = mx.iter().map(|(w, n)| if *w { format!("*.{n}") } else { n.clone() }).collect();
                let mut text = format!("version: STSv1{nl}mode: {mode}{nl}max_age: {max_age}{nl}");
                for p in &patterns {
                    text.push_str(&format!("mx: {p}{nl}"));
                }
                let p = policy(text.as_bytes()).unwrap();
                prop_assert_eq!(p.mode.as_str(), mode);
                prop_assert_eq!(p.max_age, max_age);
                prop_assert_eq!(p.mx, patterns);
            }

            #[test]
            fn a_wildcard_covers_exactly_one_more_label(first in label(), second in label(), base in name()) {
                let pattern = format!("*.{base}");
                let one = DomainName::parse_ascii(&format!("{first}.{base}")).unwrap();
                let two = DomainName::parse_ascii(&format!("{first}.{second}.{base}")).unwrap();
                let bare = DomainName::parse_ascii(&base).unwrap();
                prop_assert!(covers(&pattern, &one));
                prop_assert!(!covers(&pattern, &two));
                prop_assert!(!covers(&pattern, &bare));
                // A name covers itself only, not a name that contains it.
                prop_assert!(covers(&base, &bare));
                prop_assert!(!covers(&base, &one));
                let longer = DomainName::parse_ascii(&format!("{base}.{second}")).unwrap();
                prop_assert!(!covers(&base, &longer));
            }
        }
    }
}
