//! Writing while iterating: every `*_mut` walk visits exactly the entries the read-only walk
//! would, and `del_current` / `put_current` change exactly the visited entry.

mod common;

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

use arbordb::types::{Bytes, Str};
use arbordb::{Database, Error, RwIter};
use common::{as_ref, assert_sound, open, Rng};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Walks `iter`, deleting keys whose first value byte is odd and doubling the length of the
/// others; returns the visited keys and applies the same to `model`.
fn walk(mut iter: RwIter<'_, '_, Bytes, Bytes>, model: &mut Model) -> Vec<Vec<u8>> {
    let mut visited = Vec::new();
    while let Some(entry) = iter.next() {
        let (key, value) = entry.unwrap();
        let (key, value) = (key.to_vec(), value.to_vec());
        visited.push(key.clone());
        if value.first().is_some_and(|byte| byte % 2 == 1) {
            assert!(iter.del_current().unwrap());
            model.remove(&key);
        } else {
            let doubled = [value.clone(), value].concat();
            assert!(iter.put_current(&key, &doubled).unwrap());
            model.insert(key, doubled);
        }
    }
    visited
}

fn setup(
    seed: u64,
) -> (
    tempfile::TempDir,
    arbordb::Env,
    Database<Bytes, Bytes>,
    Model,
) {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut rng = Rng(seed);
    let mut model = Model::new();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for _ in 0..3000 {
        let len = 1 + rng.below(3) as usize;
        let key: Vec<u8> = rng
            .bytes(len)
            .iter()
            .map(|b| [0x00, 0x41, 0x42, 0xff][*b as usize % 4])
            .collect();
        let value_len = 1 + rng.below(30) as usize;
        let value = rng.bytes(value_len);
        db.put(&mut wtxn, &key, &value).unwrap();
        model.insert(key, value);
    }
    wtxn.commit().unwrap();
    (dir, env, db, model)
}

fn check(env: &arbordb::Env, db: Database<Bytes, Bytes>, model: &Model) {
    let rtxn = env.read_txn().unwrap();
    let found: Model = db
        .iter(&rtxn)
        .unwrap()
        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect();
    assert!(found == *model, "the database differs from the model");
    drop(rtxn);
    assert_sound(env);
}

#[test]
fn every_mut_walk_visits_what_the_read_walk_would_and_applies_its_changes() {
    let bounds = [
        (
            Bound::Included(vec![0x41]),
            Bound::Excluded(vec![0x42, 0x00]),
        ),
        (Bound::Excluded(vec![0x00]), Bound::Unbounded),
        (Bound::Unbounded, Bound::Included(vec![0x42])),
    ];
    for (form, seed) in (0..6).zip(10..) {
        for (start, end) in bounds.clone() {
            let (_dir, env, db, mut model) = setup(seed);
            let prefix: &[u8] = &[0x41];
            let mut wtxn = env.write_txn().unwrap();
            let expected: Vec<Vec<u8>> = {
                let range = (start.clone(), end.clone());
                let in_range = |key: &Vec<u8>| RangeBounds::<Vec<u8>>::contains(&range, key);
                match form {
                    0 => model.keys().cloned().collect(),
                    1 => model.keys().rev().cloned().collect(),
                    2 => model.keys().filter(|k| in_range(k)).cloned().collect(),
                    3 => model
                        .keys()
                        .rev()
                        .filter(|k| in_range(k))
                        .cloned()
                        .collect(),
                    4 => model
                        .keys()
                        .filter(|k| k.starts_with(prefix))
                        .cloned()
                        .collect(),
                    _ => model
                        .keys()
                        .rev()
                        .filter(|k| k.starts_with(prefix))
                        .cloned()
                        .collect(),
                }
            };
            let borrowed: (Bound<&[u8]>, Bound<&[u8]>) = (as_ref(&start), as_ref(&end));
            let iter = match form {
                0 => db.iter_mut(&mut wtxn).unwrap(),
                1 => db.rev_iter_mut(&mut wtxn).unwrap(),
                2 => db.range_mut(&mut wtxn, &borrowed).unwrap(),
                3 => db.rev_range_mut(&mut wtxn, &borrowed).unwrap(),
                4 => db.prefix_iter_mut(&mut wtxn, prefix).unwrap(),
                _ => db.rev_prefix_iter_mut(&mut wtxn, prefix).unwrap(),
            };
            let visited = walk(iter, &mut model);
            assert_eq!(visited, expected, "form {form} over {start:?}..{end:?}");
            wtxn.commit().unwrap();
            check(&env, db, &model);
        }
    }
}

#[test]
fn put_current_needs_the_current_key_and_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "a", "1").unwrap();
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    assert!(!iter.del_current().unwrap(), "nothing visited yet");
    assert!(!iter.put_current("a", "2").unwrap(), "nothing visited yet");
    assert!(iter.next().is_some());
    assert!(matches!(
        iter.put_current("b", "2"),
        Err(Error::InvalidOption { .. })
    ));
    assert!(iter.put_current("a", "3").unwrap());
    assert!(iter.next().is_none());
    assert_eq!(db.get(&wtxn, "a").unwrap(), Some("3"));
    assert_eq!(db.get(&wtxn, "b").unwrap(), None);
}
