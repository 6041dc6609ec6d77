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
    /// # Safety
    /// The reference, and every reference derived from it, must be stored only in the value
    /// that holds the returned anchor, in fields dropped before it, and never handed out for
    /// longer than a borrow of that value. The one caller, `RoTxn::begin_owning`
    /// (`src/txn/read.rs`), keeps this.
    pub(crate) unsafe fn new(arc: Arc<T>) -> (Anchor<T>, &'static T) {
        let contents: *const T = Arc::as_ptr(&arc);
        // SAFETY: `contents` points into the `Arc`'s allocation, which is not freed while a
        // strong count remains; the anchor is one, so the allocation outlives the anchor, and
        // by this function's contract the reference is used only while the anchor lives. `T`
        // is only read through it (shared), as through the `Arc` itself.
        let contents = unsafe { &*contents };
        (Anchor(arc), contents)
    }
}
