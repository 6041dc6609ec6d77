//! Layer 5, `txn`: read and write transactions and the catalog of named databases.
//!
//! A [`RoTxn`] is a snapshot: one commit's meta and a map covering its pages (shared with the
//! environment's cache), and a reader slot that keeps those pages from reuse. A [`RwTxn`] is
//! a `RoTxn` that reads through the transaction's page store, plus the write state (the
//! freelist it carries forward, whether it failed) and the writer lock; it derefs to `RoTxn`,
//! so every read works on both, and a read transaction's code knows nothing of the write
//! state.
//!
//! The files import one way (`tests/layers.rs` checks it): `snapshot` and `tls` (heed's
//! markers on read transactions), then `read`, then `write`, then `nested`, `catalog` and
//! `commit`.

mod catalog;
mod commit;
mod custom_orders;
mod nested;
mod read;
pub(crate) mod shape;
mod snapshot;
mod tls;
mod write;

pub use read::{ReadTxn, RoTxn};
pub(crate) use snapshot::Snapshot;
pub use tls::{AnyTls, TlsUsage, WithTls, WithoutTls};
pub use write::{RwTxn, VALUE_SIZE_MAX};
