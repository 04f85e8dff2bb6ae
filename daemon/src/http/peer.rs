//! Who is on the other end, put into requests' extensions (warp 0.4 served
//! through hyper does not know the socket's peer otherwise).

use std::net::IpAddr;

/// The client: the socket peer, or, when the peer is a trusted proxy, the
/// address it forwards for. Set by the router on every routed request; the
/// one address rate limits, sessions, the audit trail and the fail2ban
/// lines use. Absent when the peer is a trusted proxy that forwards for
/// nobody (no `X-Forwarded-For`, or only proxies in it): the client is then
/// unknown and recorded as `-`, so fail2ban never bans the proxy (its rate
/// limits still apply to the proxy's address).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);
