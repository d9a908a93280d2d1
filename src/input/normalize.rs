//! One line of input to one domain name: comments and blank lines skipped,
//! whitespace, a byte-order mark and a trailing dot dropped, letter case
//! folded, an internationalised name turned into its A-label, and an email
//! address (in any of the forms people paste) turned into its domain.

use crate::name::DomainName;
use crate::text::SafeText;

/// Turn one line (or argument) into a domain name. `None` for a blank line
/// or a comment.
pub fn normalize(text: &str) -> Option<Result<DomainName, SafeText>> {
    let text = text.trim_start_matches('\u{feff}').trim();
    let text = strip_comment(text).trim_end();
    if text.is_empty() {
        return None;
    }
    Some(normalize_domain(text).map_err(SafeText::from))
}

/// The text before a comment: a whole-line comment, or `#` after
/// whitespace (`example.com   # main site`). A `#` inside a word stays,
/// and makes the line invalid.
fn strip_comment(text: &str) -> &str {
    if text.starts_with('#') {
        return "";
    }
    let mut prev_space = false;
    for (i, c) in text.char_indices() {
        if c == '#' && prev_space {
            return &text[..i];
        }
        prev_space = c.is_whitespace();
    }
    text
}

/// The domain of an email address in the forms people paste:
/// `ops@example.com`, `<ops@example.com>`, `Ops Team <ops@example.com>`,
/// `"Ops, Team" <ops@example.com>`, `mailto:ops@example.com?subject=hi`.
/// Anything else is taken as a domain name as it is.
fn address_part(text: &str) -> &str {
    let mut s = text;
    // A display name before the address in angle brackets.
    if s.ends_with('>')
        && let Some(open) = s.rfind('<')
    {
        s = &s[open + 1..s.len() - 1];
    }
    if let Some(rest) = s
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .and(s.get(7..))
    {
        s = rest;
        // The query part (`?subject=...`) and any further recipients.
        s = s.split(['?', ',']).next().unwrap_or(s);
    }
    s.trim()
}

fn normalize_domain(text: &str) -> Result<DomainName, String> {
    let mut domain = address_part(text);
    if let Some((local, host)) = domain.rsplit_once('@') {
        if host.is_empty() {
            return Err("an email address with nothing after the @".to_string());
        }
        if local.is_empty() {
            return Err("nothing before the @".to_string());
        }
        domain = host;
    }
    if domain.is_ascii() {
        return DomainName::parse_ascii(domain);
    }
    if domain
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || crate::text::is_invisible(c))
    {
        // Let the ASCII parser name the offending character.
        return DomainName::parse_ascii(domain);
    }
    let ascii = idna::domain_to_ascii(domain)
        .map_err(|_| "not a valid internationalised domain name".to_string())?;
    if ascii.is_empty() {
        return Err("empty name".to_string());
    }
    DomainName::parse_ascii(&ascii)
}

/// The Unicode form (U-label) of a name with A-labels (`xn--`), if it has
/// any and they decode; for showing beside the name looked up.
pub fn unicode_form(name: &DomainName) -> Option<SafeText> {
    if !name.as_str().split('.').any(|l| l.starts_with("xn--")) {
        return None;
    }
    let (unicode, result) = idna::domain_to_unicode(name.as_str());
    result.ok()?;
    (unicode != name.as_str()).then(|| SafeText::from(unicode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        normalize(text).unwrap().unwrap().to_string()
    }

    fn bad(text: &str) -> String {
        normalize(text).unwrap().unwrap_err().to_string()
    }

    #[test]
    fn trims_lowercases_and_drops_the_trailing_dot() {
        assert_eq!(ok("  Example.COM.  "), "example.com");
        assert_eq!(ok("\u{feff}example.com"), "example.com");
        assert_eq!(ok("example.com\t# main site"), "example.com");
        assert_eq!(ok("  example.com  # note"), "example.com");
    }

    #[test]
    fn skips_blank_lines_and_comments() {
        assert!(normalize("").is_none());
        assert!(normalize("   \t").is_none());
        assert!(normalize("# a comment").is_none());
        assert!(normalize("  # indented comment").is_none());
        assert!(bad("exa#mple.com").contains("'#'"));
    }

    #[test]
    fn email_addresses_give_their_domain() {
        assert_eq!(ok("Postmaster@Example.org"), "example.org");
        assert_eq!(ok("<a@b.example>"), "b.example");
        assert_eq!(ok("mailto:x@y.example"), "y.example");
        assert_eq!(ok("MAILTO:x@y.example?subject=hi&body=x"), "y.example");
        assert_eq!(ok("Ops Team <ops@example.com>"), "example.com");
        assert_eq!(ok("\"Ops, Team\" <ops@Example.com>"), "example.com");
        assert!(bad("user@").contains("nothing after the @"));
        assert!(bad("@example.org").contains("nothing before"));
    }

    #[test]
    fn internationalised_names_become_a_labels() {
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("ÉCOLE.example"), "xn--cole-9oa.example");
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
        let n = DomainName::parse_ascii("xn--bcher-kva.example").unwrap();
        assert_eq!(unicode_form(&n).unwrap().as_str(), "bücher.example");
        assert_eq!(
            unicode_form(&DomainName::parse_ascii("plain.example").unwrap()),
            None
        );
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(bad("exa mple.com").contains("a space"));
        assert!(bad("a..b").contains("empty label"));
        assert!(bad("ex\u{0}ample.com").contains("control character"));
        assert!(bad("http://example.com/").contains("':'"));
        assert!(bad(".").contains("empty"));
        assert!(bad("ex\u{2060}ample.com").contains("\\u{2060}"));
        // Multi-byte text where `mailto:` would be: no panic.
        assert!(normalize("mailt\u{e9}:x").is_some());
    }
}
