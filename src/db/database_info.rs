//! [`DatabaseInfo`]: how a database orders its keys and how large it is, read without
//! opening it, so that tools can describe (or refuse) a database whose comparator they
//! cannot give.

use super::database::DatabaseStat;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::flags::DatabaseFlags;
use crate::page::meta::TreeFlags;
use crate::txn::RoTxn;

/// What a database records about itself: its flags, the name of its custom key comparator,
/// and its statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseInfo {
    /// The built-in flags it was created with ([`DatabaseFlags::INTEGER_KEY`],
    /// [`DatabaseFlags::REVERSE_KEY`]).
    pub flags: DatabaseFlags,
    /// The [`name`](crate::Comparator::name) of the application's comparator its keys are
    /// ordered by, if any: opening it then needs that comparator.
    pub key_comparator: Option<String>,
    /// Its statistics, as [`Database::stat`](crate::Database::stat) gives them.
    pub stat: DatabaseStat,
}

impl Env {
    /// What the database `name` (`None`: the unnamed one) records about itself in `rtxn`'s
    /// snapshot; `Ok(None)` when it does not exist there. Unlike
    /// [`open_database`](Env::open_database) it succeeds for a database ordered by a
    /// comparator this process does not have.
    pub fn database_info(
        &self,
        rtxn: &RoTxn<'_>,
        name: Option<&str>,
    ) -> Result<Option<DatabaseInfo>> {
        self.check_txn_env(rtxn.env_id())?;
        let Some(dbi) = rtxn.find_tree(name)? else {
            return Ok(None);
        };
        let tree = rtxn.tree(dbi)?;
        let mut flags = DatabaseFlags::empty();
        if tree.flags.contains(TreeFlags::INTEGER_KEY) {
            flags |= DatabaseFlags::INTEGER_KEY;
        }
        if tree.flags.contains(TreeFlags::REVERSE_KEY) {
            flags |= DatabaseFlags::REVERSE_KEY;
        }
        let key_comparator = if tree.flags.contains(TreeFlags::CUSTOM_KEY_ORDER) {
            let recorded = match name {
                None => rtxn.unnamed_key_order_name()?,
                Some(name) => rtxn.catalog_record(name)?.and_then(|(_, order)| order),
            };
            // A database created in this (write) transaction has no record yet: the name it
            // will record is the one registered when it was created.
            let recorded = recorded.or_else(|| {
                rtxn.env
                    .key_orders()
                    .get(dbi)
                    .map(|custom| custom.name.clone())
            });
            // Only a damaged catalog loses the name; a tool must not take the order for none.
            Some(recorded.ok_or_else(|| Error::Incompatible {
                name: name.map(str::to_owned),
                reason:
                    "its keys are ordered by a comparator whose name is not recorded".to_owned(),
            })?)
        } else {
            None
        };
        Ok(Some(DatabaseInfo {
            flags,
            key_comparator,
            stat: DatabaseStat::of(&tree, self.page_size()),
        }))
    }
}
