//! The catalog: named databases by name.
//!
//! The catalog is a B-tree of its own (its root is in the meta) mapping each name's UTF-8
//! bytes to the encoded [`TreeInfo`] of that database. Unlike LMDB, names do not live in the
//! unnamed database, so it holds only user keys.

use super::read::{RoTxn, TreeSlot, MAIN_DBI};
use super::shape::DatabaseShape;
use super::write::RwTxn;
use crate::btree::cursor::{self, Cursor};
use crate::btree::node;
use crate::btree::order::KeyOrder;
use crate::btree::PageSource;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::page::catalog_record::{self, UNNAMED_DATABASE_KEY};
use crate::page::meta::TreeInfo;

impl RoTxn<'_> {
    /// Reads database `dbi`'s tree from the meta or the catalog.
    pub(crate) fn load_tree(&self, dbi: u32) -> Result<TreeInfo> {
        if dbi == MAIN_DBI {
            return Ok(self.meta().main);
        }
        let name = self.env.database_names().read()[dbi as usize - 1].clone();
        self.catalog_lookup(&name)?
            .ok_or(Error::DatabaseNotFound { name })
    }

    /// The committed tree of the database called `name`, if the snapshot has one.
    pub(crate) fn catalog_lookup(&self, name: &str) -> Result<Option<TreeInfo>> {
        Ok(self.catalog_record(name)?.map(|(tree, _)| tree))
    }

    /// The committed record of the database called `name`: its tree and the name of its
    /// key comparator, if custom.
    pub(crate) fn catalog_record(&self, name: &str) -> Result<Option<(TreeInfo, Option<String>)>> {
        let catalog = &self.meta().catalog;
        match cursor::get(self, catalog, KeyOrder::Bytes, name.as_bytes())? {
            None => Ok(None),
            Some(bytes) => match catalog_record::decode(bytes) {
                Some(record) => Ok(Some((record.tree, record.key_order.map(str::to_owned)))),
                None => Err(Error::corrupted(
                    catalog.root,
                    format!("catalog entry {name:?} is malformed"),
                )),
            },
        }
    }

    /// The name of the unnamed database's custom key comparator, as committed.
    pub(crate) fn unnamed_key_order_name(&self) -> Result<Option<String>> {
        let catalog = &self.meta().catalog;
        match cursor::get(self, catalog, KeyOrder::Bytes, UNNAMED_DATABASE_KEY)? {
            None => Ok(None),
            Some(bytes) => catalog_record::decode_order_name(bytes)
                .map(|name| Some(name.to_owned()))
                .ok_or_else(|| {
                    Error::corrupted(catalog.root, "the unnamed database's record is malformed")
                }),
        }
    }

    /// Checks `shape` against database `dbi` (called `name`) as this transaction sees it, and
    /// registers its comparator.
    fn accept_shape(&self, dbi: u32, name: Option<&str>, shape: &DatabaseShape) -> Result<()> {
        shape.validate(name)?;
        let tree = self.tree(dbi)?;
        let recorded = match name {
            None => self.unnamed_key_order_name()?,
            Some(name) => self.catalog_record(name)?.and_then(|(_, order)| order),
        };
        // A tree created in this transaction has no record yet: its order is the one
        // registered when it was created, which `register` below compares with.
        let recorded = recorded.or_else(|| {
            self.env
                .key_orders()
                .get(dbi)
                .map(|custom| custom.name.clone())
        });
        shape.check_against(name, &tree, recorded.as_deref())?;
        self.register_shape(dbi, name, shape)
    }

    /// Registers `shape`'s comparator, if it has one, for database `dbi`.
    fn register_shape(&self, dbi: u32, name: Option<&str>, shape: &DatabaseShape) -> Result<()> {
        match &shape.custom {
            Some((compare, order_name)) => self
                .env
                .key_orders()
                .register(dbi, name, *compare, order_name),
            None => Ok(()),
        }
    }

    /// The names of the named databases in this snapshot (committed ones; for a write
    /// transaction, as of its start), in byte order. Names that are not UTF-8 (only in a
    /// corrupt file) are skipped.
    pub fn database_names(&self) -> Result<Vec<String>> {
        let mut cursor = Cursor::new(
            self as &dyn PageSource,
            self.meta().catalog,
            KeyOrder::Bytes,
        )?;
        cursor.seek_first()?;
        let mut names = Vec::new();
        while let Some((name, _)) = cursor.current()? {
            if let Ok(name) = std::str::from_utf8(name) {
                names.push(name.to_owned());
            }
            cursor.next()?;
        }
        Ok(names)
    }

    /// The index of database `name` if it exists in this transaction, opened as `shape`
    /// asks ([`Error::Incompatible`] if it cannot be).
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
                Err(Error::DatabaseNotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            };
        }
        if self.catalog_lookup(name)?.is_none() {
            return Ok(None);
        }
        let dbi = Env::database_index(self.env, name)?;
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
                self.txn.register_shape(MAIN_DBI, None, shape)?;
                self.txn.trees.get_mut()[MAIN_DBI as usize] = Some(TreeSlot {
                    info: TreeInfo::empty(shape.tree_flags()),
                    changed: true,
                    deleted: false,
                });
                return Ok(MAIN_DBI);
            }
            self.txn.accept_shape(MAIN_DBI, None, shape)?;
            return Ok(MAIN_DBI);
        };
        let key_size_max = node::key_size_max(self.txn.env.page_size());
        if name.len() > key_size_max {
            return Err(Error::InvalidOption {
                reason: format!(
                    "a database name may be at most {key_size_max} bytes, not {}",
                    name.len()
                ),
            });
        }
        let dbi = Env::database_index(self.txn.env, name)?;
        match self.txn.tree(dbi) {
            Ok(_) => {
                self.txn.accept_shape(dbi, Some(name), shape)?;
                Ok(dbi)
            }
            Err(Error::DatabaseNotFound { .. }) => {
                self.txn.register_shape(dbi, Some(name), shape)?;
                let trees = self.txn.trees.get_mut();
                if trees.len() <= dbi as usize {
                    trees.resize(dbi as usize + 1, None);
                }
                trees[dbi as usize] = Some(TreeSlot {
                    info: TreeInfo::empty(shape.tree_flags()),
                    changed: true,
                    deleted: false,
                });
                Ok(dbi)
            }
            Err(error) => Err(error),
        }
    }
}
