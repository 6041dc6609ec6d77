//! `EnvFlags::PREV_SNAPSHOT`: opening the commit before the newest, as LMDB's
//! `MDB_PREVSNAPSHOT` does. Read-only, the newest commit stays in the file; writable, it stays
//! until the first write to the file, which discards it crash-safely, and the first commit
//! takes its place.

mod common;

use std::path::Path;

use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::types::{Bytes, Str};
use arbordb::{Database, Env, EnvFlags, EnvOpenOptions, Error, MdbError, SkipReason};
use common::assert_sound;

fn open(dir: &Path, flags: EnvFlags) -> arbordb::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(64 << 20);
    // SAFETY: the directory is private to the test; the flags are not NO_SYNC.
    unsafe {
        options.flags(flags);
        options.open(dir)
    }
}

fn keys(env: &Env) -> Vec<String> {
    let rtxn = env.read_txn().unwrap();
    let Some(db) = env.open_database::<Str, Str>(&rtxn, None).unwrap() else {
        return Vec::new();
    };
    db.iter(&rtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0.to_string())
        .collect()
}

fn put(env: &Env, key: &str) {
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, key, "v").unwrap();
    wtxn.commit().unwrap();
}

/// Two commits, "a" then "b": the previous snapshot holds "a" only.
fn two_commits(dir: &Path) {
    let env = open(dir, EnvFlags::empty()).unwrap();
    put(&env, "a");
    put(&env, "b");
    env.prepare_for_closing().wait();
}

#[test]
fn a_read_only_previous_snapshot_leaves_the_newest_commit() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let env = open(dir.path(), EnvFlags::PREV_SNAPSHOT | EnvFlags::READ_ONLY).unwrap();
    assert_eq!(keys(&env), ["a"]);
    let skipped = env
        .info()
        .skipped_meta
        .expect("the newest commit is passed over");
    assert_eq!(skipped.reason, SkipReason::PreviousSnapshot);
    assert!(env.get_flags().unwrap() & EnvFlags::PREV_SNAPSHOT.bits() != 0);
    env.prepare_for_closing().wait();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    assert_eq!(keys(&env), ["a", "b"]);
}

#[test]
fn a_writer_on_the_previous_snapshot_discards_the_newest_commit_only_when_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    // Opened, read and written in but aborted: the newest commit is still there.
    let env = open(dir.path(), EnvFlags::PREV_SNAPSHOT).unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None).unwrap();
    assert_eq!(db.get(&wtxn, "b").unwrap(), None);
    db.put(&mut wtxn, "c", "v").unwrap();
    wtxn.abort();
    assert_eq!(keys(&env), ["a"]);
    env.prepare_for_closing().wait();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    assert_eq!(keys(&env), ["a", "b"]);
    env.prepare_for_closing().wait();

    // A commit builds on the previous snapshot and takes the newest one's place; the flag is
    // reset, as in LMDB.
    let env = open(dir.path(), EnvFlags::PREV_SNAPSHOT).unwrap();
    put(&env, "c");
    assert_eq!(keys(&env), ["a", "c"]);
    assert_eq!(env.get_flags().unwrap() & EnvFlags::PREV_SNAPSHOT.bits(), 0);
    // Another open in the process asks for what the first asked for, and gets the same one.
    let again = open(dir.path(), EnvFlags::PREV_SNAPSHOT).unwrap();
    assert_eq!(keys(&again), ["a", "c"]);
    assert!(matches!(
        open(dir.path(), EnvFlags::empty()),
        Err(Error::EnvAlreadyOpened)
    ));
    drop(again);
    put(&env, "d");
    assert_sound(&env);
    env.prepare_for_closing().wait();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    assert_eq!(keys(&env), ["a", "c", "d"]);
    assert_eq!(env.info().skipped_meta, None);
    assert_sound(&env);
}

#[test]
fn there_is_no_previous_snapshot_of_a_new_file_but_one_of_a_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    // Created by this open: nothing to go back to, and nothing is refused.
    let env = open(dir.path(), EnvFlags::PREV_SNAPSHOT).unwrap();
    put(&env, "a");
    env.prepare_for_closing().wait();
    // After one commit, the previous snapshot is the empty environment.
    let env = open(dir.path(), EnvFlags::PREV_SNAPSHOT | EnvFlags::READ_ONLY).unwrap();
    assert_eq!(keys(&env), Vec::<String>::new());
}

#[test]
fn a_previous_snapshot_needs_the_other_meta() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    // Damage the older meta (slot 0 holds an even commit: commit 2 is in slot 0... whichever
    // slot the older one is in).
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    let newest = env.info().last_txn_id as u64;
    let page_size = env.page_size() as u64;
    env.prepare_for_closing().wait();
    let older_slot = (newest - 1) % 2;
    let path = dir.path().join(arbordb::DATA_FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(older_slot * page_size) as usize + 30] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    match open(dir.path(), EnvFlags::PREV_SNAPSHOT | EnvFlags::READ_ONLY) {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(reason.contains("no valid commit before"), "{reason}")
        }
        other => panic!("expected InvalidOption, got {:?}", other.map(|_| ())),
    }
    // Without the flag the newest commit opens as ever.
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    assert_eq!(keys(&env), ["a", "b"]);
}

/// A large newest commit, then a writer on the previous snapshot whose transaction spills
/// pages to the file (its memory bound is small) and is aborted: the spill wrote over pages of
/// the newest commit, so that commit was discarded before it, and the file opens, sound, at
/// the previous one.
#[test]
fn a_spill_discards_the_newest_commit_before_writing_over_it() {
    // The newest commit in either meta slot.
    for commits_before in [1, 2] {
        spill_discards_the_newest_commit(commits_before);
    }
}

fn spill_discards_the_newest_commit(commits_before: usize) {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    for _ in 0..commits_before {
        put(&env, "a");
    }
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None).unwrap();
    for n in 0..20_000 {
        db.put(&mut wtxn, &format!("newest {n:06}"), "some value")
            .unwrap();
    }
    wtxn.commit().unwrap();
    env.prepare_for_closing().wait();

    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(64 << 20)
            .txn_memory_max(64 << 10)
            .flags(EnvFlags::PREV_SNAPSHOT)
            .open(dir.path())
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None).unwrap();
    for n in 0..20_000 {
        db.put(&mut wtxn, &format!("spilled {n:06}"), "another value")
            .unwrap();
    }
    wtxn.abort();
    env.prepare_for_closing().wait();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    let keys = keys(&env);
    assert!(
        keys == ["a"],
        "{} keys, the last {:?}",
        keys.len(),
        keys.last()
    );
    assert_sound(&env);
}

/// A power loss at every operation of a writer's first commit on the previous snapshot (and
/// of the discard before it): the file opens sound at the previous commit, at the newest one
/// (the discard had not reached the disk, nor had any page written over it), or at the new
/// commit; never at a commit whose pages were written over.
#[test]
fn a_power_loss_anywhere_in_the_first_commit_loses_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    put(&env, "a");
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None).unwrap();
    for n in 0..3_000 {
        db.put(&mut wtxn, &format!("newest {n:05}"), "x").unwrap();
    }
    wtxn.commit().unwrap();
    env.prepare_for_closing().wait();
    let image = std::fs::read(dir.path().join(arbordb::DATA_FILE_NAME)).unwrap();

    let first_commit = |fault: Fault| -> std::sync::Arc<SimulatedDisk> {
        let run = tempfile::tempdir().unwrap();
        std::fs::write(run.path().join(arbordb::DATA_FILE_NAME), &image).unwrap();
        let disk = SimulatedDisk::new(fault);
        let opened = unsafe {
            EnvOpenOptions::new()
                .map_size(64 << 20)
                .flags(EnvFlags::PREV_SNAPSHOT)
                .page_io(disk.factory())
                .open(run.path())
        };
        if let Ok(env) = opened {
            let written = (|| -> arbordb::Result<()> {
                let mut wtxn = env.write_txn()?;
                let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None)?;
                for n in 0..3_000u32 {
                    db.put(&mut wtxn, format!("new {n:05}").as_bytes(), b"y")?;
                }
                wtxn.commit()
            })();
            assert!(written.is_ok() || disk.crashed(), "{written:?}");
        }
        disk
    };
    let operations = first_commit(Fault::Never).operations();
    assert!(operations > 3, "the commit writes");
    let (mut previous, mut newest, mut new) = (0, 0, 0);
    for crash_at in 1..=operations {
        let disk = first_commit(Fault::CrashAt(crash_at));
        for seed in 0..4 {
            let rebooted = tempfile::tempdir().unwrap();
            std::fs::write(
                rebooted.path().join(arbordb::DATA_FILE_NAME),
                disk.image_after_power_loss(seed ^ (crash_at << 8)),
            )
            .unwrap();
            let env = open(rebooted.path(), EnvFlags::empty())
                .unwrap_or_else(|error| panic!("crash at {crash_at}, seed {seed}: {error}"));
            let report = env.check().unwrap();
            assert!(
                report.is_ok(),
                "crash at {crash_at}, seed {seed}:\n{report}"
            );
            let keys = keys(&env);
            match (keys.len(), keys.last().map(String::as_str)) {
                (1, Some("a")) => previous += 1,
                (3_001, Some("newest 02999")) => newest += 1,
                (3_001, Some("new 02999")) => new += 1,
                _ => panic!("crash at {crash_at}, seed {seed}: {} keys", keys.len()),
            }
        }
    }
    assert!(
        previous > 0 && newest > 0 && new > 0,
        "{previous} {newest} {new}"
    );
}

/// The previous commit's own pages must read back whole, as for any commit open takes: one of
/// its listed unsynced runs damaged, it cannot be opened, and the error says so.
#[test]
fn a_previous_commit_whose_pages_are_damaged_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // Small commits after the first few, which grow the file and sync twice.
    let env = open(dir.path(), EnvFlags::empty()).unwrap();
    for key in ["a", "b", "c", "d", "e"] {
        put(&env, key);
    }
    let page_size = env.page_size();
    let previous = env.info().last_txn_id as u64 - 1;
    env.prepare_for_closing().wait();
    let path = dir.path().join(arbordb::DATA_FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    // The previous commit's meta lists the runs it wrote without a sync before its meta
    // (docs/format.md): damage the first.
    let meta = &bytes[(previous % 2) as usize * page_size..];
    let runs = u32::from_le_bytes(meta[144..148].try_into().unwrap());
    assert!(runs > 0, "a small commit lists its runs");
    let first = u64::from_le_bytes(meta[152..160].try_into().unwrap()) as usize;
    bytes[first * page_size + page_size / 2] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    match open(dir.path(), EnvFlags::PREV_SNAPSHOT | EnvFlags::READ_ONLY) {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(reason.contains("did not reach the file whole"), "{reason}")
        }
        other => panic!("expected InvalidOption, got {:?}", other.map(|_| ())),
    }
}
