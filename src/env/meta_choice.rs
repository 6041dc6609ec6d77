//! Which commit a data file holds: reading the two meta slots, choosing the newest valid
//! meta when an environment opens (passing over one whose unsynced pages do not read back
//! whole, and saying so), the meta of a given commit for a reader or a writer that follows
//! another process, and the commit a joining process takes from the lock file
//! (docs/format.md, "Opening a file"; docs/design.md, "The commit protocol").

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::{SkipReason, SkippedMeta};
use crate::error::{Error, MdbError, Result};
use crate::page::id::{PageId, TxnId, META_PAGE_COUNT};
use crate::page::meta::{
    self, claimed_txn_id, Meta, MetaSlot, MetaTail, UnsyncedRun, MAGIC, META_SIZE, META_SIZE_MAX,
    PAGE_SIZE_MIN,
};
use crate::readers::ReaderTable;

/// The meta of the commit the reader table names as current, for a process opening an
/// environment other processes have open. Retries while commits overwrite the slot it reads.
pub(super) fn published_meta(
    file: &File,
    path: &Path,
    page_size: usize,
    readers: &ReaderTable,
) -> Result<(Meta, Option<Arc<[u8]>>)> {
    // A slot is overwritten only two commits after the one it holds; each retry follows a
    // newer published id, so a retry fails only while commits race past this read.
    const RETRIES_MAX: usize = 1000;
    for _ in 0..RETRIES_MAX {
        let id = readers.current_txn_id();
        if let Some((meta, tail)) = meta_of_commit(file, path, page_size, id)? {
            return Ok((meta, tail.freelist));
        }
        if readers.current_txn_id() == id {
            return Err(published_meta_missing(id));
        }
    }
    Err(Error::corrupted(
        PageId::NONE,
        "the newest commit changed on every read of its meta slot",
    ))
}

/// What [`choose_meta`] chose: the meta, the freelist it keeps (if it does), and a newer
/// meta it passed over (if it did).
pub(crate) type ChosenMeta = (Meta, Option<Arc<[u8]>>, Option<SkippedMeta>);

/// Reads both metas and returns the newest valid one, or the error that best describes why
/// there is none (docs/format.md, "Opening a file"). With `verify`, a meta that lists
/// unsynced runs counts only if they verify (its commit reached the file whole); else the
/// other meta is taken. Returns it with the freelist it keeps, if it does.
///
/// With `previous` ([`EnvFlags::PREV_SNAPSHOT`](crate::EnvFlags::PREV_SNAPSHOT)) the newest
/// valid meta is passed over on purpose, and the one before it is taken: an error if there is
/// none.
pub(crate) fn choose_meta(
    file: &File,
    path: &Path,
    file_len: u64,
    verify: bool,
    previous: bool,
) -> Result<ChosenMeta> {
    let read_slot = |offset: u64| -> io::Result<Option<Vec<u8>>> {
        if offset + META_SIZE as u64 > file_len {
            return Ok(None);
        }
        // Slot 0 is read before the page size is known: as far as the longest meta reaches.
        let len = (META_SIZE_MAX as u64).min(file_len - offset) as usize;
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(Some(bytes))
    };
    let Some(first) = read_slot(0)? else {
        let mut start = vec![0u8; file_len as usize];
        file.read_exact_at(&mut start, 0)?;
        return Err(
            if MAGIC.starts_with(&start[..start.len().min(MAGIC.len())]) {
                Error::Mdb(MdbError::FileTruncated {
                    len_bytes: file_len,
                    needed_bytes: 2 * PAGE_SIZE_MIN as u64,
                })
            } else {
                Error::Mdb(MdbError::NotAnArbordbFile {
                    path: path.to_path_buf(),
                })
            },
        );
    };
    // Decoding bounds a meta's list of runs by the page size it records, so reading past
    // slot 0's page (its size still unknown) is harmless.
    let (first_slot, first_tail) = Meta::decode_with_tail(&first);
    let mut slots = vec![(first_slot, first_tail)];
    // Slots that failed their checksum: (slot, the txn id they claim).
    let mut damaged = Vec::new();
    // Metas of a newer format: (version, the txn id they claim).
    let mut newer = Vec::new();
    let mut note = |slot: u64, decoded: &MetaSlot, bytes: &[u8]| match decoded {
        MetaSlot::BadChecksum => damaged.extend(claimed_txn_id(bytes).map(|id| (slot, id))),
        MetaSlot::NewerVersion(version) => newer.push((*version, claimed_txn_id(bytes))),
        _ => {}
    };
    note(0, &first_slot, &first);
    // Slot 1 sits one page in; if slot 0 cannot tell the page size, try every size.
    let candidates: Vec<usize> = match slots[0].0 {
        MetaSlot::Valid(meta) => vec![meta.page_size as usize],
        _ => (9..=16).map(|shift| 1usize << shift).collect(),
    };
    for page_size in candidates {
        if let Some(bytes) = read_slot(page_size as u64)? {
            let (slot, tail) = Meta::decode_with_tail(&bytes);
            let found =
                matches!(slot, MetaSlot::Valid(meta) if meta.page_size as usize == page_size);
            note(1, &slot, &bytes);
            if slot != MetaSlot::NotArbordb {
                slots.push((slot, tail));
            }
            if found {
                break;
            }
        }
    }
    let mut valid: Vec<(Meta, &MetaTail)> = slots
        .iter()
        .filter_map(|(slot, tail)| match slot {
            MetaSlot::Valid(meta) => Some((*meta, tail)),
            _ => None,
        })
        .collect();
    valid.sort_by_key(|(meta, _)| std::cmp::Reverse(meta.txn_id));
    // A meta of a newer format claiming a commit no older than every meta this build reads
    // refuses the file, whatever its checksum: falling back would open an older commit, and
    // the next commit would overwrite the newer one. One claiming an older commit (a damaged
    // version field in the older slot, say) hides nothing newer and is passed over.
    let newest_readable = valid.first().map(|(meta, _)| meta.txn_id);
    if let Some(&(found, _)) = newer
        .iter()
        .find(|(_, claimed)| match (claimed, newest_readable) {
            (Some(claimed), Some(newest)) => *claimed >= newest,
            _ => true,
        })
    {
        return Err(Error::Mdb(MdbError::UnsupportedFormatVersion {
            path: path.to_path_buf(),
            found,
            supported: crate::page::meta::FORMAT_VERSION,
        }));
    }
    let mut newest = None;
    let mut skipped = None;
    let mut valid = valid.into_iter();
    if previous {
        let Some((passed_over, _)) = valid.next() else {
            let slots: Vec<MetaSlot> = slots.iter().map(|(slot, _)| *slot).collect();
            return Err(no_meta_error(&slots, path));
        };
        skipped = Some(SkippedMeta {
            slot: passed_over.txn_id.meta_page().get(),
            txn_id: passed_over.txn_id.get(),
            reason: SkipReason::PreviousSnapshot,
        });
        if valid.len() == 0 {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "{} holds no valid commit before commit {} to open with PREV_SNAPSHOT",
                    path.display(),
                    passed_over.txn_id.get()
                ),
            }));
        }
    }
    for (meta, tail) in valid {
        // A commit cut short by a power loss before its one sync returned: the previous meta
        // (never overwritten by it) is the last durable commit.
        if !verify || verify_meta(file, &meta, &tail.runs)? {
            newest = Some((meta, tail.freelist.clone()));
            break;
        }
        skipped.get_or_insert(SkippedMeta {
            slot: meta.txn_id.meta_page().get(),
            txn_id: meta.txn_id.get(),
            reason: SkipReason::PagesNotWhole,
        });
    }
    if let (true, None, Some(passed_over)) = (previous, &newest, skipped) {
        return Err(Error::Mdb(MdbError::InvalidOption {
            reason: format!(
                "{}: the commit before commit {} did not reach the file whole (pages it lists do not read back), so PREV_SNAPSHOT cannot open it",
                path.display(),
                passed_over.txn_id
            ),
        }));
    }
    let Some((meta, kept_freelist)) = newest else {
        if file_len < 2 * PAGE_SIZE_MIN as u64 && first.starts_with(&MAGIC) {
            // Shorter than any environment, and no whole meta in it: cut short, as a file
            // too short to hold even one meta is.
            return Err(Error::Mdb(MdbError::FileTruncated {
                len_bytes: file_len,
                needed_bytes: 2 * PAGE_SIZE_MIN as u64,
            }));
        }
        let slots: Vec<MetaSlot> = slots.iter().map(|(slot, _)| *slot).collect();
        return Err(no_meta_error(&slots, path));
    };
    let needed_bytes = meta.page_count.saturating_mul(meta.page_size as u64);
    if meta.page_count < META_PAGE_COUNT {
        return Err(Error::corrupted(
            PageId::NONE,
            "the meta counts fewer pages than the two meta pages",
        ));
    }
    // A process joining others read `file_len` before the metas; a writer in another process
    // may since have grown the file and committed (it grows the file before it writes the
    // meta), so the length the meta is held against is read after the meta.
    let file_len = file.metadata()?.len().max(file_len);
    if needed_bytes > file_len {
        return Err(Error::Mdb(MdbError::FileTruncated {
            len_bytes: file_len,
            needed_bytes,
        }));
    }
    // A damaged slot claiming a newer commit than the one taken: open fell back past it
    // (a torn meta write, or damage). One claiming an older commit hides nothing.
    let skipped = skipped.or_else(|| {
        damaged
            .into_iter()
            .find(|&(_, claimed)| claimed > meta.txn_id)
            .map(|(slot, txn_id)| SkippedMeta {
                slot,
                txn_id: txn_id.get(),
                reason: SkipReason::Checksum,
            })
    });
    Ok((meta, kept_freelist, skipped))
}

fn no_meta_error(slots: &[MetaSlot], path: &Path) -> Error {
    for slot in slots {
        if let MetaSlot::BadPageSize(found) = slot {
            return Error::Mdb(MdbError::InvalidPageSize { found: *found });
        }
    }
    if slots.iter().all(|slot| *slot == MetaSlot::NotArbordb) {
        return Error::Mdb(MdbError::NotAnArbordbFile {
            path: path.to_path_buf(),
        });
    }
    Error::Mdb(MdbError::NoValidMeta)
}

/// Reads meta slot `slot` (0 or 1) of a data file with pages of `page_size` bytes: what the
/// slot holds and, if it is a valid meta, its unsynced runs and kept freelist.
pub(crate) fn read_meta_slot(
    file: &File,
    page_size: usize,
    slot: u64,
) -> std::io::Result<(MetaSlot, MetaTail)> {
    let mut bytes = [0u8; META_SIZE_MAX];
    let bytes = &mut bytes[..meta::slot_read_len(page_size)];
    file.read_exact_at(bytes, slot * page_size as u64)?;
    Ok(Meta::decode_with_tail(bytes))
}

/// The meta of commit `id` if its slot (`id % 2`) holds it, with its unsynced runs and kept
/// freelist.
///
/// A meta of a newer format there is `UnsupportedFormatVersion`: a process of a newer release
/// shares the environment, and building on the older commit would overwrite its commit.
pub(crate) fn meta_of_commit(
    file: &File,
    path: &Path,
    page_size: usize,
    id: TxnId,
) -> Result<Option<(Meta, MetaTail)>> {
    let (slot, tail) = read_meta_slot(file, page_size, id.meta_page().get())?;
    Ok(match slot {
        MetaSlot::Valid(meta) if meta.txn_id == id && meta.page_size as usize == page_size => {
            Some((meta, tail))
        }
        MetaSlot::NewerVersion(found) => {
            return Err(Error::Mdb(MdbError::UnsupportedFormatVersion {
                path: path.to_path_buf(),
                found,
                supported: meta::FORMAT_VERSION,
            }))
        }
        _ => None,
    })
}

/// The error for a lock file naming commit `id` as the newest while its slot, which no
/// commit has overwritten since, does not hold it.
pub(crate) fn published_meta_missing(id: TxnId) -> Error {
    Error::corrupted(
        id.meta_page(),
        format!(
            "the lock file names commit {id} as the newest, but its meta slot does not hold it"
        ),
    )
}

/// Whether the commit of `meta` reached the file whole: every unsynced run it lists reads back
/// with its checksum (`page/meta.rs`). A meta that lists none was written after its pages
/// were synced.
pub(crate) fn verify_meta(file: &File, meta: &Meta, runs: &[UnsyncedRun]) -> std::io::Result<bool> {
    if runs.is_empty() {
        return Ok(true);
    }
    meta::verify_unsynced(
        runs,
        meta.page_size as usize,
        meta.page_count,
        |offset, buffer| file.read_exact_at(buffer, offset),
    )
}
