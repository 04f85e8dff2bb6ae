//! Bridges between the admin socket's HTTP bodies and the blocking readers
//! and writers of backup archives: an archive streams out of the daemon as
//! it is written, and into it as it is read, never whole in memory.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

pub type AdminBody = BoxBody<Bytes, io::Error>;

/// Frames in flight between the writer's thread and the connection.
const DEPTH: usize = 8;

/// How long a peer may take neither bytes nor room for more before the
/// transfer is given up: a finctl that is stopped (or a pipe that never
/// drains) must not hold a backup's snapshot, or a restore's staging,
/// for ever.
const STALL: Duration = Duration::from_secs(300);

fn stalled(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("finctl {what} nothing for {} seconds", STALL.as_secs()),
    )
}

/// A body fed by a [`BodyWriter`]: the response can go out at once. Called
/// on the runtime, whose timer the writer's stall limit uses.
pub fn channel_body() -> (BodyWriter, AdminBody) {
    let (tx, rx) = mpsc::channel::<io::Result<Frame<Bytes>>>(DEPTH);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|frame| (frame, rx))
    });
    (
        BodyWriter {
            tx,
            written: Arc::default(),
            runtime: Handle::current(),
        },
        BodyExt::boxed(http_body_util::StreamBody::new(stream)),
    )
}

/// Writes (from a blocking thread) into a response body.
#[derive(Clone)]
pub struct BodyWriter {
    tx: mpsc::Sender<io::Result<Frame<Bytes>>>,
    written: Arc<AtomicU64>,
    runtime: Handle,
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
        let frame = Ok(Frame::data(Bytes::copy_from_slice(buf)));
        match self
            .runtime
            .block_on(tokio::time::timeout(STALL, self.tx.send(frame)))
        {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "finctl stopped reading",
                ));
            }
            Err(_) => return Err(stalled("read")),
        }
        self.written.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A request body as a blocking reader (for a blocking thread). Called on
/// the runtime, whose timer the reader's stall limit uses.
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
        runtime: Handle::current(),
    }
}

pub struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    runtime: Handle,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            let next = self
                .runtime
                .block_on(tokio::time::timeout(STALL, self.rx.recv()));
            match next {
                Ok(Some(Ok(data))) => self.current = data,
                Ok(Some(Err(e))) => return Err(e),
                Ok(None) => return Ok(0),
                Err(_) => return Err(stalled("sent")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
