//! Nested write transactions: a child sees its parent's changes; its commit hands its state
//! to the parent, its abort leaves the parent as it was.
//!
//! The child starts from a copy of the parent's write state (dirty pages included) and works
//! on that copy; the parent is mutably borrowed meanwhile, so nothing else can change it.
//! Commit moves the child's state into the parent; abort or drop just discards the copy. The
//! copy costs memory proportional to the parent's dirty pages.

use super::read::{RoTxn, TreeSlot};
use super::snapshot::Snapshot;
use super::write::{RwTxn, WriteState};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::page::meta::Meta;
use crate::store::freelist::FreeList;
use crate::store::page_store::PageStore;

/// A write transaction's state without its lock: what a child copies and hands back.
pub(crate) struct WriteParts {
    meta: Meta,
    trees: Vec<Option<TreeSlot>>,
    store: PageStore,
    pending: FreeList,
    old_chain: Vec<u64>,
    failed: bool,
}

/// A transaction a nested one can fold into.
pub(crate) trait NestedParent {
    /// A copy of the current write state, for a child to start from.
    fn copy_parts(&self) -> Result<WriteParts>;
    /// Replaces the write state with a committed child's.
    fn adopt(&mut self, parts: WriteParts);
}

impl NestedParent for RwTxn<'_> {
    fn copy_parts(&self) -> Result<WriteParts> {
        let state = self
            .txn
            .write
            .as_ref()
            .expect("a write transaction has write state");
        if state.failed {
            return Err(Error::TxnFailed);
        }
        Ok(WriteParts {
            meta: *self.txn.meta(),
            trees: self.txn.trees.borrow().clone(),
            store: state.store.clone(),
            pending: state.pending.clone(),
            old_chain: state.old_chain.clone(),
            failed: false,
        })
    }

    fn adopt(&mut self, parts: WriteParts) {
        *self.txn.meta_mut() = parts.meta;
        let state = self
            .txn
            .write
            .as_mut()
            .expect("a write transaction has write state");
        *self.txn.trees.get_mut() = parts.trees;
        state.store = parts.store;
        state.pending = parts.pending;
        state.old_chain = parts.old_chain;
        state.failed = parts.failed;
    }
}

impl Env {
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
        if parent.env_id() != self.inner.id {
            return Err(Error::DatabaseFromAnotherEnv);
        }
        let parts = parent.copy_parts()?;
        let state = WriteState {
            store: parts.store,
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
        let mut txn = RoTxn::for_writer(parent.txn.env, snapshot, state);
        *txn.trees.get_mut() = parts.trees;
        Ok(RwTxn {
            txn,
            parent: Some(parent),
        })
    }
}

impl RwTxn<'_> {
    /// Hands this nested transaction's state to its parent.
    pub(crate) fn commit_into_parent(mut self) -> Result<()> {
        let state = self
            .txn
            .write
            .take()
            .expect("a write transaction has write state");
        if state.failed {
            return Err(Error::TxnFailed);
        }
        let parts = WriteParts {
            meta: *self.txn.meta(),
            trees: std::mem::take(self.txn.trees.get_mut()),
            store: state.store,
            pending: state.pending,
            old_chain: state.old_chain,
            failed: false,
        };
        self.parent
            .take()
            .expect("a nested transaction has a parent")
            .adopt(parts);
        Ok(())
    }
}
