//! A minimal HTTP/1.1 client for the admin socket: one request per
//! connection, JSON in and out. Kept small so finctl stays a light binary.

use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fin_proto::admin::AdminError;
use serde::de::DeserializeOwned;

use crate::error::CtlError;

const TIMEOUT: Duration = Duration::from_secs(60);
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;
/// For backups and restores, which stream for as long as the data needs.
const LONG_TIMEOUT: Duration = Duration::from_secs(3600);

pub struct AdminClient {
    socket: PathBuf,
}

impl AdminClient {
    pub fn new(socket: &Path) -> Self {
        AdminClient {
            socket: socket.to_path_buf(),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CtlError> {
        self.call("GET", path, None)
    }

    pub fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CtlError> {
        let body = serde_json::to_vec(body).map_err(|e| CtlError::Other(e.to_string()))?;
        self.call("POST", path, Some(&body))
    }

    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, CtlError> {
        self.call("DELETE", path, None)
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<T, CtlError> {
        let (status, body) = self.request(method, path, body)?;
        answer(status, &body)
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), CtlError> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| self.connect_error(e))?;
        let io = |e: std::io::Error| self.io_error(e);
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        let content = match body {
            Some(body) => format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ),
            None => String::new(),
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: fin\r\nAccept: application/json\r\nUser-Agent: finctl/{}\r\n{content}Connection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        // One write: a daemon that answers after reading the head alone must
        // not meet a second write on a connection it has already closed.
        let mut request = head.into_bytes();
        if let Some(body) = body {
            request.extend_from_slice(body);
        }
        stream.write_all(&request).map_err(io)?;
        let mut raw = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .map_err(io)?;
        parse_response(&raw)
    }

    /// `POST`s `body` and streams the answer's body into `out` (a backup);
    /// `progress` hears the bytes written so far. An answer that stops
    /// before its end is an error.
    pub fn download<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, CtlError> {
        let body = serde_json::to_vec(body).map_err(|e| CtlError::Other(e.to_string()))?;
        let mut stream = self.connect_long()?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: fin\r\nUser-Agent: finctl/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(&body);
        stream.write_all(&request).map_err(|e| self.io_error(e))?;
        let mut reader = std::io::BufReader::with_capacity(256 * 1024, stream);
        let (status, chunked) = read_head(&mut reader).map_err(|e| self.io_error(e))?;
        if status != 200 {
            let mut rest = Vec::new();
            reader
                .take(MAX_RESPONSE)
                .read_to_end(&mut rest)
                .map_err(|e| self.io_error(e))?;
            let rest = if chunked {
                dechunk(&rest).unwrap_or(rest)
            } else {
                rest
            };
            return Err(daemon_error(status, &rest));
        }
        if !chunked {
            return Err(CtlError::Other(
                "the daemon answered without a streamed body; is finctl newer than the daemon?"
                    .into(),
            ));
        }
        let mut total = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        let mut chunks = Chunked::new(reader);
        loop {
            let n = chunks.read(&mut buf).map_err(|e| {
                CtlError::Other(format!(
                    "the daemon stopped sending the backup before its end ({e}); the cause is in its log"
                ))
            })?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(write_error)?;
            total += n as u64;
            progress(total);
        }
        Ok(total)
    }

    /// `POST`s `len` bytes from `input` as the body (an archive), with
    /// extra headers, and reads a JSON answer; `progress` hears the bytes
    /// sent so far.
    pub fn upload<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&str, String)],
        input: &mut dyn Read,
        len: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<T, CtlError> {
        let mut stream = self.connect_long()?;
        let extra: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: fin\r\nUser-Agent: finctl/{}\r\nAccept: application/json\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n{extra}Connection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
        );
        stream
            .write_all(head.as_bytes())
            .map_err(|e| self.io_error(e))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut sent = 0u64;
        // The daemon may refuse before it has read everything (a wrong
        // passphrase): then its answer is read instead of the write error.
        let mut refused_early = false;
        loop {
            let n = input
                .read(&mut buf)
                .map_err(|e| CtlError::Other(format!("cannot read the archive: {e}")))?;
            if n == 0 {
                break;
            }
            if stream.write_all(&buf[..n]).is_err() {
                refused_early = true;
                break;
            }
            sent += n as u64;
            progress(sent);
        }
        let mut raw = Vec::new();
        let read = (&stream).take(MAX_RESPONSE).read_to_end(&mut raw);
        if let Err(e) = read
            && raw.is_empty()
        {
            return Err(self.io_error(e));
        }
        if raw.is_empty() && refused_early {
            return Err(CtlError::Other(
                "the daemon closed the connection while the archive was being sent; the cause is in its log".into(),
            ));
        }
        let (status, body) = parse_response(&raw)?;
        answer(status, &body)
    }

    /// A connection for long work (a restore may take minutes to answer).
    fn connect_long(&self) -> Result<UnixStream, CtlError> {
        let stream = UnixStream::connect(&self.socket).map_err(|e| self.connect_error(e))?;
        stream
            .set_read_timeout(Some(LONG_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(LONG_TIMEOUT)))
            .map_err(|e| self.io_error(e))?;
        Ok(stream)
    }

    fn io_error(&self, e: std::io::Error) -> CtlError {
        CtlError::Other(format!(
            "talking to the daemon on {} failed: {e}",
            self.socket.display()
        ))
    }

    fn connect_error(&self, e: std::io::Error) -> CtlError {
        match e.kind() {
            std::io::ErrorKind::PermissionDenied => CtlError::Permission {
                message: format!(
                    "permission denied on the admin socket {}: run finctl as root (sudo finctl ...) or as a member of group fin",
                    self.socket.display()
                ),
            },
            _ => CtlError::NotRunning {
                socket: self.socket.clone(),
                reason: e.to_string(),
            },
        }
    }
}

/// A JSON answer: the value on success, the daemon's error otherwise.
fn answer<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, CtlError> {
    if !(200..300).contains(&status) {
        return Err(daemon_error(status, body));
    }
    serde_json::from_slice(body).map_err(|e| {
        CtlError::Other(format!(
            "the daemon sent an answer finctl does not understand: {e}"
        ))
    })
}

fn daemon_error(status: u16, body: &[u8]) -> CtlError {
    match serde_json::from_slice::<AdminError>(body) {
        Ok(err) if status == 403 => CtlError::Permission {
            message: err.message,
        },
        Ok(err) => CtlError::Daemon {
            code: err.code,
            message: err.message,
        },
        Err(_) => CtlError::Daemon {
            code: format!("http_{status}"),
            message: String::from_utf8_lossy(body).chars().take(500).collect(),
        },
    }
}

/// Status code and body of a complete HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), CtlError> {
    let bad = |why: &str| CtlError::Other(format!("the daemon sent a malformed answer ({why})"));
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let header_len = match response.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Err(bad("incomplete response")),
        Err(e) => return Err(bad(&e.to_string())),
    };
    let status = response.code.ok_or_else(|| bad("no status"))?;
    let chunked = is_chunked(response.headers);
    let body = &raw[header_len..];
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("broken chunked body"))?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn is_chunked(headers: &[httparse::Header<'_>]) -> bool {
    headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value).contains("chunked")
    })
}

/// A failed write of what the daemon sent: no room is its own exit code.
pub fn write_error(e: std::io::Error) -> CtlError {
    let no_room = matches!(e.raw_os_error(), Some(27 | 28 | 122))
        || matches!(
            e.kind(),
            std::io::ErrorKind::StorageFull
                | std::io::ErrorKind::FileTooLarge
                | std::io::ErrorKind::QuotaExceeded
        );
    match no_room {
        // ENOSPC, EFBIG (a file size limit), EDQUOT.
        true => CtlError::NoSpace(format!(
            "cannot write the backup: no room ({e}); nothing was kept"
        )),
        false => CtlError::Other(format!("cannot write the backup: {e}")),
    }
}

/// Reads a response's head: the status and whether the body is chunked.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, bool)> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        reader.read_until(b'\n', &mut head)?;
        if head.len() == before {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection without answering",
            ));
        }
        if head.ends_with(b"\r\n\r\n") || head.len() > 64 * 1024 {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the daemon sent a malformed answer",
            ));
        }
    }
    let chunked = is_chunked(response.headers);
    Ok((response.code.unwrap_or(0), chunked))
}

/// A chunked body as it streams; the end is the zero-size chunk, and a
/// connection that closes before it is an error.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        self.inner.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed mid-answer",
            ));
        }
        Ok(String::from_utf8_lossy(&line).trim().to_string())
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let size_line = self.line()?;
            let size = u64::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "a broken chunk size")
                })?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed mid-chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            // The CRLF after the chunk's data.
            self.line()?;
        }
        Ok(n)
    }
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_answers() {
        let (status, body) =
            parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").expect("plain");
        assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
        let (status, body) =
            parse_response(b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .expect("chunked");
        assert_eq!((status, body.as_slice()), (404, b"abcde".as_slice()));
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn a_missing_socket_means_not_running() {
        let client = AdminClient::new(Path::new("/nonexistent/fin/admin.sock"));
        let err = client
            .get::<serde_json::Value>("/v1/status")
            .expect_err("no daemon");
        assert_eq!(err.exit_code(), crate::error::exit::NOT_RUNNING);
        assert!(err.to_string().contains("not running"));
    }
}
