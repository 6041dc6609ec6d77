//! Copying an environment to a file: a consistent snapshot, optionally compacted.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::Env;
use crate::btree::copy::{copy_tree, CopySink};
use crate::btree::cursor::Cursor;
use crate::btree::PageSource;
use crate::error::{Error, Result};
use crate::page::meta::{Meta, TreeInfo};
use crate::page::ordered_write::WRITE_BYTES_MAX;
use crate::page::PageId;

/// Whether [`Env::copy_to_path`] / [`Env::copy_to_file`] compact, as heed's option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionOption {
    /// Write only what the trees hold, into full pages numbered densely: no free pages, and
    /// pages that deletes left part empty are packed, so a smaller file.
    Enabled,
    /// Copy every page as it is, free ones included.
    Disabled,
}

/// Bytes copied per read when copying pages as they are.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Bytes of copied pages held back to be written in page order, in long contiguous writes.
const SINK_BUFFER_BYTES: usize = 64 << 20;

/// Writes copied pages to the file, buffered and sorted, contiguous pages together in writes
/// of at most [`WRITE_BYTES_MAX`] (larger writes would leave large page-cache folios that
/// slow down the copy's first commits once it is opened; see `page/ordered_write.rs`).
struct FileSink<'f> {
    file: &'f File,
    page_size: usize,
    next_page: PageId,
    pending: BTreeMap<PageId, Vec<u8>>,
    pending_bytes: usize,
}

impl FileSink<'_> {
    fn flush(&mut self) -> Result<()> {
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = 0;
        for (id, bytes) in std::mem::take(&mut self.pending) {
            let offset = id * self.page_size as u64;
            if !run.is_empty()
                && (run_start + run.len() as u64 != offset || run.len() >= WRITE_BYTES_MAX)
            {
                self.file.write_all_at(&run, run_start)?;
                run.clear();
            }
            if run.is_empty() {
                run_start = offset;
            }
            run.extend_from_slice(&bytes);
        }
        if !run.is_empty() {
            self.file.write_all_at(&run, run_start)?;
        }
        self.pending_bytes = 0;
        Ok(())
    }
}

impl CopySink for FileSink<'_> {
    fn allocate(&mut self, pages: usize) -> PageId {
        let id = self.next_page;
        self.next_page += pages as u64;
        id
    }

    fn write(&mut self, id: PageId, bytes: &[u8]) -> Result<()> {
        self.pending_bytes += bytes.len();
        self.pending.insert(id, bytes.to_vec());
        if self.pending_bytes >= SINK_BUFFER_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

impl Env {
    /// Copies the environment's newest commit into a new file at `path` (which must not exist)
    /// and returns it. The file is a data file: open it with
    /// [`EnvFlags::NO_SUB_DIR`](crate::EnvFlags::NO_SUB_DIR), or move it into a directory as
    /// `data.arbordb`. Writers may keep committing meanwhile; the copy is the snapshot taken
    /// when it began.
    pub fn copy_to_path<P: AsRef<Path>>(&self, path: P, option: CompactionOption) -> Result<File> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        self.copy_to_file(&mut file, option)?;
        Ok(file)
    }

    /// Copies the environment's newest commit into `file` (from offset 0; the file is cut to
    /// the copy's length) and syncs it.
    pub fn copy_to_file(&self, file: &mut File, option: CompactionOption) -> Result<()> {
        let rtxn = self.read_txn()?;
        let snapshot = *rtxn.meta();
        let page_size = self.inner.page_size;
        // A copy of every page keeps the freelist where it was, in the meta (format version 5)
        // or in its chain; a compacted copy has no free pages.
        let (meta, kept_freelist) = match option {
            CompactionOption::Disabled => {
                let end = snapshot.page_count * page_size as u64;
                let mut buffer = vec![0u8; COPY_CHUNK_BYTES];
                let mut offset = 2 * page_size as u64;
                while offset < end {
                    let len = (end - offset).min(COPY_CHUNK_BYTES as u64) as usize;
                    // Read through the file, not the map: free pages may be rewritten meanwhile.
                    self.inner.file.read_exact_at(&mut buffer[..len], offset)?;
                    file.write_all_at(&buffer[..len], offset)?;
                    offset += len as u64;
                }
                (snapshot, rtxn.snapshot().freelist.clone())
            }
            CompactionOption::Enabled => {
                let mut sink = FileSink {
                    file,
                    page_size,
                    next_page: 2,
                    pending: BTreeMap::new(),
                    pending_bytes: 0,
                };
                let main = copy_tree(&rtxn, &snapshot.main, &mut sink, &mut |_, _| Ok(None))?;
                let mut named: Vec<(Vec<u8>, TreeInfo)> = Vec::new();
                let mut cursor = Cursor::new(&rtxn as &dyn PageSource, snapshot.catalog)?;
                cursor.seek_first()?;
                while let Some((name, value)) = cursor.current()? {
                    let tree = TreeInfo::decode(value).ok_or_else(|| {
                        Error::corrupted(snapshot.catalog.root, "a catalog entry of the wrong size")
                    })?;
                    named.push((
                        name.to_vec(),
                        copy_tree(&rtxn, &tree, &mut sink, &mut |_, _| Ok(None))?,
                    ));
                    cursor.next()?;
                }
                let catalog = copy_tree(&rtxn, &snapshot.catalog, &mut sink, &mut |name, _| {
                    let position = named.binary_search_by(|(known, _)| known.as_slice().cmp(name));
                    Ok(position
                        .ok()
                        .map(|position| named[position].1.encode().to_vec()))
                })?;
                sink.flush()?;
                let meta = Meta {
                    page_count: sink.next_page,
                    freelist: 0,
                    main,
                    catalog,
                    ..snapshot
                };
                (meta, None)
            }
        };
        // The copy's meta goes into its own slot; the other holds an empty txn-0 meta, older
        // than any commit, as in a new file.
        let empty = Meta::empty(meta.page_size, meta.map_size).encode();
        let slot = meta.txn_id % 2;
        file.write_all_at(
            &meta.encode_with(&[], kept_freelist.as_deref()),
            slot * page_size as u64,
        )?;
        file.write_all_at(&empty, (1 - slot) * page_size as u64)?;
        if meta.txn_id == 0 {
            file.write_all_at(&empty, slot * page_size as u64)?;
        }
        file.set_len(meta.page_count * page_size as u64)?;
        file.sync_all()?;
        Ok(())
    }
}
