//! The data file's write side: the [`PageIo`] trait and its real implementation.
//!
//! Reads go through the memory map ([`super::Map`]); every write, sync and resize of the data
//! file goes through [`PageIo`]. Keeping the trait this narrow is what lets the crash
//! simulation replace it without touching the B-tree.

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The operations the page store performs on the data file, and nothing else.
///
/// Public only with the `test-support` feature (through `arbordb::testing`), so that tests
/// can put a simulated disk under an environment.
pub trait PageIo: Send + Sync {
    /// Writes all of `bytes` at `offset`.
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Writes `pages`, one after another, starting at `offset`, as if by one `write_at` of
    /// their concatenation (the real file does it in one `pwritev` call, without copying).
    fn write_pages_at(&self, offset: u64, pages: &[&[u8]]) -> io::Result<()> {
        let mut offset = offset;
        for page in pages {
            self.write_at(offset, page)?;
            offset += page.len() as u64;
        }
        Ok(())
    }
    /// Writes all of `bytes` at `offset` and returns once they are on stable storage: one
    /// write through a descriptor opened with `O_DSYNC`, cheaper than a write and an
    /// fdatasync (used for the meta page). Fails like `write_at` followed by `sync_data`.
    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Asks the OS to start writing the `len` bytes at `offset` to the disk now, without
    /// waiting for them (a hint, so that the disk works while the rest of a large commit is
    /// still being written; durability still comes only from [`PageIo::sync_data`]). Does
    /// nothing by default and where the OS has no such call.
    fn start_writeback(&self, offset: u64, len: u64) -> io::Result<()> {
        let _ = (offset, len);
        Ok(())
    }
    /// Flushes written data to stable storage (fdatasync).
    fn sync_data(&self) -> io::Result<()>;
    /// Flushes written data and metadata such as the file length (fsync).
    fn sync_all(&self) -> io::Result<()>;
    /// Sets the file's length (used to grow it, and to empty a file whose creation was cut
    /// short before it is created again).
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The file's current length in bytes.
    fn file_len(&self) -> io::Result<u64>;
    /// Makes the file's entry in `directory` durable (an fsync of the directory): a new file
    /// can vanish in a power loss until then. Used once, when the file is created.
    fn sync_directory(&self, directory: &Path) -> io::Result<()> {
        File::open(directory)?.sync_all()
    }
}

/// A function that wraps the data file in a [`PageIo`] (tests use it to simulate a disk).
pub type PageIoFactory = std::sync::Arc<dyn Fn(File) -> io::Result<Box<dyn PageIo>> + Send + Sync>;

/// [`PageIo`] on a real file. Its errors name the file and what was being done
/// ([`super::at_path`]).
pub(crate) struct OsFile {
    file: File,
    /// The same file opened with `O_DSYNC`, for [`PageIo::write_durably`]; `None` falls back to
    /// a write and an fdatasync.
    synchronous: Option<File>,
    path: PathBuf,
}

impl OsFile {
    /// Wraps `file`, found at `path`; when `writable`, `path` is opened a second time with
    /// `O_DSYNC` for durable meta writes.
    pub(crate) fn new(file: File, path: &Path, writable: bool) -> io::Result<OsFile> {
        let synchronous = if writable {
            use std::os::unix::fs::OpenOptionsExt;
            Some(
                std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_DSYNC)
                    .open(path)?,
            )
        } else {
            None
        };
        Ok(OsFile {
            file,
            synchronous,
            path: path.to_path_buf(),
        })
    }

    /// `result` with the file's path and `doing` in its error.
    fn named<T>(&self, doing: &'static str, result: io::Result<T>) -> io::Result<T> {
        result.map_err(|error| super::at_path(&self.path, doing, error))
    }
}

impl PageIo for OsFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.named("cannot write to", self.file.write_all_at(bytes, offset))
    }

    fn write_pages_at(&self, offset: u64, pages: &[&[u8]]) -> io::Result<()> {
        self.named("cannot write to", self.write_pages_unnamed(offset, pages))
    }

    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let result = match &self.synchronous {
            Some(synchronous) => synchronous.write_all_at(bytes, offset),
            None => self
                .file
                .write_all_at(bytes, offset)
                .and_then(|()| self.file.sync_data()),
        };
        self.named("cannot write durably to", result)
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&self, offset: u64, len: u64) -> io::Result<()> {
        self.named(
            "cannot start writing back",
            sync_file_range_write(&self.file, offset, len),
        )
    }

    fn sync_data(&self) -> io::Result<()> {
        self.named("cannot sync", self.file.sync_data())
    }

    fn sync_all(&self) -> io::Result<()> {
        self.named("cannot sync", self.file.sync_all())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.named("cannot resize", self.file.set_len(len))
    }

    fn file_len(&self) -> io::Result<u64> {
        self.named("cannot read the length of", self.file.metadata())
            .map(|metadata| metadata.len())
    }
}

impl OsFile {
    /// [`PageIo::write_pages_at`] with the OS's own error.
    fn write_pages_unnamed(&self, offset: u64, pages: &[&[u8]]) -> io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = pages.iter().map(|page| IoSlice::new(page)).collect();
        let mut slices = &mut slices[..];
        let mut offset = offset;
        while !slices.is_empty() {
            match pwritev(&self.file, offset, slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    offset += written as u64;
                    IoSlice::advance_slices(&mut slices, written);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

/// `sync_file_range(2)` with `SYNC_FILE_RANGE_WRITE`: starts writeback of the dirty pages in
/// the range and returns without waiting for it. It neither makes anything durable nor
/// consumes a writeback error (only the fdatasync that follows reports and clears those).
#[cfg(target_os = "linux")]
fn sync_file_range_write(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (
        libc::off64_t::try_from(offset),
        libc::off64_t::try_from(len),
    ) else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    // SAFETY: `file` is an open descriptor for the whole call; the call reads no memory of ours.
    let result = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Most buffers one `pwritev` call takes (Linux's `IOV_MAX`); the rest go in the next call.
const IOV_MAX: usize = 1024;

/// One `pwritev(2)` of `slices` at `offset`: how many bytes it wrote, which may be fewer than
/// asked.
fn pwritev(file: &File, offset: u64, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let count = slices.len().min(IOV_MAX);
    let offset = libc::off_t::try_from(offset)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset past off_t"))?;
    // SAFETY: `IoSlice` is guaranteed ABI-compatible with `struct iovec` on Unix, and `count`
    // of them are initialised and borrowed for the call; each points at `len` readable bytes
    // it borrows. The descriptor belongs to `file`, borrowed for the call. pwritev only reads
    // the buffers and keeps no pointer after it returns.
    let written = unsafe {
        libc::pwritev(
            file.as_raw_fd(),
            slices.as_ptr().cast::<libc::iovec>(),
            count as libc::c_int,
            offset,
        )
    };
    if written < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(written as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_pages_at_writes_the_concatenation_even_past_iov_max_buffers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        let file = File::create(&path).unwrap();
        let io = OsFile::new(file, &path, true).unwrap();
        // More buffers than one pwritev takes, of uneven sizes, at an offset.
        let buffers: Vec<Vec<u8>> = (0..IOV_MAX + 300)
            .map(|index| vec![(index % 251) as u8; 1 + index % 7])
            .collect();
        let slices: Vec<&[u8]> = buffers.iter().map(Vec::as_slice).collect();
        io.write_pages_at(100, &slices).unwrap();
        let written = std::fs::read(&path).unwrap();
        let expected: Vec<u8> = std::iter::repeat_n(0u8, 100)
            .chain(buffers.concat())
            .collect();
        assert_eq!(written, expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn start_writeback_accepts_written_ranges_and_rejects_impossible_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let io = OsFile::new(file, &path, true).unwrap();
        io.write_at(0, &[7u8; 8192]).unwrap();
        io.start_writeback(0, 8192).unwrap();
        io.sync_data().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 8192]);
        let error = io.start_writeback(u64::MAX - 10, 4096).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
