//! The system's resolver configuration (`/etc/resolv.conf`): read in one
//! place, for both engines, only when no `--nameserver` is given.

use crate::error::Error;
use std::net::SocketAddr;

/// The nameservers the system's configuration names, in order.
pub(super) fn nameservers() -> Result<Vec<SocketAddr>, Error> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| Error::ResolverConfig(format!("reading /etc/resolv.conf: {e}")))?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for s in config.name_servers() {
        for c in &s.connections {
            let addr = SocketAddr::new(s.ip, c.port);
            if !servers.contains(&addr) {
                servers.push(addr);
            }
        }
    }
    if servers.is_empty() {
        return Err(Error::ResolverConfig(
            "/etc/resolv.conf names no nameserver".into(),
        ));
    }
    Ok(servers)
}
