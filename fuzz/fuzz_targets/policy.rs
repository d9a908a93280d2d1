//! Any bytes as an MTA-STS policy file, an `_mta-sts` TXT record or an
//! `_smtp._tls` TXT record: no panic; an error says why in safe text; a
//! policy that parses has a mode, a max_age within the limit, and `mx`
//! patterns that are names (or `*.` and a name), each of which covers at
//! least one name (unless a wildcard leaves no room for a label) and never
//! an IP address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mxlookup::audit::{mta_sts, tls_rpt};
use mxlookup::text::is_invisible;

fuzz_target!(|data: &[u8]| {
    match mta_sts::policy(data) {
        Ok(p) => {
            assert!(p.max_age <= mta_sts::MAX_AGE_LIMIT);
            for pattern in &p.mx {
                let example = pattern.strip_prefix("*.").map_or(pattern.clone(), |rest| format!("x.{rest}"));
                match mxlookup::DomainName::parse_ascii(&example) {
                    Ok(name) => assert!(mta_sts::covers(pattern, &name), "{pattern} covers {example}"),
                    // `*.` and a name with no room for one more label:
                    // valid as written, it covers nothing.
                    Err(_) => assert!(pattern.starts_with("*."), "{pattern}"),
                }
            }
        }
        Err(e) => assert!(!e.chars().any(is_invisible), "{e:?}"),
    }
    let parts: Vec<&[u8]> = data.split(|b| *b == 0xff).collect();
    if let Err(e) = mta_sts::record(&parts) {
        assert!(!e.chars().any(is_invisible), "{e:?}");
    }
    match tls_rpt::record(&parts) {
        Ok(Some(r)) => assert!(!r.rua.is_empty()),
        Ok(None) => {}
        Err(e) => assert!(!e.chars().any(is_invisible), "{e:?}"),
    }
});
