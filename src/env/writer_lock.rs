//! The writer lock: at most one write transaction per environment at a time, across threads
//! and processes.
//!
//! Within the process, a flag and a condition variable (a plain mutex guard could not be held
//! by a transaction object that outlives the borrow of the mutex). Across processes, the writer
//! byte of the lock file, taken once the in-process lock is held, so a process has at most one
//! thread waiting on the file lock. [`WriterGuard`] releases both when dropped; a process that
//! dies releases its file lock with it.
//!
//! The lock records the thread that took it. That thread waiting for it again (a second
//! `write_txn`, or `resize`, `check` or `force_sync` while its write transaction is live) would
//! wait for ever, so it gets [`MdbError::WriterBusy`](crate::MdbError::WriterBusy) at once instead.
//! A write transaction sent to another thread still counts as its beginning thread's: that thread
//! gets the error rather than waiting (heed's write transactions cannot move between threads at
//! all).

use std::thread::{self, ThreadId};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, MdbError, Result};
use crate::os::LockFile;

/// The in-process writer lock.
#[derive(Default)]
pub(crate) struct WriterLock {
    /// The thread that holds the lock, if any.
    holder: Mutex<Option<ThreadId>>,
    released: Condvar,
}

/// Proof of holding the writer lock; releases it when dropped.
pub(crate) struct WriterGuard<'l> {
    lock: &'l WriterLock,
    file: Option<&'l LockFile>,
}

impl WriterLock {
    /// Takes the lock, then `file`'s writer lock if the environment is shared; waits for each while
    /// another writer holds it, or returns `Ok(None)` at once when `wait` is false. Returns
    /// [`MdbError::WriterBusy`](crate::MdbError::WriterBusy) when this thread holds the lock
    /// already (waiting could never end).
    pub(crate) fn acquire<'l>(
        &'l self,
        file: Option<&'l LockFile>,
        wait: bool,
    ) -> Result<Option<WriterGuard<'l>>> {
        let me = thread::current().id();
        {
            let mut holder = self.holder.lock();
            while let Some(thread) = *holder {
                if thread == me && wait {
                    return Err(Error::Mdb(MdbError::WriterBusy));
                }
                if !wait {
                    return Ok(None);
                }
                self.released.wait(&mut holder);
            }
            *holder = Some(me);
        }
        // From here the guard releases the in-process lock on every path.
        let mut guard = WriterGuard {
            lock: self,
            file: None,
        };
        if let Some(file) = file {
            if !file.lock_writer(wait)? {
                return Ok(None);
            }
            guard.file = Some(file);
        }
        Ok(Some(guard))
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // Failing to unlock leaves the lock to be released when the file closes.
            let _ = file.unlock_writer();
        }
        *self.lock.holder.lock() = None;
        self.lock.released.notify_one();
    }
}
