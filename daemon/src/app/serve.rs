//! Accept loops for the TCP listeners: TLS (HTTPS) or plain (redirector),
//! HTTP/1.1 and h2 through hyper-util, graceful shutdown with a bound.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::HttpService;
use crate::tls::TlsAcceptor;

pub struct Server {
    pub name: &'static str,
    pub listener: TcpListener,
    /// `None` serves plain HTTP.
    pub tls: Option<TlsAcceptor>,
    pub service: HttpService,
    pub header_read_timeout: Duration,
    pub grace: Duration,
}

impl Server {
    /// Serves until `shutdown` turns true, then lets open connections finish
    /// their requests for at most `grace` before closing them.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let stopped = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .max_concurrent_streams(128);
        let graceful = GracefulShutdown::new();

        crate::support::accept_until(self.name, &self.listener, stopped, |tcp, peer| {
            let _ = tcp.set_nodelay(true);
            let service = self.service.for_peer(peer);
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            let name = self.name;
            tokio::spawn(async move {
                let result = match tls {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => {
                            let conn = builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service);
                            watcher.watch(conn.into_owned()).await
                        }
                        Err(e) => {
                            tracing::debug!(listener = name, %peer, error = %e, "TLS handshake failed");
                            return;
                        }
                    },
                    None => {
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                        watcher.watch(conn.into_owned()).await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
                }
            });
        })
        .await;

        drop(self.listener);
        let open = graceful.count();
        if tokio::time::timeout(self.grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(listener = self.name, open, grace = ?self.grace, "connections still open after the grace period: closing them");
        }
    }
}
