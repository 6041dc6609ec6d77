//! [`DatabaseOpenOptions`]: heed's builder for opening and creating databases.

use std::marker::PhantomData;

use super::database::Database;
use crate::env::Env;
use crate::error::Result;
use crate::flags::DatabaseFlags;
use crate::txn::{RoTxn, RwTxn};

/// The codec of a [`DatabaseOpenOptions`] whose types are not chosen yet.
pub enum Unspecified {}

/// Options for opening or creating a database, from
/// [`Env::database_options`](crate::Env::database_options).
///
/// ```
/// use arbordb::types::{Str, U32};
/// use arbordb::byteorder::BigEndian;
/// # fn main() -> Result<(), arbordb::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let scores = env.database_options().types::<Str, U32<BigEndian>>().name("scores").create(&mut wtxn)?;
/// scores.put(&mut wtxn, "alice", &42)?;
/// wtxn.commit()?;
/// # Ok(()) }
/// ```
pub struct DatabaseOpenOptions<'e, 'n, KC, DC> {
    env: &'e Env,
    name: Option<&'n str>,
    flags: DatabaseFlags,
    types: PhantomData<fn() -> (KC, DC)>,
}

impl<'e> DatabaseOpenOptions<'e, 'static, Unspecified, Unspecified> {
    pub(crate) fn new(env: &'e Env) -> Self {
        DatabaseOpenOptions {
            env,
            name: None,
            flags: DatabaseFlags::empty(),
            types: PhantomData,
        }
    }
}

impl<'e, 'n, KC, DC> DatabaseOpenOptions<'e, 'n, KC, DC> {
    /// Chooses the key and data codecs.
    pub fn types<NKC, NDC>(self) -> DatabaseOpenOptions<'e, 'n, NKC, NDC> {
        DatabaseOpenOptions {
            env: self.env,
            name: self.name,
            flags: self.flags,
            types: PhantomData,
        }
    }

    /// Names the database (without a name: the unnamed database).
    pub fn name(&mut self, name: &'n str) -> &mut Self {
        self.name = Some(name);
        self
    }

    /// Sets the database flags. arbordb has none yet; this exists for heed code.
    pub fn flags(&mut self, flags: DatabaseFlags) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Opens the database if it exists in `rtxn`'s snapshot.
    pub fn open(&self, rtxn: &RoTxn<'_>) -> Result<Option<Database<KC, DC>>>
    where
        KC: 'static,
        DC: 'static,
    {
        self.env.open_database(rtxn, self.name)
    }

    /// Opens the database, creating it in `wtxn` if missing.
    pub fn create(&self, wtxn: &mut RwTxn<'_>) -> Result<Database<KC, DC>>
    where
        KC: 'static,
        DC: 'static,
    {
        self.env.create_database(wtxn, self.name)
    }
}
