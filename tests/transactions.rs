//! Transactions: one writer at a time, stable snapshots, abort, failure handling, sync modes.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use arbordb::types::{Bytes, Str};
use arbordb::MdbError;
use arbordb::{EnvFlags, EnvOpenOptions, Error, PutFlags, RoTxn};
use common::{assert_sound, open};

#[test]
fn a_second_writer_waits_for_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let first = env.write_txn().unwrap();
    let committed = Arc::new(AtomicBool::new(false));
    let waiter = {
        let (env, committed) = (env.clone(), committed.clone());
        thread::spawn(move || {
            let wtxn = env.write_txn().unwrap();
            let saw_commit = committed.load(Ordering::SeqCst);
            drop(wtxn);
            saw_commit
        })
    };
    thread::sleep(Duration::from_millis(200));
    assert!(
        matches!(
            env.try_write_txn(),
            Err(arbordb::Error::Mdb(arbordb::MdbError::WriterBusy))
        ),
        "the lock is held"
    );
    committed.store(true, Ordering::SeqCst);
    first.commit().unwrap();
    assert!(
        waiter.join().unwrap(),
        "the second writer began only after the first ended"
    );
}

#[test]
fn a_snapshot_never_changes_while_writers_commit() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Bytes>(&mut wtxn, None).unwrap();
    for n in 0..1000 {
        db.put(&mut wtxn, &format!("key{n}"), &[0u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let writer = {
        let env = env.clone();
        thread::spawn(move || {
            for round in 1..=50u8 {
                let mut wtxn = env.write_txn().unwrap();
                for n in 0..1000 {
                    db.put(&mut wtxn, &format!("key{n}"), &[round; 100])
                        .unwrap();
                }
                db.delete(&mut wtxn, &format!("key{round}")).unwrap();
                wtxn.commit().unwrap();
            }
        })
    };
    for _ in 0..20 {
        assert_eq!(db.len(&rtxn).unwrap(), 1000);
        for entry in db.iter(&rtxn).unwrap() {
            assert_eq!(entry.unwrap().1, &[0u8; 100][..]);
        }
    }
    writer.join().unwrap();
    assert!(db
        .iter(&rtxn)
        .unwrap()
        .all(|entry| entry.unwrap().1 == [0u8; 100]));
    drop(rtxn);
    assert_sound(&env);
    let latest = env.read_txn().unwrap();
    assert_eq!(db.get(&latest, "key0").unwrap(), Some(&[50u8; 100][..]));
    // Each round re-inserts every key and then deletes its own: only round 50's stays deleted.
    assert_eq!(db.len(&latest).unwrap(), 999);
    assert_eq!(db.get(&latest, "key50").unwrap(), None);
}

#[test]
fn read_transactions_are_send_and_a_thread_may_hold_several() {
    fn assert_send<T: Send>() {}
    assert_send::<RoTxn<'static>>();

    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "version", "1").unwrap();
    wtxn.commit().unwrap();
    let one = env.read_txn().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "version", "2").unwrap();
    wtxn.commit().unwrap();
    let two = env.read_txn().unwrap();
    assert_eq!(db.get(&one, "version").unwrap(), Some("1"));
    assert_eq!(db.get(&two, "version").unwrap(), Some("2"));
    assert_eq!(env.info().number_of_readers, 2);
    thread::scope(|scope| {
        scope.spawn(move || assert_eq!(db.get(&one, "version").unwrap(), Some("1")));
    });
    drop(two);
    assert_eq!(env.info().number_of_readers, 0);
}

#[test]
fn abort_and_drop_discard_everything() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "kept", "yes").unwrap();
    wtxn.commit().unwrap();
    let pages_before = env.info().last_page_number;

    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "aborted", "no").unwrap();
    db.delete(&mut wtxn, "kept").unwrap();
    wtxn.abort();
    {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, "dropped", "no").unwrap();
    }
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "kept").unwrap(), Some("yes"));
    assert_eq!(db.get(&rtxn, "aborted").unwrap(), None);
    assert_eq!(db.get(&rtxn, "dropped").unwrap(), None);
    assert_eq!(env.info().last_page_number, pages_before);
    drop(rtxn);
    assert_sound(&env);
}

#[test]
fn an_existing_key_under_no_overwrite_leaves_the_transaction_usable() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "key", "original").unwrap();
    let result = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "key", "replacement");
    assert!(
        matches!(result, Err(Error::Mdb(MdbError::KeyExist))),
        "{result:?}"
    );
    assert_eq!(db.get(&wtxn, "key").unwrap(), Some("original"));
    db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "other", "new")
        .unwrap();
    assert!(!db.delete(&mut wtxn, "missing").unwrap());
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "key").unwrap(), Some("original"));
    assert_eq!(db.get(&rtxn, "other").unwrap(), Some("new"));
}

#[test]
fn readers_full_names_the_limit_and_clears_when_a_reader_ends() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .max_readers(2)
            .open(dir.path())
            .unwrap()
    };
    let first = env.read_txn().unwrap();
    let _second = env.read_txn().unwrap();
    match env.read_txn() {
        Err(Error::Mdb(MdbError::ReadersFull)) => {}
        other => panic!("expected ReadersFull, got {other:?}"),
    }
    drop(first);
    env.read_txn().unwrap();
    assert_eq!(env.info().maximum_number_of_readers, 2);
}

#[test]
fn sync_modes_commit_and_reopen() {
    for flags in [EnvFlags::NO_SYNC, EnvFlags::NO_META_SYNC, EnvFlags::empty()] {
        let dir = tempfile::tempdir().unwrap();
        {
            let env = unsafe { EnvOpenOptions::new().flags(flags).open(dir.path()).unwrap() };
            let mut wtxn = env.write_txn().unwrap();
            let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
            db.put(&mut wtxn, "mode", "kept").unwrap();
            wtxn.commit().unwrap();
            env.force_sync().unwrap();
        }
        let env = open(dir.path());
        let rtxn = env.read_txn().unwrap();
        let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
        assert_eq!(db.get(&rtxn, "mode").unwrap(), Some("kept"), "{flags:?}");
    }
}

#[test]
fn values_borrow_from_the_transaction_without_copying() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"a", b"first").unwrap();
    db.put(&mut wtxn, b"b", &vec![9u8; 100_000]).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let first = db.get(&rtxn, b"a").unwrap().unwrap();
    let second = db.get(&rtxn, b"a").unwrap().unwrap();
    // Both reads return the same bytes of the map, not two copies.
    assert_eq!(first.as_ptr(), second.as_ptr());
    let big = db.get(&rtxn, b"b").unwrap().unwrap();
    assert_eq!(big.as_ptr(), db.get(&rtxn, b"b").unwrap().unwrap().as_ptr());
}

/// Runs `body` on a thread and fails the test if it does not finish within ten seconds (a
/// deadlock would otherwise hang the suite).
fn within_ten_seconds(body: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        body();
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the thread deadlocked (or panicked)");
}

/// The thread holding the write transaction asking for the writer lock again would wait for
/// itself for ever: it gets `WriterBusy`, and its transaction stays usable.
#[test]
fn the_writing_thread_asking_for_the_writer_again_gets_an_error_not_a_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (other_env, path) = (env.clone(), dir.path().to_path_buf());
    within_ten_seconds(move || {
        let mut wtxn = env.write_txn().unwrap();
        let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, "key", "value").unwrap();
        assert!(matches!(
            env.write_txn(),
            Err(Error::Mdb(MdbError::WriterBusy))
        ));
        assert!(matches!(
            env.try_write_txn(),
            Err(Error::Mdb(MdbError::WriterBusy))
        ));
        assert!(matches!(env.check(), Err(Error::Mdb(MdbError::WriterBusy))));
        assert!(matches!(
            env.force_sync(),
            Err(Error::Mdb(MdbError::WriterBusy))
        ));
        assert!(matches!(
            unsafe { env.resize(2 << 30) },
            Err(Error::Mdb(MdbError::WriterBusy))
        ));
        // The same environment opened again by path is the same environment.
        let again = common::open(&path);
        assert!(matches!(
            again.write_txn(),
            Err(Error::Mdb(MdbError::WriterBusy))
        ));
        db.put(&mut wtxn, "after", "errors").unwrap();
        wtxn.commit().unwrap();
        // Once it ended, the thread writes again.
        env.write_txn().unwrap().commit().unwrap();
    });
    // Another thread still waits for a live writer instead of failing.
    let (started, begun) = std::sync::mpsc::channel();
    let wtxn = other_env.write_txn().unwrap();
    let waiter = {
        let env = other_env.clone();
        std::thread::spawn(move || {
            started.send(()).unwrap();
            let wtxn = env.write_txn().unwrap();
            wtxn.commit().unwrap();
        })
    };
    begun.recv().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!waiter.is_finished());
    wtxn.commit().unwrap();
    waiter.join().unwrap();
}

/// A write transaction may move to another thread (heed's may not).
#[test]
fn write_transactions_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<arbordb::RwTxn<'static>>();
}

#[test]
fn pages_read_counts_the_pages_an_operation_visits() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..20_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[1; 40]).unwrap();
    }
    db.put(&mut wtxn, b"large", &[2; 20_000]).unwrap();
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert_eq!(rtxn.pages_read(), 0, "beginning reads no tree page");
    let depth = u64::from(db.stat(&rtxn).unwrap().depth);
    assert!(depth >= 3, "a tree of {depth} levels");
    let cost = |operation: &dyn Fn()| {
        let before = rtxn.pages_read();
        operation();
        rtxn.pages_read() - before
    };
    // A lookup visits one page per level; a value in overflow pages adds its first page
    // (checked first) and its run.
    let key = 7_777u32.to_be_bytes();
    assert_eq!(
        cost(&|| assert!(db.get(&rtxn, &key).unwrap().is_some())),
        depth
    );
    assert_eq!(
        cost(&|| assert!(db.get(&rtxn, b"large").unwrap().is_some())),
        depth + 2
    );
    // A walk of every entry visits every leaf: far more than a lookup.
    let leaves = db.stat(&rtxn).unwrap().leaf_pages as u64;
    let walk = cost(&|| assert_eq!(db.iter(&rtxn).unwrap().count(), 20_001));
    assert!(
        walk >= leaves,
        "a walk read {walk} pages of {leaves} leaves"
    );

    // A write transaction counts what it reads, from the file or its own changed pages.
    let mut wtxn = env.write_txn().unwrap();
    let before = wtxn.pages_read();
    db.put(&mut wtxn, &key, b"changed").unwrap();
    let put = wtxn.pages_read() - before;
    assert!(put >= depth, "a put read {put} pages");
    let before = wtxn.pages_read();
    assert_eq!(db.get(&wtxn, &key).unwrap(), Some(&b"changed"[..]));
    assert_eq!(wtxn.pages_read() - before, depth);
}

/// With `verify_checksums_on_read`, a write transaction reads its own changed pages (held in
/// memory, sealed only at commit) without verifying them, and the committed pages it reads
/// with: its own writes read back, before and after commit.
#[test]
fn with_verification_a_write_transaction_reads_its_own_changes() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .verify_checksums_on_read(true)
            .open(dir.path())
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..2_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[n as u8; 50]).unwrap();
    }
    for n in (0..2_000u32).step_by(37) {
        assert_eq!(
            db.get(&wtxn, &n.to_be_bytes()).unwrap(),
            Some(&[n as u8; 50][..])
        );
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &7u32.to_be_bytes(), b"changed").unwrap();
    assert_eq!(
        db.get(&wtxn, &7u32.to_be_bytes()).unwrap(),
        Some(&b"changed"[..])
    );
    assert_eq!(
        db.get(&wtxn, &1_999u32.to_be_bytes()).unwrap(),
        Some(&[1_999u32 as u8; 50][..])
    );
    wtxn.commit().unwrap();
    assert_eq!(db.len(&env.read_txn().unwrap()).unwrap(), 2_000);
}
