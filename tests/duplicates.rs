//! Duplicate-sorted databases (`DUP_SORT`): several sorted values per key, kept in the key's
//! leaf cell while few and small, in a tree of their own past that; heed's methods over them.

mod common;

use std::ops::Bound;

use arbordb::byteorder::BigEndian;
use arbordb::iteration_method::MoveOnCurrentKeyDuplicates;
use arbordb::types::{Bytes, Str, U32};
use arbordb::MdbError;
use arbordb::{DatabaseFlags, Env, Error, PutFlags, RoIter};
use common::pairs::{owned, pairs_of, stored_pairs, Model, Multimap};
use common::{assert_sound, open, open_with_page_size, Rng};

fn dup_database(env: &Env, name: &str) -> Multimap {
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name(name).flags(DatabaseFlags::DUP_SORT);
    let db = options.create(&mut wtxn).unwrap();
    wtxn.commit().unwrap();
    db
}

#[test]
fn a_key_keeps_each_of_its_values_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = dup_database(&env, "tags");
    let mut wtxn = env.write_txn().unwrap();
    for (key, value) in [
        ("b", "2"),
        ("a", "z"),
        ("a", "x"),
        ("a", "y"),
        ("a", "x"),
        ("c", "1"),
    ] {
        db.put(&mut wtxn, key.as_bytes(), value.as_bytes()).unwrap();
    }
    assert_eq!(
        db.len(&wtxn).unwrap(),
        5,
        "the repeated pair is stored once"
    );
    assert_eq!(
        db.get(&wtxn, b"a").unwrap(),
        Some(&b"x"[..]),
        "get gives the first"
    );
    let values: Vec<&[u8]> = db
        .get_duplicates(&wtxn, b"a")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(values, [&b"x"[..], b"y", b"z"]);
    assert!(db.get_duplicates(&wtxn, b"nothing").unwrap().is_none());
    wtxn.commit().unwrap();
    let pairs = stored_pairs(&env, db);
    let expected: Vec<(Vec<u8>, Vec<u8>)> =
        [("a", "x"), ("a", "y"), ("a", "z"), ("b", "2"), ("c", "1")]
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
    assert_eq!(pairs, expected);
    assert_sound(&env);
}

#[test]
fn put_flags_follow_heed_on_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = dup_database(&env, "flags");
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"k", b"1").unwrap();
    db.put(&mut wtxn, b"k", b"3").unwrap();
    // NO_DUP_DATA refuses an existing pair only.
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::NO_DUP_DATA, b"k", b"3"),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    db.put_with_flags(&mut wtxn, PutFlags::NO_DUP_DATA, b"k", b"2")
        .unwrap();
    // NO_OVERWRITE refuses an existing key, whatever the value and the other flags.
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, b"k", b"9"),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    assert!(matches!(
        db.put_with_flags(
            &mut wtxn,
            PutFlags::NO_OVERWRITE | PutFlags::APPEND_DUP,
            b"k",
            b"9"
        ),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    // APPEND_DUP: after the key's last value, else KeyExist.
    db.put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, b"k", b"4")
        .unwrap();
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, b"k", b"0"),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, b"k", b"4"),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    // APPEND: after the last key; with APPEND_DUP too, the last key takes later values.
    db.put_with_flags(&mut wtxn, PutFlags::APPEND, b"m", b"1")
        .unwrap();
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, b"m", b"2"),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    db.put_with_flags(
        &mut wtxn,
        PutFlags::APPEND | PutFlags::APPEND_DUP,
        b"m",
        b"2",
    )
    .unwrap();
    assert!(matches!(
        db.put_with_flags(
            &mut wtxn,
            PutFlags::APPEND | PutFlags::APPEND_DUP,
            b"k",
            b"9"
        ),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    let values: Vec<&[u8]> = db
        .get_duplicates(&wtxn, b"k")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(values, [&b"1"[..], b"2", b"3", b"4"]);
    assert_eq!(db.len(&wtxn).unwrap(), 6);
    // Without DUP_SORT the duplicate flags are refused.
    let plain = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("plain"))
        .unwrap();
    assert!(matches!(
        plain.put_with_flags(&mut wtxn, PutFlags::NO_DUP_DATA, b"k", b"1"),
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// 100,000 values on one key: they move into a tree of their own, which a seek searches in
/// few pages; deleting them one by one brings the key back to a list and a single value.
#[test]
fn a_hundred_thousand_values_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Str, U32<BigEndian>>();
    options.name("many").flags(DatabaseFlags::DUP_SORT);
    let db = options.create(&mut wtxn).unwrap();
    let mut order: Vec<u32> = (0..100_000).collect();
    Rng(5).shuffle(&mut order);
    for n in &order {
        db.put(&mut wtxn, "key", n).unwrap();
    }
    db.put(&mut wtxn, "other", &7).unwrap();
    wtxn.commit().unwrap();
    assert_sound(&env);

    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 100_001);
    assert_eq!(db.get(&rtxn, "key").unwrap(), Some(0));
    let values: Vec<u32> = db
        .get_duplicates(&rtxn, "key")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(values, (0..100_000).collect::<Vec<_>>());
    let stat = db.stat(&rtxn).unwrap();
    assert!(
        stat.leaf_pages > 100,
        "the values' pages are counted: {stat:?}"
    );
    // A seek among one key's values reads a path, not the values before it.
    let before = rtxn.pages_read();
    let last: Vec<(&str, u32)> = db
        .rev_iter(&rtxn)
        .unwrap()
        .take(2)
        .map(Result::unwrap)
        .collect();
    assert_eq!(last, [("other", 7), ("key", 99_999)]);
    assert!(
        rtxn.pages_read() - before < 16,
        "{} pages",
        rtxn.pages_read() - before
    );
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    for n in 0..99_998u32 {
        assert!(db.delete_one_duplicate(&mut wtxn, "key", &n).unwrap());
    }
    assert!(!db.delete_one_duplicate(&mut wtxn, "key", &5).unwrap());
    let left: Vec<u32> = db
        .get_duplicates(&wtxn, "key")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(left, [99_998, 99_999]);
    wtxn.commit().unwrap();
    assert_sound(&env);
    let mut wtxn = env.write_txn().unwrap();
    assert!(db.delete_one_duplicate(&mut wtxn, "key", &99_998).unwrap());
    assert_eq!(db.get(&wtxn, "key").unwrap(), Some(99_999));
    assert_eq!(db.len(&wtxn).unwrap(), 2);
    wtxn.commit().unwrap();
    assert_sound(&env);
    // Deleting the key takes every value; the pages come back.
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..5_000 {
        db.put(&mut wtxn, "key", &n).unwrap();
    }
    assert!(db.delete(&mut wtxn, "key").unwrap());
    assert_eq!(db.len(&wtxn).unwrap(), 1);
    assert_eq!(db.stat(&wtxn).unwrap().leaf_pages, 1);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// Random puts, deletes of pairs and of keys, over 512-byte pages (lists that become trees
/// and trees that shrink), against a model, with iteration both ways, by key, and seeks.
#[test]
fn random_pairs_agree_with_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let db = dup_database(&env, "random");
    let mut model = Model::new();
    let mut rng = Rng(17);
    for round in 0..8 {
        let mut wtxn = env.write_txn().unwrap();
        for _ in 0..3_000 {
            let key = vec![b'k', rng.below(40) as u8];
            let value_len = 1 + rng.below(if round % 2 == 0 { 6 } else { 60 }) as usize;
            let value = rng.bytes(value_len);
            match rng.below(10) {
                0 => {
                    let existed = db.delete(&mut wtxn, &key).unwrap();
                    assert_eq!(existed, model.remove(&key).is_some());
                }
                1..=3 => {
                    // Delete a value the key has, when it has one.
                    let Some(values) = model.get_mut(&key) else {
                        continue;
                    };
                    let index = rng.below(values.len() as u64) as usize;
                    let victim = values.iter().nth(index).unwrap().clone();
                    assert!(db.delete_one_duplicate(&mut wtxn, &key, &victim).unwrap());
                    values.remove(&victim);
                    if values.is_empty() {
                        model.remove(&key);
                    }
                }
                _ => {
                    db.put(&mut wtxn, &key, &value).unwrap();
                    model.entry(key).or_default().insert(value);
                }
            }
        }
        wtxn.commit().unwrap();
        assert_sound(&env);
        let expected = pairs_of(&model);
        assert_eq!(stored_pairs(&env, db), expected, "round {round}");
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db.len(&rtxn).unwrap(), expected.len() as u64);
        let backwards: Vec<(Vec<u8>, Vec<u8>)> = db.rev_iter(&rtxn).unwrap().map(owned).collect();
        assert!(backwards.iter().eq(expected.iter().rev()));
        // Each key once: with its first value forwards, its last backwards.
        let keys: Vec<(Vec<u8>, Vec<u8>)> = db
            .iter(&rtxn)
            .unwrap()
            .move_between_keys()
            .map(owned)
            .collect();
        let model_keys: Vec<(Vec<u8>, Vec<u8>)> = model
            .iter()
            .map(|(key, values)| (key.clone(), values.first().unwrap().clone()))
            .collect();
        assert_eq!(keys, model_keys);
        let keys_back: Vec<(Vec<u8>, Vec<u8>)> = db
            .rev_iter(&rtxn)
            .unwrap()
            .move_between_keys()
            .map(owned)
            .collect();
        let model_keys_back: Vec<(Vec<u8>, Vec<u8>)> = model
            .iter()
            .rev()
            .map(|(key, values)| (key.clone(), values.last().unwrap().clone()))
            .collect();
        assert_eq!(keys_back, model_keys_back);
        // Ranges and neighbours see every pair of the keys they take.
        for probe in 0..40u8 {
            let key = vec![b'k', probe];
            let range: Vec<(Vec<u8>, Vec<u8>)> = db
                .range(&rtxn, &(Bound::Included(&key[..]), Bound::Unbounded))
                .unwrap()
                .map(owned)
                .collect();
            let model_range: Vec<(Vec<u8>, Vec<u8>)> = expected
                .iter()
                .filter(|(k, _)| *k >= key)
                .cloned()
                .collect();
            assert_eq!(range, model_range);
            let below = db
                .get_lower_than(&rtxn, &key)
                .unwrap()
                .map(|(k, v)| (k.to_vec(), v.to_vec()));
            let model_below = expected.iter().rev().find(|(k, _)| *k < key).cloned();
            assert_eq!(below, model_below);
            let duplicates: Option<Vec<Vec<u8>>> = db
                .get_duplicates(&rtxn, &key)
                .unwrap()
                .map(|iter| iter.map(|entry| entry.unwrap().1.to_vec()).collect());
            let model_duplicates = model
                .get(&key)
                .map(|values| values.iter().cloned().collect());
            assert_eq!(duplicates, model_duplicates);
        }
    }
}

/// `iter_mut` over pairs: `del_current` deletes the pair it is on and the walk goes on with
/// the key's next value.
#[test]
fn deleting_while_walking_takes_one_pair_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = dup_database(&env, "walk");
    let mut wtxn = env.write_txn().unwrap();
    for key in [b"a", b"b"] {
        for value in 0..50u8 {
            db.put(&mut wtxn, key, &[value]).unwrap();
        }
    }
    let mut visited = 0;
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    while let Some(entry) = iter.next() {
        let (_, value) = entry.unwrap();
        let odd = value[0] % 2 == 1;
        visited += 1;
        if odd {
            assert!(iter.del_current().unwrap());
        }
    }
    drop(iter);
    assert_eq!(visited, 100);
    assert_eq!(db.len(&wtxn).unwrap(), 50);
    let a: Vec<u8> = db
        .get_duplicates(&wtxn, b"a")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1[0])
        .collect();
    assert_eq!(a, (0..50).step_by(2).collect::<Vec<u8>>());
    // Backwards over pairs: every value visited once, from the last, deleting some.
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap();
    let mut backwards = Vec::new();
    while let Some(entry) = iter.next() {
        let (key, value) = entry.unwrap();
        let value = value[0];
        backwards.push((key[0], value));
        if value % 4 == 0 {
            assert!(iter.del_current().unwrap());
        }
    }
    drop(iter);
    let expected: Vec<(u8, u8)> = [b'b', b'a']
        .into_iter()
        .flat_map(|key| (0..50u8).step_by(2).rev().map(move |value| (key, value)))
        .collect();
    assert_eq!(backwards, expected);
    for key in [b"a", b"b"] {
        for value in (0..50u8).step_by(4) {
            db.put(&mut wtxn, key, &[value]).unwrap();
        }
    }
    // Backwards, by key.
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap().move_between_keys();
    let mut keys = Vec::new();
    while let Some(entry) = iter.next() {
        let (key, value) = entry.unwrap();
        keys.push((key.to_vec(), value[0]));
    }
    assert_eq!(keys, [(b"b".to_vec(), 48), (b"a".to_vec(), 48)]);
    drop(iter);
    let counted = db
        .delete_range(
            &mut wtxn,
            &(Bound::Included(&b"a"[..]), Bound::Included(&b"a"[..])),
        )
        .unwrap();
    assert_eq!(counted, 25);
    assert_eq!(db.len(&wtxn).unwrap(), 25);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

#[test]
fn values_are_held_to_the_key_size_limit_and_the_flag_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = dup_database(&env, "limits");
    let max = env.max_key_size();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"k", &vec![1u8; max]).unwrap();
    assert!(matches!(
        db.put(&mut wtxn, b"k", &vec![1u8; max + 1]),
        Err(Error::Mdb(MdbError::BadValSize))
    ));
    wtxn.commit().unwrap();
    drop(env);
    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    // A plain open takes the recorded DUP_SORT; asking for no duplicates explicitly does not
    // fit it.
    let plain: Multimap = env.open_database(&rtxn, Some("limits")).unwrap().unwrap();
    let iter: RoIter<'_, Bytes, Bytes, MoveOnCurrentKeyDuplicates> =
        plain.get_duplicates(&rtxn, b"k").unwrap().unwrap();
    assert_eq!(iter.count(), 1);
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name("limits").flags(DatabaseFlags::REVERSE_KEY);
    assert!(matches!(
        options.open(&rtxn),
        Err(Error::Mdb(MdbError::IncompatibleDatabase { .. }))
    ));
}

#[test]
fn copies_carry_trees_of_values_and_a_plain_copy_verifies_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = dup_database(&env, "tags");
    let marker = b"value-tree-page:";
    let mut wtxn = env.write_txn().unwrap();
    for number in 0..2000u32 {
        let value = [&marker[..], &number.to_be_bytes()].concat();
        db.put(&mut wtxn, b"many", &value).unwrap();
    }
    let leaf_key = b"the-key-with-few-values";
    for value in [&b"x"[..], b"y"] {
        db.put(&mut wtxn, leaf_key, value).unwrap();
    }
    wtxn.commit().unwrap();
    let pairs = stored_pairs(&env, db);
    assert_eq!(pairs.len(), 2002);

    let copies = tempfile::tempdir().unwrap();
    for compaction in [
        arbordb::CompactionOption::Disabled,
        arbordb::CompactionOption::Enabled,
    ] {
        let path = copies.path().join(format!("{compaction:?}"));
        env.copy_to_path(&path, compaction).unwrap();
        let copy = unsafe {
            arbordb::EnvOpenOptions::new()
                .max_dbs(16)
                .flags(arbordb::EnvFlags::NO_SUB_DIR)
                .open(&path)
                .unwrap()
        };
        assert_sound(&copy);
        let rtxn = copy.read_txn().unwrap();
        let copied: Multimap = copy.open_database(&rtxn, Some("tags")).unwrap().unwrap();
        drop(rtxn);
        assert_eq!(stored_pairs(&copy, copied), pairs, "{compaction:?}");
    }
    drop(env);

    // Damage every page of the tree of values of "many" (written once, by the one commit):
    // the pages holding its values, but not the database's leaf, whose free space may keep
    // the values it listed before they moved to a tree of their own. The plain copy, which
    // verifies every page it carries over, names one of them.
    let data_path = dir.path().join("data.arbordb");
    let mut file = std::fs::read(&data_path).unwrap();
    let page_size = 4096;
    let mut damaged = Vec::new();
    for (number, page) in file.chunks_mut(page_size).enumerate() {
        let holds = |bytes: &[u8]| page.windows(bytes.len()).any(|window| window == bytes);
        if holds(marker) && !holds(leaf_key) {
            page[page_size / 2] ^= 0x40;
            damaged.push(number as u64);
        }
    }
    assert!(damaged.len() > 2, "a tree of values over several pages");
    std::fs::write(&data_path, &file).unwrap();
    let env = open(dir.path());
    match env.copy_to_path(
        copies.path().join("of-damaged"),
        arbordb::CompactionOption::Disabled,
    ) {
        Err(Error::Mdb(MdbError::CorruptedPage { page, reason })) => {
            assert!(damaged.contains(&page), "{page} {reason}");
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// At every page size, the longest key a duplicate-sorted database takes holds a list, a tree
/// of values and, collapsed, one value as long as the key allows; one byte more of either is
/// refused before anything changes.
#[test]
fn the_longest_keys_and_values_fit_every_form_of_a_key() {
    for page_size in [512usize, 1024, 4096, 16384, 65536] {
        let dir = tempfile::tempdir().unwrap();
        let env = open_with_page_size(dir.path(), page_size);
        let db = dup_database(&env, "long");
        let usable = (page_size - 24) / 4 - 2;
        let key_max = usable - 7 - 48;
        let key = vec![7u8; key_max];
        let value_max = (usable - 7 - key_max).min(env.max_key_size());
        let mut wtxn = env.write_txn().unwrap();
        assert!(matches!(
            db.put(&mut wtxn, &vec![7u8; key_max + 1], b"v"),
            Err(Error::Mdb(MdbError::BadValSize))
        ));
        assert!(matches!(
            db.put(&mut wtxn, &key, &vec![1u8; value_max + 1]),
            Err(Error::Mdb(MdbError::BadValSize))
        ));
        // One long value, then many short ones: a list, then a tree.
        let long_value = vec![0xEEu8; value_max];
        db.put(&mut wtxn, &key, &long_value).unwrap();
        for n in 0..400u16 {
            db.put(&mut wtxn, &key, &n.to_be_bytes()).unwrap();
        }
        db.put(&mut wtxn, b"a", b"1").unwrap();
        db.put(&mut wtxn, b"\xff", b"1").unwrap();
        wtxn.commit().unwrap();
        assert_sound(&env);
        // Down to the long value alone: the tree collapses to a cell that must hold it.
        let mut wtxn = env.write_txn().unwrap();
        for n in 0..400u16 {
            assert!(db
                .delete_one_duplicate(&mut wtxn, &key, &n.to_be_bytes())
                .unwrap());
        }
        assert_eq!(db.get(&wtxn, &key).unwrap(), Some(&long_value[..]));
        assert_eq!(db.len(&wtxn).unwrap(), 3, "{page_size}");
        wtxn.commit().unwrap();
        assert_sound(&env);
        let rtxn = env.read_txn().unwrap();
        assert_eq!(stored_pairs(&env, db).len(), 3);
        drop(rtxn);
    }
}

/// `get_duplicates` seeks once and stops at the key's last value: scanning a key reads the
/// same pages whether or not the next key has a tree of values of its own.
#[test]
fn a_scan_of_one_key_reads_nothing_of_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let db = dup_database(&env, "scanned");
    let fill = |key: &[u8]| {
        let mut wtxn = env.write_txn().unwrap();
        for n in 0..2_000u32 {
            db.put(&mut wtxn, key, &n.to_be_bytes()).unwrap();
        }
        wtxn.commit().unwrap();
    };
    let scan = || {
        let rtxn = env.read_txn().unwrap();
        let before = rtxn.pages_read();
        let count = db.get_duplicates(&rtxn, b"a").unwrap().unwrap().count();
        assert_eq!(count, 2_000);
        rtxn.pages_read() - before
    };
    fill(b"a");
    let alone = scan();
    fill(b"b");
    assert_eq!(scan(), alone, "the scan went on into the next key");
    assert!(db
        .get_duplicates(&env.read_txn().unwrap(), b"ab")
        .unwrap()
        .is_none());
}

/// A key and a value each within `Env::max_key_size` but together longer than a plain leaf
/// cell: the pair is refused unless it fits its key's cell, and a long value that fits stays
/// readable as its key gains values (a tree) and loses them again (a plain cell).
#[test]
fn a_long_key_with_a_long_value_keeps_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let db = dup_database(&env, "long");
    let mut wtxn = env.write_txn().unwrap();
    assert!(matches!(
        db.put(&mut wtxn, &[7u8; 90], &[2u8; 30]),
        Err(Error::Mdb(MdbError::BadValSize))
    ));
    let key = vec![7u8; 60];
    assert!(matches!(
        db.put(&mut wtxn, &key, &[2u8; 54]),
        Err(Error::Mdb(MdbError::BadValSize))
    ));
    let (short, long) = (vec![1u8; 10], vec![2u8; 53]);
    db.put(&mut wtxn, &key, &long).unwrap();
    db.put(&mut wtxn, &key, &short).unwrap();
    assert!(db.delete_one_duplicate(&mut wtxn, &key, &short).unwrap());
    assert_eq!(db.get(&wtxn, &key).unwrap(), Some(&long[..]));
    db.put(&mut wtxn, &key, &short).unwrap();
    wtxn.commit().unwrap();
    assert_sound(&env);
}
