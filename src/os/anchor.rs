//! [`Anchor`]: a strong count of an `Arc`, kept by the value that refers to the `Arc`'s
//! contents for longer than a borrow of the `Arc` can say.
//!
//! heed's `Env::static_read_txn` returns a `RoTxn<'static>`: a transaction that keeps its
//! environment alive by itself. A read transaction refers to its environment (and to the map
//! it reads) by reference, `&'e EnvInner`; for `'e = 'static` the transaction holds an anchor
//! of the environment, and the reference is valid for as long as the anchor is.

use std::sync::Arc;

/// A clone of an `Arc`, held only so that its contents stay allocated.
pub(crate) struct Anchor<T>(#[allow(dead_code)] Arc<T>);

impl<T> Anchor<T> {
    /// Keeps `arc`'s contents alive and lends them as `&'static T`.
    ///
    /// The contract, which the one caller (`ReadTxn`'s `owner`, `src/txn/read.rs`) keeps: the
    /// reference, and every reference derived from it, is stored only in the value that holds
    /// the returned anchor, in fields that are dropped before it, and is never handed out for
    /// longer than a borrow of that value.
    pub(crate) fn new(arc: Arc<T>) -> (Anchor<T>, &'static T) {
        let contents: *const T = Arc::as_ptr(&arc);
        // SAFETY: `contents` points into the `Arc`'s allocation, which is not freed while a
        // strong count remains; the anchor is one, so the allocation outlives the anchor. By
        // the contract above, the reference is used only while the anchor lives. `T` is only
        // read through it (shared), as through the `Arc` itself.
        let contents = unsafe { &*contents };
        (Anchor(arc), contents)
    }
}
