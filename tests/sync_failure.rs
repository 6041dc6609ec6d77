//! A sync that fails, then more commits, then a power loss. A failed sync drops the writes it
//! covered, as Linux does after a writeback error: they stay readable (the page cache keeps
//! them until a reboot) but no later sync makes them durable, and a power loss keeps, loses or
//! tears each of them (`SimulatedDisk`). After the error the environment goes on as it does:
//! the commit returned the error and is not visible; if the environment was poisoned, it is
//! reopened, as a process would, and shows the commit before or the one that failed. More
//! commits follow, then the power fails at a random operation or after the last commit. The
//! reboot must open, pass the checker, and show a commit no older than the last one that
//! returned (one older under `NO_META_SYNC`), or one that followed it (the one in flight, or
//! the failed one a reopening showed).
//!
//! Every case prints its seed on failure; replay one with
//! `ARBORDB_CRASH_SEED=<seed> cargo test --test sync_failure <test name>`, run more with
//! `ARBORDB_CRASH_CASES=<count>`.

mod common;

use std::path::Path;
use std::sync::Arc;

use arbordb::testing::crash::{
    apply, case_seeds, checked_contents, create_databases, read_model, read_model_in, Model, Op,
    DATABASE_NAMES,
};
use arbordb::testing::{Fault, SimulatedDisk};
use arbordb::MdbError;
use arbordb::{Env, EnvFlags, EnvOpenOptions, Error};
use common::Rng;

/// Mostly small transactions (which commit with one sync), some larger ones (two syncs; some
/// grow the file, some have values of several pages).
fn workload(seed: u64) -> Vec<Vec<Op>> {
    let mut rng = Rng(seed);
    (0..8 + rng.below(12))
        .map(|_| {
            let large = rng.below(3) == 0;
            let ops = if large {
                20 + rng.below(60)
            } else {
                1 + rng.below(3)
            };
            (0..ops)
                .map(|_| {
                    let db = rng.below(DATABASE_NAMES.len() as u64) as usize;
                    let key = format!("key{:03}", rng.below(300)).into_bytes();
                    match rng.below(12) {
                        0 | 1 => Op::Delete { db, key },
                        2 if large => Op::Put {
                            db,
                            key,
                            value: {
                                let len = 600 + rng.below(3000) as usize;
                                rng.bytes(len)
                            },
                        },
                        _ => {
                            let len = rng.below(40) as usize;
                            Op::Put {
                                db,
                                key,
                                value: rng.bytes(len),
                            }
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// One case's setting.
struct Case {
    transactions: Vec<Vec<Op>>,
    page_size: usize,
    txn_memory_max: Option<usize>,
    /// The sync mode.
    flags: EnvFlags,
    /// Whether to call `force_sync` after reopening a poisoned environment (it must not
    /// declare durable what a failed sync dropped).
    force_sync_after_reopening: bool,
}

fn open(dir: &Path, case: &Case, disk: &Arc<SimulatedDisk>) -> arbordb::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options
        .page_size(case.page_size)
        .map_size(256 << 20)
        .max_dbs(8);
    if let Some(bytes) = case.txn_memory_max {
        options.txn_memory_max(bytes);
    }
    options.page_io(disk.factory());
    // SAFETY: the directory is private to this case; the flags only choose what a crash may
    // lose, which the case checks.
    unsafe {
        options.flags(case.flags);
        options.open(dir)
    }
}

/// What a run left: the states the environment showed, in order, and which may a reboot show.
struct Run {
    /// The states the environment showed, each commit that returned and each failed one a
    /// reopening showed.
    states: Vec<Model>,
    /// The index in `states` of the last commit that returned.
    last_returned: usize,
    /// The state of the transaction whose commit the crash interrupted, or whose commit
    /// failed last with no transaction after it (its meta's fate is unknown).
    in_flight: Option<Model>,
    /// How many commits failed, and how many of those poisoned the environment.
    failed: u32,
    poisoned: u32,
}

/// Runs the case's transactions on `disk`: every error the disk returns is handled as an
/// application would (a failed transaction is dropped, a poisoned environment reopened).
fn run(dir: &Path, case: &Case, disk: &Arc<SimulatedDisk>) -> Result<Run, String> {
    let mut env = open(dir, case, disk).map_err(|e| format!("open: {e}"))?;
    let mut run = Run {
        states: vec![vec![Default::default(); DATABASE_NAMES.len()]],
        last_returned: 0,
        in_flight: None,
        failed: 0,
        poisoned: 0,
    };
    // The transaction whose commit failed last, until the next one begins.
    let mut failed_attempt: Option<Model> = None;
    'transactions: for ops in &case.transactions {
        let poisoned = match env.write_txn() {
            Ok(_) => false,
            Err(Error::Mdb(MdbError::EnvPoisoned)) => true,
            Err(Error::Io(_)) if disk.crashed() => break,
            Err(error) => return Err(format!("write_txn: {error}")),
        };
        if poisoned {
            // Reopen, as a process would: the failed commit may or may not show.
            run.poisoned += 1;
            drop(env);
            env = open(dir, case, disk).map_err(|e| format!("reopen: {e}"))?;
            let found = read_model(&env).map_err(|e| format!("reopen: {e}"))?;
            if found != *run.states.last().expect("never empty") {
                if failed_attempt.as_ref() != Some(&found) {
                    return Err("the reopened environment shows neither the commit before \
                                the failure nor the failed one"
                        .into());
                }
                run.states.push(found);
            }
            if case.force_sync_after_reopening {
                match env.force_sync() {
                    Ok(()) => {}
                    Err(Error::Io(_)) if disk.crashed() => break,
                    Err(error) => return Err(format!("force_sync: {error}")),
                }
            }
        }
        failed_attempt = None;
        let mut wtxn = match env.write_txn() {
            Ok(wtxn) => wtxn,
            Err(Error::Io(_)) if disk.crashed() => break,
            Err(error) => return Err(format!("write_txn: {error}")),
        };
        let env_now = &env;
        // A failed commit that did not poison the environment is not visible.
        let seen = read_model_in(env_now, &wtxn).map_err(|e| format!("reading: {e}"))?;
        if seen != *run.states.last().expect("never empty") {
            return Err(format!(
                "a write transaction sees a state that is not the last commit's ({} commits \
                 failed, {} poisoned)",
                run.failed, run.poisoned
            ));
        }
        let mut working = seen;
        let dbs = match create_databases(env_now, &mut wtxn) {
            Ok(dbs) => dbs,
            Err(Error::Io(_)) if disk.crashed() => break 'transactions,
            Err(Error::Io(_)) => continue 'transactions,
            Err(error) => return Err(format!("create_database: {error}")),
        };
        for op in ops {
            let result = apply(op, &dbs, &mut wtxn, &mut working);
            match result {
                Ok(()) => {}
                // The crash came while the transaction spilled pages: it never committed.
                Err(Error::Io(_)) if disk.crashed() => break 'transactions,
                // An error while spilling fails the transaction; the next one goes on.
                Err(Error::Io(_)) => continue 'transactions,
                Err(error) => return Err(format!("{op:?}: {error}")),
            }
        }
        match wtxn.commit() {
            Ok(()) => {
                run.states.push(working);
                run.last_returned = run.states.len() - 1;
            }
            Err(_) if disk.crashed() => {
                run.in_flight = Some(working);
                break;
            }
            Err(Error::Io(_)) => {
                run.failed += 1;
                failed_attempt = Some(working);
            }
            Err(error) => return Err(format!("commit: {error}")),
        }
    }
    if run.in_flight.is_none() {
        run.in_flight = failed_attempt;
    }
    Ok(run)
}

/// One seeded case: fail a sync (or another operation) with an I/O error, go on, cut the
/// power later, reboot and check.
fn sync_failure_case(seed: u64, spilling: bool, flags: EnvFlags) -> Result<(), String> {
    let mut rng = Rng(seed ^ 0x5ca1ab1e);
    let page_size = if rng.below(2) == 0 { 512 } else { 4096 };
    let case = Case {
        transactions: workload(seed),
        page_size,
        txn_memory_max: spilling.then_some(4 * page_size),
        flags,
        force_sync_after_reopening: rng.below(3) == 0,
    };
    let disk_for = |fault| SimulatedDisk::with_sector_size(fault, page_size);
    // Where the error falls: in two cases of three at a sync, else at any operation, after
    // the first sync of the first commit (which creates the databases). Creating the file
    // comes before it (its syncs are crash points of tests/crash_recovery.rs).
    let created = {
        let dir = arbordb::testing::TempDir::new().map_err(|e| e.to_string())?;
        let disk = disk_for(Fault::Never);
        drop(open(dir.path(), &case, &disk).map_err(|e| format!("open: {e}"))?);
        disk.operations()
    };
    let (operations, syncs) = {
        let dir = arbordb::testing::TempDir::new().map_err(|e| e.to_string())?;
        let disk = disk_for(Fault::Never);
        run(dir.path(), &case, &disk)?;
        (disk.operations(), disk.sync_operations())
    };
    let first = syncs.iter().copied().find(|&at| at > created).unwrap_or(0);
    let later_syncs: Vec<u64> = syncs.into_iter().filter(|&at| at > first).collect();
    if operations <= first + 1 {
        return Ok(());
    }
    let error_at = if rng.below(3) < 2 && !later_syncs.is_empty() {
        later_syncs[rng.below(later_syncs.len() as u64) as usize]
    } else {
        first + 1 + rng.below(operations - first)
    };
    // How far the run goes with the error, then where the power fails: at an operation after
    // the error, or after the last commit.
    let total = {
        let dir = arbordb::testing::TempDir::new().map_err(|e| e.to_string())?;
        let disk = disk_for(Fault::IoErrorAt(error_at));
        run(dir.path(), &case, &disk)?;
        disk.operations()
    };
    let crash_at = error_at + 1 + rng.below(total - error_at + 1);
    let dir = arbordb::testing::TempDir::new().map_err(|e| e.to_string())?;
    let disk = disk_for(Fault::IoErrorAt(error_at));
    disk.crash_at(crash_at);
    let run = run(dir.path(), &case, &disk)?;
    let crash = format!(
        "an I/O error at operation {error_at}, {} failed commits ({} poisoned), and a power \
         loss at {crash_at} of {total}",
        run.failed, run.poisoned
    );
    let image = disk.image_after_power_loss(seed);
    let rebooted = arbordb::testing::TempDir::new().map_err(|e| e.to_string())?;
    std::fs::write(rebooted.path().join(arbordb::DATA_FILE_NAME), &image)
        .map_err(|e| e.to_string())?;
    let mut options = EnvOpenOptions::new();
    options.page_size(page_size).map_size(256 << 20).max_dbs(8);
    // SAFETY: as in `open`.
    unsafe { options.flags(flags) };
    // SAFETY: the directory is private to this case.
    let env = unsafe { options.open(rebooted.path()) }
        .map_err(|e| format!("after {crash} the file does not open: {e}"))?;
    let found = checked_contents(&env, &crash)?;
    // Under NO_META_SYNC the last returned commit's meta is not synced: one older may show.
    let oldest = if flags.contains(EnvFlags::NO_META_SYNC) {
        run.last_returned.saturating_sub(1)
    } else {
        run.last_returned
    };
    let acceptable =
        run.states[oldest..].contains(&found) || run.in_flight.as_ref() == Some(&found);
    if !acceptable {
        return Err(format!(
            "after {crash} the data matches no acceptable commit ({} states, the last returned \
             at {})",
            run.states.len(),
            run.last_returned
        ));
    }
    Ok(())
}

fn run_cases(default_cases: u64, salt: u64, spilling: bool, flags: EnvFlags) {
    let seeds: Vec<u64> = case_seeds(default_cases, salt);
    for seed in seeds {
        if let Err(error) = sync_failure_case(seed, spilling, flags) {
            panic!("seed {seed}: {error}\nreplay with ARBORDB_CRASH_SEED={seed}");
        }
    }
}

#[test]
fn a_failed_sync_then_more_commits_then_a_power_loss_keeps_the_last_returned_commit() {
    run_cases(300, 1, false, EnvFlags::empty());
}

#[test]
fn a_failed_sync_in_transactions_that_spill_then_a_power_loss_keeps_the_last_returned_commit() {
    run_cases(150, 2, true, EnvFlags::empty());
}

#[test]
fn a_failed_sync_under_no_meta_sync_then_a_power_loss_loses_at_most_one_commit() {
    run_cases(150, 3, false, EnvFlags::NO_META_SYNC);
}
