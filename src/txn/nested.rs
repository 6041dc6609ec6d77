//! Nested write transactions: a child sees its parent's changes; its commit hands its state
//! to the parent, its abort leaves the parent as it was.
//!
//! The child starts from a copy of the parent's write state (dirty pages included) and works
//! on that copy; the parent is mutably borrowed meanwhile, so nothing else can change it.
//! Commit moves the child's state into the parent; abort or drop just discards the copy. The
//! copy costs memory proportional to the parent's dirty pages.
//!
//! A read transaction nested in a write transaction reads the writer's state as it is, through
//! a shared borrow of it: the writer's page store is lent, not copied, so any number of them
//! cost a copy of the meta and the tree table each, and they may be sent to other threads.
//! The writer cannot change while they live.

use super::read::RoTxn;
use super::snapshot::Snapshot;
use super::tls::WithoutTls;
use super::write::{own_store, take_own_store, RwTxn, WriteParts, WriteState};
use crate::env::Env;
use crate::error::{Error, MdbError, Result};

impl RwTxn<'_> {
    /// A copy of the current write state, for a nested child to start from.
    fn copy_parts(&mut self) -> Result<WriteParts> {
        if self.state.failed {
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        let meta = *self.txn.meta();
        let trees = self.txn.trees.borrow().clone();
        Ok(WriteParts {
            meta,
            trees,
            store: own_store(&mut self.txn.store).clone(),
            pending: self.state.pending.clone(),
            old_chain: self.state.old_chain.clone(),
            failed: false,
        })
    }
}

impl<T> Env<T> {
    /// Begins a write transaction nested in `parent`. It sees the parent's changes; committing
    /// it folds its changes into the parent (which still has to commit); aborting or dropping
    /// it discards only its own. The parent cannot be used while the child lives.
    ///
    /// ```
    /// # use arbordb::types::Str;
    /// # fn main() -> Result<(), arbordb::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
    /// let mut parent = env.write_txn()?;
    /// let db = env.create_database::<Str, Str>(&mut parent, None)?;
    /// db.put(&mut parent, "kept", "1")?;
    /// {
    ///     let mut child = env.nested_write_txn(&mut parent)?;
    ///     db.put(&mut child, "discarded", "2")?;
    ///     child.abort();
    /// }
    /// let mut child = env.nested_write_txn(&mut parent)?;
    /// db.put(&mut child, "folded", "3")?;
    /// child.commit()?;
    /// assert_eq!(db.get(&parent, "discarded")?, None);
    /// assert_eq!(db.get(&parent, "folded")?, Some("3"));
    /// parent.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn nested_write_txn<'p>(&'p self, parent: &'p mut RwTxn<'_>) -> Result<RwTxn<'p>> {
        if parent.env_id() != self.inner.id() {
            return Err(Error::Mdb(MdbError::DatabaseFromAnotherEnv));
        }
        let parts = parent.copy_parts()?;
        let state = WriteState {
            pending: parts.pending,
            old_chain: parts.old_chain,
            failed: false,
            _guard: None,
        };
        let snapshot = Snapshot {
            meta: parts.meta,
            map: parent.txn.snapshot().map,
            freelist: parent.txn.snapshot().freelist.clone(),
        };
        let env = parent.txn.env;
        let mut txn = RoTxn::for_writer(env, snapshot, parts.store, false);
        *txn.trees.get_mut() = parts.trees;
        Ok(RwTxn {
            txn,
            state,
            parent: Some(parent.link()),
        })
    }
}

impl<T> Env<T> {
    /// Begins a read transaction that sees `parent`'s uncommitted changes, as heed's does.
    /// See [`RwTxn::nested_read_txn`].
    pub fn nested_read_txn<'p>(&'p self, parent: &'p RwTxn<'_>) -> Result<RoTxn<'p, WithoutTls>> {
        if parent.env_id() != self.inner.id() {
            return Err(Error::Mdb(MdbError::DatabaseFromAnotherEnv));
        }
        parent.nested_read_txn()
    }
}

impl RwTxn<'_> {
    /// Begins a read transaction that sees this write transaction's state as it is now, its
    /// uncommitted changes included, as heed's `nested_read_txn` does. It takes no reader
    /// slot, so any number may be open; each is `Send`, so they may read from several threads
    /// at once. This transaction cannot write while any of them lives (they borrow it).
    ///
    /// ```
    /// # use arbordb::types::{Str, U32};
    /// # use arbordb::byteorder::BigEndian;
    /// # fn main() -> Result<(), arbordb::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
    /// let mut wtxn = env.write_txn()?;
    /// let db = env.create_database::<U32<BigEndian>, Str>(&mut wtxn, None)?;
    /// db.put(&mut wtxn, &1, "uncommitted")?;
    /// let readers = (0..4).map(|_| wtxn.nested_read_txn()).collect::<Result<Vec<_>, _>>()?;
    /// std::thread::scope(|scope| {
    ///     for rtxn in readers {
    ///         scope.spawn(move || assert_eq!(db.get(&rtxn, &1).unwrap(), Some("uncommitted")));
    ///     }
    /// });
    /// wtxn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn nested_read_txn(&self) -> Result<RoTxn<'_, WithoutTls>> {
        if self.state.failed {
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        Ok(RoTxn::nested_in(&self.txn).into_tagged())
    }

    /// Hands this nested transaction's state to its parent.
    pub(crate) fn commit_into_parent(mut self) -> Result<()> {
        if self.state.failed {
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        let parts = WriteParts {
            meta: *self.txn.meta(),
            trees: std::mem::take(self.txn.trees.get_mut()),
            store: take_own_store(&mut self.txn.store),
            pending: std::mem::take(&mut self.state.pending),
            old_chain: std::mem::take(&mut self.state.old_chain),
            failed: false,
        };
        self.parent
            .take()
            .expect("a nested transaction has a parent")
            .adopt(parts);
        Ok(())
    }
}
