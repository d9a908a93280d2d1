//! The engine built on hickory-resolver: system configuration or
//! `--nameserver` addresses, per-attempt timeouts, retries, and TCP
//! fallback when a UDP answer is truncated.

use super::{CONNECTION, MxResolver, Settings, mx_from_answers, query_name};
use crate::error::Error;
use crate::name::{DomainName, escape_text};
use crate::outcome::Outcome;
use hickory_resolver::config::{
    NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use std::net::SocketAddr;
use std::time::Duration;

pub struct HickoryResolver {
    resolver: TokioResolver,
    retries: u32,
}

impl HickoryResolver {
    /// Build the resolver. Needs a Tokio runtime to be running.
    pub fn new(settings: &Settings) -> Result<HickoryResolver, Error> {
        let mut servers = if settings.nameservers.is_empty() {
            system_servers()?
        } else {
            settings.nameservers.iter().map(|a| server(*a)).collect()
        };
        if settings.tcp_only {
            for s in &mut servers {
                s.connections.retain(|c| c.protocol == ProtocolConfig::Tcp);
            }
            servers.retain(|s| !s.connections.is_empty());
            if servers.is_empty() {
                return Err(Error::ResolverConfig(
                    "--tcp was given but no server is reachable over TCP".into(),
                ));
            }
        }
        let mut opts = ResolverOpts::default();
        let attempts = settings.retries + 1;
        // Every attempt gets an equal share of the deadline, so the retries
        // fit inside it; the engine still enforces the whole deadline.
        opts.timeout = (settings.timeout / attempts).max(Duration::from_millis(50));
        // Retries are ours (see `lookup`): hickory gives up on a connection
        // error that a fresh attempt would get past.
        opts.attempts = 0;
        // A bulk run of distinct names gains nothing from a cache.
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        opts.edns0 = true;
        // One shared connection must carry every lookup the limiter allows,
        // or the resolver answers "busy" instead of asking.
        opts.max_active_requests = settings.concurrency.max(32);
        opts.num_concurrent_reqs = 1;
        let config = ResolverConfig::from_name_servers(servers);
        let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| Error::ResolverConfig(e.to_string()))?;
        Ok(HickoryResolver {
            resolver,
            retries: settings.retries,
        })
    }
}

fn server(addr: SocketAddr) -> NameServerConfig {
    let mut s = NameServerConfig::udp_and_tcp(addr.ip());
    for c in &mut s.connections {
        c.port = addr.port();
    }
    s
}

fn system_servers() -> Result<Vec<NameServerConfig>, Error> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| Error::ResolverConfig(format!("reading /etc/resolv.conf: {e}")))?;
    let servers = config.name_servers().to_vec();
    if servers.is_empty() {
        return Err(Error::ResolverConfig(
            "/etc/resolv.conf names no nameserver".into(),
        ));
    }
    Ok(servers)
}

impl MxResolver for HickoryResolver {
    async fn lookup(&self, name: &DomainName) -> Outcome {
        let qname = match query_name(name) {
            Ok(q) => q,
            Err(e) => return Outcome::Error(e),
        };
        let mut attempt = 0;
        loop {
            // A timeout, a SERVFAIL or a broken connection may well go
            // right the next time; anything else is the answer.
            let (outcome, retry) = self.attempt(&qname).await;
            if !retry || attempt >= self.retries {
                return outcome;
            }
            attempt += 1;
        }
    }
}

impl HickoryResolver {
    /// One lookup, and whether its outcome is worth another attempt.
    async fn attempt(&self, qname: &hickory_resolver::proto::rr::Name) -> (Outcome, bool) {
        match self.resolver.lookup(qname.clone(), RecordType::MX).await {
            Ok(lookup) => {
                let outcome = Outcome::from_mx(mx_from_answers(qname, lookup.answers()));
                // An NXDOMAIN that carries a CNAME is still NXDOMAIN for
                // the name at the end of the chain.
                let nx = lookup.message().metadata.response_code == ResponseCode::NXDomain;
                match outcome {
                    Outcome::NoMx if nx => (Outcome::Nxdomain, false),
                    other => (other, false),
                }
            }
            Err(e) => {
                let retry = worth_retrying(&e);
                (classify_error(e), retry)
            }
        }
    }
}

/// A failure that may well go right the next time: no answer at all, or
/// SERVFAIL. An answer (NXDOMAIN, NODATA, REFUSED, another code), a
/// malformed message or a failed TCP fallback would come out the same.
fn worth_retrying(e: &NetError) -> bool {
    match e {
        NetError::Dns(DnsError::ResponseCode(code)) => *code == ResponseCode::ServFail,
        NetError::Dns(DnsError::NoRecordsFound(_)) | NetError::Proto(_) | NetError::Truncated => {
            false
        }
        _ => true,
    }
}

/// Every failure hickory can report, as one of the statuses.
fn classify_error(e: NetError) -> Outcome {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(no)) => match no.response_code {
            ResponseCode::NXDomain => Outcome::Nxdomain,
            ResponseCode::NoError => Outcome::NoMx,
            code => classify_code(code),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => classify_code(code),
        NetError::Timeout => Outcome::Timeout,
        NetError::NoConnections => Outcome::Error(format!("{CONNECTION} (no usable connection)")),
        NetError::Io(io) => Outcome::Error(escape_text(&format!("{CONNECTION}: {io}"))),
        NetError::Proto(p) => Outcome::Error(escape_text(&format!("malformed answer: {p}"))),
        NetError::Truncated => Outcome::Error("the answer was truncated and TCP failed".into()),
        // Anything else is no answer at all (a dropped connection, a
        // cancelled request, a busy pool): worth another attempt.
        other => Outcome::Error(escape_text(&format!("{CONNECTION}: {other}"))),
    }
}

fn classify_code(code: ResponseCode) -> Outcome {
    match code {
        ResponseCode::ServFail => Outcome::Servfail,
        ResponseCode::Refused => Outcome::Refused,
        ResponseCode::NXDomain => Outcome::Nxdomain,
        other => Outcome::Error(format!(
            "the server answered {}",
            escape_text(&other.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;

    #[test]
    fn classifies_every_kind_of_failure() {
        let no = |code| {
            NetError::Dns(DnsError::NoRecordsFound(NoRecords::new(
                Query::default(),
                code,
            )))
        };
        assert_eq!(
            classify_error(no(ResponseCode::NXDomain)),
            Outcome::Nxdomain
        );
        assert_eq!(classify_error(no(ResponseCode::NoError)), Outcome::NoMx);
        assert_eq!(
            classify_error(NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail
            ))),
            Outcome::Servfail
        );
        assert_eq!(
            classify_error(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
            Outcome::Refused
        );
        assert_eq!(classify_error(NetError::Timeout), Outcome::Timeout);
        let formerr = classify_error(NetError::Dns(DnsError::ResponseCode(ResponseCode::FormErr)));
        assert!(matches!(formerr, Outcome::Error(m) if m.contains("Form")));
        assert!(worth_retrying(&NetError::Timeout));
        assert!(worth_retrying(&NetError::NoConnections));
        assert!(worth_retrying(&NetError::Dns(DnsError::ResponseCode(
            ResponseCode::ServFail
        ))));
        assert!(!worth_retrying(&NetError::Dns(DnsError::ResponseCode(
            ResponseCode::Refused
        ))));
        assert!(!worth_retrying(&no(ResponseCode::NXDomain)));
        assert!(matches!(
            classify_error(NetError::NoConnections),
            Outcome::Error(_)
        ));
    }
}
