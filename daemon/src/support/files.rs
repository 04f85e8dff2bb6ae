//! Files written whole or not at all: a uniquely named temporary file in the
//! same folder, synced, renamed over the target, and the folder synced, so a
//! reader or a crash never sees half a file. Two writers in one folder never
//! share a temporary name.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` with `mode` (e.g. 0o644), replacing it atomically.
/// The temporary file is created 0600, so a secret is never briefly readable.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".fin-")
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    if mode != 0o600 {
        file.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
    }
    file.as_file().sync_all()?;
    // On failure the temporary file is removed when `file` is dropped.
    file.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// [`write_atomically`] for secrets: mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(path, bytes, 0o600)
}

/// Every regular file under `dir`, however deep, sorted; none when `dir`
/// does not exist. Links are not followed, so a planted link never makes a
/// backup or a restore read outside the folder.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), into)?;
        } else if kind.is_file() {
            into.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn a_private_file_is_0600_replaced_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret.key");
        write_private(&path, b"one").expect("write");
        write_private(&path, b"two").expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let mode = std::fs::metadata(&path).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["secret.key"]);
    }

    #[test]
    fn files_under_walks_deep_skips_links_and_takes_a_missing_folder_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::write(root.join("a/b/deep"), b"x").expect("write");
        std::fs::write(root.join("top"), b"x").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).expect("link");
        assert_eq!(
            files_under(root).expect("walk"),
            [root.join("a/b/deep"), root.join("top")]
        );
        assert!(files_under(&root.join("absent")).expect("walk").is_empty());
    }

    #[test]
    fn a_public_file_gets_its_mode_and_a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cert.pem");
        write_atomically(&path, b"pem", 0o644).expect("write");
        let mode = std::fs::metadata(&path).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert!(write_private(&dir.path().join("nope/secret"), b"x").is_err());
    }
}
