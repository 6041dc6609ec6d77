//! Helpers shared by the scope tests.

use std::sync::Arc;

use arbordb::scoped::{
    scoped_database_options, GlobalScopeRegistry, Scope, ScopedBytesDatabase, ScopedDatabase,
};
use arbordb::Env;

/// A registry and two scoped databases, `bytes` (raw bytes) and `typed` (`String -> u64`),
/// created and committed.
pub fn setup(
    env: &Env,
) -> (
    Arc<GlobalScopeRegistry>,
    ScopedBytesDatabase,
    ScopedDatabase<String, u64>,
) {
    let mut wtxn = env.write_txn().unwrap();
    let registry = Arc::new(GlobalScopeRegistry::new(env, &mut wtxn).unwrap());
    let bytes = scoped_database_options(env, registry.clone())
        .raw_bytes()
        .name("bytes")
        .create(&mut wtxn)
        .unwrap();
    let typed = scoped_database_options(env, registry.clone())
        .types::<String, u64>()
        .name("typed")
        .create(&mut wtxn)
        .unwrap();
    wtxn.commit().unwrap();
    (registry, bytes, typed)
}

/// The named scope `name`.
pub fn named(name: &str) -> Scope {
    Scope::named(name).unwrap()
}
