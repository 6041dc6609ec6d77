//! [`DatabaseOpenOptions`]: heed's builder for opening and creating databases.

use std::marker::PhantomData;

use super::comparator::{shape_of, Comparator, DefaultComparator};
use super::database::{Database, Types};
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
/// let scores = env
///     .database_options()
///     .types::<Str, U32<BigEndian>>()
///     .name("scores")
///     .create(&mut wtxn)?;
/// scores.put(&mut wtxn, "alice", &42)?;
/// wtxn.commit()?;
/// # Ok(()) }
/// ```
pub struct DatabaseOpenOptions<'e, 'n, T, KC, DC, C = DefaultComparator, CDUP = DefaultComparator> {
    env: &'e Env<T>,
    name: Option<&'n str>,
    flags: DatabaseFlags,
    types: Types<KC, DC, C, CDUP>,
}

/// Copyable whatever its types, so that a chain that takes `&mut self` (`name`, `flags`) can
/// go on with a method that takes `self` (`types`, `key_comparator`, `dup_sort_comparator`),
/// as heed's cookbook writes it.
impl<KC, DC, C, CDUP, T> Clone for DatabaseOpenOptions<'_, '_, T, KC, DC, C, CDUP> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<KC, DC, C, CDUP, T> Copy for DatabaseOpenOptions<'_, '_, T, KC, DC, C, CDUP> {}

impl<'e, T> DatabaseOpenOptions<'e, 'static, T, Unspecified, Unspecified> {
    pub(crate) fn new(env: &'e Env<T>) -> Self {
        DatabaseOpenOptions {
            env,
            name: None,
            flags: DatabaseFlags::empty(),
            types: PhantomData,
        }
    }
}

impl<'e, 'n, T, KC, DC, C, CDUP> DatabaseOpenOptions<'e, 'n, T, KC, DC, C, CDUP> {
    /// Chooses the key and data codecs.
    pub fn types<NKC, NDC>(self) -> DatabaseOpenOptions<'e, 'n, T, NKC, NDC, C, CDUP> {
        DatabaseOpenOptions {
            env: self.env,
            name: self.name,
            flags: self.flags,
            types: PhantomData,
        }
    }

    /// Chooses the order of the database's keys: [`IntegerComparator`](crate::IntegerComparator)
    /// (which records [`DatabaseFlags::INTEGER_KEY`]) or an application's [`Comparator`],
    /// whose [`name`](Comparator::name) the database records. It must be given whenever the
    /// database is opened again.
    pub fn key_comparator<NC>(self) -> DatabaseOpenOptions<'e, 'n, T, KC, DC, NC, CDUP> {
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

    /// Chooses the order of a key's values in a duplicate-sorted database
    /// ([`DatabaseFlags::DUP_SORT`]): [`IntegerComparator`](crate::IntegerComparator) (which
    /// records [`DatabaseFlags::INTEGER_DUP`]) or an application's [`Comparator`], whose
    /// [`name`](Comparator::name) the database records. Without `DUP_SORT` it is not used,
    /// as in LMDB.
    pub fn dup_sort_comparator<NCDUP>(self) -> DatabaseOpenOptions<'e, 'n, T, KC, DC, C, NCDUP> {
        DatabaseOpenOptions {
            env: self.env,
            name: self.name,
            flags: self.flags,
            types: PhantomData,
        }
    }

    /// Sets the database's flags, recorded when it is created.
    pub fn flags(&mut self, flags: DatabaseFlags) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Opens the database if it exists in `rtxn`'s snapshot.
    ///
    /// With no flags and the default comparator, the database opens as it was created (a
    /// built-in order such as `INTEGER_KEY` comes with it, as in LMDB), unless its keys are
    /// ordered by an application's comparator: that one must be given. Otherwise the flags
    /// and comparator must be the ones it was created with, else
    /// [`Error::Mdb(MdbError::IncompatibleDatabase)`](crate::MdbError::IncompatibleDatabase).
    pub fn open(&self, rtxn: &RoTxn<'_>) -> Result<Option<Database<KC, DC, C, CDUP>>>
    where
        KC: 'static,
        DC: 'static,
        C: Comparator + 'static,
        CDUP: Comparator + 'static,
    {
        let shape = shape_of::<C, CDUP>(self.flags);
        self.env.open_shaped(rtxn, self.name, &shape)
    }

    /// Opens the database, creating it in `wtxn` with these flags and comparator if missing
    /// (the unnamed database, which always exists, takes them while it is empty). An existing
    /// database is checked as [`open`](Self::open) does.
    pub fn create(&self, wtxn: &mut RwTxn<'_>) -> Result<Database<KC, DC, C, CDUP>>
    where
        KC: 'static,
        DC: 'static,
        C: Comparator + 'static,
        CDUP: Comparator + 'static,
    {
        let shape = shape_of::<C, CDUP>(self.flags);
        self.env.create_shaped(wtxn, self.name, &shape)
    }
}
