//! The one-sync commit (docs/design.md, "The commit protocol"): a small commit writes its pages
//! and a meta listing them, then syncs once; open takes such a meta only if every page it lists
//! reads back with its checksum, else the commit before it.

mod common;

use std::fs;
use std::path::Path;

use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvOpenOptions};

const DATA_FILE: &str = arbordb::DATA_FILE_NAME;
const PAGE: usize = 4096;

fn open_on(dir: &Path, disk: &std::sync::Arc<SimulatedDisk>) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(PAGE)
            .page_io(disk.factory())
            .open(dir)
            .unwrap()
    }
}

fn open_spilling_on(dir: &Path, disk: &std::sync::Arc<SimulatedDisk>) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(PAGE)
            .txn_memory_max(4 * PAGE)
            .page_io(disk.factory())
            .open(dir)
            .unwrap()
    }
}

fn open(dir: &Path) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .page_size(PAGE)
            .open(dir)
            .unwrap()
    }
}

fn put(env: &Env, db: Database<Bytes, Bytes>, key: &[u8], value: &[u8]) {
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, key, value).unwrap();
    wtxn.commit().unwrap();
}

fn main_db(env: &Env) -> Database<Bytes, Bytes> {
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database(&mut wtxn, None).unwrap();
    wtxn.commit().unwrap();
    db
}

/// The syncs `work` performs on `disk`.
fn syncs_of(disk: &SimulatedDisk, work: impl FnOnce()) -> u64 {
    let before = disk.syncs();
    work();
    disk.syncs() - before
}

/// The newest meta of the file in `dir`: (txn id, its unsynced runs as (first page, pages)).
fn newest_meta(dir: &Path) -> (u64, Vec<(u64, u32)>) {
    common::newest_meta_runs(&fs::read(dir.join(DATA_FILE)).unwrap(), PAGE)
}

#[test]
fn a_small_commit_syncs_once_and_a_large_growing_or_first_commit_twice() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk);
    // The first commit grows the file: its length must be durable before a meta names it.
    let db = main_db(&env);
    let mut wtxn = env.write_txn().unwrap();
    for key in 0..20_000u32 {
        db.put(&mut wtxn, &key.to_be_bytes(), &[1; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    // The bulk load grew the file to its pages exactly; the next commit that needs a new page
    // grows it (two syncs) with some slack, which later small commits use.
    assert_eq!(syncs_of(&disk, || put(&env, db, b"a", &[0; 3000])), 2);
    let small = syncs_of(&disk, || put(&env, db, b"small", b"one"));
    assert_eq!(small, 1);
    let (txn, runs) = newest_meta(dir.path());
    assert_eq!(txn, env.info().last_txn_id as u64);
    assert!(!runs.is_empty(), "a one-sync meta lists the pages it names");
    // 200 scattered changes write more pages than a meta lists.
    let large = syncs_of(&disk, || {
        let mut wtxn = env.write_txn().unwrap();
        for key in (0..20_000u32).step_by(100) {
            db.put(&mut wtxn, &key.to_be_bytes(), &[2; 100]).unwrap();
        }
        wtxn.commit().unwrap();
    });
    assert_eq!(large, 2);
    assert!(newest_meta(dir.path()).1.is_empty());
    // One large value: more bytes than a meta may list.
    let big = syncs_of(&disk, || put(&env, db, b"big", &vec![3; 2 << 20]));
    assert_eq!(big, 2);
    assert_eq!(syncs_of(&disk, || put(&env, db, b"small", b"two")), 1);
    drop(env);

    // After reopening, the newest commit is not known to be durable (another process may
    // have skipped its sync), so the first commit syncs its pages before its meta.
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk);
    let mut db = None;
    assert_eq!(syncs_of(&disk, || db = Some(main_db(&env))), 2);
    assert!(newest_meta(dir.path()).1.is_empty());
    let db = db.unwrap();
    assert_eq!(syncs_of(&disk, || put(&env, db, b"small", b"three")), 1);
    assert!(!newest_meta(dir.path()).1.is_empty());
    common::assert_sound(&env);
}

/// Writes `image` as the data file of a fresh directory.
fn reboot(image: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(DATA_FILE), image).unwrap();
    dir
}

fn read_value(env: &Env, key: &[u8]) -> Option<Vec<u8>> {
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    db.get(&rtxn, key).unwrap().map(|value| value.to_vec())
}

#[test]
fn a_one_sync_commit_whose_pages_did_not_all_reach_the_disk_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after, runs, committed_txn) = {
        let env = open(dir.path());
        let db = main_db(&env);
        for key in 0..500u32 {
            put(&env, db, &key.to_be_bytes(), b"first");
        }
        let before = fs::read(dir.path().join(DATA_FILE)).unwrap();
        let committed_txn = env.info().last_txn_id as u64;
        put(&env, db, &7u32.to_be_bytes(), b"second");
        let after = fs::read(dir.path().join(DATA_FILE)).unwrap();
        let (txn, runs) = newest_meta(dir.path());
        assert_eq!(txn, committed_txn + 1);
        assert!(runs.len() >= 2, "{runs:?}");
        (before, after, runs, committed_txn)
    };
    assert_eq!(
        before.len(),
        after.len(),
        "the commit did not grow the file"
    );

    // Every listed page on disk: the new commit.
    let whole = reboot(&after);
    let env = open(whole.path());
    assert_eq!(env.info().skipped_meta, None);
    assert_eq!(read_value(&env, &7u32.to_be_bytes()).unwrap(), b"second");
    common::assert_sound(&env);
    drop(env);

    // One listed page (each in turn) still holds what it held before the commit, as after a
    // power loss that kept the meta and lost that page: the commit before is what opens.
    for &(first, pages) in &runs {
        let mut image = after.clone();
        let range = first as usize * PAGE..(first as usize + pages as usize) * PAGE;
        image[range.clone()].copy_from_slice(&before[range]);
        let torn = reboot(&image);
        let env = open(torn.path());
        assert_eq!(env.info().last_txn_id as u64, committed_txn, "page {first}");
        // The fall-back is reported, not silent.
        assert_eq!(
            env.info().skipped_meta,
            Some(arbordb::SkippedMeta {
                slot: (committed_txn + 1) % 2,
                txn_id: committed_txn + 1,
                reason: arbordb::SkipReason::PagesNotWhole,
            })
        );
        assert_eq!(read_value(&env, &7u32.to_be_bytes()).unwrap(), b"first");
        let report = env.check().unwrap();
        assert!(report.is_ok(), "{report}");
        assert!(
            report
                .warnings
                .iter()
                .any(|warning| warning.contains("did not all reach the disk")),
            "{report}"
        );
        // The writer builds on that commit too, not on the meta left in the other slot.
        let db = main_db(&env);
        put(&env, db, b"after", b"the crash");
        assert_eq!(env.info().last_txn_id as u64, committed_txn + 2);
        assert_eq!(read_value(&env, &7u32.to_be_bytes()).unwrap(), b"first");
        common::assert_sound(&env);
        drop(env);
        let env = open(torn.path());
        assert_eq!(read_value(&env, b"after").unwrap(), b"the crash");
        assert_eq!(read_value(&env, &7u32.to_be_bytes()).unwrap(), b"first");
        common::assert_sound(&env);
    }
}

#[test]
fn a_small_commit_that_spilled_syncs_twice_and_lists_nothing() {
    // Its meta could not list the spilled pages, so a power loss could keep the meta and
    // lose one of them (invariant 14).
    let scattered_changes = |env: &Env, db: Database<Bytes, Bytes>, round: u8| {
        let mut wtxn = env.write_txn().unwrap();
        for key in (0..20_000u32).step_by(2_000) {
            db.put(&mut wtxn, &key.to_be_bytes(), &[round; 100])
                .unwrap();
        }
        wtxn.commit().unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open_on(dir.path(), &disk);
    let db = main_db(&env);
    let mut wtxn = env.write_txn().unwrap();
    for key in 0..20_000u32 {
        db.put(&mut wtxn, &key.to_be_bytes(), &[1; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    put(&env, db, b"grow", &[0; 3000]); // gives the file slack
    for round in 2..5 {
        scattered_changes(&env, db, round); // pages freed for the next ones
    }
    // Ten changed leaves and their branches: without spilling, one sync.
    assert_eq!(syncs_of(&disk, || scattered_changes(&env, db, 5)), 1);
    assert!(!newest_meta(dir.path()).1.is_empty());
    drop(env);
    // The same with a memory limit of four pages: the transaction spills, so two syncs.
    let env = open_spilling_on(dir.path(), &disk);
    scattered_changes(&env, db_of(&env), 6); // the first commit after opening syncs twice
    assert_eq!(
        syncs_of(&disk, || scattered_changes(&env, db_of(&env), 7)),
        2
    );
    assert!(newest_meta(dir.path()).1.is_empty());
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db_of(&env).get(&rtxn, &2_000u32.to_be_bytes()).unwrap(),
        Some(&[7; 100][..])
    );
}

fn db_of(env: &Env) -> Database<Bytes, Bytes> {
    let rtxn = env.read_txn().unwrap();
    env.open_database(&rtxn, None).unwrap().unwrap()
}

/// The newest meta of the file in `dir`, as encoded (see `common::meta_bytes`).
fn newest_meta_bytes(dir: &Path) -> Vec<u8> {
    let file = fs::read(dir.join(DATA_FILE)).unwrap();
    let (zero, one) = (
        common::meta_bytes(&file[..PAGE]),
        common::meta_bytes(&file[PAGE..2 * PAGE]),
    );
    let txn = |meta: &[u8]| u64::from_le_bytes(meta[16..24].try_into().unwrap());
    if txn(&zero) > txn(&one) {
        zero
    } else {
        one
    }
}

#[test]
fn a_commit_that_leaves_nothing_free_records_no_freelist() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = main_db(&env);
    put(&env, db, b"only", b"value");
    // The first commits of a new file free nothing: neither a chain page nor a stream in the
    // meta (an empty stream there would be a freelist of no groups, not "none").
    let meta = newest_meta_bytes(dir.path());
    assert_eq!(meta[40..48], [0; 8], "no chain");
    assert!(common::meta_kept_freelist(&meta).is_empty());
}

#[test]
fn a_small_freelist_is_kept_in_the_meta_and_a_large_one_in_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = main_db(&env);
    let mut wtxn = env.write_txn().unwrap();
    for key in 0..20_000u32 {
        db.put(&mut wtxn, &key.to_be_bytes(), &[1; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let depth = {
        let rtxn = env.read_txn().unwrap();
        db.stat(&rtxn).unwrap().depth as u64
    };
    for round in 0..3u32 {
        put(&env, db, &(round * 7_919).to_be_bytes(), &[2; 100]);
    }
    // A one-insert commit writes its path (root to leaf) and its meta, nothing else: the
    // freelist it leaves is in the meta, not on a chain page of its own.
    let meta = newest_meta_bytes(dir.path());
    assert_eq!(meta[40..48], [0; 8], "no chain");
    assert!(!common::meta_kept_freelist(&meta).is_empty());
    let (_, runs) = newest_meta(dir.path());
    let written: u64 = runs.iter().map(|&(_, pages)| u64::from(pages)).sum();
    assert_eq!(written, depth, "{runs:?}");
    // Deleting most keys frees more pages than a meta keeps: a chain again.
    let mut wtxn = env.write_txn().unwrap();
    for key in 0..18_000u32 {
        db.delete(&mut wtxn, &key.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    let meta = newest_meta_bytes(dir.path());
    assert_ne!(meta[40..48], [0; 8], "a chain");
    assert!(common::meta_kept_freelist(&meta).is_empty());
    // Small commits then take their pages from the free ones: the file does not grow.
    let pages = env.info().last_page_number;
    for key in 0..200u32 {
        put(&env, db, &key.to_be_bytes(), &[3; 100]);
    }
    assert_eq!(env.info().last_page_number, pages);
    common::assert_sound(&env);
    drop(env);
    let env = open(dir.path());
    assert_eq!(read_value(&env, &199u32.to_be_bytes()), Some(vec![3; 100]));
    common::assert_sound(&env);
}
