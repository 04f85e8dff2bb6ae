//! Who is on the other end, put into requests' extensions (warp 0.4 served
//! through hyper does not know the socket's peer otherwise).

use std::net::IpAddr;

/// The client: the socket peer, or, when the peer is a trusted proxy, the
/// address it forwards for. Set by the router on every routed request; the
/// one address rate limits, sessions, the audit trail and the fail2ban
/// lines use.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);
