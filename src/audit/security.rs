//! The security checks of one domain: which answers the validating
//! resolver authenticated (DNSSEC), DANE for each exchange (its TLSA
//! records, each base name looked up once per run), and takeover risk (each
//! exchange's registrable domain, looked up once per run).

use super::cache::{Cache, CacheStats, ask};
use super::dane;
use super::problems::{Addresses, Reach, ip_literal};
use super::takeover::registrable;
use crate::limiter::Limiter;
use crate::name::DomainName;
use crate::outcome::{Audit, Code, DaneState, Dnssec, Outcome, Problem};
use crate::resolver::{Answer, Failure, RecordType, Resolver};
use crate::text::SafeText;
use std::collections::BTreeMap;
use std::sync::Arc;

type Lookup = Result<Answer, Failure>;

/// The lookups the security checks share across the run.
pub(crate) struct Security<R> {
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    tlsa: Cache<Lookup>,
    registered: Cache<Lookup>,
    dane: bool,
    takeover: bool,
}

impl<R: Resolver> Security<R> {
    pub(crate) fn new(resolver: Arc<R>, limiter: Arc<Limiter>, dane: bool, takeover: bool) -> Self {
        Security {
            resolver,
            limiter,
            tlsa: Cache::new(super::cache::CAPACITY),
            registered: Cache::new(super::cache::CAPACITY),
            dane,
            takeover,
        }
    }

    pub(crate) fn stats(&self) -> Vec<(&'static str, CacheStats)> {
        let mut s = Vec::new();
        if self.dane {
            s.push(("TLSA", self.tlsa.stats()));
        }
        if self.takeover {
            s.push(("registrable domains", self.registered.stats()));
        }
        s
    }

    /// One question through the limiter, once per name per run.
    async fn cached(
        &self,
        cache: &Cache<Lookup>,
        name: &DomainName,
        qtype: RecordType,
    ) -> Arc<Lookup> {
        let (resolver, limiter, owned) =
            (self.resolver.clone(), self.limiter.clone(), name.clone());
        cache
            .get(name, move || async move {
                ask(&*resolver, &limiter, &owned, qtype).await
            })
            .await
    }

    /// DANE and takeover for the hosts of `domain` (its exchanges, or itself
    /// under implicit MX), whose addresses are `found`; into `report`.
    pub(crate) async fn check(
        &self,
        domain: &DomainName,
        outcome: &Outcome,
        found: &[(DomainName, Arc<Addresses>)],
        report: &mut Audit,
    ) {
        let mx_secure = outcome.answer().is_some_and(|a| a.authenticated);
        let implicit = report.implicit.is_some();
        let dane =
            futures_util::future::join_all(found.iter().map(|(host, addresses)| async move {
                if !self.dane {
                    return None;
                }
                let secure = mx_secure && addresses.dnssec() == Dnssec::Secure;
                // RFC 7672 §2.2.3: a CNAME-expanded name first, when the
                // expansion is secure; then the name itself.
                let mut bases = Vec::new();
                if let (Some(target), true) = (addresses.aliases().last(), secure) {
                    bases.push(target.clone());
                }
                bases.push(host.clone());
                let mut looked = Vec::new();
                for base in &bases {
                    let Ok(qname) = DomainName::parse_ascii(&format!("_25._tcp.{base}")) else {
                        continue;
                    };
                    looked.push((
                        base.clone(),
                        self.cached(&self.tlsa, &qname, RecordType::TLSA).await,
                    ));
                }
                let mut problems = Vec::new();
                let results: Vec<(DomainName, &Lookup)> =
                    looked.iter().map(|(b, r)| (b.clone(), &**r)).collect();
                let d = dane::judge(host, secure, &results, &mut problems);
                Some((d, problems))
            }));
        let takeover = futures_util::future::join_all(
            found
                .iter()
                .map(|(host, addresses)| self.takeover(host, addresses, implicit)),
        );
        let (dane, takeover) = futures_util::join!(dane, takeover);
        for (i, d) in dane.into_iter().enumerate() {
            let Some((d, problems)) = d else { continue };
            report.problems.extend(problems);
            match report.exchanges.iter_mut().find(|x| x.name == found[i].0) {
                Some(x) => x.dane = Some(d),
                None => report.implicit_dane = Some(d),
            }
        }
        report.problems.extend(takeover.into_iter().flatten());
        partial(domain, outcome, report);
    }
}

impl<R: Resolver> Security<R> {
    /// Takeover risk of one exchange. Only an exchange with no address
    /// can be one: its registrable domain is asked for (once per run), and
    /// NXDOMAIN is the finding. An exchange with addresses is live, whatever
    /// its registrable domain's answer says (a server that says NXDOMAIN for
    /// an empty non-terminal would otherwise make a false finding).
    async fn takeover(
        &self,
        host: &DomainName,
        addresses: &Addresses,
        implicit: bool,
    ) -> Option<Problem> {
        if !self.takeover || implicit || ip_literal(host) {
            return None;
        }
        let dangling = match addresses.reach() {
            Reach::Some => return None,
            Reach::None(_) => true,
            Reach::Unknown(_) => false,
        };
        let registrable = registrable(host)?;
        let answer = self
            .cached(&self.registered, &registrable, RecordType::NS)
            .await;
        match &*answer {
            Ok(a) if a.nxdomain => Some(Problem {
                code: Code::ExchangeDomainUnregistered,
                exchange: Some(host.clone()),
                message: crate::safe!(
                    "{host}'s registrable domain {registrable} does not exist: anyone could register it and receive this domain's mail"
                ),
            }),
            Ok(_) => None,
            // An exchange whose own lookup failed is unknown already.
            Err(_) if !dangling => None,
            Err(f) => Some(Problem {
                code: Code::TakeoverUnknown,
                exchange: Some(host.clone()),
                message: crate::safe!(
                    "{host} has no address, and whether its registrable domain {registrable} exists is unknown: its lookup failed ({f})"
                ),
            }),
        }
    }
}

/// `dane_partial`: at one preference, some exchanges with usable DANE and
/// others without (a failed or unknown lookup is neither).
fn partial(domain: &DomainName, outcome: &Outcome, report: &mut Audit) {
    let mut by: BTreeMap<u16, (Vec<&DomainName>, Vec<&DomainName>)> = BTreeMap::new();
    for (p, e) in outcome.mx_records() {
        let Some(x) = report.exchanges.iter().find(|x| &x.name == e) else {
            continue;
        };
        match x.dane.as_ref().map(|d| d.state) {
            Some(DaneState::Usable) => by.entry(p).or_default().0.push(e),
            Some(DaneState::None | DaneState::Unusable | DaneState::Ineffective) => {
                by.entry(p).or_default().1.push(e)
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (p, (with, without)) in by {
        if with.is_empty() || without.is_empty() {
            continue;
        }
        let names = |v: &[&DomainName]| v.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ");
        found.push(Problem {
            code: Code::DanePartial,
            exchange: None,
            message: SafeText::from(format!(
                "at preference {p}, {} has DANE and {} has not: mail to {domain} is authenticated only when it goes to the first",
                names(&with),
                names(&without)
            )),
        });
    }
    report.problems.extend(found);
}
