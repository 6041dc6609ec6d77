//! Managing scopes: registering, listing, finding and pruning empty scopes across several
//! databases that share one registry, what happens when two names share a hash, and what
//! pruning with a database left out does (nothing to the data).
//!
//! Run it with `cargo run --example scope_management`.

use std::sync::Arc;

use arbordb::scoped::{
    scoped_database_options, GlobalScopeRegistry, Scope, ScopeEmptinessChecker, ScopedDbError,
};
use arbordb::EnvOpenOptions;

fn names(scopes: &[Scope]) -> Vec<&str> {
    scopes
        .iter()
        .map(|scope| scope.name().unwrap_or("(default)"))
        .collect()
}

fn main() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().map_err(arbordb::Error::Io)?;
    // SAFETY: nothing else touches this fresh directory while the environment is open.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(64 << 20)
            .max_dbs(8)
            .open(dir.path())?
    };

    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    let documents = scoped_database_options(&env, registry.clone())
        .bytes_keys::<String>()
        .name("documents")
        .create(&mut wtxn)?;
    let counters = scoped_database_options(&env, registry.clone())
        .types::<String, u64>()
        .name("counters")
        .create(&mut wtxn)?;

    let (staging, production, archive) = (
        Scope::named("staging")?,
        Scope::named("production")?,
        Scope::named("archive")?,
    );
    documents.put(&mut wtxn, &staging, b"readme", &"draft".to_string())?;
    counters.put(&mut wtxn, &production, &"visits".to_string(), &42)?;
    documents.register_scope(&mut wtxn, &archive)?; // registered, but holds nothing
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let all = registry.list_all_scopes(&rtxn)?;
    println!("registered scopes: {:?}", names(&all));
    assert_eq!(all[0], Scope::Default, "the default scope is listed first");
    assert_eq!(all.len(), 4);
    println!(
        "documents has data in {:?}",
        names(&documents.scopes_with_data(&rtxn)?)
    );
    println!(
        "counters has data in {:?}",
        names(&counters.scopes_with_data(&rtxn)?)
    );
    assert_eq!(
        documents.scopes_with_data(&rtxn)?,
        std::slice::from_ref(&staging)
    );
    println!(
        "empty in documents: {}, in counters: {}",
        documents.find_empty_scopes(&rtxn)?,
        counters.find_empty_scopes(&rtxn)?
    );
    assert_eq!(documents.find_empty_scopes(&rtxn)?, 2); // production, archive
    assert_eq!(counters.find_empty_scopes(&rtxn)?, 2); // staging, archive
    let hash = production.hash().unwrap();
    assert_eq!(
        registry.get_scope_name(&rtxn, &hash)?.as_deref(),
        Some("production")
    );
    assert_eq!(registry.lookup_scope_hash(&rtxn, "production")?, Some(hash));
    drop(rtxn);

    // Pruning asks every database: only "archive" is empty everywhere.
    let mut wtxn = env.write_txn()?;
    let databases: [&dyn ScopeEmptinessChecker; 2] = [&documents, &counters];
    let pruned = registry.prune_globally_unused_scopes(&mut wtxn, &databases)?;
    wtxn.commit()?;
    println!("pruned {pruned} scope(s)");
    assert_eq!(pruned, 1);
    let rtxn = env.read_txn()?;
    assert!(!registry.scope_exists(&rtxn, &archive)?);
    assert!(registry.scope_exists(&rtxn, &staging)? && registry.scope_exists(&rtxn, &production)?);
    drop(rtxn);

    // Two names with one hash: the first owns it, the second is refused everywhere.
    let mut wtxn = env.write_txn()?;
    let (owner, intruder) = (Scope::named("scope_33896")?, Scope::named("scope_112499")?);
    counters.put(&mut wtxn, &owner, &"n".to_string(), &1)?;
    let clash = counters.get(&wtxn, &intruder, &"n".to_string());
    println!("reading scope_112499: {}", clash.as_ref().unwrap_err());
    assert!(matches!(clash, Err(ScopedDbError::HashCollision { .. })));
    wtxn.commit()?;

    // Pruning with `counters` left out unregisters the owner, which holds data only there.
    // That takes it off the list and nothing more: its data is still its own.
    let mut wtxn = env.write_txn()?;
    let pruned = registry.prune_globally_unused_scopes(&mut wtxn, &[&documents])?;
    assert_eq!(pruned, 2); // production and scope_33896 look empty in documents
    assert!(!registry.scope_exists(&wtxn, &owner)?);
    assert_eq!(counters.get(&wtxn, &owner, &"n".to_string())?, Some(1));
    let clash = counters.get(&wtxn, &intruder, &"n".to_string());
    assert!(matches!(clash, Err(ScopedDbError::HashCollision { .. })));
    counters.put(&mut wtxn, &owner, &"n".to_string(), &2)?; // and registers it again
    assert!(registry.scope_exists(&wtxn, &owner)?);
    println!(
        "after pruning with documents only: scope_33896 still reads n = {:?}",
        counters.get(&wtxn, &owner, &"n".to_string())?
    );
    wtxn.commit()?;
    Ok(())
}
