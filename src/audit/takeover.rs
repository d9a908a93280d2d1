//! Takeover risk: an exchange whose registrable domain (by the Public
//! Suffix List) does not exist can be registered by anyone, who then
//! receives the mail. Asked as the registrable domain's NS records, once
//! per registrable domain per run; NXDOMAIN is the finding, a failed
//! lookup is unknown. This is not `dangling_exchange`: a live registrable
//! domain with a missing host name is only dangling.

use crate::name::DomainName;

/// The registrable domain of `name` (`mx.example.co.uk` → `example.co.uk`),
/// by the Public Suffix List the `psl` crate embeds; `None` for a public
/// suffix itself (or a name with escapes, which no registry sells).
pub fn registrable(name: &DomainName) -> Option<DomainName> {
    if name.as_str().contains('\\') || name.is_root() {
        return None;
    }
    let domain = psl::domain_str(name.as_str())?;
    DomainName::parse_ascii(domain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<String> {
        registrable(&DomainName::parse_ascii(s).unwrap()).map(|n| n.to_string())
    }

    #[test]
    fn registrable_domains_by_the_public_suffix_list() {
        assert_eq!(
            r("mx1.mail.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(r("mx.example.com").as_deref(), Some("example.com"));
        assert_eq!(r("example.com").as_deref(), Some("example.com"));
        assert_eq!(r("a.b.github.io").as_deref(), Some("b.github.io"));
        assert_eq!(r("co.uk"), None);
        // A TLD the list does not know is one label (the list's * rule).
        assert_eq!(r("mx.lapsed.test").as_deref(), Some("lapsed.test"));
        assert_eq!(
            registrable(&DomainName::parse_ascii("a\\.b.example").unwrap()),
            None
        );
    }
}
