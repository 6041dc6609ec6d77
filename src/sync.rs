//! The atomics of the reader-table protocol, swapped for loom's under `cfg(loom)` so that the
//! protocol can be model-checked (tests in `page/readers.rs`, run by `.ci/run`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU64, Ordering};
