//! Writing while iterating: every `*_mut` walk visits exactly the entries the read-only walk
//! would, `del_current` / `put_current` change exactly the visited entry, and
//! `put_current_with_options` puts a pair under the visited key and walks on after it.

mod common;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

use arbordb::types::{Bytes, Str};
use arbordb::MdbError;
use arbordb::{Comparator, Database, DatabaseFlags, Error, PutFlags, RwIter};
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
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
    assert!(iter.put_current("a", "3").unwrap());
    assert!(iter.next().is_none());
    assert_eq!(db.get(&wtxn, "a").unwrap(), Some("3"));
    assert_eq!(db.get(&wtxn, "b").unwrap(), None);
}

/// The pairs of `db`, in order.
fn pairs(db: Database<Str, Str>, wtxn: &arbordb::RwTxn<'_>) -> Vec<(String, String)> {
    db.iter(wtxn)
        .unwrap()
        .map(|entry| {
            let (key, value) = entry.unwrap();
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn is_key_exist(result: arbordb::Result<()>) -> bool {
    matches!(result, Err(Error::Mdb(MdbError::KeyExist)))
}

fn is_invalid(result: arbordb::Result<()>) -> bool {
    matches!(result, Err(Error::Mdb(MdbError::InvalidOption { .. })))
}

/// In a plain database the key exists, so `NO_OVERWRITE` and `APPEND` fail with `KeyExist`,
/// the flags of duplicates are refused, and no flag replaces the value; an error leaves the
/// walk where it was.
#[test]
fn put_current_with_options_in_a_plain_database() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    for (key, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
        db.put(&mut wtxn, key, value).unwrap();
    }
    let none = PutFlags::empty();
    // A prefix (or range) walk puts only where it stands, never outside its bounds.
    let mut prefix = db.prefix_iter_mut(&mut wtxn, "a").unwrap();
    assert!(
        is_invalid(prefix.put_current_with_options::<Str>(none, "a", "x")),
        "nothing visited yet"
    );
    assert_eq!(prefix.next().unwrap().unwrap(), ("a", "1"));
    assert!(
        is_invalid(prefix.put_current_with_options::<Str>(none, "b", "x")),
        "another key"
    );
    drop(prefix);
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("a", "1"));
    assert!(is_key_exist(iter.put_current_with_options::<Str>(
        PutFlags::NO_OVERWRITE,
        "a",
        "x"
    )));
    assert!(is_key_exist(iter.put_current_with_options::<Str>(
        PutFlags::APPEND,
        "a",
        "x"
    )));
    for flags in [PutFlags::NO_DUP_DATA, PutFlags::APPEND_DUP] {
        assert!(is_invalid(
            iter.put_current_with_options::<Str>(flags, "a", "x")
        ));
    }
    // The value in another codec than the iterator's.
    iter.put_current_with_options::<Bytes>(none, "a", b"one")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("b", "2"));
    assert_eq!(iter.next().unwrap().unwrap(), ("c", "3"));
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::APPEND, "c", "x")),
        "the last key is not after itself"
    );
    iter.put_current_with_options::<Str>(none, "c", "three")
        .unwrap();
    assert!(iter.next().is_none());
    drop(iter);
    let expected = [("a", "one"), ("b", "2"), ("c", "three")];
    assert_eq!(pairs(db, &wtxn), owned_pairs(&expected));

    // Backwards the walk goes on before the key.
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("c", "three"));
    assert_eq!(iter.next().unwrap().unwrap(), ("b", "2"));
    iter.put_current_with_options::<Str>(none, "b", "two")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("a", "one"));
    assert!(iter.next().is_none());
    drop(iter);
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "b").unwrap(), Some("two"));
    assert_eq!(db.len(&rtxn).unwrap(), 3);
    drop(rtxn);
    assert_sound(&env);
}

/// A walk of the whole database puts any key, as LMDB's cursor does, before any entry was
/// visited too, and goes on after the pair put: heed's cursor-append example appends to an
/// empty database through `iter_mut`.
#[test]
fn put_current_with_options_on_a_whole_database_walk_puts_any_key() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    for key in ["aaaa", "abcd", "bcde"] {
        iter.put_current_with_options::<Str>(PutFlags::APPEND, key, "appended")
            .unwrap();
    }
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::APPEND, "abba", "x")),
        "out of order"
    );
    assert!(iter.next().is_none(), "on after the last pair put");
    drop(iter);
    assert_eq!(db.len(&wtxn).unwrap(), 3);

    // Elsewhere in a walk: it goes on after the key put (before it, walking backwards).
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("aaaa", "appended"));
    iter.put_current_with_options::<Str>(PutFlags::empty(), "abce", "new")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("bcde", "appended"));
    drop(iter);
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("bcde", "appended"));
    // Before "abcd" and "abce": the walk moves there, as LMDB's cursor, and skips them.
    iter.put_current_with_options::<Str>(PutFlags::empty(), "abcc", "new")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("aaaa", "appended"));
    assert!(iter.next().is_none());
    drop(iter);
    assert_eq!(db.len(&wtxn).unwrap(), 5);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

fn dup_sort_database(env: &arbordb::Env, wtxn: &mut arbordb::RwTxn<'_>) -> Database<Str, Str> {
    let mut options = env.database_options().types::<Str, Str>();
    options.name("pairs").flags(DatabaseFlags::DUP_SORT);
    options.create(wtxn).unwrap()
}

/// In a duplicate-sorted database each flag decides whether the pair is added beside the
/// visited one, and the walk goes on after the pair put, wherever it sorts.
#[test]
fn put_current_with_options_in_a_duplicate_sorted_database() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = dup_sort_database(&env, &mut wtxn);
    for (key, value) in [("k", "b"), ("k", "d"), ("k", "f"), ("z", "m")] {
        db.put(&mut wtxn, key, value).unwrap();
    }
    let none = PutFlags::empty();
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "b"));
    assert!(is_key_exist(iter.put_current_with_options::<Str>(
        PutFlags::NO_OVERWRITE,
        "k",
        "x"
    )));
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::APPEND, "k", "x")),
        "k is not after every key"
    );
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::NO_DUP_DATA, "k", "d")),
        "the pair exists"
    );
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::APPEND_DUP, "k", "c")),
        "c is not after f"
    );
    iter.put_current_with_options::<Str>(PutFlags::NO_DUP_DATA, "k", "c")
        .unwrap();
    assert_eq!(
        iter.next().unwrap().unwrap(),
        ("k", "d"),
        "on after the new pair"
    );
    // A value before the visited one: the walk goes on from there.
    iter.put_current_with_options::<Bytes>(none, "k", b"a")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "b"));
    // An existing pair: nothing added, the walk goes on after it.
    iter.put_current_with_options::<Str>(none, "k", "b")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "c"));
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "d"));
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "f"));
    iter.put_current_with_options::<Str>(PutFlags::APPEND_DUP, "k", "g")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("z", "m"));
    assert!(
        is_key_exist(iter.put_current_with_options::<Str>(PutFlags::APPEND, "z", "n")),
        "the last key is not after itself"
    );
    let append_pairs = PutFlags::APPEND | PutFlags::APPEND_DUP;
    assert!(is_key_exist(iter.put_current_with_options::<Str>(
        append_pairs,
        "z",
        "a"
    )));
    iter.put_current_with_options::<Str>(append_pairs, "z", "n")
        .unwrap();
    assert!(iter.next().is_none());
    drop(iter);
    let expected = [
        ("k", "a"),
        ("k", "b"),
        ("k", "c"),
        ("k", "d"),
        ("k", "f"),
        ("k", "g"),
        ("z", "m"),
        ("z", "n"),
    ];
    assert_eq!(pairs(db, &wtxn), owned_pairs(&expected));

    // Backwards, and by key: the walk goes on before the pair put, or to the next key.
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("z", "n"));
    iter.put_current_with_options::<Str>(none, "z", "o")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("z", "n"));
    assert_eq!(iter.next().unwrap().unwrap(), ("z", "m"));
    drop(iter);
    let mut iter = db.iter_mut(&mut wtxn).unwrap().move_between_keys();
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "a"));
    iter.put_current_with_options::<Str>(none, "k", "e")
        .unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("z", "m"));
    assert!(iter.next().is_none());
    drop(iter);
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 10);
    drop(rtxn);
    assert_sound(&env);
}

/// A key with values enough for a tree of their own: a pair put after each visited value
/// sorts right after it, so the walk visits each original value once.
#[test]
fn put_current_with_options_walks_a_tree_of_values_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = dup_sort_database(&env, &mut wtxn);
    let originals: Vec<String> = (0..600).map(|i| format!("value-{i:05}")).collect();
    for value in &originals {
        db.put(&mut wtxn, "key", value).unwrap();
    }
    let mut visited = Vec::new();
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    while let Some(entry) = iter.next() {
        let (key, value) = entry.unwrap();
        let (key, value) = (key.to_owned(), value.to_owned());
        let added = format!("{value}!");
        iter.put_current_with_options::<Str>(PutFlags::NO_DUP_DATA, &key, &added)
            .unwrap();
        visited.push(value);
    }
    drop(iter);
    assert_eq!(visited, originals);
    let mut expected: Vec<(String, String)> = originals
        .iter()
        .flat_map(|value| [value.clone(), format!("{value}!")])
        .map(|value| ("key".to_owned(), value))
        .collect();
    expected.sort();
    assert_eq!(pairs(db, &wtxn), expected);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// Values ordered by their first byte alone, so a value may change and keep its place.
enum FirstByte {}

impl Comparator for FirstByte {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.first().cmp(&b.first())
    }
}

/// In a duplicate-sorted database `put_current` replaces the visited value only with one
/// sorting in its place (under the database's order of values), as LMDB's `MDB_CURRENT` does.
#[test]
fn put_current_in_a_duplicate_sorted_database_keeps_the_value_s_place() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Str>()
        .dup_sort_comparator::<FirstByte>()
        .name("first-byte")
        .flags(DatabaseFlags::DUP_SORT)
        .create(&mut wtxn)
        .unwrap();
    for value in ["a1", "b1", "c1"] {
        db.put(&mut wtxn, "k", value).unwrap();
    }
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "a1"));
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "b1"));
    assert!(
        matches!(
            iter.put_current("k", "d1"),
            Err(Error::Mdb(MdbError::InvalidOption { .. }))
        ),
        "d1 sorts after c1"
    );
    assert!(iter.put_current("k", "b2").unwrap(), "b2 sorts as b1");
    assert_eq!(iter.next().unwrap().unwrap(), ("k", "c1"));
    assert!(iter.next().is_none());
    drop(iter);
    let values: Vec<&str> = db
        .get_duplicates(&wtxn, "k")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(values, ["a1", "b2", "c1"]);
}

/// `put_current` in a duplicate-sorted database takes a value its comparator calls equal to
/// the visited one, of another length too (sizes bind only with `DUP_FIXED`); with
/// `DUP_FIXED`, one of the same size.
#[test]
fn put_current_of_an_equal_value_of_another_length() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let mut databases = Vec::new();
    for (name, flags) in [
        ("plain", DatabaseFlags::DUP_SORT),
        ("fixed", DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED),
    ] {
        let mut options = env
            .database_options()
            .types::<Str, Str>()
            .dup_sort_comparator::<FirstByte>();
        options.name(name).flags(flags);
        databases.push(options.create(&mut wtxn).unwrap());
    }
    for db in &databases {
        for value in ["b1", "d1", "f1"] {
            db.put(&mut wtxn, "k", value).unwrap();
        }
    }
    for (db, new) in databases.into_iter().zip(["d-longer", "d2"]) {
        let mut iter = db.iter_mut(&mut wtxn).unwrap();
        assert_eq!(iter.next().unwrap().unwrap(), ("k", "b1"));
        assert_eq!(iter.next().unwrap().unwrap(), ("k", "d1"));
        assert!(iter.put_current("k", new).unwrap());
        assert_eq!(iter.next().unwrap().unwrap(), ("k", "f1"));
        drop(iter);
        let mut values = Vec::new();
        for entry in db.get_duplicates(&wtxn, "k").unwrap().unwrap() {
            values.push(entry.unwrap().1.to_string());
        }
        assert_eq!(values, ["b1", new, "f1"]);
    }
}
