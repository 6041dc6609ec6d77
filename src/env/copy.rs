//! Copying an environment to a file: a consistent snapshot, optionally compacted.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::Env;
use crate::btree::copy::{copy_tree, CopySink};
use crate::btree::cursor::Cursor;
use crate::btree::order::KeyOrder;
use crate::btree::verify::{read_every_page, Verified};
use crate::btree::PageSource;
use crate::error::{Error, Result};
use crate::page::catalog_record::{self, OrderNames, UNNAMED_DATABASE_KEY};
use crate::page::meta::{Meta, TreeInfo};
use crate::page::{PageId, TxnId};
use crate::store::ordered_write::WRITE_BYTES_MAX;
use crate::store::page_store::read_committed;
use crate::store::{free_segment, freelist};
use crate::txn::RoTxn;

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
/// slow down the copy's first commits once it is opened; see `store/ordered_write.rs`).
struct FileSink<'f> {
    file: &'f File,
    /// Where in the file the copy starts.
    base: u64,
    page_size: usize,
    next_page: PageId,
    pending: BTreeMap<PageId, Vec<u8>>,
    pending_bytes: usize,
}

impl FileSink<'_> {
    fn flush(&mut self) -> Result<()> {
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = self.base;
        for (id, bytes) in std::mem::take(&mut self.pending) {
            let offset = self.base + id.byte_offset(self.page_size);
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

/// Numbers pages as a copy would and discards them: the first pass of a compacting copy to a
/// stream, which must write the meta (known only at the end) before the pages.
struct CountingSink {
    next_page: PageId,
}

impl CopySink for CountingSink {
    fn allocate(&mut self, pages: usize) -> PageId {
        let id = self.next_page;
        self.next_page += pages as u64;
        id
    }

    fn write(&mut self, _: PageId, _: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// Writes copied pages to a stream in page order (the copy writes each page right after
/// numbering it; a page out of order waits for the ones before it).
struct StreamSink<'w, W: Write> {
    writer: &'w mut W,
    page_size: usize,
    next_page: PageId,
    next_to_write: PageId,
    pending: BTreeMap<PageId, Vec<u8>>,
}

impl<W: Write> CopySink for StreamSink<'_, W> {
    fn allocate(&mut self, pages: usize) -> PageId {
        let id = self.next_page;
        self.next_page += pages as u64;
        id
    }

    fn write(&mut self, id: PageId, bytes: &[u8]) -> Result<()> {
        if id != self.next_to_write {
            self.pending.insert(id, bytes.to_vec());
            return Ok(());
        }
        self.writer.write_all(bytes)?;
        self.next_to_write += (bytes.len() / self.page_size) as u64;
        while let Some(bytes) = self.pending.remove(&self.next_to_write) {
            self.writer.write_all(&bytes)?;
            self.next_to_write += (bytes.len() / self.page_size) as u64;
        }
        Ok(())
    }
}

/// A named database's record: its tree and the names of its custom comparators.
type NamedTree = (TreeInfo, OrderNames);

/// The named databases' records in the catalog of `source`'s snapshot, by name.
fn named_trees(source: &dyn PageSource, catalog: TreeInfo) -> Result<Vec<(Vec<u8>, NamedTree)>> {
    let mut named = Vec::new();
    let mut cursor = Cursor::new(source, catalog, KeyOrder::Bytes)?;
    cursor.seek_first()?;
    while let Some((name, value)) = cursor.current()? {
        if name != UNNAMED_DATABASE_KEY {
            let record = catalog_record::decode(value)
                .ok_or_else(|| Error::corrupted(catalog.root, "a malformed catalog entry"))?;
            named.push((name.to_vec(), (record.tree, record.names)));
        }
        cursor.next()?;
    }
    Ok(named)
}

/// Verifies every page a copy of `rtxn`'s snapshot carries over as it is: every page of every
/// tree against its checksum (`btree/verify.rs`), and the freelist's pages (which are
/// verified whenever they are read). Free pages hold no data and are not verified.
fn verify_snapshot(rtxn: &RoTxn<'_>) -> Result<()> {
    let meta = rtxn.meta();
    let source = Verified(rtxn as &dyn PageSource);
    read_every_page(&source, meta.main)?;
    for (_, (tree, _)) in named_trees(&source, meta.catalog)? {
        read_every_page(&source, tree)?;
    }
    let read = |id| read_committed(rtxn.map().bytes(), rtxn.page_size(), meta.page_count, id, 1);
    let (list, _chain) = freelist::read(meta, rtxn.snapshot().freelist.as_deref(), read)?;
    for segment in list.segments() {
        free_segment::read(read(segment)?, segment, meta.page_count)?;
    }
    Ok(())
}

/// The two meta pages of a copy whose meta is `meta`: the copy's meta in its own slot, and in
/// the other an empty txn-0 meta, older than any commit, as in a new file.
fn meta_pages(meta: &Meta, kept_freelist: Option<&[u8]>, page_size: usize) -> Vec<u8> {
    let mut pages = vec![0u8; 2 * page_size];
    let empty = Meta::empty(meta.page_size, meta.map_size).encode();
    let encoded = if meta.txn_id == TxnId::BEFORE_FIRST_COMMIT {
        empty.clone()
    } else {
        meta.encode_with(&[], kept_freelist)
    };
    for (slot, bytes) in [
        (meta.txn_id.meta_page(), &encoded),
        (meta.txn_id.next().meta_page(), &empty),
    ] {
        let at = slot.byte_offset(page_size) as usize;
        pages[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pages
}

/// Copies `rtxn`'s snapshot into `sink` compacted: every tree packed into fresh pages from
/// page 2 on, in the order the sink numbers them. Returns the copy's meta.
fn compact_into(rtxn: &RoTxn<'_>, sink: &mut dyn CopySink) -> Result<Meta> {
    let snapshot = *rtxn.meta();
    // Read through a verifying source: the copy's pages get fresh checksums.
    let source = Verified(rtxn as &dyn PageSource);
    // Keys keep their order; a custom one (known only to the process that
    // registered it) is copied unchecked, with whole keys as separators.
    let keep = &mut |_: &[u8], _: &[u8]| Ok(None);
    let order = |tree: &TreeInfo| {
        (
            KeyOrder::of_flags(tree.flags),
            KeyOrder::of_value_flags(tree.flags),
        )
    };
    let main_order = order(&snapshot.main);
    let main = copy_tree(&source, &snapshot.main, main_order, sink, keep)?;
    let mut named = named_trees(&source, snapshot.catalog)?;
    for (_, (tree, _)) in &mut named {
        *tree = copy_tree(&source, tree, order(tree), sink, keep)?;
    }
    let catalog_order = (Some(KeyOrder::Bytes), None);
    let catalog = copy_tree(
        &source,
        &snapshot.catalog,
        catalog_order,
        sink,
        &mut |name, _| {
            let position = named.binary_search_by(|(known, _)| known.as_slice().cmp(name));
            Ok(position.ok().map(|position| {
                let (tree, order_name) = &named[position].1;
                catalog_record::encode(tree, order_name)
            }))
        },
    )?;
    let meta = Meta {
        page_count: sink.allocate(0).get(),
        freelist: PageId::NONE,
        main,
        catalog,
        ..snapshot
    };
    Ok(meta)
}

impl<T> Env<T> {
    /// Copies the environment's newest commit into a new file at `path` (which must not exist)
    /// and returns it. The file is a data file: open it with
    /// [`EnvFlags::NO_SUB_DIR`](crate::EnvFlags::NO_SUB_DIR), or move it into a directory as
    /// `data.arbordb`. Writers may keep committing meanwhile; the copy is the snapshot taken
    /// when it began.
    ///
    /// The pages copied are verified against their checksums, as by
    /// [`copy_to_file`](Self::copy_to_file); on any error the file is removed.
    pub fn copy_to_path<P: AsRef<Path>>(&self, path: P, option: CompactionOption) -> Result<File> {
        let path = path.as_ref();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        if let Err(error) = self.copy_to_file(&mut file, option) {
            drop(file);
            // The error is the copy's; a file left half written would only mislead.
            let _ = std::fs::remove_file(path);
            return Err(error);
        }
        // As heed's: the file returned is read from its start.
        file.rewind()?;
        Ok(file)
    }

    /// Reads `snapshot`'s pages from page 2 to its last, as they are, and hands them to
    /// `write` in chunks with their offset in the file, in order.
    fn pages_as_they_are(
        &self,
        snapshot: &Meta,
        mut write: impl FnMut(&[u8], u64) -> Result<()>,
    ) -> Result<()> {
        let page_size = self.inner.page_size;
        let end = snapshot.page_count * page_size as u64;
        let mut buffer = vec![0u8; COPY_CHUNK_BYTES];
        let mut offset = PageId::FIRST_TREE_PAGE.byte_offset(page_size);
        while offset < end {
            let len = (end - offset).min(COPY_CHUNK_BYTES as u64) as usize;
            // Read through the file, not the map: free pages may be rewritten meanwhile.
            self.inner.file.read_exact_at(&mut buffer[..len], offset)?;
            write(&buffer[..len], offset)?;
            offset += len as u64;
        }
        Ok(())
    }

    /// Copies the environment's newest commit to `writer` as a data file, byte 0 first and
    /// every byte once, in order: to a pipe, a socket or a compressor, where
    /// [`copy_to_file`](Self::copy_to_file) needs a file it can write anywhere in. The pages
    /// are verified as by `copy_to_file`. A compacting copy reads the trees twice (the
    /// first time to learn the meta, which comes first in the file); a failure may leave
    /// `writer` holding part of a copy. `writer` is flushed, not synced.
    pub fn copy_to_writer<W: Write>(&self, writer: &mut W, option: CompactionOption) -> Result<()> {
        let rtxn = self.plain_read_txn()?;
        let snapshot = *rtxn.meta();
        let page_size = self.inner.page_size;
        match option {
            CompactionOption::Disabled => {
                verify_snapshot(&rtxn)?;
                let kept = rtxn.snapshot().freelist.clone();
                writer.write_all(&meta_pages(&snapshot, kept.as_deref(), page_size))?;
                self.pages_as_they_are(&snapshot, |bytes, _| Ok(writer.write_all(bytes)?))?;
            }
            CompactionOption::Enabled => {
                let mut counting = CountingSink {
                    next_page: PageId::FIRST_TREE_PAGE,
                };
                let meta = compact_into(&rtxn, &mut counting)?;
                writer.write_all(&meta_pages(&meta, None, page_size))?;
                let mut sink = StreamSink {
                    writer: &mut *writer,
                    page_size,
                    next_page: PageId::FIRST_TREE_PAGE,
                    next_to_write: PageId::FIRST_TREE_PAGE,
                    pending: BTreeMap::new(),
                };
                let again = compact_into(&rtxn, &mut sink)?;
                if again != meta || !sink.pending.is_empty() || sink.next_to_write != sink.next_page
                {
                    return Err(Error::corrupted(
                        PageId::NONE,
                        "a compacting copy came out differently the second time",
                    ));
                }
            }
        }
        writer.flush()?;
        Ok(())
    }

    /// Copies the environment's newest commit to the open file descriptor `fd`, as heed's
    /// `copy_to_fd` does: written from the descriptor's current offset onwards, in order, as
    /// [`copy_to_writer`](Self::copy_to_writer) writes, so `fd` may be a pipe or a socket; a
    /// regular file is synced afterwards. `fd` stays open.
    ///
    /// # Safety
    /// `fd` must be an open file descriptor, opened for writing, for the duration of the
    /// call (as heed requires).
    #[cfg(unix)]
    pub unsafe fn copy_to_fd(
        &self,
        fd: std::os::fd::RawFd,
        option: CompactionOption,
    ) -> Result<()> {
        // SAFETY: this function's own contract: `fd` is open for the call.
        let mut file = unsafe { crate::os::descriptor::duplicate(fd) }?;
        self.stream_copy_to(&mut file, option)
    }

    /// The copy streamed to `file` in order, as [`copy_to_writer`](Self::copy_to_writer)
    /// writes it, then synced if `file` is a regular file (a pipe or socket has nothing to
    /// sync).
    fn stream_copy_to(&self, file: &mut File, option: CompactionOption) -> Result<()> {
        self.copy_to_writer(file, option)?;
        if file.metadata()?.is_file() {
            file.sync_all()?;
        }
        Ok(())
    }

    /// Copies the environment's newest commit into `file` from its current offset, as heed's
    /// does, and syncs it: the file is cut where the copy ends, and its offset left there. A
    /// file opened to append gets the copy at its end, streamed in order.
    ///
    /// Every page of every tree is verified against its checksum on the way, so a damaged page is
    /// [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage) naming it, not a copy that hides
    /// the damage (a compacting copy writes fresh checksums). Without compaction the pages are
    /// verified before anything is written; with it, as they are copied, and `file` then holds part
    /// of a copy.
    pub fn copy_to_file(&self, file: &mut File, option: CompactionOption) -> Result<()> {
        if crate::os::descriptor::appends(file)? {
            // Every write goes to the end: the copy must come in order.
            return self.stream_copy_to(file, option);
        }
        let rtxn = self.plain_read_txn()?;
        let snapshot = *rtxn.meta();
        let page_size = self.inner.page_size;
        let base = file.stream_position()?;
        // A copy of every page keeps the freelist where it was, in the meta (format version 5)
        // or in its chain; a compacted copy has no free pages.
        let (meta, kept_freelist) = match option {
            CompactionOption::Disabled => {
                verify_snapshot(&rtxn)?;
                self.pages_as_they_are(&snapshot, |bytes, offset| {
                    Ok(file.write_all_at(bytes, base + offset)?)
                })?;
                (snapshot, rtxn.snapshot().freelist.clone())
            }
            CompactionOption::Enabled => {
                let mut sink = FileSink {
                    file,
                    base,
                    page_size,
                    next_page: PageId::FIRST_TREE_PAGE,
                    pending: BTreeMap::new(),
                    pending_bytes: 0,
                };
                let meta = compact_into(&rtxn, &mut sink)?;
                sink.flush()?;
                (meta, None)
            }
        };
        file.write_all_at(
            &meta_pages(&meta, kept_freelist.as_deref(), page_size),
            base,
        )?;
        let end = base + meta.page_count * page_size as u64;
        file.set_len(end)?;
        file.seek(SeekFrom::Start(end))?;
        file.sync_all()?;
        Ok(())
    }
}
