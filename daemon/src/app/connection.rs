//! One client connection from its first byte to its close, every phase
//! bounded in time:
//!
//! - the TLS handshake: `server.header_read_timeout_seconds`;
//! - which HTTP: agreed in the handshake (ALPN), HTTP/1.1 on the plain
//!   listener; never guessed from the first bytes, a wait with no clock;
//! - each request's headers, and on HTTP/1.1 the wait for the next request:
//!   `header_read_timeout` (hyper's timer);
//! - each pause in a request body: `body_timeout` (the router);
//! - each pause while the client takes an answer: `send_timeout`
//!   ([`SendDeadline`](crate::support::SendDeadline) when the socket
//!   blocks; on h2, whose streams stall on flow control without the socket
//!   ever blocking, an answer in progress with nothing sizeable written and
//!   its body not asked for within `send_timeout` drops the connection);
//! - no request in progress: closed after `idle_timeout` (h2 included, whose
//!   pings only tell that the peer is alive);
//! - closing: at most `send_timeout` (or the shutdown grace) to finish what
//!   is in progress, then the connection is dropped.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::Request;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Connections;
use crate::http::HttpService;
use crate::support::WriteProgress;

/// HTTP/1.1 and h2 connection builders, the protocol fixed (no sniffing).
#[derive(Clone)]
pub struct Builders {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

impl Builders {
    pub fn new(phases: &Connections) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(phases.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .keep_alive_timeout(Duration::from_secs(20))
            .max_concurrent_streams(128);
        Builders {
            http1: builder.clone().http1_only(),
            http2: builder.http2_only(),
        }
    }

    pub fn for_protocol(&self, h2: bool) -> &auto::Builder<TokioExecutor> {
        if h2 { &self.http2 } else { &self.http1 }
    }
}

/// How the connection ended.
pub enum Ended {
    /// The client or the protocol closed it.
    Closed(Result<(), Box<dyn std::error::Error + Send + Sync>>),
    /// It did not finish within its closing time and was dropped.
    Dropped,
}

/// Serves one connection with `builder` until it ends. It is asked to close
/// when idle for `phases.idle_timeout` or when `stop` turns true, and dropped
/// if it has not closed `phases.send_timeout` (or `grace`) later, or when an
/// answer has made no progress (see `written`) for `phases.send_timeout`.
pub async fn serve<I>(
    io: I,
    written: Arc<WriteProgress>,
    builder: &auto::Builder<TokioExecutor>,
    service: HttpService,
    phases: &Connections,
    grace: Duration,
    mut stop: watch::Receiver<bool>,
) -> Ended
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let counted = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let busy = Busy::start(&activity);
            let answer = hyper::service::Service::call(&service, req);
            let activity = activity.clone();
            async move {
                let response = answer.await?;
                let answering = Answering::start(&activity);
                Ok::<_, Infallible>(response.map(|body| Counted {
                    body,
                    answering,
                    _busy: busy,
                }))
            }
        })
    };
    // Not `serve_connection_with_upgrades`: it sniffs the first bytes (with
    // no clock) even when the protocol is fixed. fin upgrades no connection.
    let conn = builder.serve_connection(io, counted);
    tokio::pin!(conn);
    let mut close_by: Option<Instant> = None;
    loop {
        // Woken at least every `send_timeout`, so an answer that stalls is
        // noticed on time even if it began after this wait did.
        let idle_check = activity
            .idle_deadline(phases.idle_timeout)
            .min(Instant::now() + phases.send_timeout);
        let stall = activity.answer_stalled_for(&written);
        if stall >= phases.send_timeout {
            return Ended::Dropped;
        }
        let stall_check = Instant::now() + (phases.send_timeout - stall);
        tokio::select! {
            result = conn.as_mut() => return Ended::Closed(result),
            _ = stop.wait_for(|stop| *stop), if close_by.is_none() => {
                conn.as_mut().graceful_shutdown();
                close_by = Some(Instant::now() + grace);
            }
            _ = tokio::time::sleep_until(idle_check), if close_by.is_none() => {
                if activity.idle_for() >= phases.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + phases.send_timeout);
                }
            }
            _ = tokio::time::sleep_until(close_by.unwrap_or_else(Instant::now)), if close_by.is_some() => {
                return Ended::Dropped;
            }
            _ = tokio::time::sleep_until(stall_check), if activity.answering() => {}
        }
    }
}

/// Requests in progress on one connection (until their answer is sent), and
/// since when there have been none.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started`.
    idle_since_ms: AtomicU64,
    /// Answers whose body is being sent.
    answers: AtomicUsize,
    /// When an answer's body was last asked for (ms after `started`).
    answer_polled_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            answers: AtomicUsize::new(0),
            answer_polled_ms: AtomicU64::new(0),
        }
    }

    fn answering(&self) -> bool {
        self.answers.load(Ordering::Acquire) > 0
    }

    /// How long answers being sent have made no progress: nothing sizeable
    /// written and no body asked for. Zero when none is being sent.
    fn answer_stalled_for(&self, written: &WriteProgress) -> Duration {
        if !self.answering() {
            return Duration::ZERO;
        }
        let polled = self.answer_polled_ms.load(Ordering::Acquire);
        let since_polled = Duration::from_millis(self.now_ms().saturating_sub(polled));
        since_polled.min(written.since_last())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long no request has been in progress (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        Duration::from_millis(self.now_ms().saturating_sub(since))
    }

    /// When the connection will have been idle for `limit` if nothing happens.
    fn idle_deadline(&self, limit: Duration) -> Instant {
        Instant::now() + limit.saturating_sub(self.idle_for())
    }
}

/// One request in progress; dropped when its answer has been sent (or abandoned).
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.now_ms();
        self.0.idle_since_ms.store(now, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One answer whose body is being sent; dropped once it has been.
struct Answering(Arc<Activity>);

impl Answering {
    fn start(activity: &Arc<Activity>) -> Self {
        activity
            .answer_polled_ms
            .store(activity.now_ms(), Ordering::Release);
        activity.answers.fetch_add(1, Ordering::AcqRel);
        Answering(activity.clone())
    }

    fn polled(&self) {
        self.0
            .answer_polled_ms
            .store(self.0.now_ms(), Ordering::Release);
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its request counted as in progress until it
/// has been sent, and tells when it was last asked for.
struct Counted<B> {
    body: B,
    answering: Answering,
    _busy: Busy,
}

impl<B: Body<Data = Bytes> + Unpin> Body for Counted<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.answering.polled();
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_counts_only_while_no_request_is_in_progress() {
        let activity = Arc::new(Activity::new());
        std::thread::sleep(Duration::from_millis(50));
        assert!(activity.idle_for() >= Duration::from_millis(50));

        let busy = Busy::start(&activity);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            activity.idle_for(),
            Duration::ZERO,
            "a request in progress is not idle"
        );
        let limit = Duration::from_secs(60);
        assert!(activity.idle_deadline(limit) >= Instant::now() + limit - Duration::from_millis(5));

        drop(busy);
        let idle = activity.idle_for();
        assert!(
            idle < Duration::from_millis(50),
            "counted from the answer: {idle:?}"
        );
    }
}
