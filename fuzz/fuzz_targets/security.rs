//! Any bytes as a TLSA answer (with any EDE option), and any text as an
//! exchange name for the Public Suffix List: DANE's verdict never panics,
//! every message it makes (a record in presentation form, an EDE's text)
//! is escaped, and a registrable domain is always the name or one of its
//! parents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::audit::takeover::registrable;
use mxlookup::fuzzing::dane_verdict;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    if selector % 2 == 0 {
        if let Some((dane, messages)) = dane_verdict(data) {
            for text in dane.tlsa.iter().map(|t| t.to_string()).chain(messages) {
                assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
            }
        }
    } else if let Ok(text) = std::str::from_utf8(data)
        && let Some(Ok(name)) = mxlookup::input::normalize(text)
        && let Some(r) = registrable(&name)
    {
        let (n, r) = (name.as_str(), r.as_str());
        assert!(n == r || n.ends_with(&format!(".{r}")), "{n} -> {r}");
    }
});
