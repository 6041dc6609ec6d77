//! The methods of [`Env`] that hand out typed databases: written in the db layer, which knows
//! [`Database`], so that the environment's own module never reaches up into it.

use super::database::{Database, DatabaseStat};
use super::options::{DatabaseOpenOptions, Unspecified};
use crate::env::Env;
use crate::error::Result;
use crate::txn::shape::DatabaseShape;
use crate::txn::{RoTxn, RwTxn};

impl<T> Env<T> {
    /// A builder for opening or creating a database, as heed's.
    pub fn database_options(
        &self,
    ) -> DatabaseOpenOptions<'_, 'static, T, Unspecified, Unspecified> {
        DatabaseOpenOptions::new(self)
    }

    /// Opens the database `name` (`None`: the unnamed one), creating it in `wtxn` if missing.
    ///
    /// The new name is visible to other transactions once `wtxn` commits. Returns
    /// [`Error::Mdb(MdbError::DbsFull)`](crate::MdbError::DbsFull) when the environment already
    /// handles `max_dbs` named databases.
    pub fn create_database<KC: 'static, DC: 'static>(
        &self,
        wtxn: &mut RwTxn<'_>,
        name: Option<&str>,
    ) -> Result<Database<KC, DC>> {
        self.create_shaped(wtxn, name, &DatabaseShape::plain())
    }

    /// Opens the database `name` (`None`: the unnamed one) as it exists in `rtxn`'s snapshot;
    /// `Ok(None)` when it does not exist there.
    pub fn open_database<KC: 'static, DC: 'static>(
        &self,
        rtxn: &RoTxn<'_>,
        name: Option<&str>,
    ) -> Result<Option<Database<KC, DC>>> {
        self.open_shaped(rtxn, name, &DatabaseShape::plain())
    }

    #[cfg(feature = "scoped")]
    /// [`Env::create_database`] for a layer built on byte-ordered trees of one value per key
    /// (scopes): any other shape is
    /// [`Error::Mdb(MdbError::IncompatibleDatabase)`](crate::MdbError::IncompatibleDatabase).
    pub(crate) fn create_byte_ordered_database<KC: 'static, DC: 'static>(
        &self,
        wtxn: &mut RwTxn<'_>,
        name: Option<&str>,
    ) -> Result<Database<KC, DC>> {
        self.create_shaped(wtxn, name, &DatabaseShape::byte_ordered())
    }

    #[cfg(feature = "scoped")]
    /// [`Env::open_database`] for a layer built on byte-ordered trees of one value per key.
    pub(crate) fn open_byte_ordered_database<KC: 'static, DC: 'static>(
        &self,
        rtxn: &RoTxn<'_>,
        name: Option<&str>,
    ) -> Result<Option<Database<KC, DC>>> {
        self.open_shaped(rtxn, name, &DatabaseShape::byte_ordered())
    }

    /// The database `name`, created in `wtxn` with `shape` if missing (else checked against
    /// it): what every create of a typed handle comes to.
    pub(super) fn create_shaped<KC, DC, C, CDUP>(
        &self,
        wtxn: &mut RwTxn<'_>,
        name: Option<&str>,
        shape: &DatabaseShape,
    ) -> Result<Database<KC, DC, C, CDUP>> {
        self.check_txn_env(wtxn.env_id())?;
        let dbi = wtxn.create_tree(name, shape)?;
        Ok(Database::new(self.id(), dbi))
    }

    /// The database `name` as it exists in `rtxn`'s snapshot, checked against `shape`: what
    /// every open of a typed handle comes to.
    pub(super) fn open_shaped<KC, DC, C, CDUP>(
        &self,
        rtxn: &RoTxn<'_>,
        name: Option<&str>,
        shape: &DatabaseShape,
    ) -> Result<Option<Database<KC, DC, C, CDUP>>> {
        self.check_txn_env(rtxn.env_id())?;
        Ok(rtxn
            .open_tree(name, shape)?
            .map(|dbi| Database::new(self.id(), dbi)))
    }

    /// Statistics of the unnamed database, as LMDB's `mdb_env_stat`.
    pub fn stat(&self) -> DatabaseStat {
        DatabaseStat::of(&self.main_tree(), self.page_size())
    }
}
