//! Layer 5, `txn`: read and write transactions and the catalog of named databases.
//!
//! A [`RoTxn`] is a snapshot: one commit's meta and a map covering its pages (shared with the
//! environment's cache), and a reader slot that keeps those pages from reuse. A [`RwTxn`] is
//! a `RoTxn` plus the write state (the page store and the freelist) and the writer lock; it
//! derefs to `RoTxn`, so every read works on both.

mod catalog;
mod commit;
mod nested;
mod read;
mod snapshot;
mod write;

pub use read::RoTxn;
pub(crate) use snapshot::Snapshot;
pub use write::RwTxn;
