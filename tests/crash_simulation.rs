//! Crash simulation: a random workload over several databases runs on a simulated disk that
//! crashes at a chosen write or sync; the disk image a reboot would find (the durable image
//! plus an arbitrary subset of the unsynced writes, some torn) is reopened. It must open, pass
//! the checker, equal the model at a commit no older than the last one whose commit returned
//! (older by at most one under NO_META_SYNC, see docs/design.md), and accept new writes.
//! The runner is `arbordb::testing::crash::run_crash_case`, shared with the `ops` fuzz target.
//!
//! Every case prints its seed on failure; replay one with
//! `ARBORDB_CRASH_SEED=<seed> cargo test --test crash_simulation <test name>`, run more with
//! `ARBORDB_CRASH_CASES=<count>`.

mod common;

use arbordb::testing::crash::{
    count_operations, run_crash_case, CrashCase, CrashKind, Op, DATABASE_NAMES,
};
use arbordb::EnvFlags;
use common::Rng;

/// Transactions of random operations, each ending in a commit.
fn workload(seed: u64) -> Vec<Vec<Op>> {
    let mut rng = Rng(seed);
    let transactions = 4 + rng.below(10);
    (0..transactions)
        .map(|_| {
            let ops = 1 + rng.below(80);
            (0..ops)
                .map(|_| {
                    let db = rng.below(DATABASE_NAMES.len() as u64) as usize;
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

/// One seeded case: crash at a random operation of the workload, reboot, verify.
fn crash_case(seed: u64, flags: EnvFlags, kind: CrashKind) -> Result<(), String> {
    let transactions = workload(seed);
    let case = CrashCase {
        transactions: &transactions,
        flags,
        page_size: 512,
        kind,
        seed,
    };
    let operations = count_operations(&case)?;
    let crash_at = 1 + Rng(seed ^ 0xc0ffee).below(operations);
    run_crash_case(&case, Some(crash_at))
        .map_err(|error| format!("{error} (of {operations} operations)"))
}

fn run_cases(default_cases: u64, salt: u64, flags: EnvFlags, kind: CrashKind) {
    let seeds: Vec<u64> = match std::env::var("ARBORDB_CRASH_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => {
            let cases = std::env::var("ARBORDB_CRASH_CASES")
                .map_or(default_cases, |cases| cases.parse().expect("a number"));
            (0..cases).map(|n| n * 1000 + salt).collect()
        }
    };
    for seed in seeds {
        if let Err(error) = crash_case(seed, flags, kind) {
            panic!("seed {seed}: {error}\nreplay with ARBORDB_CRASH_SEED={seed}");
        }
    }
}

#[test]
fn power_loss_with_full_syncs_keeps_the_last_returned_commit() {
    run_cases(2000, 1, EnvFlags::empty(), CrashKind::PowerLoss);
}

#[test]
fn power_loss_with_no_meta_sync_loses_at_most_one_commit_and_never_corrupts() {
    run_cases(500, 2, EnvFlags::NO_META_SYNC, CrashKind::PowerLoss);
}

#[test]
fn process_crash_with_no_sync_loses_nothing_committed() {
    run_cases(300, 3, EnvFlags::NO_SYNC, CrashKind::ProcessCrash);
}

#[test]
fn a_workload_without_a_crash_reopens_exactly() {
    for seed in 0..20 {
        let transactions = workload(seed);
        let case = CrashCase {
            transactions: &transactions,
            flags: EnvFlags::empty(),
            page_size: 512,
            kind: CrashKind::PowerLoss,
            seed,
        };
        run_crash_case(&case, None).unwrap_or_else(|error| panic!("seed {seed}: {error}"));
    }
}
