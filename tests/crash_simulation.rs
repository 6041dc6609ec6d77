//! Crash simulation: a random workload over several databases runs on a simulated disk that
//! crashes at a chosen write or sync; the disk image a reboot would find (the durable image
//! plus an arbitrary subset of the unsynced writes, some torn) is reopened. It must open, pass
//! the checker, equal the model at a commit no older than the last one whose commit returned
//! (older by at most one under NO_META_SYNC, see docs/design.md), and accept new writes.
//!
//! Every case prints its seed on failure; replay one with
//! `ARBORDB_CRASH_SEED=<seed> cargo test --test crash_simulation <test name>`, run more with
//! `ARBORDB_CRASH_CASES=<count>`.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::types::Bytes;
use arbordb::{Env, EnvFlags, EnvOpenOptions};
use common::Rng;

const NAMES: [Option<&str>; 4] = [None, Some("alpha"), Some("beta"), Some("gamma")];
const PAGE_SIZE: usize = 512;

type Model = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

#[derive(Debug, Clone)]
enum Op {
    Put {
        db: usize,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        db: usize,
        key: Vec<u8>,
    },
    Clear {
        db: usize,
    },
}

/// Transactions of random operations, each ending in a commit.
fn workload(seed: u64) -> Vec<Vec<Op>> {
    let mut rng = Rng(seed);
    let transactions = 4 + rng.below(10);
    (0..transactions)
        .map(|_| {
            let ops = 1 + rng.below(80);
            (0..ops)
                .map(|_| {
                    let db = rng.below(NAMES.len() as u64) as usize;
                    let key = format!("key{:03}", rng.below(250)).into_bytes();
                    match rng.below(20) {
                        0 => Op::Clear { db },
                        1..=5 => Op::Delete { db, key },
                        _ => {
                            let len = if rng.below(10) == 0 {
                                100 + rng.below(1500)
                            } else {
                                rng.below(40)
                            };
                            Op::Put {
                                db,
                                key,
                                value: rng.bytes(len as usize),
                            }
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// What running a workload on a simulated disk produced.
struct Execution {
    /// `states[i]` is the model after `i` commits returned.
    states: Vec<Model>,
    /// The model of the transaction whose commit failed, if one did.
    in_flight: Option<Model>,
    disk: Arc<SimulatedDisk>,
}

fn open_options(flags: EnvFlags) -> EnvOpenOptions {
    let mut options = EnvOpenOptions::new();
    options.page_size(PAGE_SIZE).map_size(64 << 20).max_dbs(8);
    unsafe { options.flags(flags) };
    options
}

fn execute(dir: &Path, flags: EnvFlags, fault: Fault, transactions: &[Vec<Op>]) -> Execution {
    let disk = SimulatedDisk::new(fault);
    let env = unsafe {
        open_options(flags)
            .page_io(disk.factory())
            .open(dir)
            .unwrap()
    };
    let mut states = vec![vec![BTreeMap::new(); NAMES.len()]];
    let mut in_flight = None;
    for ops in transactions {
        let mut working = states.last().unwrap().clone();
        let mut wtxn = env.write_txn().unwrap();
        let dbs: Vec<_> = NAMES
            .iter()
            .map(|name| {
                env.create_database::<Bytes, Bytes>(&mut wtxn, *name)
                    .unwrap()
            })
            .collect();
        for op in ops {
            match op {
                Op::Put { db, key, value } => {
                    dbs[*db].put(&mut wtxn, key, value).unwrap();
                    working[*db].insert(key.clone(), value.clone());
                }
                Op::Delete { db, key } => {
                    dbs[*db].delete(&mut wtxn, key).unwrap();
                    working[*db].remove(key);
                }
                Op::Clear { db } => {
                    dbs[*db].clear(&mut wtxn).unwrap();
                    working[*db].clear();
                }
            }
        }
        match wtxn.commit() {
            Ok(()) => states.push(working),
            Err(_) => {
                in_flight = Some(working);
                break;
            }
        }
    }
    Execution {
        states,
        in_flight,
        disk,
    }
}

fn read_model(env: &Env) -> Model {
    let rtxn = env.read_txn().unwrap();
    NAMES
        .iter()
        .map(
            |name| match env.open_database::<Bytes, Bytes>(&rtxn, *name).unwrap() {
                None => BTreeMap::new(),
                Some(db) => db
                    .iter(&rtxn)
                    .unwrap()
                    .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                    .collect(),
            },
        )
        .collect()
}

#[derive(Clone, Copy)]
enum CrashKind {
    PowerLoss,
    ProcessCrash,
}

/// One seeded case: crash somewhere in the workload, reboot, verify.
fn crash_case(seed: u64, flags: EnvFlags, kind: CrashKind) {
    let transactions = workload(seed);
    let operations = {
        let dir = tempfile::tempdir().unwrap();
        execute(dir.path(), flags, Fault::Never, &transactions)
            .disk
            .operations()
    };
    let crash_at = 1 + Rng(seed ^ 0xc0ffee).below(operations);
    let dir = tempfile::tempdir().unwrap();
    let execution = execute(dir.path(), flags, Fault::CrashAt(crash_at), &transactions);
    assert!(
        execution.disk.crashed(),
        "the disk crashed at operation {crash_at} of {operations}"
    );
    let image = match kind {
        CrashKind::PowerLoss => execution.disk.image_after_power_loss(seed),
        CrashKind::ProcessCrash => execution.disk.image_after_process_crash(seed),
    };
    let crash = format!(
        "the crash at operation {crash_at} of {operations} ({})",
        execution.disk.in_flight()
    );
    let rebooted = tempfile::tempdir().unwrap();
    std::fs::write(rebooted.path().join("data.arbordb"), &image).unwrap();
    let env = unsafe { open_options(flags).open(rebooted.path()) }
        .unwrap_or_else(|error| panic!("after {crash} the file does not open: {error}"));
    let report = env.check().unwrap();
    assert!(report.is_ok(), "checker after {crash}:\n{report}");

    // Which commits may the reboot show? The last one whose commit returned, or the one in
    // flight; under NO_META_SYNC also the one before (its meta may not have been synced).
    let returned = execution.states.len() - 1;
    let oldest = if flags.contains(EnvFlags::NO_META_SYNC) {
        returned.saturating_sub(1)
    } else {
        returned
    };
    let found = read_model(&env);
    let matches_committed = execution.states[oldest..].contains(&found);
    let matches_in_flight = execution.in_flight.as_ref() == Some(&found);
    assert!(
        matches_committed || matches_in_flight,
        "after {crash} the data matches no acceptable commit ({returned} had returned)"
    );

    // And the environment takes new writes.
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("after"))
        .unwrap();
    db.put(&mut wtxn, b"after the crash", b"ok").unwrap();
    wtxn.commit().unwrap();
    let report = env.check().unwrap();
    assert!(
        report.is_ok(),
        "checker after writing past the crash:\n{report}"
    );
}

fn run_cases(default_cases: u64, salt: u64, case: impl Fn(u64)) {
    let seeds: Vec<u64> = match std::env::var("ARBORDB_CRASH_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => {
            let cases = std::env::var("ARBORDB_CRASH_CASES")
                .map_or(default_cases, |cases| cases.parse().expect("a number"));
            (0..cases).map(|n| n * 1000 + salt).collect()
        }
    };
    for seed in seeds {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| case(seed))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!(
                "seed {seed} failed: {}\nreplay with ARBORDB_CRASH_SEED={seed}",
                message.unwrap_or_default()
            );
        }
    }
}

#[test]
fn power_loss_with_full_syncs_keeps_the_last_returned_commit() {
    run_cases(2000, 1, |seed| {
        crash_case(seed, EnvFlags::empty(), CrashKind::PowerLoss)
    });
}

#[test]
fn power_loss_with_no_meta_sync_loses_at_most_one_commit_and_never_corrupts() {
    run_cases(500, 2, |seed| {
        crash_case(seed, EnvFlags::NO_META_SYNC, CrashKind::PowerLoss)
    });
}

#[test]
fn process_crash_with_no_sync_loses_nothing_committed() {
    run_cases(300, 3, |seed| {
        crash_case(seed, EnvFlags::NO_SYNC, CrashKind::ProcessCrash)
    });
}
