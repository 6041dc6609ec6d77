//! The page store of a write transaction: dirty pages, allocation and freeing.
//!
//! Copy-on-write lives here. A page reachable from a committed meta is never written again
//! (invariant 2): [`PageStore::touch`] copies it to a newly allocated page and records the old
//! number as freed by this transaction. New pages come first from the pool of pages every
//! reader has released (`pool.rs`: single pages from runs of consecutive free pages where
//! there are any, so that a commit's pages lie together), topped up one free segment at a
//! time (a segment holding runs when the pool has none, any segment when it runs dry), then
//! from the end of the file, up to the map's limit. Several consecutive pages (an overflow
//! value) come from the lowest free stretch long enough, wherever it lies among the pool and
//! the unread segments ([`PageStore::take_stretch`]).
//!
//! Dirty pages stay in memory until commit, which seals (checksums) and writes them in page
//! order through [`PageIo`]. A page read back from the file to be changed is verified against
//! its checksum first, so that sealing never covers damage.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::dirty::DirtyPages;
use super::free_segment;
use super::freelist::Reusable;
use super::ordered_write::OrderedWriter;
use super::pool::Pool;
use super::segment_summary::{self, SegmentSummaries, SegmentSummary};
use super::spill::SpillPolicy;
use super::stretch::UnreadListing;
use crate::error::{Error, MdbError, Result};
use crate::os::PageIo;
use crate::page::header::{self, PageKind, PAGE_HEADER_SIZE};
use crate::page::id::{pages_in, PageId, TxnId};
use crate::page::meta::UnsyncedRun;

/// The pages a write transaction has allocated, changed and freed. Cloned (dirty pages and
/// all) when a nested transaction begins, so that aborting it restores the parent's.
#[derive(Clone)]
pub(crate) struct PageStore {
    page_size: usize,
    txn_id: TxnId,
    dirty: DirtyPages,
    page_count: u64,
    /// Pages of the snapshot this transaction started from (free segments list pages below).
    committed_page_count: u64,
    page_limit: u64,
    /// Reusable pages.
    pool: Pool,
    /// Reusable free segments not read yet, in the order to read them.
    segments: VecDeque<PageId>,
    /// Reusable free segments holding runs of consecutive pages, not read yet.
    run_segments: VecDeque<PageId>,
    /// No stretch of this many consecutive pages is free in the pool and the unread
    /// segments together (`usize::MAX`: not known), so a request that long need not look
    /// again until the pool gains pages.
    stretch_absent_from: usize,
    /// What the free segments of the snapshot's freelist hold, in brief: kept by the writer
    /// across transactions, shared with a nested transaction's copy of the store
    /// (`segment_summary.rs`).
    summaries: Arc<Mutex<SegmentSummaries>>,
    /// The free segments this transaction took into its pool, whose summaries its commit
    /// drops.
    taken_segments: Vec<PageId>,
    /// Pages reachable in the previous snapshot that this transaction no longer uses.
    freed: Vec<PageId>,
    /// Pages (or overflow runs, by first page: their length) this transaction allocated and
    /// has already written to the file to bound its memory ([`PageStore::spill`]). They are
    /// read from the map; changing one reads it back into a buffer under the same number.
    spilled: HashMap<PageId, u32>,
    /// When to spill next.
    spill_policy: SpillPolicy,
    /// Page buffers freed by spilling, for the next dirty pages.
    spare: SpareBuffers,
    /// Pages read so far through the store, free segments included (`RoTxn::pages_read`).
    pages_read: ReadCount,
}

/// A count of pages read, kept by the one thread that owns the store; an atomic only so that
/// a store lent to nested read transactions on other threads (which do not count through it)
/// is `Sync`. A relaxed load and store, not a read-modify-write: no other thread adds to it.
#[derive(Default)]
struct ReadCount(AtomicU64);

impl ReadCount {
    #[inline(always)]
    fn add_one(&self) {
        self.0
            .store(self.0.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Clone for ReadCount {
    fn clone(&self) -> Self {
        ReadCount(AtomicU64::new(self.get()))
    }
}

/// Page-sized buffers to reuse, at most [`SPARE_BUFFERS_MAX`]. A nested transaction's copy of
/// the store starts without any: they are only memory.
#[derive(Default)]
struct SpareBuffers(Vec<Box<[u8]>>);

/// The most spare buffers kept: enough to save an allocation for each page a spill makes
/// room for in most cases, without keeping the memory of a large spill or a mass free.
const SPARE_BUFFERS_MAX: usize = 4096;

impl SpareBuffers {
    fn put(&mut self, buffer: Box<[u8]>) {
        if self.0.len() < SPARE_BUFFERS_MAX {
            self.0.push(buffer);
        }
    }
}

impl Clone for SpareBuffers {
    fn clone(&self) -> Self {
        SpareBuffers::default()
    }
}

impl PageStore {
    /// A store for txn `txn_id` over a file of `page_count` pages, a map of `map_size_bytes`,
    /// and the `reusable` part of the freelist.
    pub(crate) fn new(
        page_size: usize,
        txn_id: TxnId,
        page_count: u64,
        map_size_bytes: usize,
        reusable: Reusable,
    ) -> PageStore {
        PageStore {
            page_size,
            txn_id,
            dirty: DirtyPages::default(),
            page_count,
            committed_page_count: page_count,
            page_limit: (map_size_bytes / page_size) as u64,
            pool: Pool::new(reusable.pages),
            segments: reusable.segments.into(),
            run_segments: reusable.run_segments.into(),
            stretch_absent_from: usize::MAX,
            summaries: Arc::default(),
            taken_segments: Vec::new(),
            freed: Vec::new(),
            spilled: HashMap::new(),
            spill_policy: SpillPolicy::default(),
            spare: SpareBuffers::default(),
            pages_read: ReadCount::default(),
        }
    }

    /// The same store, keeping what it learns of the free segments in `summaries` (the
    /// writer's, for the freelist this transaction starts from).
    pub(crate) fn with_segment_summaries(
        mut self,
        summaries: Arc<Mutex<SegmentSummaries>>,
    ) -> PageStore {
        self.summaries = summaries;
        self
    }

    /// The free segments this transaction took (to drop their summaries once it commits).
    pub(crate) fn taken_segments(&self) -> &[PageId] {
        &self.taken_segments
    }

    /// The page size in bytes.
    #[inline]
    pub(crate) fn page_size(&self) -> usize {
        self.page_size
    }

    /// Pages read through this store: tree pages, overflow runs and free segments.
    pub(crate) fn pages_read(&self) -> u64 {
        self.pages_read.get()
    }

    /// The transaction this store belongs to.
    pub(crate) fn txn_id(&self) -> TxnId {
        self.txn_id
    }

    /// Every page number is below this.
    #[inline]
    pub(crate) fn page_count(&self) -> u64 {
        self.page_count
    }

    /// Reads `pages` pages starting at `id`: the dirty copy if there is one, else the map.
    #[inline]
    pub(crate) fn read<'a>(&'a self, map: &'a [u8], id: PageId, pages: usize) -> Result<&'a [u8]> {
        self.pages_read.add_one();
        self.read_uncounted(map, id, pages)
    }

    /// [`read`](Self::read), not counted: a read by a nested read transaction, which counts
    /// its own (the store is shared with other threads then).
    #[inline]
    pub(crate) fn read_uncounted<'a>(
        &'a self,
        map: &'a [u8],
        id: PageId,
        pages: usize,
    ) -> Result<&'a [u8]> {
        if let Some(buffer) = self.dirty.get(id) {
            if buffer.len() < pages * self.page_size {
                return Err(Error::corrupted(
                    id,
                    "run is longer than the pages written for it",
                ));
            }
            return Ok(&buffer[..pages * self.page_size]);
        }
        read_committed(map, self.page_size, self.page_count, id, pages)
    }

    /// Whether page (or run) `id` is one this transaction holds in memory: written by it and
    /// not sealed yet, so its checksum does not cover its bytes. Every other page it reads
    /// (committed, or spilled by it to the file) is sealed.
    #[inline]
    pub(crate) fn holds_in_memory(&self, id: PageId) -> bool {
        self.dirty.contains(id)
    }

    /// The writable bytes of a dirty page or run.
    ///
    /// # Panics
    /// If `id` is not dirty: callers [`touch`](Self::touch) a page before changing it.
    #[inline]
    pub(crate) fn page_mut(&mut self, id: PageId) -> &mut [u8] {
        self.dirty
            .get_mut(id)
            .unwrap_or_else(|| panic!("page {id} changed without touch"))
    }

    /// Allocates `pages` contiguous zeroed pages and returns the first number. `map` is the
    /// snapshot's map, from which free segments are read.
    pub(crate) fn allocate(&mut self, map: &[u8], pages: usize) -> Result<PageId> {
        let id = self.allocate_number(map, pages)?;
        let buffer = if pages == 1 {
            self.zeroed_page()
        } else {
            vec![0u8; pages * self.page_size].into_boxed_slice()
        };
        self.record_dirty(id, buffer);
        Ok(id)
    }

    /// Allocates `pages` zeroed pages with consecutive numbers, each a page of its own (not
    /// one run: each gets its own header and checksum), from reusable pages only, and returns
    /// the first number; `None` when no free stretch of `pages` pages is reusable (nothing is
    /// allocated then).
    pub(crate) fn allocate_consecutive_reused(
        &mut self,
        map: &[u8],
        pages: usize,
    ) -> Result<Option<PageId>> {
        let Some(first) = self.take_from_pool(map, pages)? else {
            return Ok(None);
        };
        for id in pages_in(first..first + pages as u64) {
            let buffer = self.zeroed_page();
            self.record_dirty(id, buffer);
        }
        Ok(Some(first))
    }

    /// Takes `pages` contiguous page numbers from the pool, else from the end of the file.
    fn allocate_number(&mut self, map: &[u8], pages: usize) -> Result<PageId> {
        let id = match self.take_from_pool(map, pages)? {
            Some(id) => id,
            None => {
                let id = PageId::new(self.page_count);
                if self.page_count + pages as u64 > self.page_limit {
                    return Err(Error::Mdb(MdbError::MapFull));
                }
                self.page_count += pages as u64;
                id
            }
        };
        Ok(id)
    }

    /// A zeroed page-sized buffer: a spare one if there is one (memory this process has used
    /// already costs less than fresh memory), else a new one.
    fn zeroed_page(&mut self) -> Box<[u8]> {
        match self.spare.0.pop() {
            Some(mut buffer) => {
                buffer.fill(0);
                buffer
            }
            None => vec![0u8; self.page_size].into_boxed_slice(),
        }
    }

    /// A page-sized buffer holding a copy of `page`, spare if there is one.
    fn page_copy(&mut self, page: &[u8]) -> Box<[u8]> {
        match self.spare.0.pop() {
            Some(mut buffer) => {
                buffer.copy_from_slice(page);
                buffer
            }
            None => page.into(),
        }
    }

    fn record_dirty(&mut self, id: PageId, buffer: Box<[u8]>) {
        let previous = self.dirty.insert(id, buffer);
        assert!(previous.is_none(), "page {id} allocated twice");
    }

    fn take_from_pool(&mut self, map: &[u8], pages: usize) -> Result<Option<PageId>> {
        if pages > 1 {
            return self.take_stretch(map, pages);
        }
        // A page of a run, reading segments that hold runs until one gives a run.
        loop {
            if let Some(id) = self.pool.take_from_run() {
                return Ok(Some(id));
            }
            let Some(segment) = self.run_segments.pop_front() else {
                break;
            };
            self.read_segment(map, segment)?;
        }
        // Then any page, reading any segment when the pool runs dry.
        loop {
            if let Some(found) = self.pool.take_single() {
                return Ok(Some(found));
            }
            let next = self.run_segments.pop_front();
            let Some(segment) = next.or_else(|| self.segments.pop_front()) else {
                return Ok(None);
            };
            self.read_segment(map, segment)?;
        }
    }

    /// The first of `pages` consecutive reusable pages, wherever they are: in the pool, in
    /// free segments not read yet, or partly in each (`None`: nowhere, the caller takes them
    /// from the file's end). When the pool has no such stretch, the unread segments whose
    /// summaries show they could hold part of one (`segment_summary.rs`) are looked at
    /// (read, not taken), and only those holding part of the lowest stretch are taken into
    /// the pool. So a large value reuses the space an old one left wherever the freelist
    /// keeps it, and segments it does not need stay where they are. A segment is read to be
    /// summarized once while the freelist names it, whichever transaction of this writer
    /// reads it first; later looks read only the segments their summaries single out. A
    /// length not found is not looked for again until the pool gains pages.
    fn take_stretch(&mut self, map: &[u8], pages: usize) -> Result<Option<PageId>> {
        if let Some(found) = self.pool.take_consecutive(pages) {
            return Ok(Some(found));
        }
        if pages >= self.stretch_absent_from {
            return Ok(None);
        }
        let unread: Vec<PageId> = self
            .run_segments
            .iter()
            .chain(&self.segments)
            .copied()
            .collect();
        let known: Vec<Option<SegmentSummary>> = {
            let summaries = self.summaries.lock();
            unread
                .iter()
                .map(|&segment| summaries.get(segment))
                .collect()
        };
        let mut summarized = Vec::with_capacity(unread.len());
        for (segment, known) in unread.into_iter().zip(known) {
            let summary = match known {
                Some(summary) => summary,
                None => SegmentSummary::of(&self.read_segment_pages(map, segment)?),
            };
            summarized.push((segment, summary));
        }
        let candidates = segment_summary::candidates(&summarized, pages, |low, high| {
            self.pool.has_page_in(low, high)
        });
        let listing =
            UnreadListing::read(candidates, |segment| self.read_segment_pages(map, segment))?;
        // A page listed twice is corruption (as when a segment is read); a segment listing a
        // page this transaction uses is found when it is read.
        let found = listing
            .lowest_stretch(self.pool.iter(), pages)
            .map_err(|twice| {
                Error::corrupted(
                    twice.segment,
                    format!(
                        "free segment lists page {}, which is already free",
                        twice.page
                    ),
                )
            })?;
        let Some((_, needed)) = found else {
            self.stretch_absent_from = pages;
            return Ok(None);
        };
        let wanted = |segment: &PageId| needed.binary_search(segment).is_ok();
        self.run_segments.retain(|segment| !wanted(segment));
        self.segments.retain(|segment| !wanted(segment));
        for &segment in &needed {
            self.read_segment(map, segment)?;
        }
        Ok(self.pool.take_consecutive(pages))
    }

    /// The pages free segment `segment` of the snapshot's freelist lists, checked, recording
    /// its summary.
    fn read_segment_pages(&self, map: &[u8], segment: PageId) -> Result<Vec<PageId>> {
        self.pages_read.add_one();
        let page = read_committed(map, self.page_size, self.committed_page_count, segment, 1)?;
        let pages = free_segment::read(page, segment, self.committed_page_count)?;
        self.summaries
            .lock()
            .record(segment, SegmentSummary::of(&pages));
        Ok(pages)
    }

    /// Moves the pages of reusable free segment `segment` (taken off its queue) into the
    /// pool. The segment's own page was reachable from the previous meta, so it is freed like
    /// any other page.
    fn read_segment(&mut self, map: &[u8], segment: PageId) -> Result<()> {
        let pages = self.read_segment_pages(map, segment)?;
        let in_use =
            |page: &&PageId| self.dirty.contains(**page) || self.spilled.contains_key(*page);
        if let Some(&used) = pages.iter().find(in_use) {
            return Err(Error::corrupted(
                segment,
                format!("free segment lists page {used}, which this transaction uses"),
            ));
        }
        if let Err(twice) = self.pool.add(&pages) {
            return Err(Error::corrupted(
                segment,
                format!("free segment lists page {twice}, which is already free"),
            ));
        }
        self.stretch_absent_from = usize::MAX;
        self.taken_segments.push(segment);
        self.free(segment, 1);
        Ok(())
    }

    /// Makes `id` writable: a dirty page is returned as is, and so is a spilled one, read
    /// back into a buffer; a committed page is copied to a new page, which is returned, and
    /// the old number is freed.
    ///
    /// A page read from the file is verified against its checksum first: commit seals the copy with
    /// a fresh checksum, so copying damaged bytes would make the damage invisible to every later
    /// check. A mismatch is [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage) and nothing
    /// is copied.
    pub(crate) fn touch(&mut self, map: &[u8], id: PageId) -> Result<PageId> {
        if self.dirty.contains(id) {
            return Ok(id);
        }
        if let Some(&pages) = self.spilled.get(&id) {
            // This transaction's own page: no snapshot sees it, so it keeps its number.
            let bytes = read_committed(map, self.page_size, self.page_count, id, pages as usize)?;
            header::verify_checksum(bytes, id)?;
            let buffer = if pages == 1 {
                self.page_copy(bytes)
            } else {
                bytes.into()
            };
            self.spilled.remove(&id);
            self.spill_policy.returned();
            self.record_dirty(id, buffer);
            return Ok(id);
        }
        // One copy, into the new page's buffer.
        let page = read_committed(map, self.page_size, self.page_count, id, 1)?;
        header::verify_checksum(page, id)?;
        let mut copy = self.page_copy(page);
        let new_id = self.allocate_number(map, 1)?;
        header::set_page_id(&mut copy, new_id);
        self.record_dirty(new_id, copy);
        self.free(id, 1);
        Ok(new_id)
    }

    /// Gives back `pages` pages starting at `id`. A page this transaction allocated goes
    /// straight back to the pool (no snapshot ever saw it); a committed one is recorded as
    /// freed by this transaction.
    pub(crate) fn free(&mut self, id: PageId, pages: usize) {
        let run = pages_in(id..id + pages as u64);
        let dirty = self.dirty.remove(id);
        let own = dirty.is_some() || self.spilled.remove(&id).is_some();
        if let Some(buffer) = dirty.filter(|buffer| buffer.len() == self.page_size) {
            self.spare.put(buffer);
        }
        if own {
            self.stretch_absent_from = usize::MAX;
            // Last page first, so that a run allocated just before the pool's current run
            // rejoins it whole.
            for page in run.rev() {
                self.pool.give_back(page);
            }
        } else {
            self.freed.extend(run);
        }
    }

    /// Pages freed by this transaction that a snapshot may still use.
    pub(crate) fn freed(&self) -> &[PageId] {
        &self.freed
    }

    /// Pages free right now and not used by this transaction, ascending.
    pub(crate) fn pool(&self) -> Vec<PageId> {
        self.pool.iter().collect()
    }

    /// Reusable free segments this transaction has not read, holding mostly isolated pages.
    pub(crate) fn unread_segments(&self) -> impl Iterator<Item = PageId> + '_ {
        self.segments.iter().copied()
    }

    /// Reusable free segments this transaction has not read, holding mostly runs.
    pub(crate) fn unread_run_segments(&self) -> impl Iterator<Item = PageId> + '_ {
        self.run_segments.iter().copied()
    }

    /// The number of dirty buffers (pages and overflow runs) and their bytes: what a commit
    /// would list as unsynced runs, if nothing was spilled.
    pub(crate) fn dirty_size(&self) -> (usize, usize) {
        self.dirty.size()
    }

    /// Whether this transaction has written pages to the file before commit.
    pub(crate) fn has_spilled(&self) -> bool {
        !self.spilled.is_empty()
    }

    /// Spills pages if the dirty ones take more memory than the spill policy (`spill.rs`)
    /// allows now, never more than `limit_bytes`. Called between changes, when no page is
    /// held by a change in progress. `before_writing` runs before a spill writes anything.
    pub(crate) fn spill_if_needed(
        &mut self,
        io: &dyn PageIo,
        start_writeback: bool,
        limit_bytes: usize,
        before_writing: impl FnOnce() -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if let Some(keep) = self
            .spill_policy
            .keep_bytes(self.dirty.size().1, limit_bytes)
        {
            before_writing()?;
            let written = self.spill(io, start_writeback, keep)?;
            self.spill_policy.spilled(written);
        }
        Ok(())
    }

    /// Bounds this transaction's memory: seals and writes dirty leaf pages and overflow runs to
    /// their places in the file, lowest page numbers first, until at most `keep_bytes` of dirty
    /// buffers remain, and reuses their buffers. Returns how many it wrote. Branch pages stay in
    /// memory: every change passes through them. Written pages are read from the map from then on.
    ///
    /// Safe for every snapshot: the pages written were allocated by this transaction, so no
    /// meta names them (invariant 2). A page written and then changed again is written again
    /// by commit (or by a later spill), which makes the first write cost nothing but time.
    /// On error nothing is recorded as spilled: the buffers stay and the map is not read at
    /// pages that may not have reached the file.
    ///
    /// Only a top-level transaction may spill: a nested one could overwrite a page its
    /// parent spilled, which the parent would read back after the child aborts.
    fn spill(
        &mut self,
        io: &dyn PageIo,
        start_writeback: bool,
        keep_bytes: usize,
    ) -> std::io::Result<usize> {
        let mut excess = self.dirty.size().1.saturating_sub(keep_bytes);
        let mut chosen = Vec::new();
        for (id, buffer) in self.dirty.iter_mut() {
            if excess == 0 {
                break;
            }
            if header::kind(buffer) == Some(PageKind::Branch) {
                continue;
            }
            header::seal(buffer);
            excess = excess.saturating_sub(buffer.len());
            chosen.push(id);
        }
        self.write_in_order(io, start_writeback, &chosen)?;
        let count = chosen.len();
        for id in chosen {
            let buffer = self.dirty.remove(id).expect("a chosen page is dirty");
            let pages = buffer.len() / self.page_size;
            self.spilled.insert(id, pages as u32);
            if pages == 1 {
                self.spare.put(buffer);
            }
        }
        Ok(count)
    }

    /// Seals and writes every dirty page in page order (through [`OrderedWriter`], contiguous pages
    /// together). With `record_runs`, returns each buffer written (its first page, pages and
    /// checksum), for a meta to list; else an empty list.
    pub(crate) fn write_dirty(
        &mut self,
        io: &dyn PageIo,
        start_writeback: bool,
        record_runs: bool,
    ) -> std::io::Result<Vec<UnsyncedRun>> {
        let mut runs = Vec::new();
        let mut ids = Vec::with_capacity(self.dirty.size().0);
        for (id, buffer) in self.dirty.iter_mut() {
            debug_assert!(buffer.len() >= PAGE_HEADER_SIZE);
            header::seal(buffer);
            if record_runs {
                runs.push(UnsyncedRun {
                    first: id,
                    pages: u32::try_from(buffer.len() / self.page_size)
                        .expect("a run's pages fit its header's u32"),
                    checksum: header::recorded_checksum(buffer),
                });
            }
            ids.push(id);
        }
        self.write_in_order(io, start_writeback, &ids)?;
        Ok(runs)
    }

    /// Writes the (sealed) dirty buffers of `ids`, ascending.
    fn write_in_order(
        &self,
        io: &dyn PageIo,
        start_writeback: bool,
        ids: &[PageId],
    ) -> std::io::Result<()> {
        let mut writer = OrderedWriter::new(io, self.page_size, start_writeback);
        for &id in ids {
            let buffer = self.dirty.get(id).expect("a listed page is dirty");
            writer.add(id, buffer)?;
        }
        writer.finish()
    }
}

/// Reads committed pages from the map, checking the numbers against the snapshot.
#[inline]
pub(crate) fn read_committed(
    map: &[u8],
    page_size: usize,
    page_count: u64,
    id: PageId,
    pages: usize,
) -> Result<&[u8]> {
    let end = id.checked_add(pages as u64);
    if id < PageId::FIRST_TREE_PAGE || end.is_none_or(|end| end.get() > page_count) {
        return Err(Error::corrupted(
            id,
            format!("page number out of range (file has {page_count} pages)"),
        ));
    }
    let start = id.byte_offset(page_size) as usize;
    Ok(&map[start..start + pages * page_size])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::id::numbered::{ids, page, range};
    use crate::store::ordered_write::WRITEBACK_BATCH_BYTES;
    use std::sync::Mutex;

    /// A [`PageIo`] that records which pages were written and which writebacks were started.
    #[derive(Default)]
    struct RecordingIo {
        /// Every call in order: `(true, offset, len)` a write, `(false, ..)` a writeback start.
        calls: Mutex<Vec<(bool, u64, u64)>>,
    }

    impl PageIo for RecordingIo {
        fn write_at(&self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
            self.calls
                .lock()
                .unwrap()
                .push((true, offset, bytes.len() as u64));
            Ok(())
        }
        fn start_writeback(&self, offset: u64, len: u64) -> std::io::Result<()> {
            self.calls.lock().unwrap().push((false, offset, len));
            Ok(())
        }
        fn write_durably(&self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
            self.write_at(offset, bytes)
        }
        fn sync_data(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn sync_all(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn set_len(&self, _: u64) -> std::io::Result<()> {
            Ok(())
        }
        fn file_len(&self) -> std::io::Result<u64> {
            Ok(0)
        }
    }

    /// A store with `count` dirty pages at every other page id (so no two are contiguous).
    fn store_with_scattered_dirty_pages(page_size: usize, count: u64) -> PageStore {
        let pool: Vec<PageId> = (0..count).map(|index| PageId::new(2 + 2 * index)).collect();
        let mut store = PageStore::new(
            page_size,
            TxnId::new(1),
            2 + 2 * count,
            1 << 40,
            Reusable {
                pages: pool,
                segments: vec![],
                run_segments: vec![],
            },
        );
        for _ in 0..count {
            store.allocate(&[], 1).unwrap();
        }
        store
    }

    #[test]
    fn a_large_write_starts_writeback_of_what_it_has_written_as_it_goes() {
        let page_size = 4096u64;
        let count = 3 * (WRITEBACK_BATCH_BYTES as u64 / page_size) + 10;
        let mut store = store_with_scattered_dirty_pages(page_size as usize, count);
        let io = RecordingIo::default();
        store.write_dirty(&io, true, false).unwrap();
        let calls = io.calls.into_inner().unwrap();
        let writes: Vec<u64> = calls
            .iter()
            .filter(|call| call.0)
            .map(|call| call.1 / page_size)
            .collect();
        assert_eq!(writes.len() as u64, count);
        let starts: Vec<(u64, u64)> = calls
            .iter()
            .filter(|call| !call.0)
            .map(|call| (call.1, call.2))
            .collect();
        assert_eq!(
            starts.len(),
            3,
            "one start per full batch, none for the tail"
        );
        // Each start covers exactly the pages written since the one before, all already written.
        let mut covered = 0;
        for (position, call) in calls.iter().enumerate().filter(|(_, call)| !call.0) {
            let written_before: Vec<u64> = calls[..position]
                .iter()
                .filter(|c| c.0)
                .map(|c| c.1 / page_size)
                .collect();
            let (first, end) = (call.1 / page_size, (call.1 + call.2) / page_size);
            assert_eq!(first, written_before[covered]);
            assert_eq!(end, written_before.last().unwrap() + 1);
            covered = written_before.len();
        }
        assert!((count - covered as u64) * page_size < WRITEBACK_BATCH_BYTES as u64);
    }

    #[test]
    fn a_small_write_or_an_unsynced_one_starts_no_writeback() {
        let mut store = store_with_scattered_dirty_pages(4096, 5);
        let io = RecordingIo::default();
        store.write_dirty(&io, true, false).unwrap();
        let mut store = store_with_scattered_dirty_pages(4096, 1000);
        store.write_dirty(&io, false, false).unwrap();
        let calls = io.calls.into_inner().unwrap();
        assert_eq!(calls.len(), 1005);
        assert!(calls.iter().all(|call| call.0));
    }

    #[test]
    fn written_runs_are_recorded_with_their_sealed_checksums() {
        let page_size = 512;
        let mut store = PageStore::new(page_size, TxnId::new(3), 2, 1 << 20, Reusable::default());
        let single = store.allocate(&[], 1).unwrap();
        let run = store.allocate(&[], 3).unwrap();
        store.page_mut(run)[1000] = 5;
        store.page_mut(single)[100] = 6;
        assert_eq!(store.dirty_size(), (2, 4 * page_size));
        let io = RecordingIo::default();
        let runs = store.write_dirty(&io, false, true).unwrap();
        let sealed = |id| header::recorded_checksum(store.dirty.get(id).unwrap());
        assert_eq!(
            runs,
            vec![
                UnsyncedRun {
                    first: single,
                    pages: 1,
                    checksum: sealed(single)
                },
                UnsyncedRun {
                    first: run,
                    pages: 3,
                    checksum: sealed(run)
                },
            ]
        );
        assert!(header::checksum_matches(store.dirty.get(run).unwrap()));
        assert!(store.write_dirty(&io, false, false).unwrap().is_empty());
    }

    /// A [`PageIo`] over a file in memory, which the tests pass as the map; with `full`,
    /// every write fails as on a full disk.
    struct MemoryIo {
        file: Mutex<Vec<u8>>,
        full: bool,
    }

    impl MemoryIo {
        fn new(bytes: usize) -> MemoryIo {
            MemoryIo {
                file: Mutex::new(vec![0; bytes]),
                full: false,
            }
        }

        fn map(&self) -> Vec<u8> {
            self.file.lock().unwrap().clone()
        }
    }

    impl PageIo for MemoryIo {
        fn write_at(&self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
            if self.full {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let mut file = self.file.lock().unwrap();
            let start = offset as usize;
            file[start..start + bytes.len()].copy_from_slice(bytes);
            Ok(())
        }
        fn write_durably(&self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
            self.write_at(offset, bytes)
        }
        fn sync_data(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn sync_all(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn set_len(&self, _: u64) -> std::io::Result<()> {
            Ok(())
        }
        fn file_len(&self) -> std::io::Result<u64> {
            Ok(self.file.lock().unwrap().len() as u64)
        }
    }

    #[test]
    fn a_spill_writes_the_lowest_leaves_and_runs_and_keeps_branches() {
        let page_size = 512;
        let io = MemoryIo::new(page_size * 64);
        let mut store = PageStore::new(
            page_size,
            TxnId::new(3),
            2,
            64 * page_size,
            Reusable::default(),
        );
        let map = io.map();
        let branch = store.allocate(&map, 1).unwrap();
        header::init(store.page_mut(branch), PageKind::Branch, branch);
        let leaves: Vec<PageId> = (0..4)
            .map(|n| {
                let id = store.allocate(&map, 1).unwrap();
                header::init(store.page_mut(id), PageKind::Leaf, id);
                store.page_mut(id)[100] = n + 1;
                id
            })
            .collect();
        let run = store.allocate(&map, 3).unwrap();
        header::init(store.page_mut(run), PageKind::Overflow, run);
        store.page_mut(run)[1000] = 9;
        // 8 pages dirty; keep at most 6: the branch stays, the two lowest leaves go.
        assert_eq!(store.spill(&io, false, 6 * page_size).unwrap(), 2);
        assert_eq!(store.dirty_size(), (4, 6 * page_size));
        assert!(store.has_spilled());
        let map = io.map();
        for (n, &leaf) in leaves.iter().enumerate() {
            assert_eq!(store.read(&map, leaf, 1).unwrap()[100], n as u8 + 1);
        }
        let written = &map[leaves[0].get() as usize * page_size..][..page_size];
        assert!(header::checksum_matches(written), "sealed before writing");
        // Keep nothing: everything but the branch, the run whole.
        assert_eq!(store.spill(&io, false, 0).unwrap(), 3);
        assert_eq!(store.dirty_size(), (1, page_size));
        let map = io.map();
        assert_eq!(store.read(&map, run, 3).unwrap()[1000], 9);
        // Touching a spilled page reads it back under its own number; nothing is freed.
        assert_eq!(store.touch(&map, leaves[1]).unwrap(), leaves[1]);
        store.page_mut(leaves[1])[100] = 42;
        assert_eq!(store.read(&map, leaves[1], 1).unwrap()[100], 42);
        assert_eq!(
            map[leaves[1].get() as usize * page_size + 100],
            2,
            "the file is as spilled"
        );
        assert!(store.freed().is_empty());
        // Freeing spilled pages gives them back to the pool, like dirty ones.
        store.free(run, 3);
        store.free(leaves[0], 1);
        assert_eq!(store.pool(), vec![leaves[0], run, run + 1, run + 2]);
        assert!(store.freed().is_empty());
        // Commit writes what is still dirty, over the spilled copy.
        store.write_dirty(&io, false, false).unwrap();
        assert_eq!(io.map()[leaves[1].get() as usize * page_size + 100], 42);
    }

    #[test]
    fn a_spilled_page_damaged_in_the_file_is_not_read_back() {
        let page_size = 512;
        let io = MemoryIo::new(page_size * 64);
        let mut store = PageStore::new(
            page_size,
            TxnId::new(3),
            2,
            64 * page_size,
            Reusable::default(),
        );
        let leaf = store.allocate(&[], 1).unwrap();
        header::init(store.page_mut(leaf), PageKind::Leaf, leaf);
        assert_eq!(store.spill(&io, false, 0).unwrap(), 1);
        let mut map = io.map();
        map[leaf.get() as usize * page_size + 100] ^= 1;
        assert!(matches!(
            store.touch(&map, leaf),
            Err(Error::Mdb(MdbError::CorruptedPage { page, .. })) if page == leaf.get()
        ));
        map[leaf.get() as usize * page_size + 100] ^= 1;
        assert_eq!(store.touch(&map, leaf).unwrap(), leaf);
    }

    #[test]
    fn a_failed_spill_keeps_every_page_in_memory() {
        let page_size = 512;
        let mut store = PageStore::new(
            page_size,
            TxnId::new(3),
            2,
            64 * page_size,
            Reusable::default(),
        );
        let leaf = store.allocate(&[], 1).unwrap();
        header::init(store.page_mut(leaf), PageKind::Leaf, leaf);
        let full = MemoryIo {
            full: true,
            ..MemoryIo::new(64 * page_size)
        };
        assert!(store.spill(&full, false, 0).is_err());
        assert!(!store.has_spilled());
        assert_eq!(store.dirty_size(), (1, page_size));
        assert!(
            store.read(&[], leaf, 1).is_ok(),
            "read from memory, not the map"
        );
    }

    #[test]
    fn spilling_follows_the_policy_and_counts_pages_that_come_back() {
        let page_size = 512;
        let io = MemoryIo::new(page_size * 64);
        let mut store = PageStore::new(
            page_size,
            TxnId::new(3),
            2,
            64 * page_size,
            Reusable::default(),
        );
        let leaves: Vec<PageId> = (0..16)
            .map(|_| {
                let id = store.allocate(&[], 1).unwrap();
                header::init(store.page_mut(id), PageKind::Leaf, id);
                id
            })
            .collect();
        store
            .spill_if_needed(&io, false, 16 * page_size, || Ok(()))
            .unwrap();
        assert!(!store.has_spilled(), "at the limit");
        // Past an 8-page limit: down to seven eighths of it, 7 pages.
        store
            .spill_if_needed(&io, false, 8 * page_size, || Ok(()))
            .unwrap();
        assert_eq!(store.dirty_size().0, 7);
        let map = io.map();
        for &leaf in &leaves[..3] {
            store.touch(&map, leaf).unwrap();
        }
        // Three of nine came back: the policy doubles the threshold, but the limit holds.
        store
            .spill_if_needed(&io, false, 8 * page_size, || Ok(()))
            .unwrap();
        assert_eq!(store.dirty_size().0, 7);
    }

    #[test]
    fn touch_copies_committed_pages_once_and_frees_the_original() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 4];
        map[3 * page_size + 100] = 7;
        header::seal(&mut map[3 * page_size..]);
        let mut store = PageStore::new(page_size, TxnId::new(9), 4, 1 << 20, Reusable::default());
        let copy = store.touch(&map, page(3)).unwrap();
        assert_eq!(copy, page(4));
        assert_eq!(store.read(&map, copy, 1).unwrap()[100], 7);
        assert_eq!(store.touch(&map, copy).unwrap(), copy);
        assert_eq!(store.freed(), ids(&[3]));
    }

    #[test]
    fn touch_refuses_a_committed_page_that_fails_its_checksum() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 4];
        header::init(&mut map[3 * page_size..], PageKind::Leaf, page(3));
        header::seal(&mut map[3 * page_size..]);
        map[3 * page_size + 100] = 7;
        let mut store = PageStore::new(page_size, TxnId::new(9), 4, 1 << 20, Reusable::default());
        assert!(matches!(
            store.touch(&map, page(3)),
            Err(Error::Mdb(MdbError::CorruptedPage { page: 3, .. }))
        ));
        assert_eq!(store.dirty_size(), (0, 0), "nothing copied");
        assert!(store.freed().is_empty());
    }

    /// Pages held in memory are not sealed yet, so a verifying reader skips their checksum;
    /// every other page, committed pages above all, is verified.
    #[test]
    fn only_pages_written_by_the_transaction_are_held_in_memory() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 4];
        header::init(&mut map[3 * page_size..], PageKind::Leaf, page(3));
        header::seal(&mut map[3 * page_size..]);
        let mut store = PageStore::new(page_size, TxnId::new(9), 4, 1 << 20, Reusable::default());
        assert!(!store.holds_in_memory(page(3)));
        let copy = store.touch(&map, page(3)).unwrap();
        assert!(store.holds_in_memory(copy));
        assert!(
            !store.holds_in_memory(page(3)),
            "the committed page stays in the file"
        );
    }

    #[test]
    fn freeing_a_dirty_page_returns_it_to_the_pool() {
        let mut store = PageStore::new(512, TxnId::new(1), 2, 1 << 20, Reusable::default());
        let run = store.allocate(&[], 3).unwrap();
        store.free(run, 3);
        assert_eq!(store.pool(), ids(&[2, 3, 4]));
        assert_eq!(store.allocate(&[], 2).unwrap(), page(2));
        assert_eq!(store.allocate(&[], 1).unwrap(), page(4));
        assert!(store.freed().is_empty());
    }

    #[test]
    fn free_segments_are_read_when_the_pool_runs_dry_and_then_freed() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 12];
        free_segment::write(
            &mut map[5 * page_size..6 * page_size],
            page(5),
            &ids(&[8, 9]),
        );
        header::seal(&mut map[5 * page_size..6 * page_size]);
        free_segment::write(
            &mut map[6 * page_size..7 * page_size],
            page(6),
            &ids(&[10, 11]),
        );
        header::seal(&mut map[6 * page_size..7 * page_size]);
        let reusable = Reusable {
            pages: ids(&[3]),
            segments: ids(&[5, 6]),
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 12, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 1).unwrap(), page(3));
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), ids(&[5, 6]));
        assert_eq!(store.pages_read(), 0);
        // A run of two: segment 5 gives 8 and 9.
        assert_eq!(store.allocate(&map, 2).unwrap(), page(8));
        let after_the_run = store.pages_read();
        assert!(after_the_run > 0, "segment 5 was read");
        assert_eq!(store.freed(), ids(&[5]));
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), ids(&[6]));
        // Taken segments are reported, so that the commit drops their summaries: their
        // pages may hold anything from then on.
        assert_eq!(store.taken_segments(), ids(&[5]));
        assert_eq!(store.allocate(&map, 1).unwrap(), page(11));
        assert!(store.pages_read() > after_the_run, "segment 6 was read");
        assert_eq!(store.pool(), ids(&[10]));
        assert_eq!(store.freed(), ids(&[5, 6]));
        assert_eq!(store.taken_segments(), ids(&[5, 6]));
    }

    #[test]
    fn without_a_run_in_the_pool_a_segment_holding_runs_is_read_before_isolated_pages_go() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 64];
        let write_segment = |map: &mut [u8], id: usize, pages: &[PageId]| {
            let page = &mut map[id * page_size..(id + 1) * page_size];
            free_segment::write(page, PageId::new(id as u64), pages);
            header::seal(page);
        };
        let run = range(40..50);
        write_segment(&mut map, 5, &ids(&[30, 32, 34]));
        write_segment(&mut map, 6, &run);
        let reusable = Reusable {
            pages: ids(&[3, 7, 9]),
            segments: ids(&[5]),
            run_segments: ids(&[6]),
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 64, 1 << 20, reusable);
        // The pool's pages are isolated: the segment of runs is read, and its run handed out
        // in order; the segment's own page is freed.
        let taken: Vec<PageId> = (0..10).map(|_| store.allocate(&map, 1).unwrap()).collect();
        assert_eq!(taken, run);
        assert_eq!(store.freed(), ids(&[6]));
        assert_eq!(store.unread_run_segments().count(), 0);
        // With the run used up, the isolated pages go, highest first; the other segment is
        // read only when they are gone.
        let taken: Vec<PageId> = (0..3).map(|_| store.allocate(&map, 1).unwrap()).collect();
        assert_eq!(taken, ids(&[9, 7, 3]));
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), ids(&[5]));
        assert_eq!(store.allocate(&map, 1).unwrap(), page(34));
        assert_eq!(store.freed(), ids(&[6, 5]));
    }

    #[test]
    fn a_stretch_is_found_across_the_pool_and_unread_segments_and_only_its_segments_are_read() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 200];
        let write_segment = |map: &mut [u8], id: usize, pages: &[PageId]| {
            let page = &mut map[id * page_size..(id + 1) * page_size];
            free_segment::write(page, PageId::new(id as u64), pages);
            header::seal(page);
        };
        // Free pages 100 to 159: 100-129 in segment 5, 130-139 in the pool, 140-159 in
        // segment 6 (a segment of isolated pages comes last in its queue); segment 7 holds
        // a stretch too short, and a segment is capped well below what the search looks at.
        write_segment(&mut map, 5, &range(100..130));
        write_segment(&mut map, 6, &range(140..160));
        write_segment(&mut map, 7, &range(170..180));
        let mut pool = ids(&[20, 22]);
        pool.extend(range(130..140));
        let reusable = Reusable {
            pages: pool,
            segments: ids(&[6]),
            run_segments: ids(&[7, 5]),
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 200, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 60).unwrap(), page(100));
        assert_eq!(
            store.freed(),
            ids(&[5, 6]),
            "the two segments holding the stretch"
        );
        assert_eq!(store.unread_run_segments().collect::<Vec<_>>(), ids(&[7]));
        assert_eq!(store.pool(), ids(&[20, 22]));
        // Nothing holds 11 in a row now: from the file's end, and segment 7 stays unread.
        assert_eq!(store.allocate(&map, 11).unwrap(), page(200));
        assert_eq!(store.unread_run_segments().collect::<Vec<_>>(), ids(&[7]));
        // A shorter stretch is still looked for, and found in segment 7.
        assert_eq!(store.allocate(&map, 10).unwrap(), page(170));
        assert_eq!(store.freed(), ids(&[5, 6, 7]));
    }

    #[test]
    fn unread_segments_are_summarized_once_and_read_again_only_if_they_could_hold_a_stretch() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 200];
        let write_segment = |map: &mut [u8], id: usize, pages: &[PageId]| {
            let page = &mut map[id * page_size..(id + 1) * page_size];
            free_segment::write(page, PageId::new(id as u64), pages);
            header::seal(page);
        };
        write_segment(&mut map, 5, &ids(&[100, 101, 102, 110, 111, 112]));
        write_segment(&mut map, 6, &ids(&[150, 151, 152, 153]));
        let reusable = Reusable {
            segments: ids(&[5, 6]),
            ..Reusable::default()
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 200, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 3).unwrap(), page(100));
        // Segment 6 is known from its summary, not read again while it cannot hold the
        // stretch looked for: damaging it now changes nothing until it could.
        map[6 * page_size + 40] ^= 1;
        assert_eq!(
            store.allocate(&map, 3).unwrap(),
            page(110),
            "from the pool now"
        );
        assert_eq!(
            store.allocate(&map, 5).unwrap(),
            page(200),
            "none that long"
        );
        assert!(
            matches!(
                store.allocate(&map, 4),
                Err(Error::Mdb(MdbError::CorruptedPage { .. }))
            ),
            "taking segment 6 reads it, checksum and all"
        );
    }

    #[test]
    fn a_page_two_segments_list_is_corruption() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 64];
        for (id, pages) in [(5usize, [30u64, 40, 41]), (6, [30, 50, 51])] {
            let page = &mut map[id * page_size..(id + 1) * page_size];
            free_segment::write(page, PageId::new(id as u64), &ids(&pages));
            header::seal(page);
        }
        let reusable = Reusable {
            segments: ids(&[5, 6]),
            ..Reusable::default()
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 64, 1 << 20, reusable);
        let error = store.allocate(&map, 2).unwrap_err().to_string();
        assert!(error.contains("page 30, which is already free"), "{error}");
    }

    #[test]
    fn a_page_freed_right_after_its_allocation_keeps_the_commit_together() {
        let pages = range(10..30);
        let reusable = Reusable {
            pages,
            ..Reusable::default()
        };
        let mut store = PageStore::new(512, TxnId::new(4), 64, 1 << 20, reusable);
        assert_eq!(store.allocate(&[], 1).unwrap(), page(10));
        let run = store.allocate(&[], 2).unwrap();
        assert_eq!(run, page(11), "from the run");
        store.free(run, 2);
        assert_eq!(store.allocate(&[], 1).unwrap(), page(11));
        assert_eq!(store.allocate(&[], 1).unwrap(), page(12));
        assert_eq!(store.pool().len(), 17);
        assert!(store.freed().is_empty());
    }

    #[test]
    fn a_free_segment_naming_a_page_already_free_or_in_use_is_corruption() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 12];
        free_segment::write(
            &mut map[5 * page_size..6 * page_size],
            page(5),
            &ids(&[3, 9]),
        );
        header::seal(&mut map[5 * page_size..6 * page_size]);
        let reusable = Reusable {
            pages: ids(&[3]),
            segments: ids(&[5]),
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 12, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 1).unwrap(), page(3));
        assert!(matches!(
            store.allocate(&map, 1),
            Err(Error::Mdb(MdbError::CorruptedPage { .. }))
        ));
        let reusable = Reusable {
            pages: ids(&[3, 4]),
            segments: ids(&[5]),
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, TxnId::new(4), 12, 1 << 20, reusable);
        assert!(matches!(
            store.allocate(&map, 3),
            Err(Error::Mdb(MdbError::CorruptedPage { .. }))
        ));
    }

    #[test]
    fn consecutive_pages_are_separate_pages_from_a_free_stretch_or_none() {
        let pool = Reusable {
            pages: ids(&[3, 5, 6, 7, 9]),
            segments: vec![],
            run_segments: vec![],
        };
        let mut store = PageStore::new(512, TxnId::new(4), 12, 1 << 20, pool);
        assert_eq!(
            store.allocate_consecutive_reused(&[], 3).unwrap(),
            Some(page(5))
        );
        assert_eq!(store.pool(), ids(&[3, 9]));
        assert_eq!(
            store.allocate_consecutive_reused(&[], 2).unwrap(),
            None,
            "not from the file's end"
        );
        assert_eq!(store.page_count(), 12);
        assert_eq!(store.pool(), ids(&[3, 9]));
        for id in ids(&[5, 6, 7]) {
            assert_eq!(store.read(&[], id, 1).unwrap().len(), 512, "page {id}");
        }
        // Each is its own page: freeing one leaves the others.
        store.free(page(6), 1);
        assert_eq!(store.pool(), ids(&[3, 6, 9]));
        assert!(store.read(&[], page(7), 1).is_ok());
    }

    #[test]
    fn allocation_past_the_map_is_map_full() {
        let mut store = PageStore::new(512, TxnId::new(1), 2, 512 * 4, Reusable::default());
        store.allocate(&[], 2).unwrap();
        assert!(matches!(
            store.allocate(&[], 1),
            Err(Error::Mdb(MdbError::MapFull))
        ));
    }

    #[test]
    fn out_of_range_reads_are_corruption() {
        let map = vec![0u8; 512 * 4];
        assert!(read_committed(&map, 512, 4, page(4), 1).is_err());
        assert!(read_committed(&map, 512, 4, page(1), 1).is_err());
        assert!(read_committed(&map, 512, 4, page(3), 2).is_err());
        assert!(read_committed(&map, 512, 4, page(u64::MAX), 2).is_err());
        assert!(read_committed(&map, 512, 4, page(3), 1).is_ok());
    }

    #[test]
    fn reading_a_dirty_run_as_longer_than_it_is_is_corruption() {
        let mut store = PageStore::new(512, TxnId::new(3), 2, 1 << 20, Reusable::default());
        let run = store.allocate(&[], 2).unwrap();
        assert_eq!(store.read(&[], run, 2).unwrap().len(), 2 * 512);
        assert!(matches!(
            store.read(&[], run, 3),
            Err(Error::Mdb(MdbError::CorruptedPage { .. }))
        ));
    }
}
