//! The atomics of the reader-table protocol and of the map pins (`os/maps.rs`), swapped for
//! loom's under `cfg(loom)` so that the protocols can be model-checked (tests in
//! `readers.rs`, run by `.ci/run`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
