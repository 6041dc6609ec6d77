//! Layer 4, `txn`: read and write transactions and the catalog of named databases.
//!
//! A [`RoTxn`] is a snapshot: a copy of one commit's meta, a reader slot that keeps its pages
//! from reuse, and the map. A [`RwTxn`] is a `RoTxn` plus the write state (the page store and
//! the freelist) and the writer lock; it derefs to `RoTxn`, so every read works on both.

mod catalog;
mod commit;
mod nested;
mod read;
mod write;

pub use read::RoTxn;
pub use write::RwTxn;
