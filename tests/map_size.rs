//! The map: the file grows into it in chunks, a write past it is MapFull and fails cleanly,
//! and after a resize writing continues.

mod common;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Database, Env, EnvOpenOptions, Error, RwTxn};
use common::assert_sound;

const MAP_SIZE: usize = 2 << 20;

/// An environment with a 2 MiB map and its unnamed database.
fn open_small_map(dir: &std::path::Path) -> (Env, Database<Bytes, Bytes>) {
    let env = unsafe { EnvOpenOptions::new().map_size(MAP_SIZE).open(dir).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    wtxn.commit().unwrap();
    (env, db)
}

fn fill_until_map_full(env: &Env, db: Database<Bytes, Bytes>, start: u32) -> (u32, Error) {
    let mut n = start;
    loop {
        let mut wtxn: RwTxn<'_> = env.write_txn().unwrap();
        for _ in 0..100 {
            if let Err(error) = db.put(&mut wtxn, &n.to_be_bytes(), &[5u8; 200]) {
                // The transaction is unusable now, but only it.
                assert!(matches!(
                    db.put(&mut wtxn, b"more", b"x"),
                    Err(Error::Mdb(MdbError::BadTxn))
                ));
                assert!(matches!(wtxn.commit(), Err(Error::Mdb(MdbError::BadTxn))));
                return (n, error);
            }
            n += 1;
        }
        if let Err(error) = wtxn.commit() {
            return (n, error);
        }
    }
}

#[test]
fn map_full_fails_the_transaction_and_keeps_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_small_map(dir.path());
    let (reached, error) = fill_until_map_full(&env, db, 0);
    match error {
        Error::Mdb(MdbError::MapFull) => assert_eq!(env.info().map_size, MAP_SIZE),
        other => panic!("expected MapFull, got {other:?}"),
    }
    assert!(env.real_disk_size().unwrap() <= MAP_SIZE as u64);
    let committed = {
        let rtxn = env.read_txn().unwrap();
        let committed = db.len(&rtxn).unwrap();
        assert!(
            committed > 1000 && committed <= reached as u64,
            "{committed} of {reached}"
        );
        for (index, entry) in db.iter(&rtxn).unwrap().enumerate() {
            assert_eq!(entry.unwrap().0, (index as u32).to_be_bytes());
        }
        committed
    };
    assert_sound(&env);

    // Grow the map; writing continues where it stopped.
    unsafe { env.resize(4 * MAP_SIZE).unwrap() };
    assert_eq!(env.info().map_size, 4 * MAP_SIZE);
    let mut wtxn = env.write_txn().unwrap();
    for n in committed as u32..committed as u32 + 5000 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[6u8; 200]).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
    drop(env);

    // The larger size sticks: the file needs it.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(MAP_SIZE)
            .open(dir.path())
            .unwrap()
    };
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db_len(&env, &rtxn), committed + 5000);
}

fn db_len(env: &Env, rtxn: &arbordb::RoTxn<'_>) -> u64 {
    env.open_database::<Bytes, Bytes>(rtxn, None)
        .unwrap()
        .unwrap()
        .len(rtxn)
        .unwrap()
}

#[test]
fn resizing_keeps_live_readers_valid_and_refuses_shrinking_below_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_small_map(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..3000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[1u8; 200]).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let value = db.get(&rtxn, &7u32.to_be_bytes()).unwrap().unwrap();
    unsafe { env.resize(8 * MAP_SIZE).unwrap() };
    // The reader still reads through the old map.
    assert_eq!(value, &[1u8; 200][..]);
    assert_eq!(db.iter(&rtxn).unwrap().count(), 3000);
    assert!(matches!(
        unsafe { env.resize(4096) },
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
}

#[test]
fn the_file_grows_in_chunks_not_to_the_map_size() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 40)
            .open(dir.path())
            .unwrap()
    };
    assert_eq!(env.info().map_size, 1 << 40);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"k", b"v").unwrap();
    wtxn.commit().unwrap();
    assert!(env.real_disk_size().unwrap() < 1 << 20);
}

/// A commit that grows the file a lot (a bulk load) leaves it exactly as long as its pages, so
/// the file is no larger than LMDB's; small commits that grow it get slack, so that a run of
/// them does not resize it every time.
#[test]
fn a_large_growth_gets_no_slack_and_a_small_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(4096)
            .open(dir.path())
            .unwrap()
    };
    let pages_in_use = |env: &Env| (env.info().last_page_number as u64 + 1) * 4096;
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..50_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[1u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    assert_eq!(env.real_disk_size().unwrap(), pages_in_use(&env));

    // The next growth is small: the file gets 1/64 of its length beyond what it needs.
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &u32::MAX.to_be_bytes(), &[2u8; 100])
        .unwrap();
    wtxn.commit().unwrap();
    let needed = pages_in_use(&env);
    let len = env.real_disk_size().unwrap();
    assert!(
        len >= needed + needed / 64 - 4096,
        "{len} bytes for {needed} needed"
    );
    let grown_at = len;
    for n in 0..20u32 {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &(100_000 + n).to_be_bytes(), &[3u8; 100])
            .unwrap();
        wtxn.commit().unwrap();
    }
    assert_eq!(
        env.real_disk_size().unwrap(),
        grown_at,
        "small commits fit in the slack"
    );
}

fn assert_map_size_refused(result: arbordb::Result<()>) {
    match result {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(
                reason.contains(&arbordb::MAP_SIZE_MAX.to_string()),
                "the message gives the limit: {reason}"
            );
        }
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}

/// Sizes near `usize::MAX` used to wrap when rounded up to whole pages: a map of 0 bytes and a
/// panic on the first read, or `MapFull` of 8192 bytes on a fresh environment.
#[test]
fn a_map_size_past_the_largest_is_refused_and_nothing_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh");
    for size in [usize::MAX, usize::MAX - 4095, arbordb::MAP_SIZE_MAX + 1] {
        let opened = unsafe { EnvOpenOptions::new().map_size(size).open(&fresh) };
        assert_map_size_refused(opened.map(drop));
        assert!(!fresh.exists(), "nothing is created for a refused size");
    }
    // An existing environment keeps its data and opens again with a sane size.
    let existing = dir.path().join("existing");
    {
        let (env, db) = open_small_map(&existing);
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"kept", b"value").unwrap();
        wtxn.commit().unwrap();
        unsafe { assert_map_size_refused(env.resize(usize::MAX)) };
        unsafe { assert_map_size_refused(env.resize(arbordb::MAP_SIZE_MAX + 1)) };
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db.get(&rtxn, b"kept").unwrap(), Some(&b"value"[..]));
    }
    let opened = unsafe { EnvOpenOptions::new().map_size(usize::MAX).open(&existing) };
    assert_map_size_refused(opened.map(drop));
    // The largest size itself is more address space than the OS gives: an I/O error that
    // names the size, not a panic or a wrapped map.
    match unsafe {
        EnvOpenOptions::new()
            .map_size(arbordb::MAP_SIZE_MAX)
            .open(&existing)
    } {
        Ok(env) => {
            let rtxn = env.read_txn().unwrap();
            let db: Database<Bytes, Bytes> = env.open_database(&rtxn, None).unwrap().unwrap();
            assert_eq!(db.get(&rtxn, b"kept").unwrap(), Some(&b"value"[..]));
        }
        Err(Error::Io(error)) => {
            let message = error.to_string();
            assert!(
                message.contains(&arbordb::MAP_SIZE_MAX.to_string()),
                "{message}"
            );
            assert!(message.contains("data.arbordb"), "{message}");
        }
        Err(other) => panic!("expected an I/O error naming the size, got {other:?}"),
    }
    let (env, db) = open_small_map(&existing);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, b"kept").unwrap(), Some(&b"value"[..]));
    drop(rtxn);
    assert_sound(&env);
}

/// An environment reopened without a map size keeps the one it was last written with
/// (recorded in the meta, as LMDB does), after a resize too; a new one gets the default
/// (64 GiB on 64-bit targets); a size given on reopening wins.
#[test]
fn a_reopened_environment_keeps_its_recorded_map_size() {
    let dir = tempfile::tempdir().unwrap();
    let reopen = |size: Option<usize>| {
        let mut options = EnvOpenOptions::new();
        if let Some(size) = size {
            options.map_size(size);
        }
        unsafe { options.open(dir.path()).unwrap() }
    };
    drop(open_small_map(dir.path()));
    assert_eq!(reopen(None).info().map_size, MAP_SIZE);
    {
        let env = reopen(None);
        unsafe { env.resize(3 * MAP_SIZE).unwrap() };
        // The size is recorded by the next commit.
        env.write_txn().unwrap().commit().unwrap();
    }
    assert_eq!(reopen(None).info().map_size, 3 * MAP_SIZE);
    assert_eq!(reopen(Some(5 * MAP_SIZE)).info().map_size, 5 * MAP_SIZE);
    let fresh = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().open(fresh.path()).unwrap() };
    if cfg!(target_pointer_width = "64") {
        assert_eq!(env.info().map_size, 64 << 30);
    }
}
