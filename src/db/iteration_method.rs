//! How an iterator moves through a duplicate-sorted database's pairs, as heed's type
//! parameter `IM` says: [`MoveThroughDuplicateValues`] (every pair, the default),
//! [`MoveBetweenKeys`] (each key once), [`MoveOnCurrentKeyDuplicates`] (one key's values, from
//! [`Database::get_duplicates`](crate::Database::get_duplicates)). In any other database
//! every key has one value and they all visit the same entries.

/// The iteration methods. Sealed: only the three types below are methods.
pub trait IterationMethod: sealed::Sealed {}

/// Every pair: after a key's last value comes the next key's first.
#[derive(Debug, Clone, Copy)]
pub enum MoveThroughDuplicateValues {}

/// Each key once, passing over its other values.
#[derive(Debug, Clone, Copy)]
pub enum MoveBetweenKeys {}

/// The values of one key only.
#[derive(Debug, Clone, Copy)]
pub enum MoveOnCurrentKeyDuplicates {}

impl IterationMethod for MoveThroughDuplicateValues {}
impl IterationMethod for MoveBetweenKeys {}
impl IterationMethod for MoveOnCurrentKeyDuplicates {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::MoveThroughDuplicateValues {}
    impl Sealed for super::MoveBetweenKeys {}
    impl Sealed for super::MoveOnCurrentKeyDuplicates {}
}
