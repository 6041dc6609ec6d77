//! Nested write transactions: the child sees its parent's changes, its commit folds into the
//! parent, its abort discards only its own changes, at any depth.

mod common;

use arbordb::types::{Bytes, Str};
use arbordb::MdbError;
use arbordb::{EnvOpenOptions, Error, RwTxn};
use common::{assert_sound, open};

#[test]
fn a_child_sees_the_parent_and_folds_into_it_or_vanishes() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut parent = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut parent, None).unwrap();
    let named = env
        .create_database::<Str, Str>(&mut parent, Some("named"))
        .unwrap();
    db.put(&mut parent, "parent", "p").unwrap();
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        assert_eq!(
            db.get(&child, "parent").unwrap(),
            Some("p"),
            "the child sees the parent's change"
        );
        db.put(&mut child, "child", "c").unwrap();
        db.delete(&mut child, "parent").unwrap();
        named.put(&mut child, "in named", "n").unwrap();
        let created = env
            .create_database::<Str, Str>(&mut child, Some("created by child"))
            .unwrap();
        created.put(&mut child, "k", "v").unwrap();
        child.commit().unwrap();
    }
    assert_eq!(db.get(&parent, "child").unwrap(), Some("c"));
    assert_eq!(db.get(&parent, "parent").unwrap(), None);
    assert_eq!(named.get(&parent, "in named").unwrap(), Some("n"));
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        db.put(&mut child, "aborted", "a").unwrap();
        db.delete(&mut child, "child").unwrap();
        named.clear(&mut child).unwrap();
        child.abort();
    }
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        db.put(&mut child, "dropped", "d").unwrap();
    }
    assert_eq!(db.get(&parent, "aborted").unwrap(), None);
    assert_eq!(db.get(&parent, "dropped").unwrap(), None);
    assert_eq!(db.get(&parent, "child").unwrap(), Some("c"));
    assert_eq!(named.get(&parent, "in named").unwrap(), Some("n"));
    parent.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "child").unwrap(), Some("c"));
    assert_eq!(named.get(&rtxn, "in named").unwrap(), Some("n"));
    let created = env
        .open_database::<Str, Str>(&rtxn, Some("created by child"))
        .unwrap()
        .unwrap();
    assert_eq!(created.get(&rtxn, "k").unwrap(), Some("v"));
    drop(rtxn);
    assert_sound(&env);
}

#[test]
fn nesting_works_at_any_depth_and_large_changes_fold_soundly() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut root = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut root, None)
        .unwrap();
    fn level(
        env: &arbordb::Env,
        txn: &mut RwTxn<'_>,
        db: arbordb::Database<Bytes, Bytes>,
        depth: u32,
    ) {
        for n in 0..2000u32 {
            db.put(txn, &(depth * 10_000 + n).to_be_bytes(), &[depth as u8; 60])
                .unwrap();
        }
        if depth < 4 {
            let mut child = env.nested_write_txn(txn).unwrap();
            level(env, &mut child, db, depth + 1);
            // Odd depths keep their child's work, even ones throw it away.
            if depth % 2 == 1 {
                child.commit().unwrap();
            }
        }
    }
    level(&env, &mut root, db, 1);
    // Depth 1 kept depth 2, which dropped depth 3 (and with it depth 4).
    assert_eq!(db.len(&root).unwrap(), 4000);
    root.commit().unwrap();
    assert_sound(&env);
    assert_eq!(db.len(&env.read_txn().unwrap()).unwrap(), 4000);
}

#[test]
fn a_failed_child_leaves_the_parent_usable() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 20)
            .open(dir.path())
            .unwrap()
    };
    let mut parent = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut parent, None)
        .unwrap();
    db.put(&mut parent, b"before", b"child").unwrap();
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        let mut failure = None;
        for n in 0..100_000u32 {
            if let Err(error) = db.put(&mut child, &n.to_be_bytes(), &[0u8; 100]) {
                failure = Some(error);
                break;
            }
        }
        assert!(
            matches!(failure, Some(Error::Mdb(MdbError::MapFull))),
            "{failure:?}"
        );
        assert!(matches!(child.commit(), Err(Error::Mdb(MdbError::BadTxn))));
    }
    db.put(&mut parent, b"after", b"child").unwrap();
    parent.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 2);
    drop(rtxn);
    assert_sound(&env);
}

/// A nested transaction's count of pages read goes on from its parent's (`RoTxn::pages_read`).
#[test]
fn a_child_counts_pages_read_on_from_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    for n in 0..2_000 {
        db.put(&mut wtxn, &format!("key {n:05}"), "value").unwrap();
    }
    wtxn.commit().unwrap();
    let mut parent = env.write_txn().unwrap();
    db.put(&mut parent, "key 00001", "changed").unwrap();
    for n in 0..2_000 {
        db.get(&parent, &format!("key {n:05}")).unwrap();
    }
    let read_by_parent = parent.pages_read();
    assert!(read_by_parent > 100, "{read_by_parent}");
    let child = env.nested_write_txn(&mut parent).unwrap();
    assert!(child.pages_read() >= read_by_parent);
}
