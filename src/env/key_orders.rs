//! The custom comparators registered with an environment, by the name a database records
//! for them (`Comparator::name`).
//!
//! A database ordered by an application's comparator records the comparator's name
//! (docs/format.md, "Catalog"); the function itself lives only in the processes that gave
//! it. A transaction that loads such a database looks the recorded name up here, so a tree
//! is only ever searched with the function registered under the name it was written with,
//! whatever handles, aborted transactions or other processes did before. A name keeps the
//! comparator registered under it for the life of the environment: one name stands for one
//! order, and another comparator type under the same name is refused.

use std::any::TypeId;
use std::collections::HashMap;

use crate::btree::order::CompareFn;
use crate::error::{Error, MdbError, Result};
use parking_lot::RwLock;

/// A comparator as a handle gives it: its function and the type it comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Comparator {
    pub(crate) compare: CompareFn,
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
}

/// The registered comparators, by name.
#[derive(Default)]
pub(crate) struct KeyOrders {
    by_name: RwLock<HashMap<String, Comparator>>,
}

impl KeyOrders {
    /// Registers `comparator` under `name`, unless it is registered there already. Another
    /// comparator type under the same name is
    /// [`MdbError::IncompatibleDatabase`](crate::MdbError::IncompatibleDatabase): a database
    /// written with one would be searched with the other.
    pub(crate) fn register(&self, name: &str, comparator: Comparator) -> Result<()> {
        let registered = *self
            .by_name
            .write()
            .entry(name.to_owned())
            .or_insert(comparator);
        if registered.type_id != comparator.type_id {
            return Err(Error::Mdb(MdbError::IncompatibleDatabase {
                name: None,
                reason: format!(
                    "two comparators, {} and {}, are both named {name:?}: give one another name (Comparator::name)",
                    registered.type_name, comparator.type_name
                ),
            }));
        }
        Ok(())
    }

    /// The function registered under `name`.
    pub(crate) fn get(&self, name: &str) -> Option<CompareFn> {
        self.by_name
            .read()
            .get(name)
            .map(|comparator| comparator.compare)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    fn backwards(a: &[u8], b: &[u8]) -> Ordering {
        b.cmp(a)
    }

    fn comparator<T: 'static>(compare: CompareFn) -> Comparator {
        Comparator {
            compare,
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
        }
    }

    #[test]
    fn a_name_keeps_its_comparator_and_refuses_another_type() {
        let orders = KeyOrders::default();
        assert!(orders.get("backwards").is_none());
        orders
            .register("backwards", comparator::<u8>(backwards))
            .unwrap();
        orders
            .register("backwards", comparator::<u8>(backwards))
            .unwrap();
        let kept = orders.get("backwards").unwrap();
        assert_eq!(kept(b"a", b"b"), Ordering::Greater);
        let other_type = orders.register("backwards", comparator::<u16>(|a, b| a.cmp(b)));
        assert!(
            matches!(other_type, Err(Error::Mdb(MdbError::IncompatibleDatabase { reason, .. })) if reason.contains("u16"))
        );
        assert_eq!(
            orders.get("backwards").unwrap()(b"a", b"b"),
            Ordering::Greater
        );
        assert!(orders.get("other").is_none());
        orders
            .register("other", comparator::<u16>(|a, b| a.cmp(b)))
            .unwrap();
        assert_eq!(orders.get("other").unwrap()(b"a", b"b"), Ordering::Less);
    }
}
