//! Writes an archive in one pass: members go out as they come, so memory
//! stays flat however large the data.

use std::io::{self, Read, Write};

use age::secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{HEADER, Header, MANIFEST, Manifest, Member};
use crate::support::hex;

/// zstd level 3: the library's default, several times faster than the
/// higher levels for a few per cent on text and nothing on JPEGs.
const LEVEL: i32 = 3;

/// Below zstd: the file itself, or age encrypting into it.
enum Sink<W: Write> {
    Plain(W),
    Encrypted(age::stream::StreamWriter<W>),
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Encrypted(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Encrypted(w) => w.flush(),
        }
    }
}

impl<W: Write> Sink<W> {
    fn finish(self) -> io::Result<W> {
        match self {
            Sink::Plain(w) => Ok(w),
            // age writes its last, authenticated chunk here: without it the
            // archive does not decrypt.
            Sink::Encrypted(w) => w.finish(),
        }
    }
}

/// Hashes the compressed stream on its way out (see [`super::trailer`]).
struct Summed<W: Write> {
    inner: Sink<W>,
    hasher: Sha256,
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub struct ArchiveWriter<W: Write> {
    tar: tar::Builder<zstd::stream::write::Encoder<'static, Summed<W>>>,
    header: Header,
    members: Vec<Member>,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive on `out` and writes its header.
    pub fn new(out: W, header: Header, passphrase: Option<&SecretString>) -> io::Result<Self> {
        let sink = match passphrase {
            Some(passphrase) => {
                let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
                recipient.set_work_factor(super::WORK_FACTOR);
                let encryptor = age::Encryptor::with_recipients(std::iter::once(
                    &recipient as &dyn age::Recipient,
                ))
                .map_err(io::Error::other)?;
                Sink::Encrypted(encryptor.wrap_output(out)?)
            }
            None => Sink::Plain(out),
        };
        let summed = Summed {
            inner: sink,
            hasher: Sha256::new(),
        };
        let mut zstd = zstd::stream::write::Encoder::new(summed, LEVEL)?;
        // A damaged byte is then found by zstd as well as by the checksums.
        zstd.include_checksum(true)?;
        let mut tar = tar::Builder::new(zstd);
        tar.mode(tar::HeaderMode::Deterministic);
        let mut writer = ArchiveWriter {
            tar,
            header,
            members: Vec::new(),
        };
        let bytes = serde_json::to_vec_pretty(&writer.header).map_err(io::Error::other)?;
        writer.append(HEADER, &bytes)?;
        Ok(writer)
    }

    /// Adds a member held in memory.
    pub fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.members.push(Member {
            path: path.to_string(),
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(bytes)),
        });
        self.append(path, bytes)
    }

    /// Adds a member read from `reader`, which must give exactly `size`
    /// bytes (a file that changes meanwhile is an error, not a bad member).
    pub fn add_reader(&mut self, path: &str, size: u64, reader: impl Read) -> io::Result<()> {
        let mut hashing = Hashing {
            inner: reader.take(size),
            hasher: Sha256::new(),
            read: 0,
        };
        let mut head = entry_header(size);
        self.tar.append_data(&mut head, path, &mut hashing)?;
        if hashing.read != size {
            return Err(io::Error::other(format!(
                "{path} changed while it was being archived ({} bytes instead of {size})",
                hashing.read
            )));
        }
        self.members.push(Member {
            path: path.to_string(),
            size,
            sha256: hex(&hashing.hasher.finalize()),
        });
        Ok(())
    }

    /// Writes the manifest and closes every layer; gives back the output
    /// (to be synced by the caller) and the manifest written.
    pub fn finish(
        mut self,
        tables: std::collections::BTreeMap<String, u64>,
    ) -> io::Result<(W, Manifest)> {
        let manifest = Manifest {
            header: self.header.clone(),
            tables,
            members: std::mem::take(&mut self.members),
        };
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
        self.append(MANIFEST, &bytes)?;
        let zstd = self.tar.into_inner()?;
        let Summed { mut inner, hasher } = zstd.finish()?;
        inner.write_all(&super::trailer::frame(&hasher.finalize()))?;
        Ok((inner.finish()?, manifest))
    }

    fn append(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let mut head = entry_header(bytes.len() as u64);
        self.tar.append_data(&mut head, path, bytes)
    }
}

fn entry_header(size: u64) -> tar::Header {
    let mut head = tar::Header::new_gnu();
    head.set_size(size);
    head.set_mode(0o600);
    head.set_entry_type(tar::EntryType::Regular);
    head
}

/// Counts and hashes what passes through.
pub(super) struct Hashing<R> {
    pub(super) inner: R,
    pub(super) hasher: Sha256,
    pub(super) read: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}
