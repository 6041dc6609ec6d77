//! What each sync mode asks of the disk, counted on the simulated disk: `NO_SYNC` commits
//! never sync (they survive a process crash, not a power loss), `NO_META_SYNC` commits sync
//! their pages once and write the meta without syncing it, and a small commit settles at
//! three disk operations.

use std::sync::Arc;

use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvFlags, EnvOpenOptions};

const PAGE: usize = 4096;

fn open_on(dir: &std::path::Path, disk: &Arc<SimulatedDisk>, flags: EnvFlags) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(PAGE)
            .flags(flags)
            .page_io(disk.factory())
            .open(dir)
            .unwrap()
    }
}

/// The syncs of each of a run of commits: a first one creating the database, small ones, one
/// that grows the file by a 2 MiB value, small ones again.
fn syncs_per_commit(flags: EnvFlags) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk, flags);
    let mut syncs = Vec::new();
    let mut counted = |work: &dyn Fn()| {
        let before = disk.syncs();
        work();
        syncs.push(disk.syncs() - before);
    };
    let create = || {
        let mut wtxn = env.write_txn().unwrap();
        env.create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        wtxn.commit().unwrap();
    };
    counted(&create);
    let db: Database<Bytes, Bytes> = {
        let rtxn = env.read_txn().unwrap();
        env.open_database(&rtxn, None).unwrap().unwrap()
    };
    let put = |key: &[u8], value: &[u8]| {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, key, value).unwrap();
        wtxn.commit().unwrap();
    };
    for n in 0..3u8 {
        counted(&|| put(&[n], b"small"));
    }
    counted(&|| put(b"large", &vec![7; 2 << 20]));
    for n in 3..6u8 {
        counted(&|| put(&[n], b"small"));
    }
    drop(env);
    let env = open_on(dir.path(), &SimulatedDisk::new(Fault::Never), flags);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db_len(&env, &rtxn), 7);
    syncs
}

fn db_len(env: &Env, rtxn: &arbordb::RoTxn<'_>) -> u64 {
    let db: Database<Bytes, Bytes> = env.open_database(rtxn, None).unwrap().unwrap();
    db.len(rtxn).unwrap()
}

#[test]
fn no_sync_commits_never_sync() {
    assert_eq!(syncs_per_commit(EnvFlags::NO_SYNC), vec![0; 8]);
}

#[test]
fn no_meta_sync_commits_sync_their_pages_once_and_not_the_meta() {
    assert_eq!(syncs_per_commit(EnvFlags::NO_META_SYNC), vec![1; 8]);
}

/// The disk operations of each of six small commits after the first, under `flags`.
fn operations_per_small_commit(flags: EnvFlags) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk, flags);
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
    wtxn.commit().unwrap();
    (0..6u8)
        .map(|n| {
            let before = disk.operations();
            let mut wtxn = env.write_txn().unwrap();
            db.put(&mut wtxn, &[n], b"small").unwrap();
            wtxn.commit().unwrap();
            disk.operations() - before
        })
        .collect()
}

/// Once the first commits have made the file's length durable, a small commit asks the disk
/// for three operations in every mode that syncs: its pages (one stretch), and the meta with
/// one sync (one sync for both, or the pages' sync and a meta write left unsynced). Nothing
/// else: in particular `NO_META_SYNC` does not write the previous commit again, which it
/// wrote itself.
#[test]
fn small_commits_settle_at_three_disk_operations() {
    for flags in [EnvFlags::empty(), EnvFlags::NO_META_SYNC] {
        let operations = operations_per_small_commit(flags);
        assert_eq!(operations[3..], [3, 3, 3], "{flags:?}: {operations:?}");
    }
}

/// `set_flags` turns `NO_SYNC` on and off for the commits that follow.
#[test]
fn no_sync_set_on_an_open_environment_applies_to_later_commits() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk, EnvFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
    wtxn.commit().unwrap();
    let syncs_of_a_commit = |key: u8| {
        let before = disk.syncs();
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &[key], b"value").unwrap();
        wtxn.commit().unwrap();
        disk.syncs() - before
    };
    assert!(syncs_of_a_commit(1) > 0);
    unsafe { env.set_flags(EnvFlags::NO_SYNC, arbordb::FlagSetMode::Enable) }.unwrap();
    assert_eq!(syncs_of_a_commit(2), 0);
    unsafe { env.set_flags(EnvFlags::NO_SYNC, arbordb::FlagSetMode::Disable) }.unwrap();
    assert!(syncs_of_a_commit(3) > 0);
}
