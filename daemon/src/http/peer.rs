//! The client's socket address, put into every request's extensions by the
//! service (warp 0.4 served through hyper does not know it otherwise).

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);
