//! Writing pages to the file in page order: consecutive pages go together in one call of at
//! most [`WRITE_BYTES_MAX`], and a large write starts the disk on what it has written every
//! [`WRITEBACK_BATCH_BYTES`]. Used by commit for every dirty page, and by a transaction that
//! spills pages before commit to bound its memory.

use super::id::PageId;
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
/// A large write starts the disk writing its pages each time this many more are written
/// (a smaller one, such as a one-insert commit's, leaves it all to the sync that follows).
pub(crate) const WRITEBACK_BATCH_BYTES: usize = 256 << 10;

/// Pages handed over in ascending page order, written in runs of consecutive pages.
pub(crate) struct OrderedWriter<'a> {
    io: &'a dyn PageIo,
    page_size: u64,
    start_writeback: bool,
    /// The run being gathered: pages `run_start..run_end`, `run_bytes` in all.
    run: Vec<&'a [u8]>,
    run_start: PageId,
    run_end: PageId,
    run_bytes: usize,
    /// Pages written since writeback was last started: from page `unsent_start` on.
    unsent_start: Option<PageId>,
    unsent_bytes: usize,
}

impl<'a> OrderedWriter<'a> {
    /// A writer of `page_size` pages through `io`, which starts writeback as it goes when
    /// `start_writeback` (the pages are to be synced soon).
    pub(crate) fn new(io: &'a dyn PageIo, page_size: usize, start_writeback: bool) -> Self {
        OrderedWriter {
            io,
            page_size: page_size as u64,
            start_writeback,
            run: Vec::new(),
            run_start: 0,
            run_end: 0,
            run_bytes: 0,
            unsent_start: None,
            unsent_bytes: 0,
        }
    }

    /// Writes `buffer` (one page or a run of them) at page `first`, which is above every page
    /// handed over before.
    pub(crate) fn add(&mut self, first: PageId, buffer: &'a [u8]) -> std::io::Result<()> {
        debug_assert!(
            self.run.is_empty() || first >= self.run_end,
            "pages out of order"
        );
        for (index, page) in buffer.chunks(self.page_size as usize).enumerate() {
            let id = first + index as u64;
            if !self.run.is_empty() && (id != self.run_end || self.run_bytes >= WRITE_BYTES_MAX) {
                self.write_run()?;
            }
            if self.run.is_empty() {
                self.run_start = id;
            }
            self.run.push(page);
            self.run_bytes += page.len();
            self.run_end = id + 1;
        }
        Ok(())
    }

    /// Writes what is still gathered.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        if !self.run.is_empty() {
            self.io
                .write_pages_at(self.run_start * self.page_size, &self.run)?;
        }
        Ok(())
    }

    fn write_run(&mut self) -> std::io::Result<()> {
        self.io
            .write_pages_at(self.run_start * self.page_size, &self.run)?;
        let first_unsent = *self.unsent_start.get_or_insert(self.run_start);
        self.unsent_bytes += self.run_bytes;
        self.run.clear();
        self.run_bytes = 0;
        if self.start_writeback && self.unsent_bytes >= WRITEBACK_BATCH_BYTES {
            let span = (self.run_end - first_unsent) * self.page_size;
            self.io
                .start_writeback(first_unsent * self.page_size, span)?;
            (self.unsent_start, self.unsent_bytes) = (None, 0);
        }
        Ok(())
    }
}
