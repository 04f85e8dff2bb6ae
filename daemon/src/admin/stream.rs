//! Bridges between the admin socket's HTTP bodies and the blocking readers
//! and writers of backup archives: an archive streams out of the daemon as
//! it is written, and into it as it is read, never whole in memory.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use tokio::sync::mpsc;

pub type AdminBody = BoxBody<Bytes, io::Error>;

/// Frames in flight between the writer's thread and the connection.
const DEPTH: usize = 8;

/// A body fed by a [`BodyWriter`]: the response can go out at once.
pub fn channel_body() -> (BodyWriter, AdminBody) {
    let (tx, rx) = mpsc::channel::<io::Result<Frame<Bytes>>>(DEPTH);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|frame| (frame, rx))
    });
    (
        BodyWriter {
            tx,
            written: Arc::default(),
        },
        BodyExt::boxed(http_body_util::StreamBody::new(stream)),
    )
}

/// Writes (from a blocking thread) into a response body.
#[derive(Clone)]
pub struct BodyWriter {
    tx: mpsc::Sender<io::Result<Frame<Bytes>>>,
    written: Arc<AtomicU64>,
}

impl BodyWriter {
    /// Bytes written so far (by every clone).
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Ends the body with an error: the connection is cut, so the client
    /// sees an incomplete answer rather than a short archive.
    pub async fn fail(self, why: String) {
        let _ = self.tx.send(Err(io::Error::other(why))).await;
    }
}

impl Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Ok(Frame::data(Bytes::copy_from_slice(buf))))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "finctl stopped reading"))?;
        self.written.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A request body as a blocking reader (for a blocking thread).
pub fn body_reader(body: Incoming) -> BodyReader {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(DEPTH);
    tokio::spawn(async move {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let sent = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => tx.send(Ok(data)).await,
                    Err(_) => continue, // trailers
                },
                Err(e) => {
                    tx.send(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        e.to_string(),
                    )))
                    .await
                }
            };
            if sent.is_err() {
                return; // The reader stopped: the restore failed already.
            }
        }
    });
    BodyReader {
        rx,
        current: Bytes::new(),
    }
}

pub struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(data)) => self.current = data,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
