//! The model test: random operation sequences over several databases against `BTreeMap`s.
//!
//! Each case opens an environment with small pages (so a few hundred operations build deep
//! trees and exercise splits, merges, borrowing and overflow runs), then runs puts (some with
//! NO_OVERWRITE), deletes, clears, commits, aborts and reopenings over three named databases
//! and the unnamed one. After every commit the checker must pass and every database must equal
//! its model; a reader opened mid-sequence must keep seeing its snapshot through later commits.
//!
//! Replay a failure with the seed proptest prints (PROPTEST_CASES / the persisted regression
//! file); see docs/testing.md.

use std::collections::BTreeMap;

use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvOpenOptions, Error, PutFlags, RoTxn};
use proptest::prelude::*;

type Model = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;
const DATABASES: usize = 4; // the unnamed one and three named ones
const NAMES: [Option<&str>; DATABASES] = [None, Some("alpha"), Some("beta"), Some("gamma")];

#[derive(Debug, Clone)]
enum Op {
    Put {
        db: usize,
        key: Vec<u8>,
        value_len: usize,
        fill: u8,
        no_overwrite: bool,
    },
    Delete {
        db: usize,
        key: Vec<u8>,
    },
    Clear {
        db: usize,
    },
    Commit,
    Abort,
    Reopen,
    OpenReader,
    CheckReader,
    CloseReader,
}

fn key_strategy(max_key: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // A small key space, so deletes and overwrites hit.
        8 => (0u16..300).prop_map(|n| format!("k{n:03}").into_bytes()),
        1 => Just(Vec::new()),
        1 => proptest::collection::vec(any::<u8>(), 0..=max_key),
        1 => (0u16..40).prop_map(move |n| { let mut key = vec![b'L'; max_key]; key[max_key - 2..].copy_from_slice(&n.to_be_bytes()); key }),
    ]
}

fn op_strategy(max_key: usize, page_size: usize) -> impl Strategy<Value = Op> {
    let value_len =
        prop_oneof![6 => 0usize..64, 2 => 64usize..page_size, 1 => page_size..=3 * page_size];
    prop_oneof![
        40 => (0..DATABASES, key_strategy(max_key), value_len, any::<u8>(), prop::bool::weighted(0.1))
            .prop_map(|(db, key, value_len, fill, no_overwrite)| Op::Put { db, key, value_len, fill, no_overwrite }),
        15 => (0..DATABASES, key_strategy(max_key)).prop_map(|(db, key)| Op::Delete { db, key }),
        1 => (0..DATABASES).prop_map(|db| Op::Clear { db }),
        6 => Just(Op::Commit),
        2 => Just(Op::Abort),
        1 => Just(Op::Reopen),
        2 => Just(Op::OpenReader),
        2 => Just(Op::CheckReader),
        1 => Just(Op::CloseReader),
    ]
}

fn value(len: usize, fill: u8) -> Vec<u8> {
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

fn open(dir: &std::path::Path, page_size: usize) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(8)
            .page_size(page_size)
            .open(dir)
            .unwrap()
    }
}

fn databases(env: &Env) -> Vec<Database<Bytes, Bytes>> {
    let mut wtxn = env.write_txn().unwrap();
    let dbs = NAMES
        .iter()
        .map(|name| env.create_database(&mut wtxn, *name).unwrap())
        .collect();
    wtxn.commit().unwrap();
    dbs
}

fn assert_matches(txn: &RoTxn<'_>, dbs: &[Database<Bytes, Bytes>], model: &Model, context: &str) {
    for (index, db) in dbs.iter().enumerate() {
        let found: Vec<(Vec<u8>, Vec<u8>)> = db
            .iter(txn)
            .unwrap()
            .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = model[index]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            found.len(),
            expected.len(),
            "{context}: database {index} length"
        );
        assert!(
            found == expected,
            "{context}: database {index} contents differ"
        );
        assert_eq!(
            db.len(txn).unwrap(),
            expected.len() as u64,
            "{context}: database {index} len()"
        );
        let reversed: Vec<Vec<u8>> = db
            .rev_iter(txn)
            .unwrap()
            .map(|entry| entry.unwrap().0.to_vec())
            .collect();
        assert!(
            reversed.iter().rev().eq(expected.iter().map(|(k, _)| k)),
            "{context}: database {index} reverse"
        );
    }
}

fn assert_checker_passes(env: &Env, context: &str) {
    let report = env.check().unwrap();
    assert!(
        report.is_ok(),
        "{context}: checker found problems:\n{report}"
    );
}

/// Runs `ops` from `start`; returns where it stopped (at a Reopen) or `ops.len()`.
fn run_epoch(
    env: &Env,
    dbs: &[Database<Bytes, Bytes>],
    ops: &[Op],
    start: usize,
    committed: &mut Model,
) -> usize {
    let mut working = committed.clone();
    let mut wtxn = Some(env.write_txn().unwrap());
    let mut reader: Option<(RoTxn<'_>, Model)> = None;
    for (position, op) in ops.iter().enumerate().skip(start) {
        let context = format!("op {position} {op:?}");
        match op {
            Op::Put {
                db,
                key,
                value_len,
                fill,
                no_overwrite,
            } => {
                let txn = wtxn.as_mut().unwrap();
                let value = value(*value_len, *fill);
                let flags = if *no_overwrite {
                    PutFlags::NO_OVERWRITE
                } else {
                    PutFlags::empty()
                };
                let result = dbs[*db].put_with_flags(txn, flags, key, &value);
                if *no_overwrite && working[*db].contains_key(key) {
                    assert!(
                        matches!(result, Err(Error::KeyExist)),
                        "{context}: {result:?}"
                    );
                } else {
                    result.unwrap();
                    working[*db].insert(key.clone(), value.clone());
                }
                let stored = dbs[*db].get(txn, key).unwrap().map(<[u8]>::to_vec);
                assert_eq!(
                    stored.as_ref(),
                    working[*db].get(key),
                    "{context}: read own write"
                );
            }
            Op::Delete { db, key } => {
                let existed = dbs[*db].delete(wtxn.as_mut().unwrap(), key).unwrap();
                assert_eq!(existed, working[*db].remove(key).is_some(), "{context}");
            }
            Op::Clear { db } => {
                dbs[*db].clear(wtxn.as_mut().unwrap()).unwrap();
                working[*db].clear();
            }
            Op::Commit => {
                let txn = wtxn.take().unwrap();
                assert_matches(&txn, dbs, &working, &format!("{context} before commit"));
                txn.commit().unwrap();
                *committed = working.clone();
                assert_checker_passes(env, &context);
                assert_matches(&env.read_txn().unwrap(), dbs, committed, &context);
                wtxn = Some(env.write_txn().unwrap());
            }
            Op::Abort => {
                wtxn.take().unwrap().abort();
                working = committed.clone();
                wtxn = Some(env.write_txn().unwrap());
            }
            Op::Reopen => return position,
            Op::OpenReader => reader = Some((env.read_txn().unwrap(), committed.clone())),
            Op::CheckReader => {
                if let Some((txn, model)) = &reader {
                    assert_matches(txn, dbs, model, &format!("{context} (reader)"));
                }
            }
            Op::CloseReader => reader = None,
        }
    }
    if let Some((txn, model)) = &reader {
        assert_matches(txn, dbs, model, "end of epoch (reader)");
    }
    ops.len()
}

fn run(ops: Vec<Op>, page_size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut committed: Model = vec![BTreeMap::new(); DATABASES];
    let mut position = 0;
    loop {
        let env = open(dir.path(), page_size);
        let dbs = databases(&env);
        assert_matches(&env.read_txn().unwrap(), &dbs, &committed, "after reopen");
        assert_checker_passes(&env, "after reopen");
        position = run_epoch(&env, &dbs, &ops, position, &mut committed);
        if position >= ops.len() {
            break;
        }
        position += 1; // past the Reopen
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn small_pages_match_the_model(ops in proptest::collection::vec(op_strategy(105, 512), 1..400)) {
        run(ops, 512);
    }

    #[test]
    fn os_pages_match_the_model(ops in proptest::collection::vec(op_strategy(1001, 4096), 1..300)) {
        run(ops, 4096);
    }
}
