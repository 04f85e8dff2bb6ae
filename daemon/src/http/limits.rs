//! Rate limiting of the API by route class, with the project's own limiter.
//! Clients are keyed by IP address (IPv6 by /64, what one subscriber gets);
//! `X-Forwarded-For` is believed only from configured trusted proxies.

use std::net::IpAddr;
use std::sync::Arc;

use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use super::problem::ApiRejection;
use crate::ratelimit::{Decision, Quota, RateLimiter, whole_seconds};

/// Route classes, each with its own quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Login,
    Upload,
    Api,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Login, Class::Upload, Class::Api];

    pub fn name(self) -> &'static str {
        match self {
            Class::Login => "login",
            Class::Upload => "upload",
            Class::Api => "api",
        }
    }
}

#[derive(Clone)]
pub struct RateLimits {
    login: Arc<RateLimiter>,
    upload: Arc<RateLimiter>,
    api: Arc<RateLimiter>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

/// The quota of each route class, from `[limits]`.
#[derive(Debug, Clone)]
pub struct RateLimitOptions {
    pub login: Quota,
    pub upload: Quota,
    pub api: Quota,
    /// Clients remembered per class before the least recent are forgotten.
    pub max_tracked_clients: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl RateLimits {
    pub fn new(options: RateLimitOptions) -> Self {
        let make = |quota: Quota| Arc::new(RateLimiter::new(quota, options.max_tracked_clients));
        RateLimits {
            login: make(options.login),
            upload: make(options.upload),
            api: make(options.api),
            trusted_proxies: Arc::new(options.trusted_proxies),
        }
    }

    fn limiter(&self, class: Class) -> &RateLimiter {
        match class {
            Class::Login => &self.login,
            Class::Upload => &self.upload,
            Class::Api => &self.api,
        }
    }

    /// Forgets clients whose allowance is full again; run periodically.
    pub fn sweep(&self) {
        for class in [Class::Login, Class::Upload, Class::Api] {
            self.limiter(class).sweep();
        }
    }

    /// Counts one request of `class` by the authenticated user `user_id`, so a
    /// user spreading requests over many addresses is limited too.
    pub fn check_user(&self, class: Class, user_id: &str) -> Decision {
        self.limiter(class).check(&("user", user_id))
    }

    /// The client behind a request from `peer` with these `X-Forwarded-For`
    /// lines: the peer itself unless it is a trusted proxy.
    pub fn client(&self, peer: Option<IpAddr>, forwarded: Option<&str>) -> IpAddr {
        let peer = peer.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        client_ip(peer, forwarded, &self.trusted_proxies)
    }

    /// Whether `ip` is one of `server.trusted_proxies`.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        listed(&self.trusted_proxies, &ip)
    }

    /// Counts one request of `class` from `client` (see [`RateLimits::client`]).
    pub fn check(&self, class: Class, client: IpAddr) -> Decision {
        self.limiter(class).check(&client_key(client))
    }
}

/// The `RateLimit-*` headers (IETF draft) on an answered request.
pub fn with_headers(decision: &Decision, mut response: Response) -> Response {
    for (name, value) in headers(decision) {
        response.headers_mut().insert(name, value);
    }
    response
}

/// The 429 refusal of a request over its class's limit.
pub fn refusal(class: Class, decision: &Decision) -> ApiRejection {
    let retry = whole_seconds(decision.retry_after).max(1);
    headers(decision).into_iter().fold(
        ApiRejection::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {} requests; retry in {retry} s", class.name()),
        )
        .retry_after(retry)
        .limited_by(class.name()),
        |rejection, (name, value)| rejection.header(name, value),
    )
}

/// The 429 answer for a refused request.
pub fn refused(class: Class, decision: &Decision) -> Response {
    refusal(class, decision).render()
}

fn headers(d: &Decision) -> Vec<(&'static str, HeaderValue)> {
    vec![
        ("ratelimit-limit", HeaderValue::from(d.limit)),
        ("ratelimit-remaining", HeaderValue::from(d.remaining)),
        ("ratelimit-reset", HeaderValue::from(whole_seconds(d.reset))),
    ]
}

/// The client: the socket peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy. The
/// walk goes from the nearest hop outwards and stops at a hop that does not
/// parse: what lies beyond it was written by the client, and a client must
/// not choose its own rate-limit key. It then ends at the last trusted hop.
/// Whether `ip` is in `list`; an IPv4 peer on a dual-stack listener comes
/// as `::ffff:a.b.c.d`.
fn listed(list: &[IpAddr], ip: &IpAddr) -> bool {
    list.iter().any(|t| t.to_canonical() == ip.to_canonical())
}

fn client_ip(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| listed(trusted, ip);
    let mut client = peer.to_canonical();
    if !is_trusted(&peer) {
        return client;
    }
    for hop in forwarded.into_iter().flat_map(|f| f.rsplit(',')) {
        let Some(ip) = hop_address(hop) else {
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return client;
        }
    }
    client
}

/// The address of one `X-Forwarded-For` hop: `203.0.113.9`, `2001:db8::1`,
/// or with a port as some proxies write it (`203.0.113.9:4711`,
/// `[2001:db8::1]:4711`, `[2001:db8::1]`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .or_else(|_| {
            hop.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
        })
        .ok()
        .map(|ip| ip.to_canonical())
}

/// IPv4 addresses as they are; IPv6 by their /64 network.
fn client_key(ip: IpAddr) -> [u8; 9] {
    let mut key = [0u8; 9];
    match ip.to_canonical() {
        IpAddr::V4(v4) => key[1..5].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => {
            key[0] = 6;
            key[1..9].copy_from_slice(&v6.octets()[..8]);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let client: IpAddr = "203.0.113.9".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.7".parse().expect("ip");
        let xff = "1.1.1.1, 203.0.113.9, 10.0.0.1";
        assert_eq!(client_ip(proxy, Some(xff), &[proxy]), client);
        assert_eq!(
            client_ip(stranger, Some(xff), &[proxy]),
            stranger,
            "spoofed header ignored"
        );
        assert_eq!(client_ip(proxy, Some("garbage"), &[proxy]), proxy);
        // A hop that does not parse ends the walk: the client cannot pick
        // its key by writing garbage after a real-looking address.
        assert_eq!(
            client_ip(proxy, Some("203.0.113.9, junk-7, 10.0.0.1"), &[proxy]),
            proxy
        );
        // Ports, brackets and IPv4-mapped peers, as proxies and dual-stack
        // listeners write them.
        assert_eq!(client_ip(proxy, Some("203.0.113.9:4711"), &[proxy]), client);
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(client_ip(proxy, Some("[2001:db8::1]:4711"), &[proxy]), v6);
        assert_eq!(client_ip(proxy, Some("[2001:db8::1]"), &[proxy]), v6);
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        assert_eq!(client_ip(mapped, Some("203.0.113.9"), &[proxy]), client);
        let inner: IpAddr = "10.0.0.2".parse().expect("ip");
        assert_eq!(
            client_ip(proxy, Some("junk, 10.0.0.2"), &[proxy, inner]),
            inner,
            "the last trusted hop"
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            client_key("192.0.2.1".parse().expect("ip"))
        );
    }
}
