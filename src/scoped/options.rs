//! [`scoped_database_options`]: the builder for the three kinds of scoped database.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::{Env, RwTxn};

use super::codec::{Bincode, OrderedKey, RawBytes, ScopedKeyCodec, ScopedValueCodec};
use super::database::ScopedDb;
use super::error::ScopedDbError;
use super::registry::GlobalScopeRegistry;

/// Starts building a scoped database on `env` that shares `registry`:
///
/// ```
/// use std::sync::Arc;
/// use arbordb::scoped::{scoped_database_options, GlobalScopeRegistry, Scope};
/// # fn main() -> Result<(), arbordb::scoped::ScopedDbError> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = unsafe { arbordb::EnvOpenOptions::new().max_dbs(8).open(dir.path())? };
/// let mut wtxn = env.write_txn()?;
/// let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
/// let users = scoped_database_options(&env, registry)
///     .types::<String, u32>()
///     .name("users")
///     .create(&mut wtxn)?;
/// let tenant = Scope::named("tenant1")?;
/// users.put(&mut wtxn, &tenant, &"alice".to_string(), &7)?;
/// wtxn.commit()?;
///
/// let rtxn = env.read_txn()?;
/// assert_eq!(users.get(&rtxn, &tenant, &"alice".to_string())?, Some(7));
/// assert_eq!(users.get(&rtxn, &Scope::Default, &"alice".to_string())?, None);
/// # Ok(()) }
/// ```
pub fn scoped_database_options(
    env: &Env,
    registry: Arc<GlobalScopeRegistry>,
) -> ScopedDatabaseOptions<'_> {
    ScopedDatabaseOptions { env, registry }
}

/// The first step of [`scoped_database_options`]: choose the kind.
pub struct ScopedDatabaseOptions<'env> {
    env: &'env Env,
    registry: Arc<GlobalScopeRegistry>,
}

impl<'env> ScopedDatabaseOptions<'env> {
    /// A [`ScopedDatabase<K, V>`](super::ScopedDatabase): serde keys in an order-preserving
    /// encoding, serde values in bincode.
    pub fn types<K, V>(self) -> ScopedOptions<'env, OrderedKey<K>, Bincode<V>>
    where
        OrderedKey<K>: ScopedKeyCodec,
        Bincode<V>: ScopedValueCodec,
    {
        self.kind()
    }

    /// A [`ScopedBytesKeyDatabase<V>`](super::ScopedBytesKeyDatabase): raw byte keys, serde
    /// values in bincode.
    pub fn bytes_keys<V>(self) -> ScopedOptions<'env, RawBytes, Bincode<V>>
    where
        Bincode<V>: ScopedValueCodec,
    {
        self.kind()
    }

    /// A [`ScopedBytesDatabase`](super::ScopedBytesDatabase): raw byte keys and values.
    pub fn raw_bytes(self) -> ScopedOptions<'env, RawBytes, RawBytes> {
        self.kind()
    }

    fn kind<KS, VS>(self) -> ScopedOptions<'env, KS, VS> {
        ScopedOptions {
            env: self.env,
            registry: self.registry,
            name: None,
            marker: PhantomData,
        }
    }
}

/// The second step of [`scoped_database_options`]: name the database and create it.
pub struct ScopedOptions<'env, KS, VS> {
    env: &'env Env,
    registry: Arc<GlobalScopeRegistry>,
    name: Option<String>,
    marker: PhantomData<fn() -> (KS, VS)>,
}

impl<KS: ScopedKeyCodec, VS: ScopedValueCodec> ScopedOptions<'_, KS, VS> {
    /// The database's name (required).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Opens or creates the database in `wtxn`; without a name, [`ScopedDbError::InvalidInput`].
    pub fn create(self, wtxn: &mut RwTxn<'_>) -> Result<ScopedDb<KS, VS>, ScopedDbError> {
        let name = self
            .name
            .ok_or_else(|| ScopedDbError::InvalidInput("a scoped database needs a name".into()))?;
        ScopedDb::create(self.env, &name, wtxn, self.registry)
    }
}
