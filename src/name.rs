//! Domain names as mxlookup prints and compares them: lower-case ASCII
//! presentation form, no trailing dot, and every byte that is not a letter,
//! digit, hyphen or underscore escaped (`\.`, `\\`, `\DDD`), so that nothing
//! read from the network or from input can move a terminal's cursor. Any
//! other text that is shown is a [`SafeText`].

use crate::text::{SafeText, is_invisible};
use std::fmt;

/// Longest label on the wire (RFC 1035).
pub const MAX_LABEL: usize = 63;
/// Longest name on the wire, length octets and root included (RFC 1035).
pub const MAX_WIRE: usize = 255;

/// A valid domain name in canonical presentation form: lower-case, escaped,
/// without the trailing dot. Two names are the same domain exactly when
/// their canonical forms are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(Box<str>);

impl DomainName {
    /// The canonical presentation form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parse an ASCII name in presentation form (escapes allowed, trailing
    /// dot optional) into canonical form.
    pub fn parse_ascii(text: &str) -> Result<DomainName, String> {
        let labels = parse_labels(text)?;
        Ok(DomainName::from_labels(labels.iter().map(Vec::as_slice)))
    }

    /// Build the canonical form from raw labels (not including the root);
    /// no labels at all is the root, `"."`.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a [u8]>) -> DomainName {
        DomainName(presentation(labels).into_boxed_str())
    }

    /// The root name, `"."`: the exchange of a null MX (RFC 7505).
    pub fn root() -> DomainName {
        DomainName(Box::from("."))
    }

    /// Whether this is the root (`.`).
    pub fn is_root(&self) -> bool {
        &*self.0 == "."
    }

    /// Build the canonical form from a name in wire form (length-prefixed
    /// labels ending with the root octet, no compression).
    pub fn from_wire(wire: &[u8]) -> DomainName {
        // The usual case: lower-case letters, digits, `-` and `_` only. The
        // name is then its wire form with the inner length octets turned
        // into dots.
        let mut end = 0;
        let mut plain = true;
        while let Some(&len) = wire.get(end) {
            let Some(label) = wire.get(end + 1..end + 1 + usize::from(len)) else {
                plain = false;
                break;
            };
            if len == 0 {
                break;
            }
            plain &= label
                .iter()
                .all(|&b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
            end += 1 + usize::from(len);
        }
        if plain && end > 0 {
            let mut out = wire[1..end].to_vec();
            let mut dot = usize::from(wire[0]);
            while dot < out.len() {
                let next = dot + 1 + usize::from(out[dot]);
                out[dot] = b'.';
                dot = next;
            }
            return DomainName::from_presentation(ascii_string(out));
        }
        // A name with nothing to escape is exactly this long.
        let mut out = Vec::with_capacity(wire.len().saturating_sub(2).max(1));
        for label in wire_labels(wire) {
            if !out.is_empty() {
                out.push(b'.');
            }
            escape_bytes(&mut out, label);
        }
        DomainName::from_presentation(ascii_string(out))
    }

    /// Wrap a name already in canonical presentation form (made by
    /// [`escape_bytes`] from raw labels); empty is the root.
    pub(crate) fn from_presentation(mut text: String) -> DomainName {
        if text.is_empty() {
            text.push('.');
        }
        DomainName(text.into_boxed_str())
    }

    /// Append the wire form of the name: length-prefixed labels, then the
    /// root. Reads the canonical form directly, without allocating.
    pub fn write_wire(&self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.is_root() {
            out.push(0);
            return Ok(());
        }
        let bytes = self.0.as_bytes();
        if !bytes.contains(&b'\\') {
            // Nothing escaped: the labels are the text between the dots,
            // already checked to fit when the name was made.
            for label in bytes.split(|&b| b == b'.') {
                out.push(label.len() as u8);
                out.extend_from_slice(label);
            }
            out.push(0);
            return Ok(());
        }
        let start = out.len();
        let mut len_at = out.len();
        out.push(0);
        let bytes = self.0.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = match bytes[i] {
                b'.' => {
                    len_at = out.len();
                    out.push(0);
                    i += 1;
                    continue;
                }
                b'\\' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    let at = i;
                    let d =
                        |k: usize| u32::from(bytes.get(at + k).map_or(0, |c| c.wrapping_sub(b'0')));
                    i += 4;
                    (d(1) * 100 + d(2) * 10 + d(3)) as u8
                }
                b'\\' => {
                    i += 2;
                    bytes.get(i - 1).copied().unwrap_or(b'\\')
                }
                b => {
                    i += 1;
                    b
                }
            };
            out.push(b);
            out[len_at] += 1;
            if out[len_at] as usize > MAX_LABEL {
                return Err(format!("a label is longer than {MAX_LABEL} bytes"));
            }
        }
        out.push(0);
        if out.len() - start > MAX_WIRE {
            return Err(format!("the name is longer than {MAX_WIRE} bytes"));
        }
        Ok(())
    }

    /// Raw labels, unescaped, for building a wire-format name.
    pub fn labels(&self) -> Vec<Vec<u8>> {
        if self.is_root() {
            return Vec::new();
        }
        // The canonical form always parses: it was made by `escape_label`.
        parse_labels(&self.0).unwrap_or_default()
    }

    /// The name in wire form.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 2);
        // A canonical name always fits: it was checked when it was made.
        let _ = self.write_wire(&mut out);
        out
    }
}

/// The labels of a name in wire form, stopping at the root octet or at
/// anything malformed.
pub fn wire_labels(wire: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = wire;
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let label = tail.get(..usize::from(len)).filter(|l| !l.is_empty())?;
        rest = &tail[label.len()..];
        Some(label)
    })
}

impl serde::Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DomainName {
    /// A name in presentation form, checked (escapes allowed); `"."` is the
    /// root.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DomainName, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        if text == "." {
            return Ok(DomainName::root());
        }
        DomainName::parse_ascii(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "'{}' is not a domain name: {e}",
                SafeText::new(&text)
            ))
        })
    }
}

impl From<&DomainName> for SafeText {
    /// A name is escaped already: no second pass.
    fn from(name: &DomainName) -> SafeText {
        SafeText::trusted(name.as_str().to_string())
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Append one label in canonical escaped form, as ASCII bytes.
fn escape_bytes(out: &mut Vec<u8>, label: &[u8]) {
    // The usual case: a label of lower-case letters, digits, `-`, `_`.
    if label
        .iter()
        .all(|&b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'))
    {
        out.extend_from_slice(label);
        return;
    }
    for &b in label {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => out.push(b),
            b'A'..=b'Z' => out.push(b.to_ascii_lowercase()),
            b'.' => out.extend_from_slice(b"\\."),
            b'\\' => out.extend_from_slice(b"\\\\"),
            _ => out.extend_from_slice(&[b'\\', b'0' + b / 100, b'0' + b / 10 % 10, b'0' + b % 10]),
        }
    }
}

/// Bytes that [`escape_bytes`] wrote, as a string.
fn ascii_string(bytes: Vec<u8>) -> String {
    debug_assert!(bytes.is_ascii());
    #[allow(unsafe_code)]
    // SAFETY: `escape_bytes` writes only ASCII bytes (letters, digits, `-`,
    // `_`, `.`, `\\`), and ASCII is valid UTF-8. This is the hot path of
    // every answer read; validating again costs as much as the escaping.
    unsafe {
        String::from_utf8_unchecked(bytes)
    }
}

/// Presentation form of a name given as raw labels; the root is `"."`.
pub fn presentation<'a>(labels: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut out = Vec::new();
    for (i, label) in labels.into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        escape_bytes(&mut out, label);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    ascii_string(out)
}

/// Split presentation form into raw labels, checking the RFC 1035 limits.
/// Unescaped, only letters, digits, `-` and `_` are accepted; any other
/// byte must be written as `\DDD` or `\X`.
fn parse_labels(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let text = strip_root_dot(text);
    if text.is_empty() {
        return Err("empty name".to_string());
    }
    let bytes = text.as_bytes();
    let mut labels = Vec::new();
    let mut label = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'.' => {
                if label.is_empty() {
                    return Err("empty label (two dots in a row, or a leading dot)".to_string());
                }
                labels.push(std::mem::take(&mut label));
                i += 1;
                continue;
            }
            b'\\' => {
                let rest = &bytes[i + 1..];
                if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                    let v = u32::from(rest[0] - b'0') * 100
                        + u32::from(rest[1] - b'0') * 10
                        + u32::from(rest[2] - b'0');
                    let v = u8::try_from(v).map_err(|_| format!("escape \\{v} is above 255"))?;
                    label.push(v);
                    i += 4;
                } else if let Some(&c) = rest.first() {
                    if c.is_ascii_digit() {
                        return Err("an escape \\DDD needs three digits".to_string());
                    }
                    if !c.is_ascii() {
                        return Err(
                            "a backslash must be followed by three digits or an ASCII character"
                                .to_string(),
                        );
                    }
                    label.push(c);
                    i += 2;
                } else {
                    return Err("the name ends with a lone backslash".to_string());
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => {
                label.push(b);
                i += 1;
            }
            _ => return Err(describe_bad_char(text, i)),
        }
        if label.len() > MAX_LABEL {
            return Err(format!("a label is longer than {MAX_LABEL} bytes"));
        }
    }
    if label.is_empty() {
        return Err("empty label".to_string());
    }
    labels.push(label);
    let wire: usize = labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1;
    if wire > MAX_WIRE {
        return Err(format!("the name is longer than {MAX_WIRE} bytes"));
    }
    Ok(labels)
}

/// Drop the trailing dot of a fully qualified name, but not an escaped
/// dot (`a\.`), which belongs to the last label.
fn strip_root_dot(text: &str) -> &str {
    match text.strip_suffix('.') {
        Some(rest) => {
            let backslashes = rest.bytes().rev().take_while(|b| *b == b'\\').count();
            if backslashes % 2 == 0 { rest } else { text }
        }
        None => text,
    }
}

fn describe_bad_char(text: &str, at: usize) -> String {
    let c = text.get(at..).and_then(|t| t.chars().next()).unwrap_or('?');
    let shown = match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        c if is_invisible(c) => {
            format!("the control character \\u{{{:x}}}", c as u32)
        }
        c => format!("'{c}'"),
    };
    format!("contains {shown}, which is not allowed in a domain name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_lowercases_and_drops_the_root_dot() {
        let n = DomainName::parse_ascii("Mail.Example.COM.").unwrap();
        assert_eq!(n.as_str(), "mail.example.com");
        assert_eq!(
            DomainName::parse_ascii("_dmarc.x-y.org").unwrap().as_str(),
            "_dmarc.x-y.org"
        );
    }

    #[test]
    fn an_escaped_final_dot_is_part_of_the_label() {
        let n = DomainName::parse_ascii("eboc\\..").unwrap();
        assert_eq!(n.labels(), vec![b"eboc.".to_vec()]);
        assert_eq!(DomainName::parse_ascii(n.as_str()).unwrap(), n);
        let n = DomainName::parse_ascii("a\\\\.").unwrap();
        assert_eq!(n.labels(), vec![b"a\\".to_vec()]);
    }

    #[test]
    fn wire_form_matches_the_labels() {
        for text in [
            "a",
            "Mail.Example.COM",
            "a\\.b\\065\\007.example",
            "eboc\\..",
            "a\\\\.b",
            "x\\255\\000.y",
        ] {
            let n = DomainName::parse_ascii(text).unwrap();
            let mut expected = Vec::new();
            for label in n.labels() {
                expected.push(label.len() as u8);
                expected.extend_from_slice(&label);
            }
            expected.push(0);
            let mut wire = vec![0xAA];
            n.write_wire(&mut wire).unwrap();
            assert_eq!(wire[1..], expected[..], "{text}");
        }
    }

    #[test]
    fn escapes_round_trip() {
        let n = DomainName::parse_ascii("a\\.b\\065\\007.example").unwrap();
        assert_eq!(n.as_str(), "a\\.ba\\007.example");
        assert_eq!(n.labels()[0], b"a.ba\x07");
        assert_eq!(DomainName::parse_ascii(n.as_str()).unwrap(), n);
    }

    #[test]
    fn rejects_what_is_not_a_name() {
        for (bad, why) in [
            ("", "empty"),
            ("a..b", "empty label"),
            (".a", "empty label"),
            ("exa mple.com", "a space"),
            ("a/b.com", "'/'"),
            ("a\\256.com", "above 255"),
            ("a\\1.com", "three digits"),
            ("a\\", "lone backslash"),
            ("a\\é.com", "ASCII character"),
        ] {
            let err = DomainName::parse_ascii(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        assert!(
            DomainName::parse_ascii(&long_label)
                .unwrap_err()
                .contains("63")
        );
        let long_name = vec!["a".repeat(63); 4].join(".");
        assert!(
            DomainName::parse_ascii(&long_name)
                .unwrap_err()
                .contains("255")
        );
        let just_fits = format!("{}.{}", vec!["a".repeat(63); 3].join("."), "a".repeat(61));
        assert!(DomainName::parse_ascii(&just_fits).is_ok());
    }

    #[test]
    fn presentation_escapes_every_unprintable_byte() {
        let labels: [&[u8]; 2] = [b"m\x1b[2J\x00x", b"EXAMPLE"];
        assert_eq!(presentation(labels), "m\\027\\0912j\\000x.example");
        assert_eq!(presentation(std::iter::empty::<&[u8]>()), ".");
    }

    #[test]
    fn names_from_the_wire_are_escaped_ascii() {
        let wire = b"\x03M\xffx\x04a.\\b\x00";
        let n = DomainName::from_wire(wire);
        assert_eq!(n.as_str(), "m\\255x.a\\.\\\\b");
        assert_eq!(DomainName::parse_ascii(n.as_str()).unwrap(), n);
        let mut all = vec![255u8];
        all.extend(0..=254u8);
        let mut w = vec![63];
        w.extend_from_slice(&all[..63]);
        w.push(0);
        assert!(DomainName::from_wire(&w).as_str().is_ascii());
    }

    #[test]
    fn the_root_has_a_name_and_a_wire_form() {
        let root = DomainName::root();
        assert_eq!(root.as_str(), ".");
        assert!(root.is_root());
        assert_eq!(root.to_wire(), vec![0]);
        assert!(root.labels().is_empty());
        assert_eq!(DomainName::from_wire(&[0]), root);
        let n = DomainName::from_wire(b"\x02Mx\x07Example\x00");
        assert_eq!(n.as_str(), "mx.example");
        assert_eq!(n.to_wire(), b"\x02mx\x07example\x00");
        assert!(
            DomainName::parse_ascii(".").is_err(),
            "the root is not a domain to look up"
        );
    }
}
