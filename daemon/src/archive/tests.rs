//! Archives written and read back, and every way one can be refused.

use std::collections::BTreeMap;

use age::secrecy::SecretString;

use super::*;

fn header() -> Header {
    Header {
        format: FORMAT,
        fin_version: "0.1.0".into(),
        schema_version: 16,
        created_at: "2026-12-02T03:00:00Z".into(),
        host: "box".into(),
        includes_secrets: false,
    }
}

fn pass(text: &str) -> SecretString {
    SecretString::from(text.to_string())
}

/// An archive of two export parts and one image (incompressible bytes).
fn archive(passphrase: Option<&SecretString>, header: Header) -> Vec<u8> {
    let mut writer = ArchiveWriter::new(Vec::new(), header, passphrase).expect("start");
    writer
        .add_bytes("db/000001.surql", b"INSERT [ { id: a:1 } ];")
        .expect("part");
    writer
        .add_bytes("db/000002.surql", b"INSERT [ { id: a:2 } ];")
        .expect("part");
    // Incompressible, like a JPEG.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let image: Vec<u8> = (0..400_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    writer
        .add_reader("blobs/abc", image.len() as u64, image.as_slice())
        .expect("image");
    let (bytes, manifest) = writer
        .finish(BTreeMap::from([("a".to_string(), 2)]))
        .expect("finish");
    assert_eq!(manifest.members.len(), 3);
    bytes
}

type Seen = Vec<(String, Vec<u8>)>;

fn read(bytes: &[u8], passphrase: Option<&SecretString>) -> Result<(Manifest, Seen), ArchiveError> {
    let reader = ArchiveReader::open(bytes, passphrase)?;
    let mut seen = Vec::new();
    let manifest = reader.read(&mut |_| Ok(()), |path, member| {
        let mut content = Vec::new();
        member.read_to_end(&mut content)?;
        seen.push((path.to_string(), content));
        Ok(())
    })?;
    Ok((manifest, seen))
}

#[test]
fn a_plain_archive_reads_back_member_for_member() {
    let bytes = archive(None, header());
    let (manifest, seen) = read(&bytes, None).expect("read");
    assert_eq!(manifest.header, header());
    assert_eq!(manifest.tables["a"], 2);
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["db/000001.surql", "db/000002.surql", "blobs/abc"]);
    assert_eq!(seen[0].1, b"INSERT [ { id: a:1 } ];");
    assert_eq!(manifest.blob_count(), 1);
    assert_eq!(seen[2].1.len(), 400_000);
}

#[test]
fn an_encrypted_archive_needs_its_passphrase() {
    let secret = pass("correct horse battery staple");
    let bytes = archive(Some(&secret), header());
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    let (manifest, seen) = read(&bytes, Some(&secret)).expect("read");
    assert_eq!(manifest.members.len(), 3);
    assert_eq!(seen[1].1, b"INSERT [ { id: a:2 } ];");
    assert!(matches!(
        read(&bytes, None),
        Err(ArchiveError::PassphraseNeeded)
    ));
    assert!(matches!(
        read(&bytes, Some(&pass("wrong"))),
        Err(ArchiveError::WrongPassphrase)
    ));
}

#[test]
fn a_flipped_byte_anywhere_is_damage() {
    for secret in [None, Some(pass("p"))] {
        let bytes = archive(secret.as_ref(), header());
        // Past the age header (whose damage reads as a wrong passphrase),
        // and before age's last chunk (whose damage reads as an early end).
        let (from, to) = if secret.is_some() {
            (200, bytes.len() - 70_000)
        } else {
            (8, bytes.len() - 1)
        };
        for at in (from..to).step_by(bytes.len() / 17) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            match read(&damaged, secret.as_ref()) {
                Err(ArchiveError::Corrupt(_)) => {}
                other => panic!("byte {at} of {}: {other:?}", bytes.len()),
            }
        }
    }
}

#[test]
fn a_cut_archive_is_truncated() {
    for secret in [None, Some(pass("p"))] {
        let bytes = archive(secret.as_ref(), header());
        for keep in [
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 10,
            bytes.len() - 1,
        ] {
            match read(&bytes[..keep], secret.as_ref()) {
                Err(ArchiveError::Truncated(_)) => {}
                other => panic!("{keep} of {} bytes: {other:?}", bytes.len()),
            }
        }
    }
    assert!(matches!(read(b"", None), Err(ArchiveError::Truncated(_))));
}

#[test]
fn foreign_files_are_named_as_such() {
    assert!(matches!(
        read(b"%PDF-1.7 not ours", None),
        Err(ArchiveError::Foreign)
    ));
    // A zstd stream of something else than a fin archive.
    let other = zstd::encode_all(&b"just some text, no tar at all"[..], 3).expect("zstd");
    assert!(matches!(
        read(&other, None),
        Err(ArchiveError::Corrupt(_) | ArchiveError::Foreign | ArchiveError::Truncated(_))
    ));
    // A tar that is not a fin archive: its first member is not the header.
    let mut tar = tar::Builder::new(Vec::new());
    let mut head = tar::Header::new_gnu();
    head.set_size(2);
    tar.append_data(&mut head, "etc/passwd", &b"hi"[..])
        .expect("tar");
    let tar = tar.into_inner().expect("tar");
    let other = zstd::encode_all(tar.as_slice(), 3).expect("zstd");
    assert!(matches!(read(&other, None), Err(ArchiveError::Foreign)));
}

#[test]
fn a_newer_format_or_a_refused_header_stops_the_read_at_once() {
    let newer = Header {
        format: FORMAT + 1,
        fin_version: "9.0.0".into(),
        ..header()
    };
    match read(&archive(None, newer), None) {
        Err(ArchiveError::TooNew(why)) => assert!(why.contains("9.0.0"), "{why}"),
        other => panic!("{other:?}"),
    }
    let bytes = archive(None, header());
    let reader = ArchiveReader::open(bytes.as_slice(), None).expect("open");
    let mut visited = 0;
    let result = reader.read(
        &mut |h| Err(ArchiveError::TooNew(format!("schema {}", h.schema_version))),
        |_, _| {
            visited += 1;
            Ok(())
        },
    );
    assert!(matches!(result, Err(ArchiveError::TooNew(_))));
    assert_eq!(visited, 0, "nothing is read after a refused header");
}

#[test]
fn a_member_that_changes_size_while_archived_is_an_error() {
    let mut writer = ArchiveWriter::new(Vec::new(), header(), None).expect("start");
    let err = writer
        .add_reader("blobs/x", 10, &b"short"[..])
        .expect_err("short read");
    assert!(err.to_string().contains("changed"), "{err}");
}

#[test]
fn every_single_bit_flip_is_found() {
    // Small enough to try every byte; a bit that zstd's decoder never
    // reads is still caught by the closing checksum.
    let mut writer = ArchiveWriter::new(Vec::new(), header(), None).expect("start");
    writer
        .add_bytes("db/000001.surql", b"INSERT [ { id: a:1 } ];")
        .expect("part");
    let (bytes, _) = writer.finish(BTreeMap::new()).expect("finish");
    for at in 0..bytes.len() {
        for bit in [0x01, 0x40] {
            let mut damaged = bytes.clone();
            damaged[at] ^= bit;
            assert!(
                read(&damaged, None).is_err(),
                "byte {at} bit {bit:#x} of {}",
                bytes.len()
            );
        }
    }
}
