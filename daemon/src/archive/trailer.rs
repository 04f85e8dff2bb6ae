//! The checksum of the compressed stream, after it as a zstd skippable
//! frame (which zstd readers pass over). zstd's own checksum covers the
//! content only: a flipped bit that decoding never looks at (padding in
//! an entropy-coded block) would leave the content, and so the archive,
//! seemingly whole. With this, any changed byte of an archive is found.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// A skippable frame's magic (0x184D2A50, little-endian) and our tag.
const MAGIC: [u8; 4] = [0x50, 0x2a, 0x4d, 0x18];
const TAG: &[u8; 8] = b"finsum01";
/// Magic, length, tag, SHA-256.
pub(super) const LEN: usize = 4 + 4 + 8 + 32;

/// The frame holding `digest` (of every byte before it).
pub(super) fn frame(digest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&((LEN - 8) as u32).to_le_bytes());
    out.extend_from_slice(TAG);
    out.extend_from_slice(digest);
    out
}

/// What a [`Summing`] reader saw: the hash of all but the last [`LEN`]
/// bytes, and those bytes.
#[derive(Default)]
struct Seen {
    hasher: Sha256,
    tail: Vec<u8>,
}

/// Passes bytes through to zstd, hashing all but the last [`LEN`].
pub(super) struct Summing<R> {
    inner: R,
    seen: Arc<Mutex<Seen>>,
}

/// Checks, once everything is read, that the stream ended with a frame
/// holding the checksum of what came before it.
#[derive(Clone)]
pub(super) struct Check(Arc<Mutex<Seen>>);

pub(super) fn summing<R: Read>(inner: R) -> (Summing<R>, Check) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    (
        Summing {
            inner,
            seen: seen.clone(),
        },
        Check(seen),
    )
}

impl<R: Read> Read for Summing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.tail.extend_from_slice(&buf[..n]);
        if seen.tail.len() > LEN {
            let spill = seen.tail.len() - LEN;
            let Seen { hasher, tail } = &mut *seen;
            hasher.update(&tail[..spill]);
            tail.drain(..spill);
        }
        Ok(n)
    }
}

impl Check {
    /// `Ok` when the last bytes are our frame and its checksum matches.
    pub(super) fn verify(&self) -> Result<(), String> {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let tail = &seen.tail;
        if tail.len() != LEN || tail[..4] != MAGIC || &tail[8..16] != TAG {
            return Err("its closing checksum is missing".into());
        }
        if seen.hasher.clone().finalize().as_slice() != &tail[16..] {
            return Err("its bytes do not match their checksum".into());
        }
        Ok(())
    }
}
