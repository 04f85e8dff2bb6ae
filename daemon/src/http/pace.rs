//! A request body that gives up when the client pauses too long between
//! bytes (`server.body_timeout_seconds`). A client that sends its headers and
//! then a trickle, or nothing, would otherwise hold a connection and a task
//! for as long as it likes.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct Paced<B> {
    inner: Pin<Box<B>>,
    pause: Duration,
    /// When the body is given up unless more of it comes; set when the
    /// route first asks for the body (a client waiting for `100 Continue`
    /// sends nothing before).
    deadline: Option<Pin<Box<Sleep>>>,
    /// Set once given up, for the router to answer 408.
    stalled: Arc<AtomicBool>,
}

/// The error a stalled body ends with.
#[derive(Debug)]
pub struct Stalled(Duration);

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the client sent no more of the request body for {} s",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for Stalled {}

impl<B> Paced<B> {
    /// The clock starts when the body is first asked for: the first bytes
    /// are due within `pause` of that too.
    pub fn new(body: B, pause: Duration, stalled: Arc<AtomicBool>) -> Self {
        Paced {
            inner: Box::pin(body),
            pause,
            deadline: None,
            stalled,
        }
    }
}

impl<B> Body for Paced<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.stalled.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(Box::new(Stalled(self.pause)))));
        }
        let pause = self.pause;
        match self.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                self.deadline = None;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self
                .deadline
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + pause)))
                .as_mut()
                .poll(cx)
            {
                Poll::Ready(()) => {
                    self.stalled.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(Box::new(Stalled(self.pause)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    fn trickle(pauses_ms: &'static [u64]) -> impl Body<Data = Bytes, Error = BoxError> {
        let chunks = futures_util::stream::iter(pauses_ms).then(|ms| async move {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"chunk")))
        });
        StreamBody::new(chunks)
    }

    #[tokio::test]
    async fn a_body_that_keeps_coming_is_read_whole_however_long_it_takes() {
        let stalled = Arc::new(AtomicBool::new(false));
        let body = Paced::new(
            trickle(&[150, 150, 150, 150]),
            Duration::from_millis(300),
            stalled.clone(),
        );
        let bytes = body.collect().await.expect("whole").to_bytes();
        assert_eq!(bytes.len(), 20);
        assert!(!stalled.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn a_pause_over_the_limit_ends_the_body_and_says_so() {
        let stalled = Arc::new(AtomicBool::new(false));
        let body = Paced::new(
            trickle(&[10, 5000]),
            Duration::from_secs(1),
            stalled.clone(),
        );
        let started = std::time::Instant::now();
        let error = body.collect().await.expect_err("given up");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "gave up on time"
        );
        assert!(error.to_string().contains("for 1 s"), "{error}");
        assert!(stalled.load(Ordering::Relaxed));
    }
}
