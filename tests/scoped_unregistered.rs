//! A scope's data outlives its registration: after `unregister_scope`, or pruning with only
//! some of the databases, the scope's name still reads and writes its data, while another name
//! with the same hash is still refused. The owner records that make this so never show up in
//! what users read, leave with the scope's last entry, and are written for data of files made
//! before they existed.

mod common;

use std::sync::Arc;

use arbordb::scoped::{
    scoped_database_options, GlobalScopeRegistry, Scope, ScopeEmptinessChecker,
    ScopedBytesDatabase, ScopedDatabase, ScopedDbError,
};
use arbordb::types::Bytes;
use arbordb::{Database, Env};
use common::scopes::{named, setup};

/// Two names with one hash (checked in `src/scoped/hash.rs`).
const OWNER: &str = "scope_33896";
const INTRUDER: &str = "scope_112499";

fn hash_of(name: &str) -> u32 {
    named(name).hash().unwrap()
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn entries(db: &ScopedBytesDatabase, txn: &arbordb::RoTxn<'_>, scope: &Scope) -> Vec<Vec<u8>> {
    db.iter(txn, scope)
        .unwrap()
        .map(|entry| entry.unwrap().0.to_vec())
        .collect()
}

/// Asserts that `error` is the intruder's collision with the owner.
fn collision(error: ScopedDbError) {
    match error {
        ScopedDbError::HashCollision {
            name,
            registered,
            hash,
        } => {
            assert_eq!((name.as_str(), registered.as_str()), (INTRUDER, OWNER));
            assert_eq!(hash, hash_of(OWNER));
        }
        other => panic!("expected a collision, got {other:?}"),
    }
}

/// Every operation of the intruder, on both databases, fails with a collision.
fn intruder_is_refused_everywhere(
    env: &Env,
    registry: &GlobalScopeRegistry,
    bytes: &ScopedBytesDatabase,
    typed: &ScopedDatabase<String, u64>,
) {
    let intruder = named(INTRUDER);
    let mut wtxn = env.write_txn().unwrap();
    collision(bytes.get(&wtxn, &intruder, b"k").unwrap_err());
    collision(bytes.iter(&wtxn, &intruder).err().unwrap());
    collision(bytes.rev_iter(&wtxn, &intruder).err().unwrap());
    collision(bytes.range(&wtxn, &intruder, &(..)).err().unwrap());
    collision(bytes.len(&wtxn, &intruder).unwrap_err());
    collision(bytes.is_empty(&wtxn, &intruder).unwrap_err());
    collision(bytes.first(&wtxn, &intruder).unwrap_err());
    collision(typed.get(&wtxn, &intruder, &s("k")).unwrap_err());
    collision(typed.len(&wtxn, &intruder).unwrap_err());
    collision(registry.scope_exists(&wtxn, &intruder).unwrap_err());
    collision(bytes.put(&mut wtxn, &intruder, b"k", b"x").unwrap_err());
    collision(typed.put(&mut wtxn, &intruder, &s("k"), &0).unwrap_err());
    collision(bytes.delete(&mut wtxn, &intruder, b"k").unwrap_err());
    collision(bytes.clear(&mut wtxn, &intruder).unwrap_err());
    collision(typed.clear(&mut wtxn, &intruder).unwrap_err());
    collision(bytes.register_scope(&mut wtxn, &intruder).unwrap_err());
    collision(registry.register_scope(&mut wtxn, &intruder).unwrap_err());
    collision(
        bytes
            .put_with_name(&mut wtxn, Some(INTRUDER), b"k", b"x")
            .unwrap_err(),
    );
    wtxn.abort();
}

/// The registry's database as raw bytes, to see the records the API hides; without the
/// upgrade mark (the empty key), which every registry made by this release has.
fn registry_entries(env: &Env) -> Vec<(Vec<u8>, Vec<u8>)> {
    let rtxn = env.read_txn().unwrap();
    let raw: Database<Bytes, Bytes> = env
        .open_database(&rtxn, Some(GlobalScopeRegistry::GLOBAL_METADATA_DB_NAME))
        .unwrap()
        .unwrap();
    raw.iter(&rtxn)
        .unwrap()
        .map(|entry| {
            let (key, value) = entry.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

#[test]
fn an_unregistered_scope_still_reads_and_writes_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let tenant = named("tenant");
    let mut wtxn = env.write_txn().unwrap();
    bytes.put(&mut wtxn, &tenant, b"a", b"1").unwrap();
    bytes.put(&mut wtxn, &tenant, b"b", b"2").unwrap();
    typed.put(&mut wtxn, &tenant, &s("n"), &7).unwrap();
    registry
        .unregister_scope(&mut wtxn, &tenant.hash().unwrap())
        .unwrap();
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert!(!registry.scope_exists(&rtxn, &tenant).unwrap());
    assert_eq!(registry.list_all_scopes(&rtxn).unwrap(), [Scope::Default]);
    assert_eq!(bytes.get(&rtxn, &tenant, b"a").unwrap(), Some(&b"1"[..]));
    assert_eq!(
        bytes.get_with_name(&rtxn, Some("tenant"), b"b").unwrap(),
        Some(&b"2"[..])
    );
    assert_eq!(typed.get(&rtxn, &tenant, &s("n")).unwrap(), Some(7));
    assert_eq!(
        entries(&bytes, &rtxn, &tenant),
        [b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(bytes.len(&rtxn, &tenant).unwrap(), 2);
    assert!(!bytes.is_empty(&rtxn, &tenant).unwrap());
    assert_eq!(
        bytes.last(&rtxn, &tenant).unwrap(),
        Some((&b"b"[..], &b"2"[..]))
    );
    assert_eq!(
        bytes.scopes_with_data(&rtxn).unwrap(),
        std::slice::from_ref(&tenant)
    );
    // Not registered, so not counted as an empty registered scope.
    assert_eq!(bytes.find_empty_scopes(&rtxn).unwrap(), 0);
    drop(rtxn);

    // Writes work, and the first one lists the scope again.
    let mut wtxn = env.write_txn().unwrap();
    bytes.put(&mut wtxn, &tenant, b"c", b"3").unwrap();
    assert!(bytes.delete(&mut wtxn, &tenant, b"a").unwrap());
    assert!(registry.scope_exists(&wtxn, &tenant).unwrap());
    typed.clear(&mut wtxn, &tenant).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        entries(&bytes, &rtxn, &tenant),
        [b"b".to_vec(), b"c".to_vec()]
    );
    assert!(typed.is_empty(&rtxn, &tenant).unwrap());
    assert_eq!(
        registry.list_all_scopes(&rtxn).unwrap(),
        [Scope::Default, tenant]
    );
    common::assert_sound(&env);
}

#[test]
fn pruning_with_some_of_the_databases_leaves_the_others_data_readable() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let tenant = named("typed_only");
    let mut wtxn = env.write_txn().unwrap();
    typed.put(&mut wtxn, &tenant, &s("k"), &42).unwrap();
    typed.put(&mut wtxn, &tenant, &s("l"), &43).unwrap();
    // `typed` is left out, so the scope looks unused and is unregistered.
    let only_bytes: [&dyn ScopeEmptinessChecker; 1] = [&bytes];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &only_bytes)
            .unwrap(),
        1
    );
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert!(!registry.scope_exists(&rtxn, &tenant).unwrap());
    assert_eq!(typed.get(&rtxn, &tenant, &s("k")).unwrap(), Some(42));
    let all: Vec<(String, u64)> = typed
        .range(&rtxn, &tenant, &(s("a")..))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all, [(s("k"), 42), (s("l"), 43)]);
    assert_eq!(
        typed.scopes_with_data(&rtxn).unwrap(),
        std::slice::from_ref(&tenant)
    );
    // The database that was asked holds nothing for it, as before.
    assert!(bytes.is_empty(&rtxn, &tenant).unwrap());
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    typed.put(&mut wtxn, &tenant, &s("m"), &44).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(typed.len(&rtxn, &tenant).unwrap(), 3);
    assert!(registry.scope_exists(&rtxn, &tenant).unwrap());
    // Pruning with every database now keeps it.
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    let both: [&dyn ScopeEmptinessChecker; 2] = [&bytes, &typed];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &both)
            .unwrap(),
        0
    );
}

#[test]
fn a_colliding_name_is_refused_before_and_after_the_owner_is_unregistered() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let owner = named(OWNER);
    let mut wtxn = env.write_txn().unwrap();
    bytes.put(&mut wtxn, &owner, b"k", b"owner's").unwrap();
    wtxn.commit().unwrap();
    intruder_is_refused_everywhere(&env, &registry, &bytes, &typed);

    let mut wtxn = env.write_txn().unwrap();
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    wtxn.commit().unwrap();
    // Refused in `bytes`, where the owner's data is, and in `typed`, where it has none: the
    // hash is still the owner's while it holds data anywhere.
    intruder_is_refused_everywhere(&env, &registry, &bytes, &typed);

    // The same after pruning with only `typed`, and the owner still reads its data.
    let mut wtxn = env.write_txn().unwrap();
    registry.register_scope(&mut wtxn, &owner).unwrap();
    let only_typed: [&dyn ScopeEmptinessChecker; 1] = [&typed];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &only_typed)
            .unwrap(),
        1
    );
    wtxn.commit().unwrap();
    intruder_is_refused_everywhere(&env, &registry, &bytes, &typed);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        bytes.get(&rtxn, &owner, b"k").unwrap(),
        Some(&b"owner's"[..])
    );
    assert_eq!(
        registry.lookup_scope_hash(&rtxn, INTRUDER).unwrap(),
        None,
        "the intruder was never registered"
    );
}

#[test]
fn the_hash_is_free_again_once_its_last_entry_is_gone() {
    for how in ["delete", "clear"] {
        let dir = tempfile::tempdir().unwrap();
        let env = common::open(dir.path());
        let (registry, bytes, typed) = setup(&env);
        let (owner, intruder) = (named(OWNER), named(INTRUDER));
        let mut wtxn = env.write_txn().unwrap();
        bytes.put(&mut wtxn, &owner, b"k", b"v").unwrap();
        bytes.put(&mut wtxn, &owner, b"l", b"v").unwrap();
        registry
            .unregister_scope(&mut wtxn, &hash_of(OWNER))
            .unwrap();
        // One entry left: still the owner's.
        assert!(bytes.delete(&mut wtxn, &owner, b"k").unwrap());
        collision(bytes.put(&mut wtxn, &intruder, b"x", b"y").unwrap_err());
        match how {
            "delete" => assert!(bytes.delete(&mut wtxn, &owner, b"l").unwrap()),
            _ => bytes.clear(&mut wtxn, &owner).unwrap(),
        }
        // `clear` registers the scope, as scoped-heed's does; take it off again.
        registry
            .unregister_scope(&mut wtxn, &hash_of(OWNER))
            .unwrap();
        wtxn.commit().unwrap();
        assert_eq!(registry_entries(&env), [], "{how} left a record");

        let mut wtxn = env.write_txn().unwrap();
        bytes
            .put(&mut wtxn, &intruder, b"x", b"intruder's")
            .unwrap_or_else(|error| panic!("after {how}: {error}"));
        typed.put(&mut wtxn, &intruder, &s("x"), &1).unwrap();
        wtxn.commit().unwrap();
        let rtxn = env.read_txn().unwrap();
        assert_eq!(
            bytes.get(&rtxn, &intruder, b"x").unwrap(),
            Some(&b"intruder's"[..])
        );
        // Now the roles are swapped.
        assert!(matches!(
            bytes.get(&rtxn, &owner, b"x"),
            Err(ScopedDbError::HashCollision { .. })
        ));
    }
}

#[test]
fn a_refused_put_leaves_no_owner_record() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, _) = setup(&env);
    let too_long = vec![1; env.max_key_size()];
    let mut wtxn = env.write_txn().unwrap();
    assert!(matches!(
        bytes.put(&mut wtxn, &named(OWNER), &too_long, b"v"),
        Err(ScopedDbError::Heed(arbordb::Error::Mdb(
            arbordb::MdbError::BadValSize
        )))
    ));
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    // Nothing of the owner's is stored, so its hash is free.
    bytes.put(&mut wtxn, &named(INTRUDER), b"k", b"v").unwrap();
    wtxn.commit().unwrap();
}

#[test]
fn owner_records_never_show_in_what_scopes_read() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let tenants = [named("a"), named("b"), named(OWNER)];
    let mut wtxn = env.write_txn().unwrap();
    for tenant in &tenants {
        bytes.put(&mut wtxn, tenant, b"k1", b"v").unwrap();
        bytes.put(&mut wtxn, tenant, b"k2", b"v").unwrap();
        typed.put(&mut wtxn, tenant, &s("k"), &1).unwrap();
    }
    registry.register_scope(&mut wtxn, &named("empty")).unwrap();
    wtxn.commit().unwrap();

    // The records are there: one per scope and database, beside the four registrations.
    let raw = registry_entries(&env);
    assert_eq!(raw.iter().filter(|(key, _)| key.len() == 4).count(), 4);
    assert_eq!(raw.iter().filter(|(key, _)| key.len() > 4).count(), 6);

    let rtxn = env.read_txn().unwrap();
    let mut listed = registry.list_all_scopes(&rtxn).unwrap();
    listed.sort_by_key(|scope| scope.name().map(str::to_owned));
    let mut expected = vec![Scope::Default, named("empty")];
    expected.extend(tenants.iter().cloned());
    expected.sort_by_key(|scope| scope.name().map(str::to_owned));
    assert_eq!(listed, expected);
    assert_eq!(bytes.list_scopes(&rtxn).unwrap().len(), 5);
    for tenant in &tenants {
        assert_eq!(
            entries(&bytes, &rtxn, tenant),
            [b"k1".to_vec(), b"k2".to_vec()]
        );
        assert_eq!(bytes.len(&rtxn, tenant).unwrap(), 2);
        assert_eq!(bytes.rev_iter(&rtxn, tenant).unwrap().count(), 2);
        assert_eq!(
            bytes.first(&rtxn, tenant).unwrap(),
            Some((&b"k1"[..], &b"v"[..]))
        );
        assert_eq!(typed.len(&rtxn, tenant).unwrap(), 1);
    }
    assert!(bytes.is_empty(&rtxn, &named("empty")).unwrap());
    assert!(bytes.is_scope_empty_in_db(&rtxn, &named("empty")).unwrap());
    assert_eq!(bytes.find_empty_scopes(&rtxn).unwrap(), 1);
    assert_eq!(bytes.scopes_with_data(&rtxn).unwrap().len(), 3);
    assert_eq!(bytes.len(&rtxn, &Scope::Default).unwrap(), 0);
    drop(rtxn);

    // Pruning drops only the empty scope; every record stays with its data.
    let mut wtxn = env.write_txn().unwrap();
    let both: [&dyn ScopeEmptinessChecker; 2] = [&bytes, &typed];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &both)
            .unwrap(),
        1
    );
    wtxn.commit().unwrap();
    assert_eq!(registry_entries(&env).len(), 3 + 6);
}

/// Writes what a release without owner records left: the databases `old` and `old_scoped`
/// with `tenant`'s keys under its hash, and `tenant` in the registry.
fn write_older_file(env: &Env, register: bool) {
    let mut wtxn = env.write_txn().unwrap();
    let registry: Database<Bytes, Bytes> = env
        .create_database(
            &mut wtxn,
            Some(GlobalScopeRegistry::GLOBAL_METADATA_DB_NAME),
        )
        .unwrap();
    let _default: Database<Bytes, Bytes> = env.create_database(&mut wtxn, Some("old")).unwrap();
    let scoped: Database<Bytes, Bytes> =
        env.create_database(&mut wtxn, Some("old_scoped")).unwrap();
    let hash = hash_of(OWNER).to_be_bytes();
    if register {
        registry.put(&mut wtxn, &hash, OWNER.as_bytes()).unwrap();
    }
    for key in [&b"k1"[..], b"k2"] {
        let stored = [&hash[..], key].concat();
        scoped.put(&mut wtxn, &stored, b"old value").unwrap();
    }
    wtxn.commit().unwrap();
}

fn open_older(env: &Env) -> (Arc<GlobalScopeRegistry>, ScopedBytesDatabase) {
    let rtxn = env.read_txn().unwrap();
    let registry = Arc::new(GlobalScopeRegistry::open(env, &rtxn).unwrap().unwrap());
    let db = ScopedBytesDatabase::open(env, "old", &rtxn, registry.clone())
        .unwrap()
        .unwrap();
    (registry, db)
}

#[test]
fn data_of_a_file_without_owner_records_is_owned_by_the_registered_name() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    write_older_file(&env, true);
    let (registry, db) = open_older(&env);
    let (owner, intruder) = (named(OWNER), named(INTRUDER));

    // Read through the registry without writing anything.
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &owner, b"k1").unwrap(),
        Some(&b"old value"[..])
    );
    assert_eq!(db.len(&rtxn, &owner).unwrap(), 2);
    collision(db.get(&rtxn, &intruder, b"k1").unwrap_err());
    assert_eq!(
        db.scopes_with_data(&rtxn).unwrap(),
        std::slice::from_ref(&owner)
    );
    drop(rtxn);
    assert_eq!(registry_entries(&env).len(), 1, "reading writes nothing");

    // The first write through an opened (not created) handle records the owner...
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &owner, b"k3", b"new").unwrap();
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    wtxn.commit().unwrap();
    // ...so unregistering no longer hides the data or hands it to the intruder.
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn, &owner).unwrap(), 3);
    collision(db.get(&rtxn, &intruder, b"k1").unwrap_err());
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    collision(db.put(&mut wtxn, &intruder, b"k1", b"x").unwrap_err());
}

#[test]
fn creating_a_scoped_database_records_the_owners_of_its_older_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    write_older_file(&env, true);
    let (registry, _) = open_older(&env);
    let mut wtxn = env.write_txn().unwrap();
    let db = scoped_database_options(&env, registry.clone())
        .raw_bytes()
        .name("old")
        .create(&mut wtxn)
        .unwrap();
    // Unregistered right away, before any write: the record made by `create` keeps it safe.
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &named(OWNER), b"k2").unwrap(),
        Some(&b"old value"[..])
    );
    collision(db.get(&rtxn, &named(INTRUDER), b"k1").unwrap_err());
    assert_eq!(db.scopes_with_data(&rtxn).unwrap(), [named(OWNER)]);
    drop(rtxn);

    // Done once: creating it again finds the mark and changes nothing.
    let before = registry_entries(&env);
    let mut wtxn = env.write_txn().unwrap();
    ScopedBytesDatabase::create(&env, "old", &mut wtxn, registry).unwrap();
    wtxn.commit().unwrap();
    assert_eq!(registry_entries(&env), before);
    common::assert_sound(&env);
}

#[test]
fn older_data_under_a_hash_no_name_owns_is_refused_until_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    // The older release let a scope be unregistered while it held data.
    write_older_file(&env, false);
    let (registry, db) = open_older(&env);
    let orphaned = |result: Result<(), ScopedDbError>| {
        assert!(
            matches!(result, Err(ScopedDbError::InvalidInput(_))),
            "{result:?}"
        )
    };
    let mut wtxn = env.write_txn().unwrap();
    for name in [OWNER, INTRUDER] {
        let scope = named(name);
        orphaned(db.get(&wtxn, &scope, b"k1").map(drop));
        orphaned(db.len(&wtxn, &scope).map(drop));
        orphaned(db.iter(&wtxn, &scope).map(drop));
        orphaned(db.put(&mut wtxn, &scope, b"k", b"v"));
        orphaned(db.delete(&mut wtxn, &scope, b"k1").map(drop));
        orphaned(db.clear(&mut wtxn, &scope));
        orphaned(db.register_scope(&mut wtxn, &scope));
    }
    orphaned(db.scopes_with_data(&wtxn).map(drop));
    // Creating the database cannot tell whose they are either.
    ScopedBytesDatabase::create(&env, "old", &mut wtxn, registry.clone()).unwrap();
    orphaned(db.get(&wtxn, &named(OWNER), b"k1").map(drop));

    // Registering a name claims nothing: not the intruder, not the owner.
    for name in [INTRUDER, OWNER] {
        registry.register_scope(&mut wtxn, &named(name)).unwrap();
        orphaned(db.get(&wtxn, &named(name), b"k1").map(drop));
        orphaned(db.put(&mut wtxn, &named(name), b"k", b"v"));
        registry
            .unregister_scope(&mut wtxn, &hash_of(name))
            .unwrap();
    }
    // Claiming is its own act.
    assert!(db.claim_orphaned_data(&mut wtxn, &named(OWNER)).unwrap());
    assert!(!db.claim_orphaned_data(&mut wtxn, &named(OWNER)).unwrap());
    assert_eq!(
        db.get(&wtxn, &named(OWNER), b"k1").unwrap(),
        Some(&b"old value"[..])
    );
    assert!(registry.scope_exists(&wtxn, &named(OWNER)).unwrap());
    collision(db.get(&wtxn, &named(INTRUDER), b"k1").unwrap_err());
    collision(
        db.claim_orphaned_data(&mut wtxn, &named(INTRUDER))
            .unwrap_err(),
    );
    // Hashes without data are unaffected.
    db.put(&mut wtxn, &named("other"), b"k", b"v").unwrap();
    wtxn.commit().unwrap();
}

/// The scoped tree of `bytes` through the plain API, as raw operations (or an older release)
/// reach it.
fn raw_bytes_tree(env: &Env, txn: &arbordb::RoTxn<'_>) -> Database<Bytes, Bytes> {
    env.open_database(txn, Some("bytes_scoped"))
        .unwrap()
        .unwrap()
}

#[test]
fn a_record_whose_database_lost_its_keys_blocks_no_one() {
    for how in ["plain delete", "plain clear", "drop"] {
        let dir = tempfile::tempdir().unwrap();
        let env = common::open(dir.path());
        let (registry, bytes, typed) = setup(&env);
        let (owner, intruder) = (named(OWNER), named(INTRUDER));
        let mut wtxn = env.write_txn().unwrap();
        bytes.put(&mut wtxn, &owner, b"k", b"owner's").unwrap();
        registry
            .unregister_scope(&mut wtxn, &hash_of(OWNER))
            .unwrap();
        wtxn.commit().unwrap();

        // The owner's keys go without the scope layer: its record is left behind.
        let mut wtxn = env.write_txn().unwrap();
        let raw = raw_bytes_tree(&env, &wtxn);
        let bytes = match how {
            "plain delete" => {
                let stored = [&hash_of(OWNER).to_be_bytes()[..], b"k"].concat();
                assert!(raw.delete(&mut wtxn, &stored).unwrap());
                bytes
            }
            "plain clear" => {
                raw.clear(&mut wtxn).unwrap();
                bytes
            }
            _ => {
                assert!(env.delete_database(&mut wtxn, "bytes_scoped").unwrap());
                ScopedBytesDatabase::create(&env, "bytes", &mut wtxn, registry.clone()).unwrap()
            }
        };
        wtxn.commit().unwrap();
        assert_eq!(
            registry_entries(&env).len(),
            1,
            "{how}: the record is there"
        );

        // It blocks no read or write of the colliding name, in either database, and the
        // first write (in the other database) removes it.
        let mut wtxn = env.write_txn().unwrap();
        assert_eq!(bytes.get(&wtxn, &intruder, b"k").unwrap(), None, "{how}");
        assert!(!registry.scope_exists(&wtxn, &intruder).unwrap(), "{how}");
        typed
            .put(&mut wtxn, &intruder, &s("x"), &1)
            .unwrap_or_else(|error| panic!("{how}: {error}"));
        wtxn.commit().unwrap();
        let left = registry_entries(&env);
        assert_eq!(left.len(), 2, "{how}: {left:?}");
        assert!(left.iter().all(|(_, name)| name == INTRUDER.as_bytes()));
        let mut wtxn = env.write_txn().unwrap();
        bytes
            .put(&mut wtxn, &intruder, b"x", b"intruder's")
            .unwrap_or_else(|error| panic!("{how}: {error}"));
        wtxn.commit().unwrap();
        assert_eq!(registry_entries(&env).len(), 3, "{how}");
        let rtxn = env.read_txn().unwrap();
        assert_eq!(
            bytes.get(&rtxn, &intruder, b"x").unwrap(),
            Some(&b"intruder's"[..])
        );
        assert!(matches!(
            bytes.get(&rtxn, &owner, b"k"),
            Err(ScopedDbError::HashCollision { .. })
        ));
    }
}

#[test]
fn a_record_whose_database_holds_keys_still_blocks_the_colliding_name() {
    // The other side of the one above: a record stays in force while its keys are there,
    // also after the owner's keys in another database went behind the scope layer's back.
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    bytes
        .put(&mut wtxn, &named(OWNER), b"k", b"owner's")
        .unwrap();
    typed.put(&mut wtxn, &named(OWNER), &s("k"), &1).unwrap();
    registry
        .unregister_scope(&mut wtxn, &hash_of(OWNER))
        .unwrap();
    let raw: Database<Bytes, Bytes> = env
        .open_database(&wtxn, Some("typed_scoped"))
        .unwrap()
        .unwrap();
    raw.clear(&mut wtxn).unwrap();
    wtxn.commit().unwrap();
    intruder_is_refused_everywhere(&env, &registry, &bytes, &typed);
}

#[test]
fn pruning_removes_records_whose_database_lost_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    bytes.put(&mut wtxn, &named(OWNER), b"k", b"v").unwrap();
    bytes.put(&mut wtxn, &named("kept"), b"k", b"v").unwrap();
    let stored = [&hash_of(OWNER).to_be_bytes()[..], b"k"].concat();
    assert!(raw_bytes_tree(&env, &wtxn)
        .delete(&mut wtxn, &stored)
        .unwrap());
    wtxn.commit().unwrap();
    assert_eq!(registry_entries(&env).len(), 4);

    // Pruned with `typed` only: both scopes are unregistered, the stale record goes, the
    // record of `kept`, whose keys are in `bytes`, stays.
    let mut wtxn = env.write_txn().unwrap();
    let only_typed: [&dyn ScopeEmptinessChecker; 1] = [&typed];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &only_typed)
            .unwrap(),
        2
    );
    wtxn.commit().unwrap();
    let left = registry_entries(&env);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(&left[0].0[4..], b"bytes_scoped");
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        bytes.get(&rtxn, &named("kept"), b"k").unwrap(),
        Some(&b"v"[..])
    );
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    bytes.put(&mut wtxn, &named(INTRUDER), b"k", b"v").unwrap();
    wtxn.commit().unwrap();
}

#[test]
fn a_scope_with_data_here_costs_one_registry_lookup_per_get_and_put() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, bytes, _) = setup(&env);
    let tenant = named("tenant");
    let mut wtxn = env.write_txn().unwrap();
    // Enough scopes that a lookup in the registry's database reads more than one page.
    for i in 0..2_000 {
        bytes
            .put(&mut wtxn, &named(&format!("t{i}")), b"k", b"v")
            .unwrap();
    }
    bytes.put(&mut wtxn, &tenant, b"k", b"v").unwrap();
    let registry: Database<Bytes, Bytes> = env
        .open_database(&wtxn, Some(GlobalScopeRegistry::GLOBAL_METADATA_DB_NAME))
        .unwrap()
        .unwrap();
    let tree = raw_bytes_tree(&env, &wtxn);
    let hash = hash_of("tenant").to_be_bytes();
    let record = [&hash[..], b"bytes_scoped"].concat();
    let stored = [&hash[..], b"k"].concat();

    let before = wtxn.pages_read();
    assert!(registry.get(&wtxn, &record).unwrap().is_some());
    let lookup = wtxn.pages_read() - before;
    assert!(lookup > 1, "a lookup read {lookup} pages");
    let before = wtxn.pages_read();
    tree.get(&wtxn, &stored).unwrap();
    let raw_get = wtxn.pages_read() - before;
    let before = wtxn.pages_read();
    tree.put(&mut wtxn, &stored, b"w").unwrap();
    let raw_put = wtxn.pages_read() - before;

    let before = wtxn.pages_read();
    assert_eq!(bytes.get(&wtxn, &tenant, b"k").unwrap(), Some(&b"w"[..]));
    assert_eq!(wtxn.pages_read() - before, lookup + raw_get, "get");
    let before = wtxn.pages_read();
    bytes.put(&mut wtxn, &tenant, b"k", b"x").unwrap();
    assert_eq!(wtxn.pages_read() - before, lookup + raw_put, "put");
}
