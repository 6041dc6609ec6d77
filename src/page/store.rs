//! The page store of a write transaction: dirty pages, allocation and freeing.
//!
//! Copy-on-write lives here. A page reachable from a committed meta is never written again
//! (invariant 2): [`PageStore::touch`] copies it to a newly allocated page and records the old
//! number as freed by this transaction. New pages come first from the pool of pages every
//! reader has released (`pool.rs`: single pages from runs of consecutive free pages where
//! there are any, so that a commit's pages lie together), topped up one free segment at a
//! time (a segment holding runs when the pool has none, any segment when it runs dry), then
//! from the end of the file, up to the map's limit.
//!
//! Dirty pages stay in memory until commit, which seals (checksums) and writes them in page
//! order through [`PageIo`].

use std::collections::VecDeque;

use super::dirty::DirtyPages;
use super::free_segment;
use super::freelist::Reusable;
use super::header::{self, PAGE_HEADER_SIZE};
use super::id::{PageId, TxnId, META_PAGE_COUNT};
use super::meta::UnsyncedRun;
use super::pool::Pool;
use crate::error::{Error, Result};
use crate::os::PageIo;

/// The most bytes of contiguous pages written in one call.
///
/// Small on purpose: Linux (6.x, ext4 and others) caches a file in folios as large as the
/// write that created them, and a later one-page write into a large folio costs time in
/// proportion to the folio, in the write and again in the next fdatasync. With 4 MiB writes,
/// the batch-write benchmark (1,000 random inserts per commit into 2,000,000 entries) was
/// 40% slower than with one-page writes; 64 KiB writes were within noise of one-page writes
/// and write a sorted load's fresh pages a third faster.
pub(crate) const WRITE_BYTES_MAX: usize = 64 << 10;
/// A large commit starts the disk writing its pages each time this many more are written
/// (a smaller commit, such as a one-insert one, leaves it all to the sync that follows).
const WRITEBACK_BATCH_BYTES: usize = 256 << 10;

/// A run of several pages (an overflow value) is looked for in the pool after topping it up
/// from free segments until it holds this many pages; past that the run comes from the end of
/// the file, so that one large value does not read the whole freelist.
const RUN_SEARCH_POOL_PAGES: usize = 1 << 14;

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
    map_size_bytes: usize,
    /// Reusable pages.
    pool: Pool,
    /// Reusable free segments not read yet, in the order to read them.
    segments: VecDeque<PageId>,
    /// Reusable free segments holding runs of consecutive pages, not read yet.
    run_segments: VecDeque<PageId>,
    /// Pages reachable in the previous snapshot that this transaction no longer uses.
    freed: Vec<PageId>,
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
            map_size_bytes,
            pool: Pool::new(reusable.pages),
            segments: reusable.segments.into(),
            run_segments: reusable.run_segments.into(),
            freed: Vec::new(),
        }
    }

    /// The page size in bytes.
    #[inline]
    pub(crate) fn page_size(&self) -> usize {
        self.page_size
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
        self.record_dirty(id, vec![0u8; pages * self.page_size].into_boxed_slice());
        Ok(id)
    }

    /// Allocates `pages` zeroed pages with consecutive numbers, each a page of its own (not
    /// one run: each gets its own header and checksum), and returns the first number.
    pub(crate) fn allocate_consecutive(&mut self, map: &[u8], pages: usize) -> Result<PageId> {
        let first = self.allocate_number(map, pages)?;
        for id in first..first + pages as u64 {
            self.record_dirty(id, vec![0u8; self.page_size].into_boxed_slice());
        }
        Ok(first)
    }

    /// Takes `pages` contiguous page numbers from the pool, else from the end of the file.
    fn allocate_number(&mut self, map: &[u8], pages: usize) -> Result<PageId> {
        let id = match self.take_from_pool(map, pages)? {
            Some(id) => id,
            None => {
                let id = self.page_count;
                if id + pages as u64 > self.page_limit {
                    return Err(Error::MapFull {
                        map_size_bytes: self.map_size_bytes,
                    });
                }
                self.page_count += pages as u64;
                id
            }
        };
        Ok(id)
    }

    fn record_dirty(&mut self, id: PageId, buffer: Box<[u8]>) {
        let previous = self.dirty.insert(id, buffer);
        assert!(previous.is_none(), "page {id} allocated twice");
    }

    fn take_from_pool(&mut self, map: &[u8], pages: usize) -> Result<Option<PageId>> {
        if pages == 1 {
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
        }
        loop {
            let found = if pages == 1 {
                self.pool.take_single()
            } else {
                self.pool.take_consecutive(pages)
            };
            if found.is_some() {
                return Ok(found);
            }
            if pages > 1 && self.pool.len() >= RUN_SEARCH_POOL_PAGES {
                return Ok(None); // searched enough
            }
            let next = self.run_segments.pop_front();
            let Some(segment) = next.or_else(|| self.segments.pop_front()) else {
                return Ok(None);
            };
            self.read_segment(map, segment)?;
        }
    }

    /// Moves the pages of reusable free segment `segment` (taken off its queue) into the
    /// pool. The segment's own page was reachable from the previous meta, so it is freed like
    /// any other page.
    fn read_segment(&mut self, map: &[u8], segment: PageId) -> Result<()> {
        let page = read_committed(map, self.page_size, self.committed_page_count, segment, 1)?;
        let pages = free_segment::read(page, segment, self.committed_page_count)?;
        if let Some(&used) = pages.iter().find(|&&page| self.dirty.contains(page)) {
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
        self.free(segment, 1);
        Ok(())
    }

    /// Makes `id` writable: a dirty page is returned as is; a committed page is copied to a
    /// new page, which is returned, and the old number is freed.
    pub(crate) fn touch(&mut self, map: &[u8], id: PageId) -> Result<PageId> {
        if self.dirty.contains(id) {
            return Ok(id);
        }
        // One allocation and one copy: the copy becomes the new page's buffer.
        let mut copy: Box<[u8]> =
            read_committed(map, self.page_size, self.page_count, id, 1)?.into();
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
        let run = id..id + pages as u64;
        if self.dirty.remove(id).is_some() {
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
        self.pool.to_vec()
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
    /// would list as unsynced runs.
    pub(crate) fn dirty_size(&self) -> (usize, usize) {
        self.dirty.size()
    }

    /// Seals and writes every dirty page in page order, contiguous pages together in writes
    /// of at most [`WRITE_BYTES_MAX`]. With `record_runs`, returns each buffer written (its
    /// first page, pages and checksum), for a meta to list; else an empty list.
    pub(crate) fn write_dirty(
        &mut self,
        io: &dyn PageIo,
        start_writeback: bool,
        record_runs: bool,
    ) -> std::io::Result<Vec<UnsyncedRun>> {
        let mut runs = Vec::new();
        let page_size = self.page_size as u64;
        let mut run: Vec<&[u8]> = Vec::new();
        let (mut run_start, mut run_end, mut run_bytes) = (0u64, 0u64, 0usize);
        // Pages written since writeback was last started: from `unsent_start` (a page id) on.
        let (mut unsent_start, mut unsent_bytes) = (None::<u64>, 0usize);
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
            for (index, page) in buffer.chunks(page_size as usize).enumerate() {
                let id = id + index as u64;
                if !run.is_empty() && (id != run_end || run_bytes >= WRITE_BYTES_MAX) {
                    io.write_pages_at(run_start * page_size, &run)?;
                    let first_unsent = *unsent_start.get_or_insert(run_start);
                    unsent_bytes += run_bytes;
                    run.clear();
                    run_bytes = 0;
                    if start_writeback && unsent_bytes >= WRITEBACK_BATCH_BYTES {
                        let span = (run_end - first_unsent) * page_size;
                        io.start_writeback(first_unsent * page_size, span)?;
                        (unsent_start, unsent_bytes) = (None, 0);
                    }
                }
                if run.is_empty() {
                    run_start = id;
                }
                run.push(page);
                run_bytes += page.len();
                run_end = id + 1;
            }
        }
        if !run.is_empty() {
            io.write_pages_at(run_start * page_size, &run)?;
        }
        Ok(runs)
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
    if id < META_PAGE_COUNT || end.is_none_or(|end| end > page_count) {
        return Err(Error::corrupted(
            id,
            format!("page number out of range (file has {page_count} pages)"),
        ));
    }
    let start = id as usize * page_size;
    Ok(&map[start..start + pages * page_size])
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let pool: Vec<PageId> = (0..count).map(|index| 2 + 2 * index).collect();
        let mut store = PageStore::new(
            page_size,
            1,
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
        let mut store = PageStore::new(page_size, 3, 2, 1 << 20, Reusable::default());
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

    #[test]
    fn touch_copies_committed_pages_once_and_frees_the_original() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 4];
        map[3 * page_size + 100] = 7;
        let mut store = PageStore::new(page_size, 9, 4, 1 << 20, Reusable::default());
        let copy = store.touch(&map, 3).unwrap();
        assert_eq!(copy, 4);
        assert_eq!(store.read(&map, copy, 1).unwrap()[100], 7);
        assert_eq!(store.touch(&map, copy).unwrap(), copy);
        assert_eq!(store.freed(), &[3]);
    }

    #[test]
    fn freeing_a_dirty_page_returns_it_to_the_pool() {
        let mut store = PageStore::new(512, 1, 2, 1 << 20, Reusable::default());
        let run = store.allocate(&[], 3).unwrap();
        store.free(run, 3);
        assert_eq!(store.pool(), &[2, 3, 4]);
        assert_eq!(store.allocate(&[], 2).unwrap(), 2);
        assert_eq!(store.allocate(&[], 1).unwrap(), 4);
        assert!(store.freed().is_empty());
    }

    #[test]
    fn free_segments_are_read_when_the_pool_runs_dry_and_then_freed() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 12];
        free_segment::write(&mut map[5 * page_size..6 * page_size], 5, &[8, 9]);
        header::seal(&mut map[5 * page_size..6 * page_size]);
        free_segment::write(&mut map[6 * page_size..7 * page_size], 6, &[10, 11]);
        header::seal(&mut map[6 * page_size..7 * page_size]);
        let reusable = Reusable {
            pages: vec![3],
            segments: vec![5, 6],
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, 4, 12, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 1).unwrap(), 3);
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), vec![5, 6]);
        // A run of two: segment 5 gives 8 and 9.
        assert_eq!(store.allocate(&map, 2).unwrap(), 8);
        assert_eq!(store.freed(), &[5]);
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), vec![6]);
        assert_eq!(store.allocate(&map, 1).unwrap(), 11);
        assert_eq!(store.pool(), &[10]);
        assert_eq!(store.freed(), &[5, 6]);
    }

    #[test]
    fn without_a_run_in_the_pool_a_segment_holding_runs_is_read_before_isolated_pages_go() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 64];
        let write_segment = |map: &mut [u8], id: usize, pages: &[PageId]| {
            let page = &mut map[id * page_size..(id + 1) * page_size];
            free_segment::write(page, id as PageId, pages);
            header::seal(page);
        };
        let run: Vec<PageId> = (40..50).collect();
        write_segment(&mut map, 5, &[30, 32, 34]);
        write_segment(&mut map, 6, &run);
        let reusable = Reusable {
            pages: vec![3, 7, 9],
            segments: vec![5],
            run_segments: vec![6],
        };
        let mut store = PageStore::new(page_size, 4, 64, 1 << 20, reusable);
        // The pool's pages are isolated: the segment of runs is read, and its run handed out
        // in order; the segment's own page is freed.
        let taken: Vec<PageId> = (0..10).map(|_| store.allocate(&map, 1).unwrap()).collect();
        assert_eq!(taken, run);
        assert_eq!(store.freed(), &[6]);
        assert_eq!(store.unread_run_segments().count(), 0);
        // With the run used up, the isolated pages go, highest first; the other segment is
        // read only when they are gone.
        let taken: Vec<PageId> = (0..3).map(|_| store.allocate(&map, 1).unwrap()).collect();
        assert_eq!(taken, vec![9, 7, 3]);
        assert_eq!(store.unread_segments().collect::<Vec<_>>(), vec![5]);
        assert_eq!(store.allocate(&map, 1).unwrap(), 34);
        assert_eq!(store.freed(), &[6, 5]);
    }

    #[test]
    fn a_page_freed_right_after_its_allocation_keeps_the_commit_together() {
        let pages: Vec<PageId> = (10..30).collect();
        let reusable = Reusable {
            pages,
            ..Reusable::default()
        };
        let mut store = PageStore::new(512, 4, 64, 1 << 20, reusable);
        assert_eq!(store.allocate(&[], 1).unwrap(), 10);
        let run = store.allocate(&[], 2).unwrap();
        assert_eq!(run, 11, "from the run");
        store.free(run, 2);
        assert_eq!(store.allocate(&[], 1).unwrap(), 11);
        assert_eq!(store.allocate(&[], 1).unwrap(), 12);
        assert_eq!(store.pool().len(), 17);
        assert!(store.freed().is_empty());
    }

    #[test]
    fn a_free_segment_naming_a_page_already_free_or_in_use_is_corruption() {
        let page_size = 512;
        let mut map = vec![0u8; page_size * 12];
        free_segment::write(&mut map[5 * page_size..6 * page_size], 5, &[3, 9]);
        header::seal(&mut map[5 * page_size..6 * page_size]);
        let reusable = Reusable {
            pages: vec![3],
            segments: vec![5],
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, 4, 12, 1 << 20, reusable);
        assert_eq!(store.allocate(&map, 1).unwrap(), 3);
        assert!(matches!(
            store.allocate(&map, 1),
            Err(Error::Corrupted { .. })
        ));
        let reusable = Reusable {
            pages: vec![3, 4],
            segments: vec![5],
            run_segments: vec![],
        };
        let mut store = PageStore::new(page_size, 4, 12, 1 << 20, reusable);
        assert!(matches!(
            store.allocate(&map, 3),
            Err(Error::Corrupted { .. })
        ));
    }

    #[test]
    fn consecutive_pages_are_separate_pages_from_a_pool_run_or_the_file_end() {
        let pool = Reusable {
            pages: vec![3, 5, 6, 7, 9],
            segments: vec![],
            run_segments: vec![],
        };
        let mut store = PageStore::new(512, 4, 12, 1 << 20, pool);
        assert_eq!(store.allocate_consecutive(&[], 3).unwrap(), 5);
        assert_eq!(store.pool(), &[3, 9]);
        assert_eq!(store.allocate_consecutive(&[], 2).unwrap(), 12);
        assert_eq!(store.page_count(), 14);
        for id in [5, 6, 7, 12, 13] {
            assert_eq!(store.read(&[], id, 1).unwrap().len(), 512, "page {id}");
        }
        // Each is its own page: freeing one leaves the others.
        store.free(6, 1);
        assert_eq!(store.pool(), &[3, 6, 9]);
        assert!(store.read(&[], 7, 1).is_ok());
    }

    #[test]
    fn allocation_past_the_map_is_map_full() {
        let mut store = PageStore::new(512, 1, 2, 512 * 4, Reusable::default());
        store.allocate(&[], 2).unwrap();
        assert!(matches!(store.allocate(&[], 1), Err(Error::MapFull { .. })));
    }

    #[test]
    fn out_of_range_reads_are_corruption() {
        let map = vec![0u8; 512 * 4];
        assert!(read_committed(&map, 512, 4, 4, 1).is_err());
        assert!(read_committed(&map, 512, 4, 1, 1).is_err());
        assert!(read_committed(&map, 512, 4, 3, 2).is_err());
        assert!(read_committed(&map, 512, 4, u64::MAX, 2).is_err());
        assert!(read_committed(&map, 512, 4, 3, 1).is_ok());
    }
}
