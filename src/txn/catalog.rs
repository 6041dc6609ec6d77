//! The catalog: named databases by name.
//!
//! The catalog is a B-tree of its own (its root is in the meta) mapping each name's UTF-8
//! bytes to the encoded [`TreeInfo`] of that database. Unlike LMDB, names do not live in the
//! unnamed database, so it holds only user keys.

use super::read::{RoTxn, TreeSlot, MAIN_DBI};
use super::write::RwTxn;
use crate::btree::cursor::{self, Cursor};
use crate::btree::node;
use crate::btree::PageSource;
use crate::env::Env;
use crate::error::{Error, Result};
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
        match cursor::get(self, &self.meta().catalog, name.as_bytes())? {
            None => Ok(None),
            Some(bytes) => TreeInfo::decode(bytes).map(Some).ok_or_else(|| {
                Error::corrupted(
                    self.meta().catalog.root,
                    format!("catalog entry {name:?} has the wrong size"),
                )
            }),
        }
    }

    /// The names of the named databases in this snapshot (committed ones; for a write
    /// transaction, as of its start), in byte order. Names that are not UTF-8 (only in a
    /// corrupt file) are skipped.
    pub fn database_names(&self) -> Result<Vec<String>> {
        let mut cursor = Cursor::new(self as &dyn PageSource, self.meta().catalog)?;
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

    /// The index of database `name` if it exists in this transaction.
    pub(crate) fn open_tree(&self, name: Option<&str>) -> Result<Option<u32>> {
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
    /// The index of database `name`, created empty in this transaction if missing.
    pub(crate) fn create_tree(&mut self, name: Option<&str>) -> Result<u32> {
        let Some(name) = name else {
            self.txn.tree(MAIN_DBI)?;
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
            Ok(_) => Ok(dbi),
            Err(Error::DatabaseNotFound { .. }) => {
                let trees = self.txn.trees.get_mut();
                if trees.len() <= dbi as usize {
                    trees.resize(dbi as usize + 1, None);
                }
                trees[dbi as usize] = Some(TreeSlot {
                    info: TreeInfo::default(),
                    changed: true,
                    deleted: false,
                });
                Ok(dbi)
            }
            Err(error) => Err(error),
        }
    }
}
