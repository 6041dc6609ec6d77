//! The writer lock: at most one write transaction per environment at a time, across threads
//! and processes.
//!
//! Within the process, a flag and a condition variable (a plain mutex guard could not be held
//! by a transaction object that outlives the borrow of the mutex). Across processes, the writer
//! byte of the lock file, taken once the in-process lock is held, so a process has at most one
//! thread waiting on the file lock. [`WriterGuard`] releases both when dropped; a process that
//! dies releases its file lock with it.

use std::io;

use parking_lot::{Condvar, Mutex};

use crate::os::LockFile;

/// The in-process writer lock.
#[derive(Default)]
pub(crate) struct WriterLock {
    busy: Mutex<bool>,
    released: Condvar,
}

/// Proof of holding the writer lock; releases it when dropped.
pub(crate) struct WriterGuard<'l> {
    lock: &'l WriterLock,
    file: Option<&'l LockFile>,
}

impl WriterLock {
    /// Takes the lock, then `file`'s writer lock if the environment is shared; waits for each
    /// while another writer holds it, or returns `Ok(None)` at once when `wait` is false.
    pub(crate) fn acquire<'l>(
        &'l self,
        file: Option<&'l LockFile>,
        wait: bool,
    ) -> io::Result<Option<WriterGuard<'l>>> {
        {
            let mut busy = self.busy.lock();
            while *busy {
                if !wait {
                    return Ok(None);
                }
                self.released.wait(&mut busy);
            }
            *busy = true;
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
        *self.lock.busy.lock() = false;
        self.lock.released.notify_one();
    }
}
