//! The scope layer's own promises: each of scoped-heed's defects has a test here that fails on
//! its design (little-endian prefix, length-prefixed keys, collision-blind reads, the empty
//! name, full scans), plus the additions (per-scope len/first/last/reverse/prefix, the scopes
//! holding data), persistence, aborted transactions and threads.

mod common;

use std::sync::Arc;

use arbordb::scoped::{
    scoped_database_options, GlobalScopeRegistry, Scope, ScopeEmptinessChecker,
    ScopedBytesDatabase, ScopedDatabase, ScopedDbError,
};
use arbordb::Env;
use common::scopes::{named, setup};

/// Hashes to 0xFFFF_FFFF (found by search; checked below).
const MAX_HASH_NAME: &str = "max_hash_3354157583";

type BytesIter<'t> =
    arbordb::scoped::ScopedIter<'t, arbordb::scoped::RawBytes, arbordb::scoped::RawBytes>;

fn collect(iter: BytesIter<'_>) -> Vec<(&[u8], &[u8])> {
    iter.collect::<Result<Vec<_>, _>>().unwrap()
}

fn keys(db: &ScopedBytesDatabase, env: &Env, scope: &Scope) -> Vec<Vec<u8>> {
    let rtxn = env.read_txn().unwrap();
    db.iter(&rtxn, scope)
        .unwrap()
        .map(|entry| entry.unwrap().0.to_vec())
        .collect()
}

#[test]
fn the_scopes_the_tests_rely_on_have_the_hashes_they_need() {
    assert_eq!(named(MAX_HASH_NAME).hash(), Some(u32::MAX));
    assert_eq!(named("scope_1000").hash().unwrap() & 0xFF, 0xFF);
    assert_eq!(named("scope_33896").hash(), named("scope_112499").hash());
    // tenant_2 and tenant_4 share their low byte: little-endian prefixes interleave them.
    assert_eq!(
        named("tenant_2").hash().unwrap() & 0xFF,
        named("tenant_4").hash().unwrap() & 0xFF
    );
}

#[test]
fn clearing_one_tenant_leaves_the_others_intact() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, db, _) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    for tenant in 0..8 {
        for key in 0..20u8 {
            db.put(
                &mut wtxn,
                &named(&format!("tenant_{tenant}")),
                &[key],
                &[tenant],
            )
            .unwrap();
        }
    }
    db.clear(&mut wtxn, &named("tenant_2")).unwrap();
    wtxn.commit().unwrap();
    for tenant in 0..8 {
        let expected: Vec<Vec<u8>> = if tenant == 2 {
            vec![]
        } else {
            (0..20u8).map(|key| vec![key]).collect()
        };
        assert_eq!(
            keys(&db, &env, &named(&format!("tenant_{tenant}"))),
            expected,
            "tenant_{tenant}"
        );
    }
}

#[test]
fn open_ended_ranges_and_reverse_walks_stay_inside_their_scope() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, db, _) = setup(&env);
    // Many scopes, so that hashes neighbour each other, plus the extremes.
    let mut names: Vec<String> = (0..300).map(|i| format!("scope_{i}")).collect();
    names.push(MAX_HASH_NAME.into());
    names.push("scope_1000".into());
    let mut wtxn = env.write_txn().unwrap();
    for name in &names {
        for key in [&b"\x00"[..], b"m", b"\xff\xff"] {
            db.put(&mut wtxn, &named(name), key, name.as_bytes())
                .unwrap();
        }
    }
    db.put(
        &mut wtxn,
        &Scope::Default,
        b"\xff\xff\xff\xff\xff",
        b"default",
    )
    .unwrap();
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    for name in &names {
        let scope = named(name);
        let own = |entries: Vec<(&[u8], &[u8])>| {
            assert!(
                entries.iter().all(|(_, value)| *value == name.as_bytes()),
                "{name} saw another scope's entry"
            );
            entries.len()
        };
        assert_eq!(
            own(collect(db.range(&rtxn, &scope, &(&b"a"[..]..)).unwrap())),
            2,
            "{name}"
        );
        assert_eq!(
            own(collect(db.range(&rtxn, &scope, &(..=&b"m"[..])).unwrap())),
            2,
            "{name}"
        );
        assert_eq!(
            own(collect(
                db.rev_range(&rtxn, &scope, &(&b"\x01"[..]..)).unwrap()
            )),
            2,
            "{name}"
        );
        assert_eq!(
            own(collect(db.rev_iter(&rtxn, &scope).unwrap())),
            3,
            "{name}"
        );
        assert_eq!(
            own(collect(db.prefix_iter(&rtxn, &scope, b"\xff").unwrap())),
            1,
            "{name}"
        );
        assert_eq!(db.len(&rtxn, &scope).unwrap(), 3, "{name}");
        assert_eq!(
            db.first(&rtxn, &scope).unwrap().unwrap().0,
            b"\x00",
            "{name}"
        );
        assert_eq!(
            db.last(&rtxn, &scope).unwrap().unwrap().0,
            b"\xff\xff",
            "{name}"
        );
    }
    assert_eq!(db.len(&rtxn, &Scope::Default).unwrap(), 1);
}

#[test]
fn the_scope_with_hash_ending_in_ff_and_the_max_hash_scope_work_fully() {
    for name in ["scope_1000", MAX_HASH_NAME] {
        let dir = tempfile::tempdir().unwrap();
        let env = common::open(dir.path());
        let (registry, db, _) = setup(&env);
        let scope = named(name);
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &scope, b"k1", b"v1").unwrap();
        db.put(&mut wtxn, &scope, b"k2", b"v2").unwrap();
        db.put(&mut wtxn, &named("neighbour"), b"k1", b"n").unwrap();
        wtxn.commit().unwrap();

        assert_eq!(
            keys(&db, &env, &scope),
            [b"k1".to_vec(), b"k2".to_vec()],
            "{name}"
        );
        // Not empty, so not pruned.
        let mut wtxn = env.write_txn().unwrap();
        assert!(!db.is_scope_empty_in_db(&wtxn, &scope).unwrap(), "{name}");
        assert_eq!(db.find_empty_scopes(&wtxn).unwrap(), 0, "{name}");
        assert_eq!(
            registry
                .prune_globally_unused_scopes(&mut wtxn, &[&db])
                .unwrap(),
            0,
            "{name}"
        );
        db.clear(&mut wtxn, &scope).unwrap();
        wtxn.commit().unwrap();

        let rtxn = env.read_txn().unwrap();
        assert!(db.is_empty(&rtxn, &scope).unwrap(), "{name}");
        assert_eq!(
            db.get(&rtxn, &named("neighbour"), b"k1").unwrap(),
            Some(&b"n"[..]),
            "{name}"
        );
        assert_eq!(
            db.scopes_with_data(&rtxn).unwrap(),
            [named("neighbour")],
            "{name}"
        );
    }
}

#[test]
fn keys_sort_inside_a_scope_as_the_users_keys_sort() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, bytes, typed) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    let integers = scoped_database_options(&env, registry)
        .types::<i64, ()>()
        .name("integers")
        .create(&mut wtxn)
        .unwrap();
    let scope = named("tenant");
    for key in ["b", "aa", "c", "ab"] {
        typed.put(&mut wtxn, &scope, &key.to_string(), &1).unwrap();
        bytes.put(&mut wtxn, &scope, key.as_bytes(), b"").unwrap();
    }
    for key in [5i64, -3, 300, i64::MIN, 0, -1] {
        integers.put(&mut wtxn, &scope, &key, &()).unwrap();
    }
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    let range = "a".to_string()..="c".to_string();
    let found: Vec<String> = typed
        .range(&rtxn, &scope, &range)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, ["aa", "ab", "b", "c"]);
    let found: Vec<&[u8]> = bytes
        .range(&rtxn, &scope, &(&b"a"[..]..=&b"c"[..]))
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, [&b"aa"[..], b"ab", b"b", b"c"]);
    let found: Vec<i64> = integers
        .iter(&rtxn, &scope)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, [i64::MIN, -3, -1, 0, 5, 300]);
    let found: Vec<i64> = integers
        .range(&rtxn, &scope, &(-2..100))
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, [-1, 0, 5]);
    // String keys are stored as their bytes, so prefix iteration works as on strings.
    let found: Vec<String> = typed
        .prefix_iter(&rtxn, &scope, &"a".to_string())
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, ["aa", "ab"]);
    let found: Vec<String> = typed
        .rev_prefix_iter(&rtxn, &scope, &"a".to_string())
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(found, ["ab", "aa"]);
}

#[test]
fn two_names_with_one_hash_never_share_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, db, typed) = setup(&env);
    let (owner, intruder) = (named("scope_33896"), named("scope_112499"));
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &owner, b"secret", b"owner's").unwrap();
    typed
        .put(&mut wtxn, &owner, &"secret".to_string(), &7)
        .unwrap();
    wtxn.commit().unwrap();

    let collision = |error: ScopedDbError| match error {
        ScopedDbError::HashCollision {
            name,
            registered,
            hash,
        } => {
            assert_eq!(
                (name.as_str(), registered.as_str()),
                ("scope_112499", "scope_33896")
            );
            assert_eq!(Some(hash), owner.hash());
        }
        other => panic!("expected a collision, got {other:?}"),
    };
    let mut wtxn = env.write_txn().unwrap();
    collision(db.get(&wtxn, &intruder, b"secret").unwrap_err());
    collision(
        typed
            .get(&wtxn, &intruder, &"secret".to_string())
            .unwrap_err(),
    );
    collision(db.iter(&wtxn, &intruder).err().unwrap());
    collision(db.rev_iter(&wtxn, &intruder).err().unwrap());
    collision(db.range(&wtxn, &intruder, &(..)).err().unwrap());
    collision(db.prefix_iter(&wtxn, &intruder, b"").err().unwrap());
    collision(db.len(&wtxn, &intruder).unwrap_err());
    collision(db.first(&wtxn, &intruder).unwrap_err());
    collision(db.is_empty(&wtxn, &intruder).unwrap_err());
    collision(registry.scope_exists(&wtxn, &intruder).unwrap_err());
    collision(
        db.put(&mut wtxn, &intruder, b"secret", b"overwritten")
            .unwrap_err(),
    );
    collision(db.delete(&mut wtxn, &intruder, b"secret").unwrap_err());
    collision(db.clear(&mut wtxn, &intruder).unwrap_err());
    collision(db.register_scope(&mut wtxn, &intruder).unwrap_err());
    collision(registry.register_scope(&mut wtxn, &intruder).unwrap_err());
    assert_eq!(
        registry.lookup_scope_hash(&wtxn, "scope_112499").unwrap(),
        None
    );
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &owner, b"secret").unwrap(),
        Some(&b"owner's"[..])
    );
    assert_eq!(
        typed.get(&rtxn, &owner, &"secret".to_string()).unwrap(),
        Some(7)
    );
    assert_eq!(
        registry.list_all_scopes(&rtxn).unwrap(),
        [Scope::Default, owner]
    );
}

#[test]
fn a_hand_built_scope_with_a_forged_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, db, _) = setup(&env);
    let victim = named("victim");
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &victim, b"k", b"v").unwrap();
    let forged = Scope::Named {
        name: "attacker".into(),
        hash: victim.hash().unwrap(),
    };
    assert!(matches!(
        db.get(&wtxn, &forged, b"k"),
        Err(ScopedDbError::InvalidInput(_))
    ));
    assert!(matches!(
        db.put(&mut wtxn, &forged, b"k", b"x"),
        Err(ScopedDbError::InvalidInput(_))
    ));
}

#[test]
fn scope_operations_read_only_the_scopes_pages() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, db, _) = setup(&env);
    let (big, small, after) = (named("big"), named("small"), named("zzz"));
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..40_000u32 {
        db.put(&mut wtxn, &big, &i.to_be_bytes(), &[0; 20]).unwrap();
        db.put(&mut wtxn, &Scope::Default, &i.to_be_bytes(), &[0; 20])
            .unwrap();
    }
    for i in 0..10u32 {
        db.put(&mut wtxn, &small, &i.to_be_bytes(), b"s").unwrap();
        db.put(&mut wtxn, &after, &i.to_be_bytes(), b"z").unwrap();
    }
    registry.register_scope(&mut wtxn, &named("empty")).unwrap();
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    let pages_for = |operation: &dyn Fn()| {
        let before = rtxn.pages_read();
        operation();
        rtxn.pages_read() - before
    };
    // The check can fail: a walk over the big scope reads hundreds of pages.
    let full = pages_for(&|| assert_eq!(db.iter(&rtxn, &big).unwrap().count(), 40_000));
    assert!(full > 200, "a full walk read only {full} pages");
    let bound = 20;
    let small_ops: [(&str, &dyn Fn()); 7] = [
        ("iter", &|| {
            assert_eq!(db.iter(&rtxn, &small).unwrap().count(), 10)
        }),
        ("rev_iter", &|| {
            assert_eq!(db.rev_iter(&rtxn, &small).unwrap().count(), 10)
        }),
        ("range", &|| {
            assert_eq!(db.range(&rtxn, &small, &(..)).unwrap().count(), 10)
        }),
        ("len", &|| assert_eq!(db.len(&rtxn, &small).unwrap(), 10)),
        ("is_empty", &|| {
            assert!(!db.is_empty(&rtxn, &small).unwrap())
        }),
        ("emptiness check", &|| {
            assert!(db.is_scope_empty_in_db(&rtxn, &named("empty")).unwrap())
        }),
        ("find_empty_scopes", &|| {
            assert_eq!(db.find_empty_scopes(&rtxn).unwrap(), 1)
        }),
    ];
    for (name, operation) in small_ops {
        let pages = pages_for(operation);
        assert!(pages <= bound, "{name} read {pages} pages");
    }
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    let before = wtxn.pages_read();
    db.clear(&mut wtxn, &small).unwrap();
    let pages = wtxn.pages_read() - before;
    assert!(pages <= 4 * bound, "clear read {pages} pages");
    assert_eq!(db.len(&wtxn, &after).unwrap(), 10);
    assert_eq!(db.len(&wtxn, &big).unwrap(), 40_000);
}

#[test]
fn registration_commits_and_aborts_with_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, db, _) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &named("aborted"), b"k", b"v").unwrap();
    db.clear(&mut wtxn, &named("aborted_clear")).unwrap();
    assert_eq!(registry.list_all_scopes(&wtxn).unwrap().len(), 3);
    wtxn.abort();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(registry.list_all_scopes(&rtxn).unwrap(), [Scope::Default]);
    assert!(db.is_empty(&rtxn, &named("aborted")).unwrap());
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    db.clear(&mut wtxn, &named("cleared")).unwrap();
    db.put(&mut wtxn, &named("kept"), b"k", b"v").unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let scopes = registry.list_all_scopes(&rtxn).unwrap();
    assert_eq!(scopes.len(), 3);
    assert!(scopes.contains(&named("cleared")) && scopes.contains(&named("kept")));
}

#[test]
fn scopes_and_registry_persist_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = common::open(dir.path());
        let (_, db, typed) = setup(&env);
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &named("tenant"), b"k", b"v").unwrap();
        typed
            .put(&mut wtxn, &Scope::Default, &"d".to_string(), &9)
            .unwrap();
        wtxn.commit().unwrap();
    }
    let env = common::open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let registry = Arc::new(
        GlobalScopeRegistry::open(&env, &rtxn)
            .unwrap()
            .expect("registry persisted"),
    );
    let db = ScopedBytesDatabase::open(&env, "bytes", &rtxn, registry.clone())
        .unwrap()
        .unwrap();
    let typed = ScopedDatabase::<String, u64>::open(&env, "typed", &rtxn, registry.clone())
        .unwrap()
        .unwrap();
    assert_eq!(
        db.get(&rtxn, &named("tenant"), b"k").unwrap(),
        Some(&b"v"[..])
    );
    assert_eq!(
        typed.get(&rtxn, &Scope::Default, &"d".to_string()).unwrap(),
        Some(9)
    );
    assert_eq!(
        registry.list_all_scopes(&rtxn).unwrap(),
        [Scope::Default, named("tenant")]
    );
    assert_eq!(typed.scopes_with_data(&rtxn).unwrap(), [Scope::Default]);
    assert_eq!(db.scopes_with_data(&rtxn).unwrap(), [named("tenant")]);
    assert!(ScopedBytesDatabase::open(&env, "missing", &rtxn, registry)
        .unwrap()
        .is_none());
    common::assert_sound(&env);
}

#[test]
fn pruning_with_no_databases_prunes_nothing_and_never_deletes_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, db, typed) = setup(&env);
    let mut wtxn = env.write_txn().unwrap();
    db.register_scope(&mut wtxn, &named("unused")).unwrap();
    typed
        .put(&mut wtxn, &named("typed_only"), &"k".to_string(), &1)
        .unwrap();
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &[])
            .unwrap(),
        0
    );
    // Given only `db`, the scope with data in `typed` looks empty: the caller must pass all.
    let both: [&dyn ScopeEmptinessChecker; 2] = [&db, &typed];
    assert_eq!(
        registry
            .prune_globally_unused_scopes(&mut wtxn, &both)
            .unwrap(),
        1
    );
    assert!(registry.scope_exists(&wtxn, &named("typed_only")).unwrap());
    assert!(!registry.scope_exists(&wtxn, &named("unused")).unwrap());
    assert_eq!(
        typed
            .get(&wtxn, &named("typed_only"), &"k".to_string())
            .unwrap(),
        Some(1)
    );
}

#[test]
fn readers_in_many_threads_while_one_thread_writes() {
    fn assert_shareable<T: Clone + Send + Sync>() {}
    assert_shareable::<ScopedDatabase<String, String>>();
    assert_shareable::<ScopedBytesDatabase>();
    assert_shareable::<arbordb::scoped::ScopedBytesKeyDatabase<Vec<u8>>>();

    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, db, _) = setup(&env);
    let rounds = 200u32;
    std::thread::scope(|threads| {
        for reader in 0..3 {
            let (env, db) = (env.clone(), db.clone());
            threads.spawn(move || {
                let scope = named(&format!("tenant_{reader}"));
                let mut last = 0;
                while last < rounds {
                    let rtxn = env.read_txn().unwrap();
                    // Each commit writes round r to every tenant: a snapshot sees one round
                    // everywhere, keys 0..r, never a partial one.
                    let seen: Vec<u32> = db
                        .iter(&rtxn, &scope)
                        .unwrap()
                        .map(|entry| u32::from_be_bytes(entry.unwrap().0.try_into().unwrap()))
                        .collect();
                    assert_eq!(seen, (0..seen.len() as u32).collect::<Vec<_>>());
                    assert!(seen.len() as u32 >= last, "snapshots go back in time");
                    last = seen.len() as u32;
                }
            });
        }
        for round in 0..rounds {
            let mut wtxn = env.write_txn().unwrap();
            for tenant in 0..3 {
                db.put(
                    &mut wtxn,
                    &named(&format!("tenant_{tenant}")),
                    &round.to_be_bytes(),
                    b"v",
                )
                .unwrap();
            }
            wtxn.commit().unwrap();
        }
    });
}

#[test]
fn a_key_too_long_for_its_scope_prefix_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, db, _) = setup(&env);
    let limit = env.max_key_size() - 4;
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &named("tenant"), &vec![7; limit], b"fits")
        .unwrap();
    let too_long = db.put(&mut wtxn, &named("tenant"), &vec![7; limit + 1], b"no");
    assert!(
        matches!(
            too_long,
            Err(ScopedDbError::Heed(arbordb::Error::Mdb(
                arbordb::MdbError::BadValSize
            )))
        ),
        "{too_long:?}"
    );
    // The default scope has no prefix.
    db.put(&mut wtxn, &Scope::Default, &vec![7; limit + 4], b"fits")
        .unwrap();
    wtxn.commit().unwrap();
    assert_eq!(
        db.len(&env.read_txn().unwrap(), &named("tenant")).unwrap(),
        1
    );
}
