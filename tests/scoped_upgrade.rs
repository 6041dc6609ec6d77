//! Files whose scoped data was written by a release without owner records. Their keys belong
//! to the name registered for their hash until this release changes a registration; before it
//! does, it gives every scoped database of the file the owner records the registry implies.
//! So no sequence of opening, creating, pruning with some databases, unregistering and
//! registering hides a scope's data from it or lets a colliding name read it, and keys that
//! the older release left under no registration stay no name's until claimed explicitly.

mod common;

use std::sync::Arc;

use arbordb::scoped::{
    GlobalScopeRegistry, Scope, ScopeEmptinessChecker, ScopedBytesDatabase, ScopedDbError,
};
use arbordb::types::Bytes;
use arbordb::{Database, Env, RwTxn};

/// Two names with one hash (checked in `src/scoped/hash.rs`).
const OWNER: &str = "scope_33896";
const INTRUDER: &str = "scope_112499";

fn named(name: &str) -> Scope {
    Scope::named(name).unwrap()
}

fn hash_of(name: &str) -> u32 {
    named(name).hash().unwrap()
}

fn plain(env: &Env, wtxn: &mut RwTxn<'_>, name: &str) -> Database<Bytes, Bytes> {
    env.create_database(wtxn, Some(name)).unwrap()
}

/// Writes what a release without owner records left: the scoped databases `one` and `two`
/// (each the pair `NAME`, `NAME_scoped`), the owner's keys in `one` only, `extra` keys
/// written into `one_scoped` as they are, and the owner in the registry if `registered`.
fn write_older_file(env: &Env, registered: bool, extra: &[&[u8]]) {
    let mut wtxn = env.write_txn().unwrap();
    let registry = plain(env, &mut wtxn, GlobalScopeRegistry::GLOBAL_METADATA_DB_NAME);
    for name in ["one", "one_scoped", "two", "two_scoped"] {
        plain(env, &mut wtxn, name);
    }
    let one = plain(env, &mut wtxn, "one_scoped");
    let hash = hash_of(OWNER).to_be_bytes();
    if registered {
        registry.put(&mut wtxn, &hash, OWNER.as_bytes()).unwrap();
    }
    for key in [&b"k1"[..], b"k2"] {
        let stored = [&hash[..], key].concat();
        one.put(&mut wtxn, &stored, b"old value").unwrap();
    }
    for key in extra {
        one.put(&mut wtxn, key, b"foreign").unwrap();
    }
    wtxn.commit().unwrap();
}

/// Asserts that `error` is the intruder's collision with the owner.
fn collision(error: ScopedDbError) {
    match error {
        ScopedDbError::HashCollision {
            name, registered, ..
        } => assert_eq!((name.as_str(), registered.as_str()), (INTRUDER, OWNER)),
        other => panic!("expected a collision, got {other:?}"),
    }
}

fn orphaned<T: std::fmt::Debug>(result: Result<T, ScopedDbError>) {
    assert!(
        matches!(result, Err(ScopedDbError::InvalidInput(_))),
        "{result:?}"
    );
}

/// The registry and the two databases, opened the way `how` says: "new" and "create" (which
/// upgrade the file at once), or "open" (which writes nothing).
fn handles(
    env: &Env,
    how: &str,
) -> (
    Arc<GlobalScopeRegistry>,
    ScopedBytesDatabase,
    ScopedBytesDatabase,
) {
    let mut wtxn = env.write_txn().unwrap();
    let registry = Arc::new(match how {
        "new" => GlobalScopeRegistry::new(env, &mut wtxn).unwrap(),
        _ => GlobalScopeRegistry::open(env, &wtxn).unwrap().unwrap(),
    });
    let open = |name: &str, wtxn: &mut RwTxn<'_>| match how {
        "open" => ScopedBytesDatabase::open(env, name, wtxn, registry.clone())
            .unwrap()
            .unwrap(),
        _ => ScopedBytesDatabase::create(env, name, wtxn, registry.clone()).unwrap(),
    };
    // `two` first: creating `one` must not be what saves the owner's data.
    let two = open("two", &mut wtxn);
    let one = open("one", &mut wtxn);
    wtxn.commit().unwrap();
    (registry, one, two)
}

/// Every way for the intruder to reach the owner's data is refused, `one` holding the data
/// and `two` holding none of it.
fn intruder_never_reads(
    env: &Env,
    registry: &GlobalScopeRegistry,
    one: &ScopedBytesDatabase,
    two: &ScopedBytesDatabase,
) {
    let intruder = named(INTRUDER);
    let mut wtxn = env.write_txn().unwrap();
    for db in [one, two] {
        collision(db.get(&wtxn, &intruder, b"k1").unwrap_err());
        collision(db.iter(&wtxn, &intruder).err().unwrap());
        collision(db.len(&wtxn, &intruder).unwrap_err());
        collision(db.put(&mut wtxn, &intruder, b"k1", b"x").unwrap_err());
        collision(db.register_scope(&mut wtxn, &intruder).unwrap_err());
        collision(db.claim_orphaned_data(&mut wtxn, &intruder).unwrap_err());
    }
    collision(registry.register_scope(&mut wtxn, &intruder).unwrap_err());
    collision(registry.scope_exists(&wtxn, &intruder).unwrap_err());
    wtxn.abort();
}

#[test]
fn a_scope_of_an_older_file_keeps_its_data_through_pruning_and_unregistering() {
    for how in ["new", "create", "open"] {
        for step in ["prune with two", "unregister"] {
            let dir = tempfile::tempdir().unwrap();
            let env = common::open(dir.path());
            write_older_file(&env, true, &[]);
            let (registry, one, two) = handles(&env, how);
            let mut wtxn = env.write_txn().unwrap();
            match step {
                "prune with two" => {
                    let only_two: [&dyn ScopeEmptinessChecker; 1] = [&two];
                    let pruned = registry
                        .prune_globally_unused_scopes(&mut wtxn, &only_two)
                        .unwrap();
                    assert_eq!(pruned, 1, "{how}, {step}");
                }
                _ => registry
                    .unregister_scope(&mut wtxn, &hash_of(OWNER))
                    .unwrap(),
            }
            wtxn.commit().unwrap();

            // Creating `one` afterwards changes nothing.
            let mut wtxn = env.write_txn().unwrap();
            let one_again =
                ScopedBytesDatabase::create(&env, "one", &mut wtxn, registry.clone()).unwrap();
            wtxn.commit().unwrap();
            for db in [&one, &one_again] {
                let rtxn = env.read_txn().unwrap();
                assert_eq!(
                    db.get(&rtxn, &named(OWNER), b"k1")
                        .unwrap_or_else(|error| panic!("{how}, {step}: {error}")),
                    Some(&b"old value"[..])
                );
                assert_eq!(db.len(&rtxn, &named(OWNER)).unwrap(), 2);
                assert_eq!(db.scopes_with_data(&rtxn).unwrap(), [named(OWNER)]);
            }
            assert!(!registry
                .scope_exists(&env.read_txn().unwrap(), &named(OWNER))
                .unwrap());
            intruder_never_reads(&env, &registry, &one_again, &two);

            // The owner's next write lists it again, and the intruder stays out.
            let mut wtxn = env.write_txn().unwrap();
            one.put(&mut wtxn, &named(OWNER), b"k3", b"new").unwrap();
            assert!(registry.scope_exists(&wtxn, &named(OWNER)).unwrap());
            wtxn.commit().unwrap();
            intruder_never_reads(&env, &registry, &one, &two);
            common::assert_sound(&env);
        }
    }
}

#[test]
fn data_an_older_release_left_unregistered_is_never_inherited() {
    for how in ["new", "create", "open"] {
        let dir = tempfile::tempdir().unwrap();
        let env = common::open(dir.path());
        write_older_file(&env, false, &[]);
        let (registry, one, two) = handles(&env, how);
        let intruder = named(INTRUDER);

        // The hash is free as far as anything in the file can tell, so the intruder may
        // register and write where the keys are not; the keys stay no name's.
        let mut wtxn = env.write_txn().unwrap();
        two.put(&mut wtxn, &intruder, b"mine", b"intruder's")
            .unwrap_or_else(|error| panic!("{how}: {error}"));
        registry.register_scope(&mut wtxn, &intruder).unwrap();
        one.register_scope(&mut wtxn, &named("other")).unwrap();
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        orphaned(one.get(&wtxn, &intruder, b"k1"));
        orphaned(one.iter(&wtxn, &intruder).map(drop));
        orphaned(one.len(&wtxn, &intruder));
        orphaned(one.put(&mut wtxn, &intruder, b"k1", b"x"));
        orphaned(one.clear(&mut wtxn, &intruder));
        orphaned(one.scopes_with_data(&wtxn));
        // The owner, now colliding with the registered intruder, cannot reach them either.
        assert!(matches!(
            one.get(&wtxn, &named(OWNER), b"k1"),
            Err(ScopedDbError::HashCollision { .. })
        ));
        wtxn.abort();

        // Once the intruder is gone, the keys go to whoever claims them, explicitly.
        let mut wtxn = env.write_txn().unwrap();
        two.clear(&mut wtxn, &intruder).unwrap();
        registry
            .unregister_scope(&mut wtxn, &hash_of(INTRUDER))
            .unwrap();
        orphaned(one.get(&wtxn, &named(OWNER), b"k1"));
        assert!(one.claim_orphaned_data(&mut wtxn, &named(OWNER)).unwrap());
        wtxn.commit().unwrap();
        let rtxn = env.read_txn().unwrap();
        assert_eq!(
            one.get(&rtxn, &named(OWNER), b"k2").unwrap(),
            Some(&b"old value"[..])
        );
        drop(rtxn);
        intruder_never_reads(&env, &registry, &one, &two);
    }
}

#[test]
fn upgrading_passes_over_keys_shorter_than_a_scope_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    // Keys of 1 to 3 bytes sort between and around the 4-byte prefixes.
    write_older_file(
        &env,
        true,
        &[&[0x00], &[0x01], &[0x7f, 0xff, 0xff], &[0xff]],
    );
    let (registry, one, two) = handles(&env, "create");
    let mut wtxn = env.write_txn().unwrap();
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(one.len(&rtxn, &named(OWNER)).unwrap(), 2);
    // Naming every scope with data still meets the foreign keys.
    orphaned(one.scopes_with_data(&rtxn));
    drop(rtxn);
    intruder_never_reads(&env, &registry, &one, &two);
}

#[test]
fn the_upgrade_is_done_once_and_leaves_plain_databases_alone() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    write_older_file(&env, true, &[]);
    // A plain database whose name merely ends like a scoped tree's.
    let mut wtxn = env.write_txn().unwrap();
    let notes = plain(&env, &mut wtxn, "notes_scoped");
    notes.put(&mut wtxn, b"k", b"v").unwrap();
    wtxn.commit().unwrap();
    let entries = |env: &Env| -> Vec<(Vec<u8>, Vec<u8>)> {
        let rtxn = env.read_txn().unwrap();
        let registry: Database<Bytes, Bytes> = env
            .open_database(&rtxn, Some(GlobalScopeRegistry::GLOBAL_METADATA_DB_NAME))
            .unwrap()
            .unwrap();
        registry
            .iter(&rtxn)
            .unwrap()
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (key.to_vec(), value.to_vec())
            })
            .collect()
    };

    let mut wtxn = env.write_txn().unwrap();
    GlobalScopeRegistry::new(&env, &mut wtxn).unwrap();
    wtxn.commit().unwrap();
    let upgraded = entries(&env);
    // The mark, the registration, and the owner's record in `one_scoped`.
    assert_eq!(upgraded.len(), 3, "{upgraded:?}");
    let record = [&hash_of(OWNER).to_be_bytes()[..], b"one_scoped"].concat();
    assert!(upgraded.contains(&(record, OWNER.as_bytes().to_vec())));
    let rtxn = env.read_txn().unwrap();
    assert_eq!(notes.len(&rtxn).unwrap(), 1, "no mark in a plain database");
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn).unwrap());
    ScopedBytesDatabase::create(&env, "one", &mut wtxn, registry).unwrap();
    wtxn.commit().unwrap();
    assert_eq!(entries(&env), upgraded);
    common::assert_sound(&env);
}
