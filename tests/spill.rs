//! Write transactions larger than their memory limit (`EnvOpenOptions::txn_memory_max`): they
//! write ("spill") pages to the file before commit, read them back when they change them
//! again, and behave exactly like transactions that hold every page until commit: reads
//! inside see every change, abort leaves nothing, commit keeps everything, nested
//! transactions fold in or vanish.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvOpenOptions, PutFlags, DATA_FILE_NAME};
use common::{assert_sound, Rng};

/// Eight 4 KiB pages: every transaction below spills many times.
const LIMIT: usize = 8 * 4096;

fn open_limited(dir: &Path) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(4096)
            .txn_memory_max(LIMIT)
            .open(dir)
            .unwrap()
    }
}

fn file_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(DATA_FILE_NAME)).unwrap().len()
}

/// The unnamed database's entries.
fn contents(env: &Env) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let rtxn = env.read_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.open_database(&rtxn, None).unwrap().unwrap();
    db.iter(&rtxn)
        .unwrap()
        .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect()
}

#[test]
fn a_sorted_load_larger_than_the_limit_writes_pages_before_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_limited(dir.path());
    let before = file_len(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let mut model = BTreeMap::new();
    for n in 0u32..20_000 {
        let key = n.to_be_bytes().to_vec();
        let value = vec![n as u8; 100 + (n % 7) as usize * 300]; // some values overflow
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, &key, &value)
            .unwrap();
        model.insert(key, value);
    }
    // Spilled: the file holds the transaction's pages already (about 3 MiB of them).
    assert!(file_len(dir.path()) > before + (1 << 20));
    // The transaction reads what it wrote, spilled or not.
    for (key, value) in model.iter().step_by(97) {
        assert_eq!(db.get(&wtxn, key).unwrap(), Some(&value[..]));
    }
    assert_eq!(db.len(&wtxn).unwrap(), 20_000);
    wtxn.commit().unwrap();
    assert_eq!(contents(&env), model);
    assert_sound(&env);
    drop(env);
    let env = open_limited(dir.path());
    assert_eq!(contents(&env), model);
    assert_sound(&env);
}

#[test]
fn random_changes_to_spilled_pages_read_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_limited(dir.path());
    let mut rng = Rng(7);
    let mut model = BTreeMap::new();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    // Inserts, overwrites (large and small), and deletes over a key space whose pages are
    // spilled and changed again all the time.
    for _ in 0..30_000 {
        let key = format!("key{:05}", rng.below(8_000)).into_bytes();
        match rng.below(10) {
            0..=1 => {
                db.delete(&mut wtxn, &key).unwrap();
                model.remove(&key);
            }
            _ => {
                let len = if rng.below(20) == 0 { 5_000 } else { 40 };
                let value = rng.bytes(len);
                db.put(&mut wtxn, &key, &value).unwrap();
                model.insert(key, value);
            }
        }
    }
    let inside: BTreeMap<Vec<u8>, Vec<u8>> = db
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect();
    assert_eq!(inside, model);
    wtxn.commit().unwrap();
    assert_eq!(contents(&env), model);
    assert_sound(&env);
}

#[test]
fn an_aborted_transaction_that_spilled_leaves_every_commit_intact() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_limited(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0u32..5_000 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[1; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let committed = contents(&env);
    let reader = env.read_txn().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for n in 0u32..20_000 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[2; 150]).unwrap();
    }
    wtxn.abort();
    assert_eq!(db.len(&reader).unwrap(), 5_000, "an old reader still reads");
    drop(reader);
    assert_eq!(contents(&env), committed);
    assert_sound(&env);
    // The next transactions reuse what the aborted one wrote over, and the file reopens.
    let mut wtxn = env.write_txn().unwrap();
    for n in 0u32..3_000 {
        db.put(&mut wtxn, &(n * 3).to_be_bytes(), &[3; 60]).unwrap();
    }
    wtxn.commit().unwrap();
    let expected = contents(&env);
    drop(env);
    let env = open_limited(dir.path());
    assert_eq!(contents(&env), expected);
    assert_sound(&env);
}

#[test]
fn a_nested_transaction_changing_its_parents_spilled_pages_folds_in_or_vanishes() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_limited(dir.path());
    let mut parent = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut parent, None)
        .unwrap();
    for n in 0u32..10_000 {
        db.put(&mut parent, &n.to_be_bytes(), b"parent").unwrap();
    }
    // The parent has spilled most of its leaves; the child changes every one of them.
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        for n in (0u32..10_000).step_by(3) {
            db.put(&mut child, &n.to_be_bytes(), b"aborted child")
                .unwrap();
        }
        child.abort();
    }
    for n in (0u32..10_000).step_by(3) {
        assert_eq!(
            db.get(&parent, &n.to_be_bytes()).unwrap(),
            Some(&b"parent"[..])
        );
    }
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        for n in (0u32..10_000).step_by(5) {
            db.put(&mut child, &n.to_be_bytes(), b"child").unwrap();
        }
        child.commit().unwrap();
    }
    // The parent goes on spilling after the child folded in.
    for n in 10_000u32..20_000 {
        db.put(&mut parent, &n.to_be_bytes(), b"parent").unwrap();
    }
    parent.commit().unwrap();
    let found = contents(&env);
    assert_eq!(found.len(), 20_000);
    for (key, value) in found {
        let n = u32::from_be_bytes(key.try_into().unwrap());
        let expected: &[u8] = if n < 10_000 && n % 5 == 0 {
            b"child"
        } else {
            b"parent"
        };
        assert_eq!(value, expected, "key {n}");
    }
    assert_sound(&env);
}

/// With the default limit a transaction of a few MiB keeps every page in memory until its
/// commit (spilling starts at 64 MiB of changed pages): the file does not grow before it.
#[test]
fn with_the_default_limit_a_small_transaction_writes_nothing_before_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(4096)
            .open(dir.path())
            .unwrap()
    };
    let before = file_len(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0u32..20_000 {
        let value = vec![n as u8; 100 + (n % 7) as usize * 300];
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, &n.to_be_bytes(), &value)
            .unwrap();
    }
    assert_eq!(file_len(dir.path()), before, "nothing spilled");
    wtxn.commit().unwrap();
    assert!(file_len(dir.path()) > before + (1 << 20));
    assert_sound(&env);
}
