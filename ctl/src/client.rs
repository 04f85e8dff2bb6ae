//! A minimal HTTP/1.1 client for the admin socket: one request per
//! connection, JSON in and out. Kept small so finctl stays a light binary.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fin_proto::admin::AdminError;
use serde::de::DeserializeOwned;

use crate::error::CtlError;

const TIMEOUT: Duration = Duration::from_secs(60);
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

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
        if (200..300).contains(&status) {
            serde_json::from_slice(&body).map_err(|e| {
                CtlError::Other(format!(
                    "the daemon sent an answer finctl does not understand: {e}"
                ))
            })
        } else {
            Err(daemon_error(status, &body))
        }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), CtlError> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| self.connect_error(e))?;
        let io = |e: std::io::Error| {
            CtlError::Other(format!(
                "talking to the daemon on {} failed: {e}",
                self.socket.display()
            ))
        };
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
    let chunked = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value).contains("chunked")
    });
    let body = &raw[header_len..];
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("broken chunked body"))?
    } else {
        body.to_vec()
    };
    Ok((status, body))
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
