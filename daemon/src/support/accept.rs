//! The accept loop every listener shares (HTTPS, the redirector, metrics,
//! the admin socket): take connections until shutdown, and when accepting
//! fails (usually: out of file descriptors) back off instead of spinning.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// How long to wait after a failed accept before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A listening socket of either family.
pub trait Listener {
    type Stream;
    type Peer;
    fn accept(&self) -> impl Future<Output = std::io::Result<(Self::Stream, Self::Peer)>> + Send;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Peer = std::net::SocketAddr;
    fn accept(&self) -> impl Future<Output = std::io::Result<(TcpStream, Self::Peer)>> + Send {
        TcpListener::accept(self)
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Peer = tokio::net::unix::SocketAddr;
    fn accept(&self) -> impl Future<Output = std::io::Result<(UnixStream, Self::Peer)>> + Send {
        UnixListener::accept(self)
    }
}

/// Hands every connection `listener` accepts to `on_connection` until
/// `shutdown` completes. `name` labels the log lines.
pub async fn accept_until<L: Listener>(
    name: &'static str,
    listener: &L,
    shutdown: impl Future<Output = ()>,
    mut on_connection: impl FnMut(L::Stream, L::Peer),
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => on_connection(stream, peer),
                Err(e) => {
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_are_handed_over_until_shutdown() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let server = tokio::spawn(async move {
            accept_until(
                "test",
                &listener,
                async { stop_rx.await.unwrap_or(()) },
                |_, peer| {
                    let _ = seen_tx.send(peer);
                },
            )
            .await;
        });
        let client = TcpStream::connect(addr).await.expect("connect");
        let peer = seen_rx.recv().await.expect("handed over");
        assert_eq!(peer, client.local_addr().expect("local"));
        stop_tx.send(()).expect("stop");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stops")
            .expect("no panic");
    }
}
