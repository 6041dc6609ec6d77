//! Resource errors through the I/O layer: a full disk or an I/O error at any write, resize or
//! sync of a commit fails that commit with a typed error, keeps every earlier commit, and
//! leaves the environment writable, except when the error hit the meta page or its sync, where
//! the new meta's fate is unknown and the environment refuses writes until reopened. The same
//! holds for a transaction that spills pages before its commit, where the error comes from the
//! put that spilled.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Env, EnvOpenOptions, Error};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// A transaction memory limit of eight 512-byte pages: each commit round spills many times.
const SPILLING: Option<usize> = Some(4096);

fn open(dir: &Path, disk: &std::sync::Arc<SimulatedDisk>, txn_memory_max: Option<usize>) -> Env {
    let mut options = EnvOpenOptions::new();
    options.page_size(512).page_io(disk.factory());
    if let Some(bytes) = txn_memory_max {
        options.txn_memory_max(bytes);
    }
    unsafe { options.open(dir).unwrap() }
}

/// Commit `round` of the workload: 300 puts (some large) and a few deletes. `model` becomes
/// what the commit intends, whether or not it succeeds.
fn commit_round(env: &Env, model: &mut Model, round: u32) -> arbordb::Result<()> {
    let mut wtxn = env.write_txn()?;
    let db = env.create_database::<Bytes, Bytes>(&mut wtxn, None)?;
    let next = model;
    for n in 0..300u32 {
        let key = format!("key{:04}", (n * 7 + round * 13) % 500).into_bytes();
        let value = vec![round as u8; if n % 40 == 0 { 2000 } else { 20 }];
        db.put(&mut wtxn, &key, &value)?;
        next.insert(key, value);
    }
    for n in 0..20u32 {
        let key = format!("key{:04}", (n * 31 + round) % 500).into_bytes();
        db.delete(&mut wtxn, &key)?;
        next.remove(&key);
    }
    wtxn.commit()
}

fn contents(env: &Env) -> Model {
    let rtxn = env.read_txn().unwrap();
    match env.open_database::<Bytes, Bytes>(&rtxn, None).unwrap() {
        None => Model::new(),
        Some(db) => db
            .iter(&rtxn)
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect(),
    }
}

/// The operation counts at the end of each of three commits, from a fault-free run.
fn operation_marks(txn_memory_max: Option<usize>) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let env = open(dir.path(), &disk, txn_memory_max);
    let mut model = Model::new();
    (0..3)
        .map(|round| {
            commit_round(&env, &mut model, round).unwrap();
            disk.operations()
        })
        .collect()
}

fn check_fault_at_every_operation(
    make_fault: impl Fn(u64) -> Fault,
    expected_errno: i32,
    txn_memory_max: Option<usize>,
) {
    let marks = operation_marks(txn_memory_max);
    // Every operation of the third commit (the first two build some history).
    for operation in marks[1] + 1..=marks[2] {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimulatedDisk::new(make_fault(operation));
        let env = open(dir.path(), &disk, txn_memory_max);
        let mut model = Model::new();
        commit_round(&env, &mut model, 0).unwrap();
        commit_round(&env, &mut model, 1).unwrap();
        let before = model.clone();
        let mut attempted = model.clone();
        match commit_round(&env, &mut attempted, 2) {
            Err(Error::Io(error)) => assert_eq!(
                error.raw_os_error(),
                Some(expected_errno),
                "operation {operation}"
            ),
            other => panic!("operation {operation}: expected an I/O error, got {other:?}"),
        }
        assert_eq!(
            contents(&env),
            before,
            "operation {operation}: earlier commits are intact"
        );
        // The last two operations of a commit are the meta write and its sync.
        let hit_meta = operation > marks[2] - 2;
        let acceptable_after_reopen = match env.write_txn() {
            Err(Error::Mdb(MdbError::EnvPoisoned)) => {
                assert!(hit_meta, "operation {operation} poisoned the environment");
                // The meta may or may not have reached the file.
                vec![before.clone(), attempted.clone()]
            }
            Ok(wtxn) => {
                assert!(
                    !hit_meta,
                    "operation {operation} hit the meta and the environment still writes"
                );
                drop(wtxn);
                let mut next = before.clone();
                commit_round(&env, &mut next, 3).unwrap();
                assert_eq!(
                    contents(&env),
                    next,
                    "operation {operation}: the next commit"
                );
                let report = env.check().unwrap();
                assert!(report.is_ok(), "operation {operation}:\n{report}");
                vec![next]
            }
            Err(other) => panic!("operation {operation}: {other:?}"),
        };
        // Reopening always works and shows a whole commit.
        drop(env);
        let env = unsafe { EnvOpenOptions::new().open(dir.path()).unwrap() };
        let reopened = contents(&env);
        assert!(acceptable_after_reopen.contains(&reopened), "operation {operation}: reopened state has {} keys, expected one of {:?} (before {}, attempted {})", reopened.len(), acceptable_after_reopen.iter().map(|m| m.len()).collect::<Vec<_>>(), before.len(), attempted.len());
        let report = env.check().unwrap();
        assert!(
            report.is_ok(),
            "operation {operation} after reopening:\n{report}"
        );
    }
}

#[test]
fn a_full_disk_fails_the_commit_cleanly() {
    check_fault_at_every_operation(Fault::NoSpaceAt, libc::ENOSPC, None);
}

#[test]
fn an_io_error_fails_the_commit_cleanly() {
    check_fault_at_every_operation(Fault::IoErrorAt, libc::EIO, None);
}

#[test]
fn a_full_disk_while_spilling_fails_the_transaction_cleanly() {
    // The rounds do spill: each writes far more than without the limit.
    let (spilling, holding) = (operation_marks(SPILLING), operation_marks(None));
    assert!(spilling[2] - spilling[1] > 2 * (holding[2] - holding[1]));
    check_fault_at_every_operation(Fault::NoSpaceAt, libc::ENOSPC, SPILLING);
}

#[test]
fn an_io_error_while_spilling_fails_the_transaction_cleanly() {
    check_fault_at_every_operation(Fault::IoErrorAt, libc::EIO, SPILLING);
}
