//! Key orders shared by the tests.

use std::cmp::Ordering;

use arbordb::Comparator;

/// Shorter keys first, then byte-wise from the last byte: unlike the byte-wise order in both
/// respects, so a separator, bound or append check computed byte-wise goes wrong.
pub enum ByLengthThenReversed {}

impl Comparator for ByLengthThenReversed {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    fn name() -> String {
        "by length, then reversed".to_owned()
    }
}
