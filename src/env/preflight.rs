//! What is at an environment's path, looked at before anything is created or opened there.
//!
//! Opening a FIFO blocks until a writer appears (for ever, for a read-only open); a device or
//! socket is no data file either. A foreign file or an LMDB environment must be reported as
//! what it is, and nothing (no lock file, no empty data file) may be created beside it. So
//! `EnvOpenOptions::open` first asks the file system what the paths name, with `stat`, which
//! opens nothing, and reads the first bytes of an existing data file.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use crate::error::{Error, MdbError, Result};
use crate::os::at_path;
use crate::page::meta::MAGIC;

/// LMDB's data file name inside an environment directory.
const LMDB_DATA_FILE_NAME: &str = "data.mdb";
/// Where LMDB's meta page keeps its magic (after the 16-byte page header), and the magic.
const LMDB_MAGIC_OFFSET: usize = 16;
const LMDB_MAGIC: u32 = 0xBEEF_C0DE;

/// What the data file's path holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DataFile {
    /// Nothing: an open that may create will create it.
    Missing,
    /// A regular file that is empty or starts like an arbordb data file.
    Present,
}

/// Checks `path`, the environment's directory (not with `NO_SUB_DIR`): a directory, or
/// nothing yet. Returns `LmdbEnvironment` when it holds LMDB's data file and no arbordb one.
pub(crate) fn check_directory(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "{} is not a directory (open a data file itself with EnvFlags::NO_SUB_DIR)",
                    path.display()
                ),
            }))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(at_path(path, "cannot open the environment directory", error).into())
        }
    }
    let ours = path.join(super::DATA_FILE_NAME);
    let lmdb = path.join(LMDB_DATA_FILE_NAME);
    if !exists(&ours)? && exists(&lmdb)? {
        return Err(Error::Mdb(MdbError::LmdbEnvironment { path: lmdb }));
    }
    Ok(())
}

/// Checks the data file and the lock file: each must be a regular file if it exists, and the
/// data file must be empty or start with arbordb's magic (or a prefix of it). Opens nothing
/// but a regular data file, to read its first bytes.
pub(crate) fn check_files(data_path: &Path, lock_path: &Path) -> Result<DataFile> {
    if let Some(metadata) = metadata(lock_path)? {
        if !metadata.is_file() {
            return Err(Error::Mdb(MdbError::NotARegularFile {
                path: lock_path.to_path_buf(),
            }));
        }
    }
    let Some(metadata) = metadata(data_path)? else {
        return Ok(DataFile::Missing);
    };
    if !metadata.is_file() {
        return Err(Error::Mdb(MdbError::NotARegularFile {
            path: data_path.to_path_buf(),
        }));
    }
    let read_error = |error| at_path(data_path, "cannot read", error);
    let file = File::open(data_path).map_err(read_error)?;
    let mut start = Vec::with_capacity(LMDB_MAGIC_OFFSET + 4);
    (&file)
        .take(LMDB_MAGIC_OFFSET as u64 + 4)
        .read_to_end(&mut start)
        .map_err(read_error)?;
    let prefix = &start[..start.len().min(MAGIC.len())];
    if MAGIC.starts_with(prefix) {
        return Ok(DataFile::Present);
    }
    if is_lmdb_meta(&start) {
        return Err(Error::Mdb(MdbError::LmdbEnvironment {
            path: data_path.to_path_buf(),
        }));
    }
    // Slot 0 may be torn while slot 1 holds the newest commit: foreign only if neither slot,
    // at any page size, has the magic. Other problems are for the open itself to report, and
    // so is a creation cut short (all zeros, or part of a new file), which open creates again.
    match super::meta_choice::choose_meta(&file, data_path, metadata.len(), false, false) {
        Err(error @ Error::Mdb(MdbError::NotAnArbordbFile { .. })) => {
            if super::creation::creation_cut_short(&file, data_path, metadata.len())? {
                Ok(DataFile::Present)
            } else {
                Err(error)
            }
        }
        _ => Ok(DataFile::Present),
    }
}

/// Whether `start`, the first bytes of a file, is LMDB's first meta page.
fn is_lmdb_meta(start: &[u8]) -> bool {
    start
        .get(LMDB_MAGIC_OFFSET..LMDB_MAGIC_OFFSET + 4)
        .is_some_and(|magic| u32::from_le_bytes(magic.try_into().unwrap()) == LMDB_MAGIC)
}

/// The metadata of what `path` names (following symbolic links), `None` if nothing.
fn metadata(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::metadata(path) {
        Ok(metadata) => Ok(Some(metadata)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(at_path(path, "cannot look at", error).into()),
    }
}

fn exists(path: &Path) -> Result<bool> {
    Ok(metadata(path)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lmdb_meta_page_is_recognised() {
        let mut page = vec![0u8; 64];
        assert!(!is_lmdb_meta(&page));
        page[LMDB_MAGIC_OFFSET..LMDB_MAGIC_OFFSET + 4].copy_from_slice(&LMDB_MAGIC.to_le_bytes());
        assert!(is_lmdb_meta(&page));
        assert!(!is_lmdb_meta(&page[..LMDB_MAGIC_OFFSET + 3]));
    }
}
