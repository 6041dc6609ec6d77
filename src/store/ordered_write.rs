//! Writing pages to the file in page order: consecutive pages go together in one call of at
//! most [`WRITE_BYTES_MAX`], and a large write starts the disk on what it has written every
//! [`WRITEBACK_BATCH_BYTES`]. Used by commit for every dirty page, and by a transaction that
//! spills pages before commit to bound its memory.

use crate::os::PageIo;
use crate::page::id::PageId;

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
    page_size: usize,
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
            page_size,
            start_writeback,
            run: Vec::new(),
            run_start: PageId::NONE,
            run_end: PageId::NONE,
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
        for (index, page) in buffer.chunks(self.page_size).enumerate() {
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
                .write_pages_at(self.run_start.byte_offset(self.page_size), &self.run)?;
        }
        Ok(())
    }

    fn write_run(&mut self) -> std::io::Result<()> {
        self.io
            .write_pages_at(self.run_start.byte_offset(self.page_size), &self.run)?;
        let first_unsent = *self.unsent_start.get_or_insert(self.run_start);
        self.unsent_bytes += self.run_bytes;
        self.run.clear();
        self.run_bytes = 0;
        if self.start_writeback && self.unsent_bytes >= WRITEBACK_BATCH_BYTES {
            let span = self.run_end.pages_since(first_unsent) * self.page_size as u64;
            self.io
                .start_writeback(first_unsent.byte_offset(self.page_size), span)?;
            (self.unsent_start, self.unsent_bytes) = (None, 0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// One call the writer made: pages written (their first bytes, which the tests set to the
    /// page number) at an offset, or a writeback started.
    #[derive(Debug, PartialEq, Eq)]
    enum Call {
        Write { offset: u64, pages: Vec<u8> },
        Writeback { offset: u64, len: u64 },
    }

    #[derive(Default)]
    struct RecordingIo {
        calls: Mutex<Vec<Call>>,
    }

    impl PageIo for RecordingIo {
        fn write_at(&self, _: u64, _: &[u8]) -> std::io::Result<()> {
            unreachable!("pages are written with write_pages_at")
        }
        fn write_pages_at(&self, offset: u64, pages: &[&[u8]]) -> std::io::Result<()> {
            let pages = pages.iter().map(|page| page[0]).collect();
            self.calls
                .lock()
                .unwrap()
                .push(Call::Write { offset, pages });
            Ok(())
        }
        fn start_writeback(&self, offset: u64, len: u64) -> std::io::Result<()> {
            self.calls
                .lock()
                .unwrap()
                .push(Call::Writeback { offset, len });
            Ok(())
        }
        fn write_durably(&self, _: u64, _: &[u8]) -> std::io::Result<()> {
            unreachable!()
        }
        fn sync_data(&self) -> std::io::Result<()> {
            unreachable!()
        }
        fn sync_all(&self) -> std::io::Result<()> {
            unreachable!()
        }
        fn set_len(&self, _: u64) -> std::io::Result<()> {
            unreachable!()
        }
        fn file_len(&self) -> std::io::Result<u64> {
            unreachable!()
        }
    }

    const PAGE: usize = 4096;

    /// `count` pages starting at page `first`, each page's first byte its number.
    fn pages(first: u64, count: usize) -> Vec<u8> {
        let mut bytes = vec![0; count * PAGE];
        for (index, page) in bytes.chunks_mut(PAGE).enumerate() {
            page[0] = (first as usize + index) as u8;
        }
        bytes
    }

    fn write(start_writeback: bool, buffers: &[(u64, Vec<u8>)]) -> Vec<Call> {
        let io = RecordingIo::default();
        let mut writer = OrderedWriter::new(&io, PAGE, start_writeback);
        for (first, buffer) in buffers {
            writer.add(PageId::new(*first), buffer).unwrap();
        }
        writer.finish().unwrap();
        io.calls.into_inner().unwrap()
    }

    fn written(first: u64, count: usize) -> Call {
        Call::Write {
            offset: first * PAGE as u64,
            pages: (first..first + count as u64).map(|id| id as u8).collect(),
        }
    }

    #[test]
    fn consecutive_pages_go_together_in_calls_of_at_most_the_limit() {
        // Read at run time: a limit below one page then fails here rather than the build.
        let per_call = std::hint::black_box(WRITE_BYTES_MAX) / PAGE;
        // 40 consecutive pages from page 3, handed over singly and as runs.
        let buffers = vec![
            (3, pages(3, 1)),
            (4, pages(4, 5)),
            (9, pages(9, 1)),
            (10, pages(10, 33)),
        ];
        assert_eq!(
            write(false, &buffers),
            vec![
                written(3, per_call),
                written(3 + per_call as u64, per_call),
                written(3 + 2 * per_call as u64, 40 - 2 * per_call),
            ]
        );
    }

    #[test]
    fn a_gap_between_pages_starts_a_new_call() {
        let buffers = vec![
            (2, pages(2, 2)),
            (5, pages(5, 1)),
            (6, pages(6, 2)),
            (9, pages(9, 1)),
        ];
        assert_eq!(
            write(true, &buffers),
            vec![written(2, 2), written(5, 3), written(9, 1)]
        );
    }

    #[test]
    fn writeback_starts_for_each_batch_written_and_only_when_asked() {
        let per_call = std::hint::black_box(WRITE_BYTES_MAX) / PAGE;
        let per_batch = WRITEBACK_BATCH_BYTES / PAGE;
        assert_eq!(per_batch % per_call, 0);
        // Two batches and a call more, then a tail that `finish` writes.
        let count = 2 * per_batch + per_call + 6;
        let first = 7;
        let calls = write(true, &[(first, pages(first, count))]);
        let mut expected = Vec::new();
        let mut page = first;
        for batch in 0..2 {
            for _ in 0..per_batch / per_call {
                expected.push(written(page, per_call));
                page += per_call as u64;
            }
            expected.push(Call::Writeback {
                offset: (first + (batch * per_batch) as u64) * PAGE as u64,
                len: WRITEBACK_BATCH_BYTES as u64,
            });
        }
        expected.push(written(page, per_call));
        expected.push(written(page + per_call as u64, 6));
        assert_eq!(calls, expected);

        let unsynced = write(false, &[(first, pages(first, count))]);
        assert!(unsynced
            .iter()
            .all(|call| matches!(call, Call::Write { .. })));
        assert_eq!(unsynced.len(), count.div_ceil(per_call));
    }
}
