//! The lock file beside the data file: memory shared by every process that has the
//! environment open (the reader table, laid out by `readers.rs`), and the file locks that
//! order those processes.
//!
//! Two one-byte ranges of the file carry open-file-description locks (`F_OFD_SETLK`), which
//! belong to this open file and vanish when the process dies, however it dies:
//!
//! - byte 0, the *open lock*: every process holds it shared while the environment is open. The
//!   first opener finds it free and takes it exclusive, so it alone (re)initialises the shared
//!   memory and creates the data file, then downgrades to shared (atomically, which `flock`
//!   cannot do). Left-over memory of processes that all died is therefore always reset.
//! - byte 1, the *writer lock*: held exclusive by the process whose write transaction is live.
//!
//! Linux only (open-file-description locks, `/proc`).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

use memmap2::{MmapOptions, MmapRaw};

use crate::sync::AtomicU64;

const OPEN_LOCK_BYTE: libc::off_t = 0;
const WRITER_LOCK_BYTE: libc::off_t = 1;

/// How this process came to hold the open lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// No other process has the environment open: the open lock is held exclusive, and the
    /// caller must initialise the shared memory, then call [`LockFile::share`].
    First,
    /// Other processes have it open: the open lock is held shared.
    Joined,
}

/// An open lock file, its open lock held.
pub(crate) struct LockFile {
    file: File,
    memory: Option<MmapRaw>,
}

#[derive(Clone, Copy)]
enum Kind {
    Shared,
    Exclusive,
    Unlock,
}

/// Takes, changes or releases the lock on one byte; `Ok(false)` if `wait` is false and
/// another open file holds a conflicting lock.
fn lock_byte(file: &File, byte: libc::off_t, kind: Kind, wait: bool) -> io::Result<bool> {
    let l_type = match kind {
        Kind::Shared => libc::F_RDLCK,
        Kind::Exclusive => libc::F_WRLCK,
        Kind::Unlock => libc::F_UNLCK,
    };
    let request = libc::flock {
        l_type: l_type as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: byte,
        l_len: 1,
        l_pid: 0, // required for open-file-description locks
    };
    let command = if wait {
        libc::F_OFD_SETLKW
    } else {
        libc::F_OFD_SETLK
    };
    loop {
        // SAFETY: `request` is a valid, initialised `struct flock` that outlives the call, and
        // the descriptor is open for as long as `file` lives. fcntl does not retain the pointer.
        let result = unsafe { libc::fcntl(file.as_raw_fd(), command, &request) };
        if result == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN | libc::EACCES) if !wait => return Ok(false),
            _ => return Err(error),
        }
    }
}

impl LockFile {
    /// Opens (creating if `create`) the lock file and takes the open lock: exclusive if no
    /// other process holds it, else shared (waiting while a first opener initialises).
    pub(crate) fn open(path: &Path, create: bool) -> io::Result<(LockFile, Role)> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)?;
        let role = if lock_byte(&file, OPEN_LOCK_BYTE, Kind::Exclusive, false)? {
            Role::First
        } else {
            lock_byte(&file, OPEN_LOCK_BYTE, Kind::Shared, true)?;
            Role::Joined
        };
        Ok((LockFile { file, memory: None }, role))
    }

    /// Maps the file as shared memory: `len` bytes, writing the file's first `len` bytes as
    /// zeros (and cutting it there) first when `resize` (the first opener), else the file's
    /// current length.
    ///
    /// The zeros are written, not made by `set_len`: a file grown by `set_len` is sparse, and
    /// the first store through a map into a sparse block must allocate it, which on a full
    /// file system raises SIGBUS instead of returning an error. Writing every block first
    /// turns a full disk into `ENOSPC` here (docs/design.md, invariant 15).
    pub(crate) fn map(&mut self, len: usize, resize: bool) -> io::Result<()> {
        let len = if resize {
            self.file.write_all_at(&vec![0u8; len], 0)?;
            self.file.set_len(len as u64)?;
            len
        } else {
            self.file.metadata()?.len() as usize
        };
        if len == 0 {
            self.memory = None;
            return Ok(());
        }
        self.memory = Some(MmapOptions::new().len(len).map_raw(&self.file)?);
        Ok(())
    }

    /// The shared memory as 64-bit atomics (empty before [`Self::map`]).
    #[cfg(not(loom))]
    pub(crate) fn words(&self) -> &[AtomicU64] {
        let Some(memory) = &self.memory else {
            return &[];
        };
        // SAFETY: the mapping is page-aligned (so aligned for u64), `len / 8` words long, and
        // lives as long as `self`, which the returned slice borrows. `AtomicU64` has the size
        // and alignment of `u64` and every bit pattern is valid. The memory is shared with
        // other processes, which is sound because every process (arbordb's code, by the
        // contract of `EnvOpenOptions::open`) accesses it only through these atomics.
        unsafe { std::slice::from_raw_parts(memory.as_ptr().cast::<AtomicU64>(), memory.len() / 8) }
    }

    /// Under loom the reader table lives in process memory; the lock file is never mapped.
    #[cfg(loom)]
    pub(crate) fn words(&self) -> &[AtomicU64] {
        unreachable!("the shared lock file is not modelled under loom")
    }

    /// Downgrades the open lock from exclusive to shared (atomically) once initialised.
    pub(crate) fn share(&self) -> io::Result<()> {
        lock_byte(&self.file, OPEN_LOCK_BYTE, Kind::Shared, true).map(drop)
    }

    /// Takes the writer lock, waiting if `wait`; `Ok(false)` when another process holds it and
    /// `wait` is false.
    pub(crate) fn lock_writer(&self, wait: bool) -> io::Result<bool> {
        lock_byte(&self.file, WRITER_LOCK_BYTE, Kind::Exclusive, wait)
    }

    /// Releases the writer lock.
    pub(crate) fn unlock_writer(&self) -> io::Result<()> {
        lock_byte(&self.file, WRITER_LOCK_BYTE, Kind::Unlock, false).map(drop)
    }
}
