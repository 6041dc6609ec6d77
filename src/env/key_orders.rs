//! The custom comparators registered with an environment, by the name a database records
//! for them (`Comparator::name`).
//!
//! A database ordered by an application's comparator records the comparator's name
//! (docs/format.md, "Catalog"); the function itself lives only in the processes that gave
//! it. A transaction that loads such a database looks the recorded name up here, so a tree
//! is only ever searched with the function registered under the name it was written with,
//! whatever handles, aborted transactions or other processes did before. A name keeps the
//! first function registered under it for the life of the environment: one name stands for
//! one order.

use std::collections::HashMap;

use crate::btree::order::CompareFn;
use parking_lot::RwLock;

/// The registered comparators, by name.
#[derive(Default)]
pub(crate) struct KeyOrders {
    by_name: RwLock<HashMap<String, CompareFn>>,
}

impl KeyOrders {
    /// Registers `compare` under `name`, unless a function is registered under it already.
    pub(crate) fn register(&self, name: &str, compare: CompareFn) {
        if self.get(name).is_none() {
            self.by_name
                .write()
                .entry(name.to_owned())
                .or_insert(compare);
        }
    }

    /// The function registered under `name`.
    pub(crate) fn get(&self, name: &str) -> Option<CompareFn> {
        self.by_name.read().get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    fn backwards(a: &[u8], b: &[u8]) -> Ordering {
        b.cmp(a)
    }

    #[test]
    fn a_name_keeps_its_first_function() {
        let orders = KeyOrders::default();
        assert!(orders.get("backwards").is_none());
        orders.register("backwards", backwards);
        orders.register("backwards", |a, b| a.cmp(b));
        let kept = orders.get("backwards").unwrap();
        assert_eq!(kept(b"a", b"b"), Ordering::Greater, "the first function");
        assert!(orders.get("other").is_none());
        orders.register("other", |a, b| a.cmp(b));
        assert_eq!(orders.get("other").unwrap()(b"a", b"b"), Ordering::Less);
    }
}
