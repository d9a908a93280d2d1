//! Text that is safe to show: [`SafeText`] can only be made by escaping,
//! so a string from the network, from an input file or from a saved run
//! reaches a terminal, a CSV cell or an HTML page only escaped. Every
//! message, input line, file name and failure in the results is one; names
//! are [`DomainName`](crate::name::DomainName)s, which are escaped on the
//! way in too. Also [`escape_text`], the one escaping function.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// Text with every control, invisible, format and bidi character escaped
/// (`\u{1b}`), so that it cannot move a terminal's cursor, hide text or
/// reorder it. The only ways to make one escape what they are given; a
/// `String` cannot be put where a `SafeText` is wanted:
///
/// ```
/// use mxlookup::resolver::{Failure, FailureKind, Phase};
/// use mxlookup::text::SafeText;
/// let from_the_network = String::from("bad\u{1b}[2J");
/// let f = Failure { kind: FailureKind::Error, phase: Phase::Protocol, message: SafeText::new(&from_the_network), ede: Vec::new() };
/// assert_eq!(f.message.as_str(), "bad\\u{1b}[2J");
/// ```
///
/// ```compile_fail
/// use mxlookup::resolver::{Failure, FailureKind, Phase};
/// let from_the_network = String::from("bad\u{1b}[2J");
/// let f = Failure { kind: FailureKind::Error, phase: Phase::Protocol, message: from_the_network, ede: Vec::new() };
/// ```
///
/// Reading one back from a saved file (serde) escapes it again: a saved
/// run is untrusted input too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeText(Cow<'static, str>);

impl SafeText {
    /// `text`, escaped.
    pub fn new(text: &str) -> SafeText {
        match escaped(text) {
            Cow::Borrowed(t) => SafeText(Cow::Owned(t.to_string())),
            Cow::Owned(t) => SafeText(Cow::Owned(t)),
        }
    }

    /// A message written in the code: no copy when, as it should be, it has
    /// nothing to escape.
    pub fn from_static(text: &'static str) -> SafeText {
        match escaped(text) {
            Cow::Borrowed(t) => SafeText(Cow::Borrowed(t)),
            Cow::Owned(t) => SafeText(Cow::Owned(t)),
        }
    }

    /// Text built with `format!` from other safe parts and words of our
    /// own: escaped once more (escaping is idempotent: an escape sequence
    /// is printable).
    pub fn format(args: fmt::Arguments<'_>) -> SafeText {
        match args.as_str() {
            Some(s) => SafeText::from_static(s),
            None => SafeText::from(args.to_string()),
        }
    }

    /// Text that is escaped already (a domain name's presentation form).
    pub(crate) fn trusted(text: String) -> SafeText {
        debug_assert!(matches!(escaped(&text), Cow::Borrowed(_)));
        SafeText(Cow::Owned(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SafeText {
    /// Escapes, reusing the string when there is nothing to escape.
    fn from(text: String) -> SafeText {
        match escaped(&text) {
            Cow::Borrowed(_) => SafeText(Cow::Owned(text)),
            Cow::Owned(t) => SafeText(Cow::Owned(t)),
        }
    }
}

impl From<&str> for SafeText {
    fn from(text: &str) -> SafeText {
        SafeText::new(text)
    }
}

impl fmt::Display for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for SafeText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for SafeText {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SafeText {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl AsRef<str> for SafeText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for SafeText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SafeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SafeText, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        Ok(SafeText::new(&text))
    }
}

/// `safe!("... {} ...", x)`: a [`SafeText`] from a format string.
#[macro_export]
macro_rules! safe {
    ($($arg:tt)*) => {
        $crate::text::SafeText::format(format_args!($($arg)*))
    };
}

/// `text` with every character that [`is_invisible`] escaped as `\u{..}`;
/// borrowed when there is nothing to escape.
fn escaped(text: &str) -> Cow<'_, str> {
    // The usual case: printable ASCII, nothing to escape.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(text);
    }
    if !text.chars().any(is_invisible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_invisible(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Make arbitrary text safe for a terminal: control characters (C0, DEL,
/// C1) and every invisible, format or bidi character (see [`is_invisible`])
/// become `\u{..}` escapes. Prefer [`SafeText`], which keeps the fact that
/// it was done in its type.
pub fn escape_text(text: &str) -> String {
    escaped(text).into_owned()
}

/// A character that a terminal would not show as itself: controls (C0,
/// DEL, C1), the line and paragraph separators, and the format characters
/// that hide text or reorder it (soft hyphen, Arabic letter mark, Mongolian
/// vowel separator, zero-width and bidi controls, word joiners and
/// invisible operators, variation selectors, the byte-order mark,
/// interlinear annotations and the tag characters). The list follows fd's
/// `sanitize.rs`, and adds the fillers that render blank.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fffb}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_text_neutralises_controls() {
        assert_eq!(
            escape_text("a\u{1b}[31mb\u{202e}c"),
            "a\\u{1b}[31mb\\u{202e}c"
        );
    }

    #[test]
    fn escape_text_covers_every_invisible_and_bidi_character() {
        for c in [
            '\u{00ad}',
            '\u{061c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200e}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{2060}',
            '\u{2066}',
            '\u{206f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
            '\u{85}',
            '\u{9b}',
        ] {
            let escaped = escape_text(&format!("a{c}b"));
            assert_eq!(
                escaped,
                format!("a\\u{{{:x}}}b", c as u32),
                "{:x}",
                c as u32
            );
        }
        // Ordinary letters of any script stay as they are.
        assert_eq!(escape_text("bücher 例え ÉCOLE"), "bücher 例え ÉCOLE");
    }

    #[test]
    fn safe_text_is_escaped_however_it_is_made_and_read() {
        let raw = "evil\u{1b}]0;title\u{7}\u{202e}";
        let want = "evil\\u{1b}]0;title\\u{7}\\u{202e}";
        assert_eq!(SafeText::new(raw).as_str(), want);
        assert_eq!(SafeText::from(raw.to_string()).as_str(), want);
        assert_eq!(safe!("x {raw}").as_str(), format!("x {want}"));
        // Escaping is idempotent: safe text escaped again is unchanged.
        assert_eq!(SafeText::new(want).as_str(), want);
        // Read back from JSON: escaped again.
        let read: SafeText = serde_json::from_str(&serde_json::to_string(raw).unwrap()).unwrap();
        assert_eq!(read.as_str(), want);
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            format!("\"{}\"", want.replace('\\', "\\\\"))
        );
    }
}
