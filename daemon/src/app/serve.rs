//! Accept loops for the client listeners: TLS (HTTPS) or plain (the
//! redirector). Each connection is admitted under the connection caps or
//! closed at once, then served by `connection.rs`; shutdown lets open
//! connections finish for at most the grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::connection::{self, Builders, Ended};
use crate::config::Connections;
use crate::http::HttpService;
use crate::metrics::Metrics;
use crate::support::{ConnectionCaps, SendDeadline, WriteProgress, unix_now};
use crate::tls::TlsAcceptor;

/// A refused connection is logged at most this often (a flood would fill the log).
const REFUSAL_LOG_EVERY_SECONDS: i64 = 60;

pub struct Server {
    pub name: &'static str,
    pub listener: TcpListener,
    /// `None` serves plain HTTP.
    pub tls: Option<TlsAcceptor>,
    pub service: HttpService,
    pub phases: Connections,
    /// Shared by every client listener.
    pub caps: Arc<ConnectionCaps>,
    pub metrics: Arc<Metrics>,
    pub grace: Duration,
}

impl Server {
    /// Serves until `shutdown` turns true, then lets open connections finish
    /// their requests for at most `grace` before closing them.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let stopped = {
            let mut shutdown = shutdown.clone();
            async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            }
        };
        let builders = Builders::new(&self.phases);
        let last_refusal_logged = AtomicU64::new(0);

        crate::support::accept_until(self.name, &self.listener, stopped, |tcp, peer| {
            let admitted = match self.caps.admit(peer.ip()) {
                Ok(admitted) => admitted,
                Err(refusal) => {
                    // Dropping the stream closes it: nothing is read or answered.
                    self.metrics.observe_connection_refused(refusal.as_str());
                    let now = unix_now().max(0) as u64;
                    let last = last_refusal_logged.load(Ordering::Relaxed);
                    if now.saturating_sub(last) >= REFUSAL_LOG_EVERY_SECONDS as u64
                        && last_refusal_logged
                            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                            .is_ok()
                    {
                        tracing::warn!(listener = self.name, %peer, cap = refusal.as_str(), "connection refused: too many open (see server.max_connections; logged once a minute)");
                    }
                    return;
                }
            };
            let _ = tcp.set_nodelay(true);
            let task = Connection {
                name: self.name,
                service: self.service.for_peer(peer),
                builders: builders.clone(),
                tls: self.tls.clone(),
                phases: self.phases.clone(),
                grace: self.grace,
                stop: shutdown.clone(),
            };
            let open = OpenConnection::count(&self.metrics);
            tokio::spawn(async move {
                // Both given back however the task ends, a panic included.
                let _held = (admitted, open);
                task.serve(tcp, peer).await;
            });
        })
        .await;

        drop(self.listener);
        let open = self.caps.open();
        // Each connection closes itself within the grace; this only waits.
        let waited = self.grace + Duration::from_secs(1);
        if tokio::time::timeout(waited, self.caps.all_closed())
            .await
            .is_err()
        {
            tracing::warn!(listener = self.name, open, grace = ?self.grace, "connections still open after the grace period");
        }
    }
}

/// One connection in `fin_connections_open`, for as long as it lives.
struct OpenConnection(Arc<Metrics>);

impl OpenConnection {
    fn count(metrics: &Arc<Metrics>) -> Self {
        metrics.observe_connection(true);
        OpenConnection(metrics.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.observe_connection(false);
    }
}

/// What one connection's task needs.
struct Connection {
    name: &'static str,
    service: HttpService,
    builders: Builders,
    tls: Option<TlsAcceptor>,
    phases: Connections,
    grace: Duration,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(self, tcp: TcpStream, peer: std::net::SocketAddr) {
        let name = self.name;
        let stream = SendDeadline::new(tcp, self.phases.send_timeout);
        let written = stream.progress();
        let ended = match self.tls.clone() {
            Some(acceptor) => match acceptor.accept(stream).await {
                Ok(stream) => {
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    self.http(stream, written, h2).await
                }
                Err(e) => {
                    tracing::debug!(listener = name, %peer, error = %e, "TLS handshake failed");
                    Ended::Closed(Ok(()))
                }
            },
            None => self.http(stream, written, false).await,
        };
        match ended {
            Ended::Closed(Err(e)) => {
                tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
            }
            Ended::Dropped => {
                tracing::debug!(listener = name, %peer, "connection dropped: it did not finish within its closing time");
            }
            Ended::Closed(Ok(())) => {}
        }
    }

    /// HTTP over `io`: h2 when ALPN agreed on it, HTTP/1.1 otherwise.
    async fn http<I>(self, io: I, written: Arc<WriteProgress>, h2: bool) -> Ended
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        connection::serve(
            TokioIo::new(io),
            written,
            self.builders.for_protocol(h2),
            self.service,
            &self.phases,
            self.grace,
            self.stop,
        )
        .await
    }
}
