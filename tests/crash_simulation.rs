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
    case_seeds, count_commits_and_syncs, count_operations, count_operations_and_syncs,
    run_crash_case, run_crash_case_on_sectors, CrashCase, CrashKind, Op, WeakOutcome,
    DATABASE_NAMES, PAIRS,
};
use arbordb::testing::{fate_patterns_drawn, FatePatterns};
use arbordb::EnvFlags;
use common::Rng;

/// An operation on the duplicate-sorted database: few keys and values, so a key's values
/// outgrow its cell into a tree of their own (in a transaction that grows them) and pair
/// deletes hit (mostly, in one that `shrinks` them), so trees shrink to a list or one value.
fn pairs_op(rng: &mut Rng, shrinks: bool) -> Op {
    let key = format!("key{}", rng.below(2)).into_bytes();
    let n = rng.below(30);
    let value = format!("v{n:02}").repeat(1 + n as usize % 6).into_bytes();
    let deletes = if shrinks { 30 } else { 8 };
    match rng.below(40) {
        0 => Op::Clear { db: PAIRS },
        1 => Op::Delete { db: PAIRS, key },
        roll if roll < 2 + deletes => Op::DeletePair {
            db: PAIRS,
            key,
            value,
        },
        _ => Op::Put {
            db: PAIRS,
            key,
            value,
        },
    }
}

/// Transactions of random operations, each ending in a commit.
fn workload(seed: u64) -> Vec<Vec<Op>> {
    let mut rng = Rng(seed);
    let transactions = 4 + rng.below(10);
    (0..transactions)
        .map(|transaction| {
            let ops = 1 + rng.below(80);
            (0..ops)
                .map(|_| {
                    // The duplicate-sorted database takes three shares.
                    let db = (rng.below(DATABASE_NAMES.len() as u64 + 2) as usize).min(PAIRS);
                    if db == PAIRS {
                        return pairs_op(&mut rng, transaction % 3 == 2);
                    }
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

/// A crash point among `operations`: in a third of the cases one of the `syncs`, where every
/// write of the commit being synced (its spills too) is open to the power loss, so the meta
/// may survive while a page does not; else any operation.
fn crash_point(seed: u64, operations: u64, syncs: &[u64]) -> u64 {
    let mut rng = Rng(seed);
    if rng.below(3) == 0 && !syncs.is_empty() {
        syncs[rng.below(syncs.len() as u64) as usize]
    } else {
        1 + rng.below(operations)
    }
}

/// One seeded case: crash at a random operation of the workload, reboot, verify.
fn crash_case(
    seed: u64,
    flags: EnvFlags,
    kind: CrashKind,
    txn_memory_max: Option<usize>,
) -> Result<(), String> {
    let transactions = workload(seed);
    let case = CrashCase {
        transactions: &transactions,
        flags,
        page_size: 512,
        kind,
        seed,
        txn_memory_max,
    };
    let (operations, syncs) = count_operations_and_syncs(&case)?;
    let crash_at = crash_point(seed ^ 0xc0ffee, operations, &syncs);
    run_crash_case(&case, Some(crash_at))
        .map_err(|error| format!("{error} (of {operations} operations)"))
}

fn run_cases(default_cases: u64, salt: u64, flags: EnvFlags, kind: CrashKind) {
    run_cases_with(default_cases, salt, flags, kind, None);
}

fn run_cases_with(
    default_cases: u64,
    salt: u64,
    flags: EnvFlags,
    kind: CrashKind,
    txn_memory_max: Option<usize>,
) {
    let seeds: Vec<u64> = case_seeds(default_cases, salt);
    let drawn = fate_patterns_drawn();
    let cases = seeds.len() as u64;
    for seed in seeds {
        if let Err(error) = crash_case(seed, flags, kind, txn_memory_max) {
            panic!("seed {seed}: {error}\nreplay with ARBORDB_CRASH_SEED={seed}");
        }
    }
    if matches!(kind, CrashKind::PowerLoss) {
        assert_dangerous_patterns_drawn(drawn, cases);
    }
}

/// Asserts that the power losses since `before` drew the dangerous patterns often (every
/// write kept but one; the meta kept and little else), so that the bias of
/// `SimulatedDisk::image_after_power_loss` cannot vanish silently: each in at least an eighth
/// of the cases (a third draw each, when at least two writes are open), when there are enough
/// of them to tell.
fn assert_dangerous_patterns_drawn(before: FatePatterns, cases: u64) {
    let now = fate_patterns_drawn();
    let (all_but_one, last_kept) = (
        now.all_but_one - before.all_but_one,
        now.last_kept - before.last_kept,
    );
    eprintln!(
        "{cases} cases: {all_but_one} all but one, {last_kept} last kept, {} uniform",
        now.uniform - before.uniform
    );
    if cases >= 100 {
        assert!(
            all_but_one * 8 >= cases && last_kept * 8 >= cases,
            "of {cases} cases, {all_but_one} drew every write but one and {last_kept} the meta \
             kept with little else"
        );
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

/// A transaction memory limit of four 512-byte pages: most transactions of [`workload`] spill
/// pages to the file before their commit, several times.
const SPILLING_TXN_MEMORY_MAX: usize = 2048;

#[test]
fn power_loss_in_transactions_that_spill_keeps_the_last_returned_commit() {
    // The limit does what the test says: the workload writes more than without it.
    for seed in 0..10 {
        let transactions = workload(seed);
        let case = |txn_memory_max| CrashCase {
            transactions: &transactions,
            flags: EnvFlags::empty(),
            page_size: 512,
            kind: CrashKind::PowerLoss,
            seed,
            txn_memory_max,
        };
        let spilling = count_operations(&case(Some(SPILLING_TXN_MEMORY_MAX))).unwrap();
        assert!(
            spilling > count_operations(&case(None)).unwrap(),
            "seed {seed}"
        );
    }
    run_cases_with(
        1000,
        6,
        EnvFlags::empty(),
        CrashKind::PowerLoss,
        Some(SPILLING_TXN_MEMORY_MAX),
    );
}

#[test]
fn process_crash_with_no_sync_in_transactions_that_spill_loses_nothing_committed() {
    run_cases_with(
        300,
        7,
        EnvFlags::NO_SYNC,
        CrashKind::ProcessCrash,
        Some(SPILLING_TXN_MEMORY_MAX),
    );
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
            txn_memory_max: None,
        };
        run_crash_case(&case, None).unwrap_or_else(|error| panic!("seed {seed}: {error}"));
    }
}

/// Transactions of one to three small changes: commits that write a few pages, which sync
/// once (pages and meta together, the meta listing the pages; docs/design.md).
fn small_transactions_workload(seed: u64) -> Vec<Vec<Op>> {
    let mut rng = Rng(seed);
    (0..6 + rng.below(20))
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| {
                    let db = rng.below(DATABASE_NAMES.len() as u64) as usize;
                    let key = format!("key{:03}", rng.below(400)).into_bytes();
                    if rng.below(6) == 0 {
                        Op::Delete { db, key }
                    } else {
                        let len = if rng.below(12) == 0 {
                            600
                        } else {
                            rng.below(40)
                        };
                        Op::Put {
                            db,
                            key,
                            value: rng.bytes(len as usize),
                        }
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn power_loss_in_one_sync_commits_keeps_the_last_returned_commit() {
    let seeds: Vec<u64> = case_seeds(600, 5);
    let (mut all_commits, mut all_syncs) = (0, 0);
    let many = seeds.len() >= 100;
    let (drawn, cases) = (fate_patterns_drawn(), seeds.len() as u64);
    for seed in seeds {
        let transactions = small_transactions_workload(seed);
        let case = CrashCase {
            transactions: &transactions,
            flags: EnvFlags::empty(),
            // (Every seed is odd: the case number chooses.)
            page_size: if seed / 1000 % 2 == 0 { 512 } else { 4096 },
            kind: CrashKind::PowerLoss,
            seed,
            txn_memory_max: None,
        };
        let (commits, syncs) = count_commits_and_syncs(&case).unwrap();
        (all_commits, all_syncs) = (all_commits + commits, all_syncs + syncs);
        let (operations, syncs) = count_operations_and_syncs(&case).unwrap();
        let crash_at = crash_point(seed ^ 0x5eed, operations, &syncs);
        if let Err(error) = run_crash_case(&case, Some(crash_at)) {
            panic!(
                "seed {seed}: {error} (crash at {crash_at} of {operations})\n\
                 replay with ARBORDB_CRASH_SEED={seed}"
            );
        }
    }
    assert_dangerous_patterns_drawn(drawn, cases);
    // The workload is what the test says: most commits sync once (one that grows the small
    // file takes two).
    assert!(
        !many || all_syncs * 10 < all_commits * 16,
        "{all_commits} commits took {all_syncs} syncs"
    );
}

/// A load, a delete of most of it (a freelist large enough for free segments), then small
/// transactions that take their pages from the segments; the crash falls in the small ones.
fn mass_delete_workload(seed: u64) -> (Vec<Vec<Op>>, usize) {
    let mut rng = Rng(seed);
    let load = (0..3000)
        .map(|n| {
            let len = 20 + rng.below(30) as usize;
            Op::Put {
                db: n % 2, // the unnamed database and "alpha"
                key: format!("key{n:05}").into_bytes(),
                value: rng.bytes(len),
            }
        })
        .collect();
    let delete = (0..3000)
        .filter(|n| n % 7 != 0)
        .map(|n| Op::Delete {
            db: n % 2,
            key: format!("key{n:05}").into_bytes(),
        })
        .collect();
    let mut transactions = vec![load, delete];
    for _ in 0..6 + rng.below(8) {
        let ops = 10 + rng.below(60);
        transactions.push(
            (0..ops)
                .map(|_| {
                    let key = format!("key{:05}", rng.below(4000)).into_bytes();
                    let db = rng.below(3) as usize;
                    if rng.below(8) == 0 {
                        Op::Delete { db, key }
                    } else {
                        let len = rng.below(60) as usize;
                        Op::Put {
                            db,
                            key,
                            value: rng.bytes(len),
                        }
                    }
                })
                .collect(),
        );
    }
    (transactions, 2)
}

#[test]
fn power_loss_while_reusing_free_segments_keeps_the_last_returned_commit() {
    let seeds: Vec<u64> = case_seeds(150, 4);
    let (drawn, cases) = (fate_patterns_drawn(), seeds.len() as u64);
    for seed in seeds {
        let (transactions, setup) = mass_delete_workload(seed);
        // Every other case spills: its small transactions, which do not grow the file, would
        // commit with one sync if a spill did not rule it out (invariant 14).
        let spilling = seed / 1000 % 2 == 1;
        let case = |transactions| CrashCase {
            transactions,
            flags: EnvFlags::empty(),
            page_size: 512,
            kind: CrashKind::PowerLoss,
            seed,
            txn_memory_max: spilling.then_some(SPILLING_TXN_MEMORY_MAX),
        };
        let before = count_operations(&case(&transactions[..setup])).unwrap();
        let total = count_operations(&case(&transactions)).unwrap();
        let crash_at = before + 1 + Rng(seed ^ 0xfeed).below(total - before);
        if let Err(error) = run_crash_case(&case(&transactions), Some(crash_at)) {
            panic!(
                "seed {seed}: {error} (crash at {crash_at} of {total})\n\
                 replay with ARBORDB_CRASH_SEED={seed}"
            );
        }
    }
    assert_dangerous_patterns_drawn(drawn, cases);
}

/// 512-byte pages on a disk with 4096-byte physical sectors: eight pages share a sector, both
/// metas among them, so a torn write may damage pages it did not write, committed ones and
/// the metas too. What holds there is weaker (docs/design.md, "Durability modes"): the file is
/// refused with a typed error (both metas destroyed: `NoValidMeta`), or the checker or a read
/// reports the damage, or it opens at an acceptable commit, or at the one before the last
/// returned commit (whose meta a torn write of a page in its sector destroyed: a returned
/// commit lost silently), and then passes the checker and takes a new commit. No other data
/// was seen (3,000 cases passed once: 174 refused, 215 damaged, 4 at the commit before).
#[test]
fn power_loss_with_pages_smaller_than_sectors_is_refused_reported_or_a_recent_commit() {
    let seeds: Vec<u64> = case_seeds(400, 8);
    let many = seeds.len() >= 100;
    let (mut refused, mut damaged) = (0, 0);
    for seed in seeds {
        let transactions = workload(seed);
        let case = CrashCase {
            transactions: &transactions,
            flags: EnvFlags::empty(),
            page_size: 512,
            kind: CrashKind::PowerLoss,
            seed,
            txn_memory_max: None,
        };
        let (operations, syncs) = count_operations_and_syncs(&case).unwrap();
        let crash_at = crash_point(seed ^ 0x5ec7, operations, &syncs);
        match run_crash_case_on_sectors(&case, Some(crash_at), 4096) {
            Ok(WeakOutcome::Refused(_)) => refused += 1,
            Ok(WeakOutcome::Damaged(_)) => damaged += 1,
            Ok(WeakOutcome::Acceptable | WeakOutcome::Previous) => {}
            Err(error) => panic!(
                "seed {seed}: {error} (crash at {crash_at} of {operations})\n\
                 replay with ARBORDB_CRASH_SEED={seed}"
            ),
        }
    }
    // The sector is what the test says: torn writes do destroy both metas and damage pages
    // they did not write (with 512-byte sectors neither ever happens).
    assert!(
        !many || (refused > 0 && damaged > 0),
        "{refused} refused, {damaged} damaged"
    );
}
