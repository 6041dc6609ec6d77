//! [`DatabaseInfo`]: how a database orders its keys and how large it is, read without
//! opening it, so that tools can describe (or refuse) a database whose comparator they
//! cannot give.

use super::database::DatabaseStat;
use crate::env::Env;
use crate::error::Result;
use crate::flags::DatabaseFlags;
use crate::page::meta::TreeFlags;
use crate::txn::RoTxn;

/// What a database records about itself: its flags, the name of its custom key comparator,
/// and its statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseInfo {
    /// The built-in flags it was created with ([`DatabaseFlags::INTEGER_KEY`],
    /// [`DatabaseFlags::REVERSE_KEY`], [`DatabaseFlags::DUP_SORT`] and its orders of values).
    pub flags: DatabaseFlags,
    /// The [`name`](crate::Comparator::name) of the application's comparator its keys are
    /// ordered by, if any: opening it then needs that comparator.
    pub key_comparator: Option<String>,
    /// The name of the application's comparator a duplicate-sorted database orders a key's
    /// values by, if any.
    pub value_comparator: Option<String>,
    /// Its statistics, as [`Database::stat`](crate::Database::stat) gives them.
    pub stat: DatabaseStat,
}

impl<T> Env<T> {
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
        for (tree_flag, flag) in [
            (TreeFlags::INTEGER_KEY, DatabaseFlags::INTEGER_KEY),
            (TreeFlags::REVERSE_KEY, DatabaseFlags::REVERSE_KEY),
            (TreeFlags::DUP_SORT, DatabaseFlags::DUP_SORT),
            (TreeFlags::DUP_FIXED, DatabaseFlags::DUP_FIXED),
            (TreeFlags::INTEGER_DUP, DatabaseFlags::INTEGER_DUP),
            (TreeFlags::REVERSE_DUP, DatabaseFlags::REVERSE_DUP),
        ] {
            if tree.flags.contains(tree_flag) {
                flags |= flag;
            }
        }
        // The names the database records (or, created in this transaction, will record).
        let names = rtxn
            .custom_orders(dbi)
            .map(|custom| custom.names.clone())
            .unwrap_or_default();
        let key_comparator = names.keys;
        let value_comparator = names.values;
        Ok(Some(DatabaseInfo {
            flags,
            key_comparator,
            value_comparator,
            stat: DatabaseStat::of(&tree, self.page_size()),
        }))
    }
}
