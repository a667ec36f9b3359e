//! The index snapshot: the built in-memory index as one file, `DATA_DIR/index.snapshot`, so that a
//! restart maps it instead of scanning a million records.
//!
//! The file is a header and a body. The header (little-endian) is
//!
//! | bytes  | field                                                      |
//! |--------|------------------------------------------------------------|
//! | 0..8   | magic `INNOSNAP`                                           |
//! | 8..12  | [`VERSION`] of the body's encoding                         |
//! | 12..20 | the store generation the index was built at                |
//! | 20..28 | length of the body in bytes                                |
//! | 28..32 | CRC-32 (IEEE) of the body                                  |
//!
//! and the body is what [`crate::graph::GraphIndex::encode`] wrote. The file is a cache, never a
//! source of truth: [`read`] hands out a body only when magic, version, generation, length and
//! checksum all agree, and anything else (no file, a torn write, a flipped byte, an older
//! generation) is a [`Rejected`] whose reason is logged before the index is rebuilt from the store.
//! Deleting the file is always safe. [`write`] replaces it atomically (temporary file, fsync,
//! rename, fsync of the directory), so a crash leaves the old file or the new one, never a mix.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The snapshot's file name in the data directory.
pub const FILE: &str = "index.snapshot";

/// The file written first, then renamed over [`FILE`].
const TEMPORARY: &str = "index.snapshot.tmp";

const MAGIC: &[u8; 8] = b"INNOSNAP";

/// The version of the body's encoding; a file of another version is rebuilt, not read.
pub const VERSION: u32 = 1;

const HEADER_LEN: usize = 32;

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("there is no index snapshot")]
    Missing,
    #[error("the index snapshot cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the index snapshot has no valid header (torn or not a snapshot)")]
    Header,
    #[error("the index snapshot is of encoding {found}, this build reads {VERSION}")]
    Version { found: u32 },
    #[error("the index snapshot is of store generation {found}, the store is at {current}")]
    Stale { found: u64, current: u64 },
    #[error("the index snapshot's body is {found} bytes, its header says {expected} (torn)")]
    Length { found: u64, expected: u64 },
    #[error("the index snapshot's body does not match its checksum (damaged)")]
    Checksum,
    #[error("the index snapshot's body does not decode: {0}")]
    Decode(String),
}

/// The path of the snapshot in a data directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The body of the snapshot in `dir`, if its header is whole, of this [`VERSION`] and of store
/// generation `generation`, and its body has the length and checksum the header gives. A stale
/// snapshot is recognised from its header alone, without reading the body.
pub fn read(dir: &Path, generation: u64) -> Result<Vec<u8>, Rejected> {
    let mut file = match std::fs::File::open(path(dir)) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Rejected::Missing);
        }
        Err(error) => return Err(Rejected::Io(error)),
    };
    let mut header = [0u8; HEADER_LEN];
    match file.read_exact(&mut header) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(Rejected::Header);
        }
        Err(error) => return Err(Rejected::Io(error)),
    }
    let field = |at: usize, len: usize| &header[at..at + len];
    let u32_at = |at| u32::from_le_bytes(field(at, 4).try_into().unwrap_or_default());
    let u64_at = |at| u64::from_le_bytes(field(at, 8).try_into().unwrap_or_default());
    if field(0, 8) != MAGIC {
        return Err(Rejected::Header);
    }
    let version = u32_at(8);
    if version != VERSION {
        return Err(Rejected::Version { found: version });
    }
    let found = u64_at(12);
    if found != generation {
        return Err(Rejected::Stale {
            found,
            current: generation,
        });
    }
    let expected = u64_at(20);
    let checksum = u32_at(28);
    let on_disk = file.metadata()?.len().saturating_sub(HEADER_LEN as u64);
    if on_disk != expected {
        return Err(Rejected::Length {
            found: on_disk,
            expected,
        });
    }
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.read_to_end(&mut body)?;
    if body.len() as u64 != expected {
        return Err(Rejected::Length {
            found: body.len() as u64,
            expected,
        });
    }
    if crc32fast::hash(&body) != checksum {
        return Err(Rejected::Checksum);
    }
    Ok(body)
}

/// Replaces the snapshot in `dir` with `body`, tagged with store generation `generation`: written
/// to a temporary file, synced, renamed over the old one, and the directory synced. Returns the
/// bytes written.
pub fn write(dir: &Path, generation: u64, body: &[u8]) -> std::io::Result<u64> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&generation.to_le_bytes());
    header.extend_from_slice(&(body.len() as u64).to_le_bytes());
    header.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    let temporary = dir.join(TEMPORARY);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&header)?;
        file.write_all(body)?;
        file.sync_all()
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    std::fs::rename(&temporary, path(dir))?;
    // The rename is durable only once the directory is.
    std::fs::File::open(dir)?.sync_all()?;
    Ok((HEADER_LEN + body.len()) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_only_whole_and_of_its_generation() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path(), 1), Err(Rejected::Missing)));
        write(dir.path(), 7, b"the body").unwrap();
        assert_eq!(read(dir.path(), 7).unwrap(), b"the body");
        assert!(matches!(
            read(dir.path(), 8),
            Err(Rejected::Stale {
                found: 7,
                current: 8
            })
        ));

        let file = path(dir.path());
        let whole = std::fs::read(&file).unwrap();
        let mut flipped = whole.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&file, &flipped).unwrap();
        assert!(matches!(read(dir.path(), 7), Err(Rejected::Checksum)));

        std::fs::write(&file, &whole[..whole.len() - 1]).unwrap();
        assert!(matches!(read(dir.path(), 7), Err(Rejected::Length { .. })));

        std::fs::write(&file, &whole[..10]).unwrap();
        assert!(matches!(read(dir.path(), 7), Err(Rejected::Header)));
    }
}
