//! A database's shape: its flags and the comparators of its keys and values, as a handle
//! asks for them and as the database records them; and the orders a transaction searches a
//! tree in.
//!
//! A transaction takes a database's orders from what the database records, never from the
//! handle: built-in orders from its flags, custom ones by looking the recorded names up among
//! the functions registered with the environment (`env/key_orders.rs`). So a tree is searched
//! only with the order it was written in, and a database whose comparator no handle of this
//! process has given can be walked, counted, cleared and deleted, but not searched
//! ([`MdbError::IncompatibleDatabase`](crate::MdbError::IncompatibleDatabase)).

use super::custom_orders::CustomOrders;
use super::read::{RoTxn, MAIN_DBI};
use crate::btree::order::{CompareFn, KeyOrder};
use crate::env::key_orders::{Comparator, KeyOrders};
use crate::error::{Error, MdbError, Result};
use crate::page::catalog_record::{OrderNames, ORDER_NAME_MAX};
use crate::page::meta::{TreeFlags, TreeInfo};

/// What a handle asks of a database when it opens or creates it.
#[derive(Clone)]
pub(crate) struct DatabaseShape {
    /// The built-in flags asked for.
    pub(crate) flags: TreeFlags,
    /// A custom comparator of keys and the name to record for it.
    pub(crate) custom: Option<(Comparator, String)>,
    /// A custom comparator of a duplicate-sorted database's values, and its name.
    pub(crate) custom_values: Option<(Comparator, String)>,
    /// Whether the database must be exactly this shape, a plain one included (the layers
    /// built on byte-ordered trees, such as scopes, ask so).
    pub(crate) exact: bool,
}

impl DatabaseShape {
    /// No flags, byte-wise keys, no opinion: what a plain `open_database` asks; it takes the
    /// database as it was created.
    pub(crate) fn plain() -> DatabaseShape {
        DatabaseShape {
            flags: TreeFlags::empty(),
            custom: None,
            custom_values: None,
            exact: false,
        }
    }

    /// A plain database and nothing else: byte-wise keys, one value per key.
    #[cfg(any(feature = "scoped", test))]
    pub(crate) fn byte_ordered() -> DatabaseShape {
        DatabaseShape {
            exact: true,
            ..DatabaseShape::plain()
        }
    }

    /// The names of the custom comparators asked for.
    pub(crate) fn names(&self) -> OrderNames {
        OrderNames {
            keys: self.custom.as_ref().map(|(_, name)| name.clone()),
            values: self.custom_values.as_ref().map(|(_, name)| name.clone()),
        }
    }

    /// Whether this shape takes any database as it is.
    pub(crate) fn is_plain(&self) -> bool {
        !self.exact
            && self.flags == TreeFlags::empty()
            && self.custom.is_none()
            && self.custom_values.is_none()
    }

    /// The flags a tree created with this shape records.
    pub(crate) fn tree_flags(&self) -> TreeFlags {
        let mut flags = self.flags;
        if self.custom.is_some() {
            flags = flags.with(TreeFlags::CUSTOM_KEY_ORDER);
        }
        if self.custom_values.is_some() && flags.contains(TreeFlags::DUP_SORT) {
            flags = flags.with(TreeFlags::CUSTOM_VALUE_ORDER);
        }
        flags
    }

    /// Registers the comparators asked for under their names.
    pub(crate) fn register(&self, orders: &KeyOrders) -> Result<()> {
        for (comparator, name) in [&self.custom, &self.custom_values].into_iter().flatten() {
            orders.register(name, *comparator)?;
        }
        Ok(())
    }

    /// Refuses what no database can be: a name no record holds, an order of values without
    /// `DUP_SORT`. (Both built-in orders of keys, or of values, are taken as LMDB takes
    /// them: `btree/order.rs`.)
    pub(crate) fn validate(&self, database: Option<&str>) -> Result<()> {
        let invalid = |reason: String| Err(Error::Mdb(MdbError::InvalidOption { reason }));
        let flags = self.flags;
        let value_flags = TreeFlags::INTEGER_DUP
            .with(TreeFlags::REVERSE_DUP)
            .with(TreeFlags::DUP_FIXED);
        if flags.bits() & value_flags.bits() != 0 && !flags.contains(TreeFlags::DUP_SORT) {
            return invalid(format!(
                "DUP_FIXED, INTEGER_DUP and REVERSE_DUP shape a key's values: {} needs DUP_SORT for them",
                described(database)
            ));
        }
        for (_, name) in [&self.custom, &self.custom_values].into_iter().flatten() {
            if name.is_empty() || name.len() > ORDER_NAME_MAX {
                return invalid(format!(
                    "the comparator name for {} must be 1 to {ORDER_NAME_MAX} bytes, not {}",
                    described(database),
                    name.len()
                ));
            }
        }
        Ok(())
    }

    /// Checks this shape against a database that exists with `tree` and, for custom orders,
    /// the comparator names `recorded`.
    pub(crate) fn check_against(
        &self,
        database: Option<&str>,
        tree: &TreeInfo,
        recorded: &OrderNames,
    ) -> Result<()> {
        if self.is_plain() {
            return Ok(());
        }
        let incompatible = |reason: String| {
            Error::Mdb(MdbError::IncompatibleDatabase {
                name: database.map(str::to_owned),
                reason,
            })
        };
        let asked = self.names();
        if self.tree_flags() != tree.flags {
            return Err(incompatible(format!(
                "it was created with {}, not {}",
                described_flags(tree.flags, recorded),
                described_flags(self.tree_flags(), &asked),
            )));
        }
        for (asked, recorded, what) in [
            (&asked.keys, &recorded.keys, "keys"),
            (&asked.values, &recorded.values, "values"),
        ] {
            if let (Some(asked), Some(recorded)) = (asked, recorded) {
                if asked != recorded {
                    return Err(incompatible(format!(
                        "its {what} are ordered by the comparator {recorded:?}, not {asked:?}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A database's name for messages.
fn described(database: Option<&str>) -> String {
    match database {
        Some(name) => format!("the database {name:?}"),
        None => "the unnamed database".to_owned(),
    }
}

/// Flags (and comparators' names) in words.
fn described_flags(flags: TreeFlags, names: &OrderNames) -> String {
    let mut words = Vec::new();
    for (flag, word) in [
        (TreeFlags::INTEGER_KEY, "INTEGER_KEY"),
        (TreeFlags::REVERSE_KEY, "REVERSE_KEY"),
        (TreeFlags::DUP_SORT, "DUP_SORT"),
        (TreeFlags::DUP_FIXED, "DUP_FIXED"),
        (TreeFlags::INTEGER_DUP, "INTEGER_DUP"),
        (TreeFlags::REVERSE_DUP, "REVERSE_DUP"),
    ] {
        if flags.contains(flag) {
            words.push(word.to_owned());
        }
    }
    let custom = [
        (TreeFlags::CUSTOM_KEY_ORDER, &names.keys, "key"),
        (TreeFlags::CUSTOM_VALUE_ORDER, &names.values, "value"),
    ];
    for (flag, name, what) in custom {
        if flags.contains(flag) {
            match name {
                Some(name) => words.push(format!("the {what} comparator {name:?}")),
                None => words.push(format!("a {what} comparator")),
            }
        }
    }
    if words.is_empty() {
        "no flags and byte-wise keys".to_owned()
    } else {
        words.join(" and ")
    }
}

impl RoTxn<'_> {
    /// The name of database `dbi` (`None`: the unnamed database).
    pub(crate) fn database_name(&self, dbi: u32) -> Option<String> {
        (dbi != MAIN_DBI).then(|| self.env.database_names().read()[dbi as usize - 1].clone())
    }

    /// The order of database `dbi`'s keys, whose tree (loaded by `tree`) is `tree`.
    #[inline]
    pub(crate) fn key_order(&self, dbi: u32, tree: &TreeInfo) -> Result<KeyOrder> {
        match KeyOrder::of_flags(tree.flags) {
            Some(order) => Ok(order),
            None => self.custom_order(dbi, "keys", |custom| (custom.keys, &custom.names.keys)),
        }
    }

    /// The order of a key's values in database `dbi`, whose tree is `tree` (byte-wise, and
    /// unused, unless it is duplicate-sorted).
    #[inline]
    pub(crate) fn value_order(&self, dbi: u32, tree: &TreeInfo) -> Result<KeyOrder> {
        match KeyOrder::of_value_flags(tree.flags) {
            Some(order) => Ok(order),
            None => self.custom_order(dbi, "values", |custom| {
                (custom.values, &custom.names.values)
            }),
        }
    }

    /// A custom order of database `dbi`, as `side` picks it from its comparators.
    fn custom_order(
        &self,
        dbi: u32,
        what: &str,
        side: impl Fn(&CustomOrders) -> (Option<CompareFn>, &Option<String>),
    ) -> Result<KeyOrder> {
        let custom = self.custom_orders(dbi).unwrap_or_default();
        let (compare, name) = side(&custom);
        match compare {
            Some(compare) => Ok(KeyOrder::Custom(compare)),
            None => Err(Error::Mdb(MdbError::IncompatibleDatabase {
                name: self.database_name(dbi),
                reason: format!(
                    "its {what} are ordered by the comparator {:?}, which no handle of this process has given; open it with that comparator",
                    name.as_deref().unwrap_or("(unnamed)")
                ),
            })),
        }
    }

    /// Whether two values of database `dbi` sort as one (equal in its order of values).
    pub(crate) fn sorts_as(&self, dbi: u32, a: &[u8], b: &[u8]) -> Result<bool> {
        let tree = self.tree(dbi)?;
        Ok(self.value_order(dbi, &tree)?.compare(a, b).is_eq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str) -> DatabaseShape {
        let comparator = Comparator {
            compare: |a, b| b.cmp(a),
            type_id: std::any::TypeId::of::<u8>(),
            type_name: "u8",
        };
        DatabaseShape {
            custom: Some((comparator, name.to_owned())),
            ..DatabaseShape::plain()
        }
    }

    fn recorded(keys: Option<&str>) -> OrderNames {
        OrderNames {
            keys: keys.map(str::to_owned),
            values: None,
        }
    }

    fn tree(flags: TreeFlags) -> TreeInfo {
        TreeInfo::empty(flags)
    }

    #[test]
    fn a_plain_open_takes_any_database_and_an_exact_one_only_a_plain_database() {
        let plain = DatabaseShape::plain();
        let none = recorded(None);
        plain
            .check_against(Some("a"), &tree(TreeFlags::INTEGER_KEY), &none)
            .unwrap();
        let custom_tree = tree(TreeFlags::CUSTOM_KEY_ORDER);
        plain
            .check_against(Some("a"), &custom_tree, &recorded(Some("by length")))
            .unwrap();
        let exact = DatabaseShape::byte_ordered();
        exact
            .check_against(Some("a"), &tree(TreeFlags::empty()), &none)
            .unwrap();
        assert!(exact
            .check_against(Some("a"), &tree(TreeFlags::REVERSE_KEY), &none)
            .is_err());
        assert!(exact
            .check_against(Some("a"), &tree(TreeFlags::DUP_SORT), &none)
            .is_err());
    }

    #[test]
    fn asked_flags_and_comparators_must_be_the_recorded_ones() {
        let integer = DatabaseShape {
            flags: TreeFlags::INTEGER_KEY,
            ..DatabaseShape::plain()
        };
        let none = recorded(None);
        integer
            .check_against(None, &tree(TreeFlags::INTEGER_KEY), &none)
            .unwrap();
        assert!(integer
            .check_against(None, &tree(TreeFlags::empty()), &none)
            .is_err());
        assert!(integer
            .check_against(None, &tree(TreeFlags::REVERSE_KEY), &none)
            .is_err());
        let custom_tree = tree(TreeFlags::CUSTOM_KEY_ORDER);
        let by_length = recorded(Some("by length"));
        custom("by length")
            .check_against(None, &custom_tree, &by_length)
            .unwrap();
        let refused = custom("other").check_against(None, &custom_tree, &by_length);
        assert!(
            matches!(refused, Err(Error::Mdb(MdbError::IncompatibleDatabase { name: None, reason })) if reason.contains("by length"))
        );
        assert!(custom("x")
            .check_against(None, &tree(TreeFlags::empty()), &none)
            .is_err());
    }

    #[test]
    fn impossible_shapes_are_refused() {
        custom("n").validate(None).unwrap();
        custom(&"n".repeat(ORDER_NAME_MAX)).validate(None).unwrap();
        assert!(custom("").validate(None).is_err());
        assert!(custom(&"n".repeat(ORDER_NAME_MAX + 1))
            .validate(None)
            .is_err());
        let shape = |flags| DatabaseShape {
            flags,
            ..DatabaseShape::plain()
        };
        for value_flag in [
            TreeFlags::INTEGER_DUP,
            TreeFlags::REVERSE_DUP,
            TreeFlags::DUP_FIXED,
        ] {
            assert!(
                shape(value_flag).validate(None).is_err(),
                "{value_flag:?} without DUP_SORT"
            );
        }
        shape(TreeFlags::DUP_SORT.with(TreeFlags::DUP_FIXED))
            .validate(None)
            .unwrap();
        let dup = TreeFlags::DUP_SORT;
        shape(dup.with(TreeFlags::INTEGER_DUP))
            .validate(None)
            .unwrap();
        shape(TreeFlags::INTEGER_KEY.with(TreeFlags::REVERSE_KEY))
            .validate(None)
            .unwrap();
    }

    #[test]
    fn refusals_name_the_database() {
        let reason = |result: Result<()>| match result {
            Err(Error::Mdb(MdbError::InvalidOption { reason })) => reason,
            other => panic!("{other:?}"),
        };
        let no_dup_sort = DatabaseShape {
            flags: TreeFlags::REVERSE_DUP,
            ..DatabaseShape::plain()
        };
        let named = reason(no_dup_sort.validate(Some("logs")));
        assert!(named.contains("the database \"logs\""), "{named}");
        let unnamed = reason(custom("").validate(None));
        assert!(unnamed.contains("the unnamed database"), "{unnamed}");
    }

    #[test]
    fn recorded_names_resolve_to_the_functions_registered_under_them() {
        let orders = KeyOrders::default();
        let names = OrderNames {
            keys: Some("keys".into()),
            values: Some("values".into()),
        };
        let unresolved = CustomOrders::resolve(names.clone(), &orders);
        assert!(unresolved.keys.is_none() && unresolved.values.is_none());
        custom("keys").register(&orders).unwrap();
        let resolved = CustomOrders::resolve(names, &orders);
        assert!(resolved.keys.is_some() && resolved.values.is_none());
    }
}
