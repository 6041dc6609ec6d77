//! The B-tree under shapes that stress it: deep trees, long keys, large values, empty keys
//! and values, byte-wise order, and deletes that shrink a tree back to nothing.

mod common;

use arbordb::types::Bytes;
use arbordb::Error;
use arbordb::MdbError;
use common::{assert_sound, open, open_with_page_size, Rng};

#[test]
fn long_keys_build_deep_trees_that_shrink_back_to_empty() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let max = env.max_key_size();
    let mut rng = Rng(1);
    let mut keys: Vec<Vec<u8>> = (0..2000u32)
        .map(|n| {
            let mut key = vec![b'p'; max];
            key[max - 4..].copy_from_slice(&n.to_be_bytes());
            key
        })
        .collect();
    rng.shuffle(&mut keys);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for key in &keys {
        db.put(&mut wtxn, key, b"v").unwrap();
    }
    let deep = db.stat(&wtxn).unwrap();
    assert!(
        deep.depth >= 4,
        "long keys should make a deep tree: {deep:?}"
    );
    wtxn.commit().unwrap();
    assert_sound(&env);

    rng.shuffle(&mut keys);
    let mut wtxn = env.write_txn().unwrap();
    for (index, key) in keys.iter().enumerate() {
        assert!(db.delete(&mut wtxn, key).unwrap());
        if index % 250 == 249 {
            wtxn.commit().unwrap();
            assert_sound(&env);
            wtxn = env.write_txn().unwrap();
            let remaining = keys.len() - index - 1;
            assert_eq!(db.len(&wtxn).unwrap() as usize, remaining);
        }
    }
    let empty = db.stat(&wtxn).unwrap();
    assert_eq!(
        (
            empty.depth,
            empty.branch_pages,
            empty.leaf_pages,
            empty.entries
        ),
        (0, 0, 0, 0)
    );
    wtxn.commit().unwrap();
    assert_sound(&env);
}

#[test]
fn keys_sort_bytewise_with_shorter_prefixes_first() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let keys: [&[u8]; 7] = [b"b", b"", b"a", b"\xff", b"ab", b"a\x00", b"\x00"];
    for key in keys {
        db.put(&mut wtxn, key, key).unwrap();
    }
    let order: Vec<&[u8]> = db
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(
        order,
        vec![&b""[..], b"\x00", b"a", b"a\x00", b"ab", b"b", b"\xff"]
    );
}

#[test]
fn empty_keys_and_empty_values_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"", b"empty key").unwrap();
    db.put(&mut wtxn, b"empty value", b"").unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, b"").unwrap(), Some(&b"empty key"[..]));
    assert_eq!(db.get(&rtxn, b"empty value").unwrap(), Some(&b""[..]));
    assert_eq!(db.get(&rtxn, b"missing").unwrap(), None);
}

#[test]
fn keys_up_to_the_maximum_work_and_longer_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let max = env.max_key_size();
    assert!(max >= 511, "at least LMDB's limit, got {max}");
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let longest = vec![7u8; max];
    db.put(&mut wtxn, &longest, &vec![1u8; 10_000]).unwrap();
    let too_long = vec![7u8; max + 1];
    match db.put(&mut wtxn, &too_long, b"x") {
        Err(Error::Mdb(MdbError::BadValSize)) => {}
        other => panic!("expected BadValSize, got {other:?}"),
    }
    // The refusal left the transaction usable.
    db.put(&mut wtxn, b"after", b"ok").unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &longest).unwrap().map(<[u8]>::len),
        Some(10_000)
    );
    assert_eq!(db.get(&rtxn, &too_long).unwrap(), None);
    assert_sound(&env);
}

#[test]
fn a_64_mib_value_round_trips_and_its_pages_are_freed() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let big: Vec<u8> = (0..64usize << 20).map(|i| (i % 251) as u8).collect();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"big", &big).unwrap();
    db.put(&mut wtxn, b"small", b"s").unwrap();
    wtxn.commit().unwrap();
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    assert!(db.get(&rtxn, b"big").unwrap() == Some(&big[..]));
    let stat = db.stat(&rtxn).unwrap();
    assert!(stat.overflow_pages >= (64 << 20) / 4096, "{stat:?}");
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    assert!(db.delete(&mut wtxn, b"big").unwrap());
    assert_eq!(db.stat(&wtxn).unwrap().overflow_pages, 0);
    wtxn.commit().unwrap();
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.pages_free as usize >= (64 << 20) / 4096);
}

#[test]
fn overwriting_with_values_of_every_size_keeps_the_tree_sound() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 1024);
    let mut rng = Rng(7);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let mut model = std::collections::BTreeMap::new();
    for round in 0..3000 {
        let key = format!("key{:03}", rng.below(200)).into_bytes();
        let len = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(100) as usize,
            7 | 8 => rng.below(1024) as usize,
            _ => rng.below(5000) as usize,
        };
        let value = rng.bytes(len);
        db.put(&mut wtxn, &key, &value).unwrap();
        model.insert(key, value);
        if round % 500 == 499 {
            wtxn.commit().unwrap();
            assert_sound(&env);
            wtxn = env.write_txn().unwrap();
        }
    }
    let found: Vec<(Vec<u8>, Vec<u8>)> = db
        .iter(&wtxn)
        .unwrap()
        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect();
    assert!(found.into_iter().eq(model.into_iter()));
}

#[test]
fn sorted_appends_fill_pages_and_out_of_order_appends_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let appended = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("appended"))
        .unwrap();
    let random = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("random"))
        .unwrap();
    let mut keys: Vec<[u8; 8]> = (0..50_000u64).map(|n| n.to_be_bytes()).collect();
    for key in &keys {
        appended
            .put_with_flags(&mut wtxn, arbordb::PutFlags::APPEND, key, &[0u8; 50])
            .unwrap();
    }
    Rng(3).shuffle(&mut keys);
    for key in &keys {
        random.put(&mut wtxn, key, &[0u8; 50]).unwrap();
    }
    let packed = appended.stat(&wtxn).unwrap().leaf_pages;
    let loose = random.stat(&wtxn).unwrap().leaf_pages;
    assert!(
        packed * 10 < loose * 8,
        "appending should pack leaves: {packed} vs {loose}"
    );
    let result = appended.put_with_flags(
        &mut wtxn,
        arbordb::PutFlags::APPEND,
        &5u64.to_be_bytes(),
        b"late",
    );
    assert!(
        matches!(result, Err(Error::Mdb(MdbError::KeyExist))),
        "{result:?}"
    );
    wtxn.commit().unwrap();
    assert_sound(&env);
}
