//! How many connections may be open at once, in all and from one client
//! address. Every open connection holds a file descriptor and a task: without
//! a cap, one address opening silent connections runs the process out of
//! descriptors and nobody else is served.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The caps, shared by every listener that serves clients.
pub struct ConnectionCaps {
    total: usize,
    per_address: usize,
    /// Addresses only the total applies to (trusted reverse proxies, which
    /// carry many clients' connections).
    exempt: Vec<IpAddr>,
    open: Mutex<Open>,
    all_closed: Notify,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `server.max_connections` are open.
    Total,
    /// `server.max_connections_per_address` are open from this address.
    Address,
}

impl Refusal {
    /// A bounded label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::Address => "per_address",
        }
    }
}

/// One admitted connection; dropping it frees its place.
pub struct Admitted {
    caps: Arc<ConnectionCaps>,
    key: IpAddr,
}

impl ConnectionCaps {
    pub fn new(total: usize, per_address: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(ConnectionCaps {
            total,
            per_address,
            exempt: exempt.into_iter().map(|ip| ip.to_canonical()).collect(),
            open: Mutex::new(Open::default()),
            all_closed: Notify::new(),
        })
    }

    /// Takes a place for a connection from `peer`, or says why there is none.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let key = address_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.total {
            return Err(Refusal::Total);
        }
        let from_here = open.by_address.get(&key).copied().unwrap_or(0);
        if from_here >= self.per_address && !self.exempt.contains(&peer.to_canonical()) {
            return Err(Refusal::Address);
        }
        open.total += 1;
        *open.by_address.entry(key).or_insert(0) += 1;
        Ok(Admitted {
            caps: self.clone(),
            key,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |open| open.total)
    }

    /// Resolves once no connection is open.
    pub async fn all_closed(&self) {
        loop {
            let notified = self.all_closed.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }

    fn release(&self, key: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&key);
            }
        }
        if open.total == 0 {
            self.all_closed.notify_waiters();
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.caps.release(self.key);
    }
}

/// The key one client is counted under: its IPv4 address, or for IPv6 its
/// /64 (one home or phone gets a whole /64 and can pick any address in it).
fn address_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn one_address_is_capped_and_others_still_get_in() {
        let caps = ConnectionCaps::new(10, 2, vec![]);
        let first = caps.admit(ip("192.0.2.1")).expect("first");
        let _second = caps.admit(ip("192.0.2.1")).expect("second");
        assert_eq!(caps.admit(ip("192.0.2.1")).err(), Some(Refusal::Address));
        assert!(caps.admit(ip("192.0.2.2")).is_ok(), "another client");
        drop(first);
        assert!(
            caps.admit(ip("192.0.2.1")).is_ok(),
            "a freed place is reused"
        );
    }

    #[test]
    fn the_total_cap_holds_across_addresses() {
        let caps = ConnectionCaps::new(2, 5, vec![]);
        let _a = caps.admit(ip("192.0.2.1")).expect("a");
        let _b = caps.admit(ip("192.0.2.2")).expect("b");
        assert_eq!(caps.admit(ip("192.0.2.3")).err(), Some(Refusal::Total));
        assert_eq!(caps.open(), 2);
    }

    #[test]
    fn a_trusted_proxy_is_held_only_to_the_total() {
        let caps = ConnectionCaps::new(5, 1, vec![ip("10.0.0.1")]);
        let held: Vec<_> = (0..5)
            .map(|_| caps.admit(ip("10.0.0.1")).expect("proxy"))
            .collect();
        assert_eq!(caps.admit(ip("10.0.0.1")).err(), Some(Refusal::Total));
        drop(held);
        assert_eq!(caps.open(), 0);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let caps = ConnectionCaps::new(10, 1, vec![]);
        let _a = caps.admit(ip("2001:db8:1:2::1")).expect("a");
        assert_eq!(
            caps.admit(ip("2001:db8:1:2:ffff::9")).err(),
            Some(Refusal::Address),
            "same /64"
        );
        assert!(caps.admit(ip("2001:db8:1:3::1")).is_ok(), "another /64");
        let _v4 = caps.admit(ip("192.0.2.1")).expect("v4");
        assert_eq!(
            caps.admit(ip("::ffff:192.0.2.1")).err(),
            Some(Refusal::Address)
        );
    }

    #[tokio::test]
    async fn all_closed_waits_for_the_last_connection() {
        let caps = ConnectionCaps::new(10, 10, vec![]);
        let open = caps.admit(ip("192.0.2.1")).expect("open");
        let waiter = {
            let caps = caps.clone();
            tokio::spawn(async move { caps.all_closed().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(open);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("resolves")
            .expect("no panic");
    }
}
