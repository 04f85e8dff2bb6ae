//! Answers given before a request's body is read (429, 401, 404...) come
//! after the body, read and dropped up to a bound. Otherwise the server
//! would close the connection under a client still sending, and the client
//! (a script uploading a folder of receipts, say) would see a broken
//! connection instead of the answer and its `Retry-After`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// How long a client may take to finish sending a body nobody will read.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// A request body that the router can still read after the route's filter
/// has let go of it.
pub struct SharedBody<B> {
    inner: Arc<Mutex<Pin<Box<B>>>>,
}

impl<B> SharedBody<B> {
    /// The body for the route, and the handle the router keeps.
    pub fn new(body: B) -> (SharedBody<B>, SharedBody<B>) {
        let inner = Arc::new(Mutex::new(Box::pin(body)));
        (
            SharedBody {
                inner: inner.clone(),
            },
            SharedBody { inner },
        )
    }
}

impl<B: Body<Data = Bytes>> Body for SharedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.inner.lock() {
            Ok(mut body) => body.as_mut().poll_frame(cx),
            Err(_) => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.lock().map_or(true, |body| body.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .lock()
            .map_or_else(|_| SizeHint::with_exact(0), |body| body.size_hint())
    }
}

/// Reads what is left of `body` and drops it: until its end, an error (its
/// byte limit), or [`DRAIN_TIME`].
pub async fn drain<B: Body<Data = Bytes>>(mut body: SharedBody<B>) {
    let read_to_end = async {
        while !body.is_end_stream() {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read_to_end).await;
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, Full, StreamBody};

    use super::*;

    #[tokio::test]
    async fn what_the_route_left_is_read_by_the_router() {
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = read.clone();
        let chunks = futures_util::stream::iter(0..5u8).map(move |i| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![i; 10])))
        });
        let (mut route, router) = SharedBody::new(StreamBody::new(chunks));
        let first = route.frame().await.expect("frame").expect("data");
        assert_eq!(first.into_data().expect("data").len(), 10);
        drop(route);
        assert_eq!(read.load(std::sync::atomic::Ordering::SeqCst), 1);
        drain(router).await;
        assert_eq!(
            read.load(std::sync::atomic::Ordering::SeqCst),
            5,
            "all of it read"
        );

        let (route, router) = SharedBody::new(Full::new(Bytes::from_static(b"all")));
        let body = route.collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"all");
        drain(router).await;
    }
}
