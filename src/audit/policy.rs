//! The policy checks of one domain: MTA-STS (the `_mta-sts` record, the
//! policy host, the policy fetched over HTTPS, and whether its `mx`
//! patterns cover the exchanges) and TLS-RPT (the `_smtp._tls` record).
//! Every question goes through the run's resolver and limiter; the fetch
//! through the [`Fetcher`] and its own limiter. A failed lookup or a
//! time-out is unknown, never a finding.

use super::cache::{addresses, ask};
use super::fetch::Fetcher;
use super::mta_sts::{self, Policy};
use super::problems::Reach;
use super::tls_rpt;
use crate::limiter::Limiter;
use crate::name::DomainName;
use crate::outcome::{Code, Mode, MtaSts, PolicyState, Problem, TlsRpt};
use crate::resolver::{Failure, Rdata, RecordType, Resolver};
use crate::text::SafeText;
use std::sync::Arc;

/// A max_age under this (a day) is short: senders refetch, and an
/// attacker who blocks the fetch for that long removes the protection.
const SHORT_MAX_AGE: u64 = 86_400;

/// Runs the policy checks.
pub(crate) struct Policies<R> {
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    /// `None`: the record and the host only (`--checks dns`).
    fetcher: Option<Fetcher>,
}

impl<R: Resolver> Policies<R> {
    pub(crate) fn new(resolver: Arc<R>, limiter: Arc<Limiter>, fetcher: Option<Fetcher>) -> Self {
        Policies {
            resolver,
            limiter,
            fetcher,
        }
    }

    pub(crate) fn fetch_stats(&self) -> Option<super::FetchStats> {
        self.fetcher.as_ref().map(Fetcher::stats)
    }

    /// The strings of each TXT record at `name`; `Ok(empty)` when there is
    /// none (NXDOMAIN or NODATA).
    async fn txt(&self, name: &str) -> Result<Vec<Box<[u8]>>, Failure> {
        let Ok(name) = DomainName::parse_ascii(name) else {
            // Too long with the prefix: no such record can exist.
            return Ok(Vec::new());
        };
        let answer = ask(&*self.resolver, &self.limiter, &name, RecordType::TXT).await?;
        Ok(answer
            .records
            .into_iter()
            .filter_map(|r| match r {
                Rdata::Txt(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// The one `_mta-sts` record of `domain`, or what MTA-STS comes to
    /// without one (none, invalid, unknown).
    async fn mta_sts_record(
        &self,
        domain: &DomainName,
        problems: &mut Vec<Problem>,
    ) -> Result<mta_sts::Record, MtaSts> {
        let record = match self.txt(&format!("_mta-sts.{domain}")).await {
            Err(f) => {
                return Err(unknown(
                    problems,
                    None,
                    crate::safe!("looking up _mta-sts.{domain} TXT failed ({f})"),
                ));
            }
            Ok(txts) => mta_sts::record(&txts.iter().map(|t| &t[..]).collect::<Vec<_>>()),
        };
        let record = match record {
            Ok(None) => {
                return Err(MtaSts::without_policy(
                    PolicyState::None,
                    None,
                    SafeText::from_static("no v=STSv1 record"),
                ));
            }
            Ok(Some(r)) => r,
            Err(why) => {
                problems.push(problem(
                    Code::MtaStsInvalid,
                    None,
                    crate::safe!(
                        "the _mta-sts record: {why}; senders treat {domain} as having no MTA-STS"
                    ),
                ));
                return Err(MtaSts::without_policy(PolicyState::Invalid, None, why));
            }
        };
        Ok(record)
    }

    /// MTA-STS for `domain`, whose mail goes to `hosts` (its exchanges, or
    /// itself under implicit MX); the problems go to `problems`.
    pub(crate) async fn mta_sts(
        &self,
        domain: &DomainName,
        hosts: &[DomainName],
        problems: &mut Vec<Problem>,
    ) -> MtaSts {
        let record = match self.mta_sts_record(domain, problems).await {
            Ok(r) => r,
            Err(found) => return found,
        };
        let id = Some(SafeText::new(&record.id));
        let Ok(host) = DomainName::parse_ascii(&format!("mta-sts.{domain}")) else {
            return unreachable(
                problems,
                id,
                crate::safe!("mta-sts.{domain} is longer than a name may be"),
            );
        };
        let found = addresses(&*self.resolver, &self.limiter, &host).await;
        let ips = match found.reach() {
            Reach::Unknown(f) => {
                return unknown(
                    problems,
                    id,
                    crate::safe!("looking up {host}'s addresses failed ({f})"),
                );
            }
            Reach::None(why) => {
                return unreachable(problems, id, crate::safe!("the policy host {host} {why}"));
            }
            Reach::Some => found.target().addresses,
        };
        let Some(fetcher) = &self.fetcher else {
            // The record and the host only: the policy is not fetched.
            return MtaSts {
                state: PolicyState::Ok,
                id,
                mode: None,
                max_age: None,
                mx: Vec::new(),
                error: None,
            };
        };
        let body = match fetcher.policy(&host, &ips).await {
            Ok(b) => b,
            Err(f) if f.unknown => {
                return unknown(
                    problems,
                    id,
                    crate::safe!("fetching the policy from {host}: {}", f.why),
                );
            }
            Err(f) => {
                return unreachable(
                    problems,
                    id,
                    crate::safe!("fetching the policy from {host}: {}", f.why),
                );
            }
        };
        let policy = match mta_sts::policy(&body) {
            Ok(p) => p,
            Err(why) => {
                problems.push(problem(
                    Code::MtaStsInvalid,
                    None,
                    crate::safe!(
                        "the policy at {host}: {why}; senders treat {domain} as having no MTA-STS"
                    ),
                ));
                return MtaSts::without_policy(PolicyState::Invalid, id, why);
            }
        };
        coverage(domain, &policy, hosts, problems);
        MtaSts {
            state: PolicyState::Ok,
            id,
            mode: Some(policy.mode),
            max_age: Some(policy.max_age),
            mx: policy.mx.iter().map(|p| SafeText::new(p)).collect(),
            error: None,
        }
    }

    /// TLS-RPT for `domain`.
    pub(crate) async fn tls_rpt(&self, domain: &DomainName, problems: &mut Vec<Problem>) -> TlsRpt {
        let txts = match self.txt(&format!("_smtp._tls.{domain}")).await {
            Ok(t) => t,
            Err(f) => {
                let why = crate::safe!("looking up _smtp._tls.{domain} TXT failed ({f})");
                problems.push(problem(Code::TlsRptUnknown, None, why.clone()));
                return TlsRpt {
                    state: PolicyState::Unknown,
                    rua: Vec::new(),
                    error: Some(why),
                };
            }
        };
        match tls_rpt::record(&txts.iter().map(|t| &t[..]).collect::<Vec<_>>()) {
            Ok(Some(r)) => TlsRpt {
                state: PolicyState::Ok,
                rua: r.rua.iter().map(|u| SafeText::new(u)).collect(),
                error: None,
            },
            Ok(None) => TlsRpt {
                state: PolicyState::None,
                rua: Vec::new(),
                error: Some(SafeText::from_static("no v=TLSRPTv1 record")),
            },
            Err(why) => {
                problems.push(problem(
                    Code::TlsRptInvalid,
                    None,
                    crate::safe!("the _smtp._tls record: {why}"),
                ));
                TlsRpt {
                    state: PolicyState::Invalid,
                    rua: Vec::new(),
                    error: Some(why),
                }
            }
        }
    }
}

/// Whether the policy covers the hosts mail goes to (§4.1), and its
/// max_age.
fn coverage(
    domain: &DomainName,
    policy: &Policy,
    hosts: &[DomainName],
    problems: &mut Vec<Problem>,
) {
    if policy.mode != Mode::None && policy.max_age < SHORT_MAX_AGE {
        problems.push(problem(
            Code::MtaStsShortMaxAge,
            None,
            crate::safe!(
                "max_age {} is under a day: senders keep the policy only that long",
                policy.max_age
            ),
        ));
    }
    let uncovered: Vec<&DomainName> = hosts
        .iter()
        .filter(|h| !policy.mx.iter().any(|p| mta_sts::covers(p, h)))
        .collect();
    let patterns = policy.mx.join(", ");
    match policy.mode {
        Mode::None => {}
        Mode::Enforce if !hosts.is_empty() && uncovered.len() == hosts.len() => {
            let names: Vec<&str> = hosts.iter().map(DomainName::as_str).collect();
            problems.push(problem(
                Code::MtaStsNoCoveredMx,
                None,
                crate::safe!(
                    "the enforce policy ({patterns}) covers none of {domain}'s exchanges ({}): senders that follow MTA-STS cannot deliver",
                    names.join(", ")
                ),
            ));
        }
        Mode::Enforce | Mode::Testing => {
            let (code, what) = if policy.mode == Mode::Enforce {
                (
                    Code::MtaStsMxUncovered,
                    "senders that follow MTA-STS refuse it",
                )
            } else {
                (
                    Code::MtaStsTestingUncovered,
                    "in testing mode senders only report it",
                )
            };
            for h in uncovered {
                problems.push(problem(
                    code,
                    Some(h),
                    crate::safe!(
                        "{h} matches no mx pattern of the {} policy ({patterns}): {what}",
                        policy.mode.as_str()
                    ),
                ));
            }
        }
    }
}

fn problem(code: Code, exchange: Option<&DomainName>, message: SafeText) -> Problem {
    Problem {
        code,
        exchange: exchange.cloned(),
        message,
    }
}

fn unknown(problems: &mut Vec<Problem>, id: Option<SafeText>, why: SafeText) -> MtaSts {
    problems.push(problem(Code::MtaStsUnknown, None, why.clone()));
    MtaSts::without_policy(PolicyState::Unknown, id, why)
}

fn unreachable(problems: &mut Vec<Problem>, id: Option<SafeText>, why: SafeText) -> MtaSts {
    problems.push(problem(
        Code::MtaStsUnreachable,
        None,
        crate::safe!("{why}; senders treat the domain as having no MTA-STS"),
    ));
    MtaSts::without_policy(PolicyState::Unreachable, id, why)
}
