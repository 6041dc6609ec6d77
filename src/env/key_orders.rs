//! The custom key comparators registered with an environment, by database index.
//!
//! A database ordered by an application's comparator records the comparator's name
//! (docs/format.md, "Catalog"); the function itself lives only in the process that opened the
//! database with it. Each database index takes one comparator for the life of the
//! environment, set when a handle first opens or creates the database with it, and read
//! without a lock by every transaction that then searches the tree.

use std::sync::OnceLock;

use crate::btree::order::CompareFn;
use crate::error::{Error, Result};

/// A comparator and the name a database records for it.
pub(crate) struct CustomOrder {
    pub(crate) compare: CompareFn,
    pub(crate) name: String,
}

/// One slot per database index (the unnamed database's is 0).
pub(crate) struct KeyOrders {
    slots: Box<[OnceLock<CustomOrder>]>,
}

impl KeyOrders {
    /// Slots for the unnamed database and `max_dbs` named ones.
    pub(crate) fn new(max_dbs: u32) -> KeyOrders {
        KeyOrders {
            slots: (0..=max_dbs).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The comparator registered for database `dbi`.
    #[inline]
    pub(crate) fn get(&self, dbi: u32) -> Option<&CustomOrder> {
        self.slots.get(dbi as usize).and_then(OnceLock::get)
    }

    /// Registers `compare` under `name` for database `dbi` (`database` names it in errors).
    /// Registering the same name again keeps the first function; another name is refused:
    /// trees searched with one comparator must not be changed with another.
    pub(crate) fn register(
        &self,
        dbi: u32,
        database: Option<&str>,
        compare: CompareFn,
        name: &str,
    ) -> Result<()> {
        let slot = &self.slots[dbi as usize];
        let registered = slot.get_or_init(|| CustomOrder {
            compare,
            name: name.to_owned(),
        });
        if registered.name != name {
            return Err(Error::Incompatible {
                name: database.map(str::to_owned),
                reason: format!(
                    "this environment already orders it with the comparator {:?}, not {name:?}",
                    registered.name
                ),
            });
        }
        Ok(())
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
    fn a_database_keeps_its_first_comparator_and_refuses_another_name() {
        let orders = KeyOrders::new(2);
        assert!(orders.get(1).is_none());
        orders
            .register(1, Some("a"), backwards, "backwards")
            .unwrap();
        orders
            .register(1, Some("a"), |a, b| a.cmp(b), "backwards")
            .unwrap();
        let kept = orders.get(1).unwrap();
        assert_eq!(
            (kept.compare)(b"a", b"b"),
            Ordering::Greater,
            "the first function"
        );
        assert!(matches!(
            orders.register(1, Some("a"), backwards, "other"),
            Err(Error::Incompatible { name: Some(name), .. }) if name == "a"
        ));
        assert!(orders.get(0).is_none() && orders.get(2).is_none());
        orders.register(2, Some("b"), backwards, "other").unwrap();
    }
}
