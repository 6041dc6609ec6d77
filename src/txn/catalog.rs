//! The catalog: named databases by name.
//!
//! The catalog is a B-tree of its own (its root is in the meta) mapping each name's UTF-8
//! bytes to the encoded [`TreeInfo`] of that database. Unlike LMDB, names do not live in the
//! unnamed database, so it holds only user keys.

use std::sync::Arc;

use super::custom_orders::CustomOrders;
use super::read::{RoTxn, TreeSlot, MAIN_DBI};
use super::shape::DatabaseShape;
use super::write::RwTxn;
use crate::btree::cursor::{self, Cursor};
use crate::btree::node;
use crate::btree::order::KeyOrder;
use crate::btree::PageSource;
use crate::error::{Error, MdbError, Result};
use crate::page::catalog_record::{self, OrderNames, UNNAMED_DATABASE_KEY};
use crate::page::meta::{TreeFlags, TreeInfo};
use crate::page::PageId;

impl RoTxn<'_> {
    /// Reads database `dbi`'s tree from the meta or the catalog, with the names of its custom
    /// comparators. Flags this release does not know are
    /// [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage): the tree's order would be a
    /// guess.
    pub(crate) fn load_tree(&self, dbi: u32) -> Result<(TreeInfo, OrderNames)> {
        let (tree, names) = if dbi == MAIN_DBI {
            let main = self.meta().main;
            (main, self.unnamed_order_names(main.flags)?)
        } else {
            let name = self.env.database_names().read()[dbi as usize - 1].clone();
            self.catalog_record(&name)?
                .ok_or(Error::Mdb(MdbError::DatabaseNotFound { name }))?
        };
        if let Some(bits) = tree.flags.unknown_bits() {
            return Err(Error::corrupted(
                tree.root,
                format!("a database's descriptor has unknown flags {bits:#x}"),
            ));
        }
        if tree.flags.contains(TreeFlags::DENSE_LEAVES) {
            // Only a tree of a key's values has dense leaves; a put would store keys
            // without their values.
            return Err(Error::corrupted(
                tree.root,
                "a database's descriptor has the flag of a tree of a key's values",
            ));
        }
        Ok((tree, names))
    }

    /// The committed tree of the database called `name`, if the snapshot has one.
    pub(crate) fn catalog_lookup(&self, name: &str) -> Result<Option<TreeInfo>> {
        Ok(self.catalog_record(name)?.map(|(tree, _)| tree))
    }

    /// The committed record of the database called `name`: its tree and the names of its
    /// custom comparators.
    pub(crate) fn catalog_record(&self, name: &str) -> Result<Option<(TreeInfo, OrderNames)>> {
        let catalog = &self.meta().catalog;
        match cursor::get(self, catalog, KeyOrder::Bytes, name.as_bytes())? {
            None => Ok(None),
            Some(bytes) => match catalog_record::decode(bytes) {
                Some(record) => Ok(Some((record.tree, record.names))),
                None => Err(Error::corrupted(
                    catalog.root,
                    format!("catalog entry {name:?} is malformed"),
                )),
            },
        }
    }

    /// The names of the unnamed database's custom comparators, as committed (its flags,
    /// `flags`, say which there are).
    pub(crate) fn unnamed_order_names(&self, flags: TreeFlags) -> Result<OrderNames> {
        if !OrderNames::announced_by(flags) {
            return Ok(OrderNames::default());
        }
        let catalog = &self.meta().catalog;
        let malformed =
            || Error::corrupted(catalog.root, "the unnamed database's record is malformed");
        match cursor::get(self, catalog, KeyOrder::Bytes, UNNAMED_DATABASE_KEY)? {
            None => Err(malformed()),
            Some(bytes) => catalog_record::decode_names(bytes, flags).ok_or_else(malformed),
        }
    }

    /// Checks `shape` against database `dbi` (called `name`) as this transaction sees it, and
    /// registers its comparators (after which the tree's recorded names may resolve to them).
    fn accept_shape(&self, dbi: u32, name: Option<&str>, shape: &DatabaseShape) -> Result<()> {
        shape.validate(name)?;
        let tree = self.tree(dbi)?;
        let custom = self.custom_orders(dbi).unwrap_or_default();
        shape.check_against(name, &tree, &custom.names)?;
        shape.register(self.env.key_orders())?;
        if OrderNames::announced_by(tree.flags) {
            let resolved = CustomOrders::resolve(custom.names.clone(), self.env.key_orders());
            if let Some(Some(slot)) = self.trees.borrow_mut().get_mut(dbi as usize) {
                slot.custom = Some(Arc::new(resolved));
            }
        }
        Ok(())
    }

    /// The names of the named databases in this snapshot (committed ones; for a write
    /// transaction, as of its start), in byte order. Names that are not UTF-8 (only in a
    /// corrupt file) are skipped.
    pub fn database_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        self.each_catalog_entry(|name, _| {
            if let Ok(name) = std::str::from_utf8(name) {
                names.push(name.to_owned());
            }
            Ok(())
        })?;
        Ok(names)
    }

    /// Calls `visit` with each entry of this snapshot's catalog, in key order.
    fn each_catalog_entry(&self, mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>) -> Result<()> {
        let mut cursor = Cursor::new(
            self as &dyn PageSource,
            self.meta().catalog,
            KeyOrder::Bytes,
        )?;
        cursor.seek_first()?;
        while let Some((name, value)) = cursor.current()? {
            visit(name, value)?;
            cursor.next()?;
        }
        Ok(())
    }

    /// The pages of every database in this snapshot (the unnamed one and each named one,
    /// their trees of values included): what heed's `non_free_pages_size` counts, without
    /// opening any database.
    pub(crate) fn database_pages(&self) -> Result<u64> {
        let pages = |tree: &TreeInfo| tree.branch_pages + tree.leaf_pages + tree.overflow_pages;
        let mut total = pages(&self.meta().main);
        self.each_catalog_entry(|name, record| {
            if name != UNNAMED_DATABASE_KEY {
                let record = catalog_record::decode(record).ok_or_else(|| {
                    Error::corrupted(PageId::NONE, "a catalog record that does not decode")
                })?;
                total = total.saturating_add(pages(&record.tree));
            }
            Ok(())
        })?;
        Ok(total)
    }

    /// The index of database `name` if it exists in this transaction, opened as `shape` asks
    /// ([`MdbError::IncompatibleDatabase`](crate::MdbError::IncompatibleDatabase) if it cannot be).
    pub(crate) fn open_tree(
        &self,
        name: Option<&str>,
        shape: &DatabaseShape,
    ) -> Result<Option<u32>> {
        let dbi = self.find_tree(name)?;
        if let Some(dbi) = dbi {
            self.accept_shape(dbi, name, shape)?;
        }
        Ok(dbi)
    }

    /// The index of database `name` if it exists in this transaction, whatever its shape.
    pub(crate) fn find_tree(&self, name: Option<&str>) -> Result<Option<u32>> {
        let Some(name) = name else {
            return Ok(Some(MAIN_DBI));
        };
        let known = self
            .env
            .database_names()
            .read()
            .iter()
            .position(|known| known == name);
        if let Some(position) = known {
            let dbi = position as u32 + 1;
            return match self.tree(dbi) {
                Ok(_) => Ok(Some(dbi)),
                Err(Error::Mdb(MdbError::DatabaseNotFound { .. })) => Ok(None),
                Err(error) => Err(error),
            };
        }
        if self.catalog_lookup(name)?.is_none() {
            return Ok(None);
        }
        let dbi = self.env.database_index(name)?;
        self.tree(dbi)?;
        Ok(Some(dbi))
    }
}

impl RwTxn<'_> {
    /// The index of database `name`, created empty with `shape` in this transaction if
    /// missing (the unnamed database, which always exists, takes `shape` while empty).
    pub(crate) fn create_tree(&mut self, name: Option<&str>, shape: &DatabaseShape) -> Result<u32> {
        shape.validate(name)?;
        let Some(name) = name else {
            let main = self.txn.tree(MAIN_DBI)?;
            if main.root.is_none() && !shape.is_plain() && main.flags != shape.tree_flags() {
                self.set_new_tree(MAIN_DBI, shape)?;
                return Ok(MAIN_DBI);
            }
            self.txn.accept_shape(MAIN_DBI, None, shape)?;
            return Ok(MAIN_DBI);
        };
        let key_size_max = node::key_size_max(self.txn.env.page_size());
        if name.len() > key_size_max {
            return Err(Error::Mdb(MdbError::InvalidOption {
                reason: format!(
                    "a database name may be at most {key_size_max} bytes, not {}",
                    name.len()
                ),
            }));
        }
        let dbi = self.txn.env.database_index(name)?;
        match self.txn.tree(dbi) {
            Ok(_) => {
                self.txn.accept_shape(dbi, Some(name), shape)?;
                Ok(dbi)
            }
            Err(Error::Mdb(MdbError::DatabaseNotFound { .. })) => {
                self.set_new_tree(dbi, shape)?;
                Ok(dbi)
            }
            Err(error) => Err(error),
        }
    }

    /// Makes database `dbi` a new empty tree of `shape` in this transaction.
    fn set_new_tree(&mut self, dbi: u32, shape: &DatabaseShape) -> Result<()> {
        shape.register(self.txn.env.key_orders())?;
        let flags = shape.tree_flags();
        let custom = OrderNames::announced_by(flags).then(|| {
            Arc::new(CustomOrders::resolve(
                shape.names(),
                self.txn.env.key_orders(),
            ))
        });
        let trees = self.txn.trees.get_mut();
        if trees.len() <= dbi as usize {
            trees.resize(dbi as usize + 1, None);
        }
        trees[dbi as usize] = Some(TreeSlot {
            info: TreeInfo::empty(flags),
            changed: true,
            deleted: false,
            custom,
        });
        Ok(())
    }
}
