//! A database's shape: its flags and the comparator of its keys, as a handle asks for them
//! and as the database records them; and the order a transaction searches a tree in.

use super::read::{RoTxn, MAIN_DBI};
use crate::btree::order::{CompareFn, KeyOrder};
use crate::error::{Error, Result};
use crate::page::catalog_record::ORDER_NAME_MAX;
use crate::page::meta::{TreeFlags, TreeInfo};

/// What a handle asks of a database when it opens or creates it.
#[derive(Clone)]
pub(crate) struct DatabaseShape {
    /// The built-in flags asked for.
    pub(crate) flags: TreeFlags,
    /// A custom comparator of keys and the name to record for it.
    pub(crate) custom: Option<(CompareFn, String)>,
}

impl DatabaseShape {
    /// No flags, byte-wise keys: what a plain `open_database` asks; it takes the database
    /// as it was created, unless its keys need a comparator this handle does not give.
    pub(crate) fn plain() -> DatabaseShape {
        DatabaseShape {
            flags: TreeFlags::empty(),
            custom: None,
        }
    }

    /// The name of the custom comparator asked for.
    pub(crate) fn custom_name(&self) -> Option<&str> {
        self.custom.as_ref().map(|(_, name)| name.as_str())
    }

    pub(crate) fn is_plain(&self) -> bool {
        self.flags == TreeFlags::empty() && self.custom.is_none()
    }

    /// The flags a tree created with this shape records.
    pub(crate) fn tree_flags(&self) -> TreeFlags {
        match self.custom {
            Some(_) => self.flags.with(TreeFlags::CUSTOM_KEY_ORDER),
            None => self.flags,
        }
    }

    /// Refuses a name no record can hold.
    pub(crate) fn validate(&self, database: Option<&str>) -> Result<()> {
        if let Some((_, name)) = &self.custom {
            if name.is_empty() || name.len() > ORDER_NAME_MAX {
                return Err(Error::InvalidOption {
                    reason: format!(
                        "the comparator name for {} must be 1 to {ORDER_NAME_MAX} bytes, not {}",
                        described(database),
                        name.len()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks this shape against a database that exists with `tree` and, for a custom
    /// order, the comparator name `recorded`.
    pub(crate) fn check_against(
        &self,
        database: Option<&str>,
        tree: &TreeInfo,
        recorded: Option<&str>,
    ) -> Result<()> {
        let incompatible = |reason: String| Error::Incompatible {
            name: database.map(str::to_owned),
            reason,
        };
        if self.is_plain() {
            return match recorded {
                Some(recorded) if tree.flags.contains(TreeFlags::CUSTOM_KEY_ORDER) => {
                    Err(incompatible(format!(
                        "its keys are ordered by the comparator {recorded:?}; open it with that comparator"
                    )))
                }
                _ => Ok(()),
            };
        }
        if self.tree_flags() != tree.flags {
            return Err(incompatible(format!(
                "it was created with {}, not {}",
                described_flags(tree.flags, recorded),
                described_flags(self.tree_flags(), self.custom_name()),
            )));
        }
        if let (Some(asked), Some(recorded)) = (self.custom_name(), recorded) {
            if asked != recorded {
                return Err(incompatible(format!(
                    "its keys are ordered by the comparator {recorded:?}, not {asked:?}"
                )));
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

/// Flags (and a comparator's name) in words.
fn described_flags(flags: TreeFlags, comparator: Option<&str>) -> String {
    let mut words = Vec::new();
    if flags.contains(TreeFlags::INTEGER_KEY) {
        words.push("INTEGER_KEY".to_owned());
    }
    if flags.contains(TreeFlags::REVERSE_KEY) {
        words.push("REVERSE_KEY".to_owned());
    }
    if let Some(name) = comparator.filter(|_| flags.contains(TreeFlags::CUSTOM_KEY_ORDER)) {
        words.push(format!("the key comparator {name:?}"));
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

    /// The order of database `dbi`'s keys, whose tree is `tree`.
    #[inline]
    pub(crate) fn key_order(&self, dbi: u32, tree: &TreeInfo) -> Result<KeyOrder> {
        if let Some(order) = KeyOrder::of_flags(tree.flags) {
            return Ok(order);
        }
        match self.env.key_orders().get(dbi) {
            Some(custom) => Ok(KeyOrder::Custom(custom.compare)),
            None => Err(Error::Incompatible {
                name: self.database_name(dbi),
                reason: "its keys are ordered by a comparator no handle has given".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str) -> DatabaseShape {
        DatabaseShape {
            flags: TreeFlags::empty(),
            custom: Some((|a, b| b.cmp(a), name.to_owned())),
        }
    }

    fn tree(flags: TreeFlags) -> TreeInfo {
        TreeInfo::empty(flags)
    }

    #[test]
    fn a_plain_open_takes_built_in_flags_but_not_a_custom_order() {
        let plain = DatabaseShape::plain();
        plain
            .check_against(Some("a"), &tree(TreeFlags::INTEGER_KEY), None)
            .unwrap();
        let custom_tree = tree(TreeFlags::CUSTOM_KEY_ORDER);
        assert!(matches!(
            plain.check_against(Some("a"), &custom_tree, Some("by length")),
            Err(Error::Incompatible { reason, .. }) if reason.contains("by length")
        ));
    }

    #[test]
    fn asked_flags_and_comparators_must_be_the_recorded_ones() {
        let integer = DatabaseShape {
            flags: TreeFlags::INTEGER_KEY,
            custom: None,
        };
        integer
            .check_against(None, &tree(TreeFlags::INTEGER_KEY), None)
            .unwrap();
        assert!(integer
            .check_against(None, &tree(TreeFlags::empty()), None)
            .is_err());
        assert!(integer
            .check_against(None, &tree(TreeFlags::REVERSE_KEY), None)
            .is_err());
        let custom_tree = tree(TreeFlags::CUSTOM_KEY_ORDER);
        custom("by length")
            .check_against(None, &custom_tree, Some("by length"))
            .unwrap();
        let refused = custom("other").check_against(None, &custom_tree, Some("by length"));
        assert!(matches!(
            refused,
            Err(Error::Incompatible { name: None, .. })
        ));
        assert!(custom("x")
            .check_against(None, &tree(TreeFlags::empty()), None)
            .is_err());
    }

    #[test]
    fn comparator_names_are_bounded() {
        custom("n").validate(None).unwrap();
        custom(&"n".repeat(ORDER_NAME_MAX)).validate(None).unwrap();
        assert!(custom("").validate(None).is_err());
        assert!(custom(&"n".repeat(ORDER_NAME_MAX + 1))
            .validate(None)
            .is_err());
    }
}
