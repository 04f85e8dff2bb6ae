//! A connection whose writes fail once the client has taken nothing for a
//! while. A client that asks for an answer and never reads it would
//! otherwise hold the connection, its buffers and its task for ever.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Wraps a stream: a write (or flush) that cannot progress for `limit`
/// fails with `TimedOut`, which ends the connection.
pub struct SendDeadline<S> {
    inner: S,
    limit: Duration,
    /// Running while a write waits for the client to make room.
    stalled: Option<Pin<Box<Sleep>>>,
    progress: Arc<WriteProgress>,
}

/// When the connection last wrote a sizeable piece: what an HTTP/2
/// connection, whose streams can stall without the socket ever blocking,
/// is watched by.
#[derive(Debug)]
pub struct WriteProgress {
    epoch: Instant,
    /// Milliseconds after `epoch`.
    last_ms: AtomicU64,
}

/// Writes smaller than this (HTTP/2 pings and window updates in their TLS
/// records) do not count as progress: a client that only answers pings
/// takes nothing.
const SIZEABLE_WRITE: usize = 256;

impl WriteProgress {
    fn new() -> Self {
        WriteProgress {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn record(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long ago the last sizeable write was (or the connection began).
    pub fn since_last(&self) -> Duration {
        let now = self.epoch.elapsed();
        now.saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

impl<S> SendDeadline<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        SendDeadline {
            inner,
            limit,
            stalled: None,
            progress: Arc::new(WriteProgress::new()),
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The handle that tells when this connection last wrote a sizeable piece.
    pub fn progress(&self) -> Arc<WriteProgress> {
        self.progress.clone()
    }

    /// After the inner stream said `Pending`: keep waiting, or give up once
    /// the client has made no room for `limit`.
    fn wait_or_give_up<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client took nothing of the answer for {} s",
                limit.as_secs()
            ),
        )))
    }

    fn progressed<T>(&mut self, result: io::Result<T>) -> Poll<io::Result<T>> {
        self.stalled = None;
        Poll::Ready(result)
    }

    fn wrote(&mut self, result: io::Result<usize>) -> Poll<io::Result<usize>> {
        if result.as_ref().is_ok_and(|n| *n >= SIZEABLE_WRITE) {
            self.progress.record();
        }
        self.progressed(result)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SendDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SendDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => this.wrote(result),
            Poll::Pending => this.wait_or_give_up(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => this.wrote(result),
            Poll::Pending => this.wait_or_give_up(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(result) => this.progressed(result),
            Poll::Pending => this.wait_or_give_up(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Ready(result) => this.progressed(result),
            Poll::Pending => this.wait_or_give_up(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    #[tokio::test]
    async fn a_client_that_reads_nothing_fails_the_write_after_the_limit() {
        // A pipe with a small buffer whose other end is never read.
        let (ours, _theirs) = tokio::io::duplex(1024);
        let mut stream = SendDeadline::new(ours, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            stream.write_all(&vec![0u8; 64 * 1024]),
        )
        .await
        .expect("gives up by itself");
        let error = result.expect_err("the write fails");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_taking_is_never_cut_off() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let mut stream = SendDeadline::new(ours, Duration::from_millis(300));
        let reader = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 512];
            let mut total = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => return total,
                    Ok(n) => total += n,
                }
            }
        });
        // Takes about 1.6 s in all, far over the limit, never pausing 300 ms.
        stream
            .write_all(&vec![1u8; 16 * 1024])
            .await
            .expect("written");
        stream.shutdown().await.expect("shut down");
        drop(stream);
        assert_eq!(reader.await.expect("reader"), 16 * 1024);
    }
}
