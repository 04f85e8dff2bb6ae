//! Reads an archive in one pass, checking as it goes: the header first (a
//! newer archive is refused before anything else is read), every member's
//! size and SHA-256 against the manifest at the end, and nothing after it.
//! The caller sees each member as it streams by and must not act on what
//! it saw until [`ArchiveReader::read`] has returned `Ok`.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use age::secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::writer::Hashing;
use super::{ArchiveError, FORMAT, HEADER, Header, MANIFEST, Manifest, Member};
use crate::support::hex;

/// The header and manifest are small; anything bigger is not ours.
const MAX_JSON: u64 = 64 * 1024 * 1024;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

/// What the caller decides about a header before the rest is read.
pub type Check<'a> = dyn FnMut(&Header) -> Result<(), ArchiveError> + 'a;

pub struct ArchiveReader<'r> {
    tar: tar::Archive<Box<dyn Read + 'r>>,
    encrypted: bool,
    ended: Arc<AtomicBool>,
    sum: super::trailer::Check,
}

/// Notes when the file itself has no more bytes: a layer that fails after
/// that was cut short; one that fails before it found damage.
struct EndWatch<R> {
    inner: R,
    ended: Arc<AtomicBool>,
}

impl<R: Read> Read for EndWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Notes whether reading a member failed (the archive's fault, not the
/// caller's).
struct Tracked<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed = true)
    }
}

/// Limits: an age chunk is checked when whole, so damage within an
/// encrypted archive's last chunk (64 KiB) reads as an early end too.
fn classify(ended: &AtomicBool, e: io::Error) -> ArchiveError {
    if ended.load(Ordering::Relaxed) || e.kind() == io::ErrorKind::UnexpectedEof {
        ArchiveError::Truncated(e.to_string())
    } else {
        ArchiveError::Corrupt(e.to_string())
    }
}

impl<'r> ArchiveReader<'r> {
    /// Opens the layers: age (when the archive is encrypted), then zstd.
    pub fn open(
        input: impl Read + 'r,
        passphrase: Option<&SecretString>,
    ) -> Result<Self, ArchiveError> {
        let ended = Arc::new(AtomicBool::new(false));
        let classify = |e| classify(&ended, e);
        let mut input = BufReader::with_capacity(
            64 * 1024,
            EndWatch {
                inner: input,
                ended: ended.clone(),
            },
        );
        // The first bytes say the format; a stream may give fewer at once.
        let mut start = Vec::new();
        while start.len() < AGE_MAGIC.len() {
            let more = input.fill_buf().map_err(classify)?;
            if more.is_empty() {
                break;
            }
            let take = more.len().min(AGE_MAGIC.len() - start.len());
            start.extend_from_slice(&more[..take]);
            input.consume(take);
        }
        let input =
            BufReader::with_capacity(64 * 1024, io::Cursor::new(start.clone()).chain(input));
        let (plain, encrypted): (Box<dyn Read + 'r>, bool) = if start.starts_with(AGE_MAGIC) {
            let passphrase = passphrase.ok_or(ArchiveError::PassphraseNeeded)?;
            let decryptor =
                age::Decryptor::new_buffered(input).map_err(|e| decrypt_error(&ended, e))?;
            let mut identity = age::scrypt::Identity::new(passphrase.clone());
            identity.set_max_work_factor(super::MAX_WORK_FACTOR);
            let reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .map_err(|e| decrypt_error(&ended, e))?;
            (Box::new(reader), true)
        } else if start.starts_with(&ZSTD_MAGIC) {
            (Box::new(input), false)
        } else if start.is_empty() {
            return Err(ArchiveError::Truncated("the file is empty".into()));
        } else {
            return Err(ArchiveError::Foreign);
        };
        let (plain, sum) = super::trailer::summing(plain);
        let zstd = zstd::stream::read::Decoder::new(plain).map_err(classify)?;
        Ok(ArchiveReader {
            tar: tar::Archive::new(Box::new(zstd)),
            encrypted,
            ended,
            sum,
        })
    }

    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// Reads every member: `check` decides about the header, `visit` sees
    /// every other member but the manifest (reading it or not), and the
    /// manifest must list exactly what went by. Gives the manifest.
    pub fn read(
        mut self,
        check: &mut Check<'_>,
        mut visit: impl FnMut(&str, &mut dyn Read) -> io::Result<()>,
    ) -> Result<Manifest, ArchiveError> {
        let ended = self.ended.clone();
        let classify = |e| classify(&ended, e);
        let mut entries = self.tar.entries().map_err(classify)?;
        let mut next = || -> Result<Option<tar::Entry<'_, Box<dyn Read + 'r>>>, ArchiveError> {
            entries.next().transpose().map_err(classify)
        };
        let mut first = next()?.ok_or_else(|| {
            ArchiveError::Truncated("no members: the archive stops before its header".into())
        })?;
        if path_of(&first)? != HEADER {
            return Err(ArchiveError::Foreign);
        }
        let header: Header = read_json(&mut first, HEADER, classify)?;
        if header.format > FORMAT {
            return Err(ArchiveError::TooNew(format!(
                "archive format {} (this fin reads format {FORMAT} and older); \
                 restore it with fin {} or newer",
                header.format, header.fin_version
            )));
        }
        check(&header)?;
        drop(first);
        let mut seen: Vec<Member> = Vec::new();
        let mut paths = std::collections::HashSet::new();
        let manifest: Manifest = loop {
            let mut entry = next()?.ok_or_else(|| {
                ArchiveError::Truncated("the archive stops before its manifest".into())
            })?;
            let path = path_of(&entry)?;
            if path == MANIFEST {
                break read_json(&mut entry, MANIFEST, classify)?;
            }
            if path == HEADER || !paths.insert(path.clone()) {
                return Err(ArchiveError::Corrupt(format!("{path} appears twice")));
            }
            let mut hashing = Hashing {
                inner: Tracked {
                    inner: &mut entry,
                    failed: false,
                },
                hasher: Sha256::new(),
                read: 0,
            };
            if let Err(e) = visit(&path, &mut hashing) {
                // Reading the archive failed, the caller found a member
                // invalid, or the caller failed (a full disk).
                return Err(if hashing.inner.failed {
                    classify(e)
                } else if e.kind() == io::ErrorKind::InvalidData {
                    ArchiveError::Corrupt(e.to_string())
                } else {
                    ArchiveError::Io(e.to_string())
                });
            }
            // Whatever the caller left unread is still checked.
            io::copy(&mut hashing, &mut io::sink()).map_err(classify)?;
            seen.push(Member {
                path,
                size: hashing.read,
                sha256: hex(&hashing.hasher.finalize()),
            });
        };
        if next()?.is_some() {
            return Err(ArchiveError::Corrupt("members follow the manifest".into()));
        }
        // To the very end: zstd's checksum and age's last chunk are only
        // checked there, and nothing may follow.
        let mut rest = self.tar.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(classify)?;
        self.sum.verify().map_err(ArchiveError::Corrupt)?;
        if manifest.header != header {
            return Err(ArchiveError::Corrupt(
                "the manifest and the header disagree".into(),
            ));
        }
        compare(&manifest.members, &seen)?;
        Ok(manifest)
    }
}

/// The members seen against the members listed, naming the first that differs.
fn compare(listed: &[Member], seen: &[Member]) -> Result<(), ArchiveError> {
    for (listed, seen) in listed.iter().zip(seen) {
        if listed.path != seen.path {
            return Err(ArchiveError::Corrupt(format!(
                "the manifest lists {} where the archive holds {}",
                listed.path, seen.path
            )));
        }
        if listed.size != seen.size || listed.sha256 != seen.sha256 {
            return Err(ArchiveError::Corrupt(format!(
                "{} does not match its checksum",
                seen.path
            )));
        }
    }
    match listed.len().cmp(&seen.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(ArchiveError::Corrupt(format!(
            "{} is listed in the manifest but missing",
            listed[seen.len()].path
        ))),
        std::cmp::Ordering::Less => Err(ArchiveError::Corrupt(format!(
            "{} is not listed in the manifest",
            seen[listed.len()].path
        ))),
    }
}

fn path_of<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, ArchiveError> {
    let path = entry.path_bytes().into_owned();
    String::from_utf8(path).map_err(|_| ArchiveError::Corrupt("a member name is not UTF-8".into()))
}

fn read_json<T: serde::de::DeserializeOwned>(
    entry: &mut impl Read,
    name: &str,
    classify: impl Fn(io::Error) -> ArchiveError,
) -> Result<T, ArchiveError> {
    let mut bytes = Vec::new();
    entry
        .take(MAX_JSON)
        .read_to_end(&mut bytes)
        .map_err(classify)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ArchiveError::Corrupt(format!("{name} is not valid: {e}")))
}

fn decrypt_error(ended: &AtomicBool, e: age::DecryptError) -> ArchiveError {
    match e {
        age::DecryptError::NoMatchingKeys
        | age::DecryptError::KeyDecryptionFailed
        | age::DecryptError::DecryptionFailed => ArchiveError::WrongPassphrase,
        age::DecryptError::ExcessiveWork { required, target } => ArchiveError::Corrupt(format!(
            "its passphrase needs a scrypt work factor of {required}, over the {target} fin accepts"
        )),
        age::DecryptError::Io(e) => classify(ended, e),
        other => ArchiveError::Corrupt(other.to_string()),
    }
}
