//! Which checks `--audit` runs (`--checks LIST`), so that a user can trade
//! depth for speed.

/// The checks, each on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// The exchanges' addresses and what stops mail (`routing`).
    pub routing: bool,
    /// The `_mta-sts` record, the policy host (`mta-sts`)...
    pub mta_sts: bool,
    /// ... and the policy itself, over HTTPS (all but `dns`).
    pub fetch: bool,
    /// The `_smtp._tls` record (`tls-rpt`).
    pub tls_rpt: bool,
    /// Whether the resolver authenticated the answers (`dnssec`).
    pub dnssec: bool,
    /// The exchanges' TLSA records (`dane`, RFC 7672).
    pub dane: bool,
    /// Whether each exchange's registrable domain exists (`takeover`).
    pub takeover: bool,
}

impl Checks {
    /// Nothing.
    pub const NONE: Checks = Checks {
        routing: false,
        mta_sts: false,
        fetch: false,
        tls_rpt: false,
        dnssec: false,
        dane: false,
        takeover: false,
    };

    /// Everything: what `--audit` runs.
    pub const ALL: Checks = Checks {
        routing: true,
        mta_sts: true,
        fetch: true,
        tls_rpt: true,
        dnssec: true,
        dane: true,
        takeover: true,
    };

    /// The names `--checks` takes, and what each means.
    pub const NAMES: [(&'static str, &'static str); 8] = [
        ("routing", "the exchanges' addresses and what stops mail"),
        (
            "mta-sts",
            "the MTA-STS record, policy host and policy (RFC 8461)",
        ),
        ("tls-rpt", "the TLS-RPT record (RFC 8460)"),
        (
            "dnssec",
            "whether the resolver authenticated the MX set and the exchanges' addresses",
        ),
        ("dane", "the exchanges' TLSA records (RFC 7672)"),
        (
            "takeover",
            "whether each exchange's registrable domain exists",
        ),
        ("all", "every check (the default)"),
        (
            "dns",
            "every check that needs only DNS: all but fetching MTA-STS policies",
        ),
    ];

    /// Whether any check runs.
    pub fn any(&self) -> bool {
        self.routing || self.mta_sts || self.tls_rpt || self.dnssec || self.dane || self.takeover
    }

    /// Whether the exchanges' addresses are looked up.
    pub fn resolves(&self) -> bool {
        self.routing || self.dnssec || self.dane || self.takeover
    }

    /// Whether queries must ask for DNSSEC (DO and AD).
    pub fn asks_dnssec(&self) -> bool {
        self.dnssec || self.dane
    }

    /// A comma-separated list of names (see [`Checks::NAMES`]).
    pub fn parse(list: &str) -> Result<Checks, String> {
        let mut c = Checks::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "routing" => c.routing = true,
                "mta-sts" | "mta_sts" => {
                    c.mta_sts = true;
                    c.fetch = true;
                }
                "tls-rpt" | "tls_rpt" => c.tls_rpt = true,
                "dnssec" => c.dnssec = true,
                "dane" => c.dane = true,
                "takeover" => c.takeover = true,
                "all" => c = Checks::ALL,
                "dns" => {
                    c = Checks {
                        fetch: false,
                        ..Checks::ALL
                    }
                }
                _ => {
                    let known: Vec<&str> = Checks::NAMES.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "'{}' is not a check (one of: {})",
                        crate::text::escape_text(name),
                        known.join(", ")
                    ));
                }
            }
        }
        if !c.any() {
            return Err(
                "no check named: give one or more of routing, mta-sts, tls-rpt, dnssec, dane, takeover, all, dns".into(),
            );
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_checks() {
        assert_eq!(Checks::parse("all").unwrap(), Checks::ALL);
        let c = Checks::parse("routing, MTA-STS").unwrap();
        assert!(c.routing && c.mta_sts && c.fetch && !c.tls_rpt);
        let dns = Checks::parse("dns").unwrap();
        assert!(dns.mta_sts && !dns.fetch && dns.routing && dns.tls_rpt);
        assert!(
            Checks::parse("routing,nonsense")
                .unwrap_err()
                .contains("'nonsense'")
        );
        assert!(Checks::parse("").is_err());
    }
}
