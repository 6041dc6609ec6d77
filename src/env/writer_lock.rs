//! The writer lock: at most one write transaction per environment at a time.
//!
//! A plain mutex guard cannot be held by a transaction object that outlives the borrow of the
//! mutex, so the lock is a flag and a condition variable; [`WriterGuard`] clears the flag on
//! drop. Across processes, a later issue adds a file lock taken under this one.

use parking_lot::{Condvar, Mutex};

/// The in-process writer lock.
#[derive(Default)]
pub(crate) struct WriterLock {
    busy: Mutex<bool>,
    released: Condvar,
}

/// Proof of holding the writer lock; releases it when dropped.
pub(crate) struct WriterGuard<'l> {
    lock: &'l WriterLock,
}

impl WriterLock {
    /// Waits until no other writer holds the lock, then takes it.
    pub(crate) fn acquire(&self) -> WriterGuard<'_> {
        let mut busy = self.busy.lock();
        while *busy {
            self.released.wait(&mut busy);
        }
        *busy = true;
        WriterGuard { lock: self }
    }

    /// Takes the lock if it is free.
    pub(crate) fn try_acquire(&self) -> Option<WriterGuard<'_>> {
        let mut busy = self.busy.lock();
        if *busy {
            return None;
        }
        *busy = true;
        Some(WriterGuard { lock: self })
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        *self.lock.busy.lock() = false;
        self.lock.released.notify_one();
    }
}
