//! TLS-RPT (RFC 8460 §3): the `_smtp._tls` TXT record that tells senders
//! where to report failures to deliver over TLS. Pure: no I/O.

use crate::text::SafeText;

/// A `v=TLSRPTv1` record: where reports go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `mailto:` and `https:` URIs, in order.
    pub rua: Vec<String>,
}

/// What the `_smtp._tls` TXT records say: only records that start with
/// `v=TLSRPTv1` count; exactly one must, and parse.
pub fn record(txts: &[&[u8]]) -> Result<Option<Record>, SafeText> {
    let counting: Vec<&[u8]> = txts
        .iter()
        .copied()
        .filter(|t| t.starts_with(b"v=TLSRPTv1"))
        .collect();
    match counting[..] {
        [] => Ok(None),
        [one] => parse(one).map(Some),
        _ => Err(crate::safe!(
            "{} TXT records start with v=TLSRPTv1; there must be exactly one",
            counting.len()
        )),
    }
}

/// `v=TLSRPTv1` then `;`-separated fields, one of them `rua=` with a
/// comma-separated list of `mailto:` or `https:` URIs.
fn parse(bytes: &[u8]) -> Result<Record, SafeText> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SafeText::from_static("the v=TLSRPTv1 record is not ASCII text"))?;
    let quoted = || SafeText::new(text);
    let fields: Vec<&str> = text
        .split(';')
        .map(|f| f.trim_matches([' ', '\t']))
        .collect();
    if fields.first() != Some(&"v=TLSRPTv1") {
        return Err(crate::safe!("'{}': it must begin 'v=TLSRPTv1;'", quoted()));
    }
    let mut rua = None;
    for (i, field) in fields.iter().enumerate().skip(1) {
        if field.is_empty() {
            if i + 1 == fields.len() {
                continue;
            }
            return Err(crate::safe!("'{}': an empty field", quoted()));
        }
        let Some((name, value)) = field.split_once('=') else {
            return Err(crate::safe!("'{}': a field without '='", quoted()));
        };
        if name != "rua" {
            continue;
        }
        if rua.is_some() {
            return Err(crate::safe!("'{}': rua given twice", quoted()));
        }
        let uris: Vec<String> = value
            .split(',')
            .map(|u| u.trim_matches([' ', '\t']).to_string())
            .collect();
        for u in &uris {
            if !uri(u) {
                return Err(crate::safe!(
                    "'{}': '{}' is not a mailto: or https: address for reports",
                    quoted(),
                    SafeText::new(u)
                ));
            }
        }
        rua = Some(uris);
    }
    rua.map(|rua| Record { rua })
        .ok_or_else(|| crate::safe!("'{}': no rua", quoted()))
}

/// A report address: `mailto:` with an address in it, or `https://` with
/// a host; printable ASCII, no spaces.
fn uri(u: &str) -> bool {
    let printable = !u.is_empty() && u.bytes().all(|b| (0x21..=0x7e).contains(&b));
    let lower = u.to_ascii_lowercase();
    printable
        && (lower.strip_prefix("mailto:").is_some_and(|a| {
            a.split('?')
                .next()
                .is_some_and(|a| a.contains('@') && !a.starts_with('@') && !a.ends_with('@'))
        }) || lower.strip_prefix("https://").is_some_and(|h| {
            h.split(['/', '?', '#'])
                .next()
                .is_some_and(|host| !host.is_empty())
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_record_with_mailto_or_https_addresses() {
        let r =
            record(&[b"v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/tls"])
                .unwrap()
                .unwrap();
        assert_eq!(
            r.rua,
            vec![
                "mailto:tlsrpt@example.com",
                "https://reports.example.com/tls"
            ]
        );
        assert_eq!(record(&[b"v=spf1 -all"]).unwrap(), None);
        assert!(record(&[b"v=TLSRPTv1;rua=mailto:a@b.example;"]).is_ok());
        for (bad, why) in [
            (
                &[
                    &b"v=TLSRPTv1; rua=mailto:a@b.example"[..],
                    b"v=TLSRPTv1; rua=mailto:c@d.example",
                ][..],
                "exactly one",
            ),
            (&[&b"v=TLSRPTv1"[..]], "no rua"),
            (
                &[&b"v=TLSRPTv1; rua=http://plain.example/"[..]],
                "not a mailto",
            ),
            (&[&b"v=TLSRPTv1; rua=mailto:nobody"[..]], "not a mailto"),
            (&[&b"v=TLSRPTv1; rua=ftp://x.example"[..]], "not a mailto"),
            (
                &[&b"v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example"[..]],
                "twice",
            ),
            (&[&b"v=TLSRPTv1x; rua=mailto:a@b.example"[..]], "begin"),
        ] {
            let e = record(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
