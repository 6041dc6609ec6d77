//! Creating a data file, and recognising one whose creation a crash cut short.
//!
//! A new environment's data file holds two pages: the empty meta (`Meta::empty`, transaction
//! 0, no map size) in slot 0 and again in slot 1. It is written in one write, synced, and then
//! its directory entry is synced. A power loss before those syncs returned may leave no file,
//! an empty one, or one holding any part of those bytes with zeros where the rest should be
//! (torn metas, or all zeros where the file's length reached the disk before its data). Open
//! had not returned, so no caller was ever told the environment existed, and the file holds
//! nothing but what creation writes: creating it again loses nothing. A file with any other
//! byte is not such a file (docs/design.md, at the end of "The commit protocol").

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::Result;
use crate::os::{at_path, PageIo};
use crate::page::meta::{Meta, PAGE_SIZE_MAX, PAGE_SIZE_MIN};

/// The unit in which a file system records a file's length after a crash, at the finest.
const SECTOR_BYTES: usize = 512;

/// The bytes a new data file of `page_size` bytes a page holds.
fn creation_image(page_size: usize) -> Vec<u8> {
    let mut pages = vec![0u8; 2 * page_size];
    let meta = Meta::empty(page_size as u32, 0).encode();
    pages[..meta.len()].copy_from_slice(&meta);
    pages[page_size..page_size + meta.len()].copy_from_slice(&meta);
    pages
}

/// Creates the data file behind `io` (a file of `existing_len` bytes: empty, or a creation cut
/// short): writes the two metas of an empty environment and makes the file and its directory
/// entry durable. Open returns only after this did, so a file it did not finish is
/// recognised by [`is_creation_cut_short`].
pub(crate) fn create_file(
    io: &dyn PageIo,
    path: &Path,
    page_size: usize,
    existing_len: u64,
) -> Result<()> {
    if existing_len > 0 {
        // Start from an empty file, as a first creation does: what a creation of another page
        // size left past this one's two pages goes too.
        io.set_len(0)?;
    }
    io.write_at(0, &creation_image(page_size))?;
    io.sync_all()?;
    // The new directory entry must be durable too.
    if let Some(parent) = path.parent() {
        io.sync_directory(parent)?;
    }
    Ok(())
}

/// Whether `bytes`, a whole data file, can be what a creation cut short by a power loss left,
/// and is not the whole new file: at most two pages of some page size long, in whole 512-byte
/// sectors (a file system keeps the length of a write cut short at a sector or block
/// boundary, so a file cut to a few bytes was truncated by something else), every byte zero
/// or the byte a new file of that page size holds there, and some byte missing.
///
/// Such a file is created again even when one of its metas is whole: a whole meta of
/// transaction 0 in slot 1 beside a torn slot 0 would otherwise be the only valid meta, and
/// the first commit (transaction 1) writes its meta into slot 1, over it; a power loss in that
/// commit would leave no valid meta at all.
pub(crate) fn is_creation_cut_short(bytes: &[u8]) -> bool {
    if bytes.len() > 2 * PAGE_SIZE_MAX || bytes.len() % SECTOR_BYTES != 0 {
        return false;
    }
    let mut page_size = PAGE_SIZE_MIN;
    while page_size <= PAGE_SIZE_MAX {
        if bytes.len() <= 2 * page_size {
            // The new file's byte at `at` (both slots hold the same meta), without building
            // the file: most files differ at once, and open asks this of every small file.
            let meta = Meta::empty(page_size as u32, 0).encode();
            let created = |at: usize| meta.get(at % page_size).copied().unwrap_or(0);
            let mut bytes_at = bytes.iter().enumerate();
            if bytes_at.all(|(at, &found)| found == 0 || found == created(at)) {
                let whole = bytes.len() == 2 * page_size
                    && bytes
                        .iter()
                        .enumerate()
                        .all(|(at, &found)| found == created(at));
                return !whole;
            }
        }
        page_size *= 2;
    }
    false
}

/// Whether the data file, `len` bytes long, is a creation cut short: part of what creating it
/// writes and no more, not all of it ([`is_creation_cut_short`]).
pub(crate) fn creation_cut_short(file: &File, path: &Path, len: u64) -> Result<bool> {
    if len > 2 * PAGE_SIZE_MAX as u64 {
        return Ok(false);
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)
        .map_err(|error| at_path(path, "cannot read", error))?;
    Ok(is_creation_cut_short(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_part_of_a_new_file_is_a_creation_cut_short_and_nothing_else_is() {
        for page_size in [512, 4096, 65536] {
            let image = creation_image(page_size);
            // The whole new file is an environment.
            assert!(!is_creation_cut_short(&image));
            assert!(is_creation_cut_short(&image[..page_size]));
            // Cut inside a sector: truncated by something else.
            assert!(!is_creation_cut_short(&image[..page_size + 100]));
            assert!(!is_creation_cut_short(&image[..10]));
            assert!(is_creation_cut_short(&vec![0; 2 * page_size]));
            // Torn: every other 64-byte piece lost.
            let mut torn = image.clone();
            for piece in torn.chunks_mut(64).step_by(2) {
                piece.fill(0);
            }
            assert!(is_creation_cut_short(&torn));
            // Slot 1 whole, slot 0 torn.
            let mut slot_zero_torn = image.clone();
            slot_zero_torn[128..192].fill(0);
            assert!(is_creation_cut_short(&slot_zero_torn));
            // One byte that creation never writes makes it foreign.
            let mut foreign = image.clone();
            foreign[2 * page_size - 1] = 1;
            assert!(!is_creation_cut_short(&foreign));
            let mut foreign = torn;
            foreign[10] = if image[10] == 0x5a { 0x5b } else { 0x5a };
            assert!(!is_creation_cut_short(&foreign));
        }
        assert!(is_creation_cut_short(&[]));
        // Zeros longer than any creation writes.
        assert!(!is_creation_cut_short(&vec![0; 2 * PAGE_SIZE_MAX + 1]));
    }
}
