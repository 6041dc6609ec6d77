//! Crashes during recovery: a power loss and a reboot (as in [`super::crash`]), then a second
//! power loss while the rebooted environment opens (creating its data file again when the
//! first one cut its creation short) or runs its first commits, and a second reboot, after
//! which every guarantee of docs/design.md is checked.
//!
//! The environment's creation is part of the first run: the data file is created through the
//! simulated disk, and its directory entry is durable only once the directory sync returned
//! (before it, a reboot may find no data file at all). Each reboot also carries the lock file
//! of the crashed run into the rebooted directory as a power loss may leave it (the lock file
//! is never synced): as it was, missing, cut short, zeroed, garbage, or naming a newer commit
//! and a live reader that the data file does not hold.

use std::path::Path;
use std::sync::Arc;

use super::crash::{
    apply, check_with_orders, create_databases, read_model, Model, Op, DATABASE_NAMES,
};
use super::{Fault, SimulatedDisk, TempDir};
use crate::env::{is_creation_cut_short, SkipReason, DATA_FILE_NAME, LOCK_FILE_NAME};
use crate::os::simulated::SplitMix;
use crate::page::TxnId;
use crate::types::Bytes;
use crate::{Env, EnvFlags, EnvOpenOptions};

/// A workload crashed twice: once in its creation or its first transactions, once in the open
/// or the first commits after the reboot.
#[derive(Debug, Clone)]
pub struct RecoveryCase<'a> {
    /// Transactions of the first run (after the environment is created), each committed.
    pub before: &'a [Vec<Op>],
    /// Transactions of the run after the first reboot (one or two), each committed.
    pub after: &'a [Vec<Op>],
    /// Environment flags: full syncs, or `NO_META_SYNC` (which may lose one commit).
    pub flags: EnvFlags,
    /// Page size of the file.
    pub page_size: usize,
    /// Chooses which unsynced writes survive each power loss, the second crash's operation,
    /// and what becomes of the lock file and of a data file whose entry was not durable.
    pub seed: u64,
}

/// What a power loss leaves of the lock file (never synced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockFate {
    /// The bytes it held at the crash.
    #[default]
    AsItWas,
    /// No lock file.
    Missing,
    /// Its first bytes only.
    CutShort,
    /// Zeros, as long as it was.
    Zeroed,
    /// Random bytes of a random length.
    Garbage,
    /// A complete table naming commits far newer than the data file's and a reader slot held
    /// by a process that runs (this one) at an old snapshot.
    NamingNewerCommits,
}

/// What one case went through, so that tests can check they cover what they claim.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryOutcome {
    /// The first crash fell while open created the data file.
    pub first_crash_in_creation: bool,
    /// The first reboot found no environment (no data file, an empty one, or a creation cut
    /// short) and created one.
    pub created_again: bool,
    /// The open after the first reboot passed over a whole meta whose commit was cut short
    /// (a one-sync commit whose pages did not all reach the disk).
    pub passed_over_commit_cut_short: bool,
    /// The open after the first reboot passed over a meta (cut short or torn), and the first
    /// commit after it writes into that meta's slot.
    pub first_commit_writes_passed_over_slot: bool,
    /// The second crash fell in the open (its creation of the data file).
    pub second_crash_in_open: bool,
    /// The second crash fell in the Nth transaction after the reboot (from 1).
    pub second_crash_in_transaction: Option<usize>,
    /// The lock file's fate at the first and at the second reboot.
    pub lock_fates: [LockFate; 2],
}

/// One run between two power losses.
struct Run {
    /// Whether open returned.
    opened: bool,
    /// `states[i]`: the model after `i` commits returned (`states[0]`: what open found).
    states: Vec<Model>,
    /// The model of the transaction whose commit failed, if one did.
    in_flight: Option<Model>,
    disk: Arc<SimulatedDisk>,
    /// The lock file's bytes at the crash.
    lock_file: Option<Vec<u8>>,
    /// What open passed over: (the slot, its reason) and the id of the commit it opened.
    passed_over: Option<(u64, SkipReason, u64)>,
    /// The disk's operation count after open and after each commit that returned.
    marks: Vec<u64>,
}

fn options(case: &RecoveryCase<'_>) -> EnvOpenOptions {
    let mut options = EnvOpenOptions::new();
    options
        .page_size(case.page_size)
        .map_size(256 << 20)
        .max_dbs(8);
    // SAFETY: the flags only choose what a crash may lose, which this runner checks.
    unsafe { options.flags(case.flags) };
    options
}

/// Opens `dir` on a simulated disk applying `fault` and runs `transactions`. The state open
/// finds must pass the checker and be one of `acceptable`.
fn run(
    dir: &Path,
    case: &RecoveryCase<'_>,
    transactions: &[Vec<Op>],
    fault: Fault,
    acceptable: &[Model],
) -> Result<Run, String> {
    // Sectors as large as the pages: a torn write damages no other page (what smaller pages
    // give up is tested in tests/crash_simulation.rs).
    let disk = SimulatedDisk::with_sector_size(fault, case.page_size);
    let lock_file = || std::fs::read(dir.join(LOCK_FILE_NAME)).ok();
    // SAFETY: the directory is private to this case.
    let env = match unsafe { options(case).page_io(disk.factory()).open(dir) } {
        Ok(env) => env,
        // The crash came while open created the data file: nothing was acknowledged.
        Err(_) if disk.crashed() => {
            return Ok(Run {
                opened: false,
                states: Vec::new(),
                in_flight: None,
                lock_file: lock_file(),
                disk,
                passed_over: None,
                marks: Vec::new(),
            })
        }
        Err(error) => return Err(format!("the file does not open: {error}")),
    };
    let found = check_state(&env, acceptable)?;
    let info = env.info();
    let passed_over = info
        .skipped_meta
        .map(|skipped| (skipped.slot, skipped.reason, info.last_txn_id as u64));
    let mut states = vec![found];
    let mut marks = vec![disk.operations()];
    let mut in_flight = None;
    'transactions: for ops in transactions {
        let mut working = states.last().expect("never empty").clone();
        let mut wtxn = env.write_txn().map_err(|e| format!("write_txn: {e}"))?;
        let dbs = match create_databases(&env, &mut wtxn) {
            Ok(dbs) => dbs,
            Err(crate::Error::Io(_)) if disk.crashed() => break 'transactions,
            Err(error) => return Err(format!("create_database: {error}")),
        };
        for op in ops {
            let result = apply(op, &dbs, &mut wtxn, &mut working);
            match result {
                Ok(()) => {}
                // The crash came while the transaction spilled pages: it never committed.
                Err(crate::Error::Io(_)) if disk.crashed() => break 'transactions,
                Err(error) => return Err(format!("{op:?}: {error}")),
            }
        }
        match wtxn.commit() {
            Ok(()) => {
                states.push(working);
                marks.push(disk.operations());
            }
            Err(_) if disk.crashed() => {
                in_flight = Some(working);
                break;
            }
            Err(error) => return Err(format!("commit: {error}")),
        }
    }
    // The lock file as the crash left it, before this process closes the environment.
    let lock_file = lock_file();
    drop(env);
    Ok(Run {
        opened: true,
        states,
        in_flight,
        disk,
        lock_file,
        passed_over,
        marks,
    })
}

/// Checks the environment and returns its contents, which must be one of `acceptable`.
fn check_state(env: &Env, acceptable: &[Model]) -> Result<Model, String> {
    let report = check_with_orders(env)?;
    if !report.is_ok() {
        return Err(format!("the checker found problems:\n{report}"));
    }
    let found = read_model(env).map_err(|e| format!("reading failed: {e}"))?;
    if !acceptable.contains(&found) {
        return Err(format!(
            "the data matches none of the {} acceptable states",
            acceptable.len()
        ));
    }
    Ok(found)
}

/// The states a reboot after `run` may find: those of the last commit that returned and the
/// ones after it (one earlier under `NO_META_SYNC`), or `before` if open never returned.
fn acceptable_after(run: &Run, case: &RecoveryCase<'_>, before: &[Model]) -> Vec<Model> {
    if !run.opened {
        return before.to_vec();
    }
    let returned = run.states.len() - 1;
    let oldest = if case.flags.contains(EnvFlags::NO_META_SYNC) {
        returned.saturating_sub(1)
    } else {
        returned
    };
    let mut acceptable = run.states[oldest..].to_vec();
    acceptable.extend(run.in_flight.clone());
    acceptable
}

/// What a reboot after a power loss during `run` finds in the directory: the data file (if its
/// entry was durable or survived by chance) and the lock file, each chosen by `random`.
/// `created` says whether the run created the data file (it found none, or a creation cut
/// short).
fn after_power_loss(
    run: &Run,
    created: bool,
    existed: bool,
    random: &mut SplitMix,
) -> (Option<Vec<u8>>, Option<Vec<u8>>, LockFate) {
    let mut image = run.disk.image_after_power_loss(random.below(u64::MAX));
    let entry_durable = existed || run.disk.directory_synced();
    let data = if !entry_durable && random.below(3) == 0 {
        None
    } else {
        // A new file whose sync never returned: its length may have reached the disk without
        // its bytes.
        if created && run.disk.syncs() == 0 && random.below(3) == 0 {
            image.fill(0);
        }
        Some(image)
    };
    let (lock, fate) = lock_after_power_loss(run.lock_file.as_deref(), random);
    (data, lock, fate)
}

fn lock_after_power_loss(
    lock: Option<&[u8]>,
    random: &mut SplitMix,
) -> (Option<Vec<u8>>, LockFate) {
    let Some(lock) = lock else {
        return (None, LockFate::Missing);
    };
    match random.below(6) {
        0 => (Some(lock.to_vec()), LockFate::AsItWas),
        1 => (None, LockFate::Missing),
        2 => {
            let len = random.below(lock.len() as u64 + 1) as usize;
            (Some(lock[..len].to_vec()), LockFate::CutShort)
        }
        3 => (Some(vec![0; lock.len()]), LockFate::Zeroed),
        4 => {
            let len = random.below(2 * lock.len() as u64 + 64);
            let garbage = (0..len).map(|_| random.below(256) as u8).collect();
            (Some(garbage), LockFate::Garbage)
        }
        _ => {
            let me = crate::os::process::current();
            let slots = 1 + random.below(200) as usize;
            let current = 1000 + random.below(1000);
            let table = crate::readers::left_over_table(
                slots,
                TxnId::new(current),
                TxnId::new(current - 1),
                (me.pid, me.start),
                TxnId::new(random.below(current)),
            );
            (Some(table), LockFate::NamingNewerCommits)
        }
    }
}

/// The states of a new environment: one, every database empty.
fn empty_states() -> Vec<Model> {
    vec![vec![
        std::collections::BTreeMap::new();
        DATABASE_NAMES.len()
    ]]
}

/// A fresh directory holding `data` and `lock` as the data file and the lock file.
fn reboot(data: Option<&[u8]>, lock: Option<&[u8]>) -> Result<TempDir, String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: Option<&[u8]>| match bytes {
        Some(bytes) => std::fs::write(dir.path().join(name), bytes).map_err(|e| e.to_string()),
        None => Ok(()),
    };
    write(DATA_FILE_NAME, data)?;
    write(LOCK_FILE_NAME, lock)?;
    Ok(dir)
}

/// Whether `dir` holds no environment yet: no data file, or a creation cut short.
fn holds_no_environment(dir: &Path) -> bool {
    std::fs::read(dir.join(DATA_FILE_NAME)).map_or(true, |bytes| is_creation_cut_short(&bytes))
}

/// The operations (writes, resizes, syncs) the first run performs without a crash: `marks[0]`
/// to create the environment, `marks[i]` to create it and run the first `i` transactions of
/// `case.before`.
pub fn operation_marks(case: &RecoveryCase<'_>) -> Result<Vec<u64>, String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let disk = SimulatedDisk::with_sector_size(Fault::Never, case.page_size);
    // SAFETY: the directory is private to this case.
    let env = unsafe { options(case).page_io(disk.factory()).open(dir.path()) }
        .map_err(|e| format!("open: {e}"))?;
    let mut marks = vec![disk.operations()];
    for ops in case.before {
        let mut wtxn = env.write_txn().map_err(|e| e.to_string())?;
        let dbs = create_databases(&env, &mut wtxn).map_err(|e| e.to_string())?;
        let mut working = empty_states().remove(0);
        for op in ops {
            apply(op, &dbs, &mut wtxn, &mut working).map_err(|e| e.to_string())?;
        }
        wtxn.commit().map_err(|e| e.to_string())?;
        marks.push(disk.operations());
    }
    Ok(marks)
}

/// Runs `case`: creates the environment and runs `case.before` on a disk that loses power at
/// operation `first_crash_at`; reboots; opens the environment on a disk that loses power at
/// an operation of the open or of `case.after` chosen by the seed (or after the last one);
/// reboots again and checks: the file opens, the checker passes, the data is a state
/// acceptable after the first crash or after a commit of the second run that returned (or
/// the one in flight), and it takes a new commit. Returns what the case went through, or what
/// went wrong, in words.
pub fn run_recovery_case(
    case: &RecoveryCase<'_>,
    first_crash_at: u64,
) -> Result<RecoveryOutcome, String> {
    let mut random = SplitMix(case.seed ^ 0x7265_636f_7665_7279);
    let mut outcome = RecoveryOutcome::default();
    let empty = empty_states();

    // The first run: creation and `before`, cut by a power loss.
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let first = run(
        dir.path(),
        case,
        case.before,
        Fault::CrashAt(first_crash_at),
        &empty,
    )
    .map_err(|e| format!("before the first crash: {e}"))?;
    if !first.disk.crashed() {
        return Err(format!(
            "the disk did not crash at operation {first_crash_at}"
        ));
    }
    outcome.first_crash_in_creation = !first.opened;
    let first_crash = format!(
        "the first crash at operation {first_crash_at} ({})",
        first.disk.in_flight()
    );
    let acceptable = acceptable_after(&first, case, &empty);
    let (data, lock, fate) = after_power_loss(&first, true, false, &mut random);
    outcome.lock_fates[0] = fate;
    let first_crash = format!("{first_crash} ({fate:?} lock file)");
    recover(
        case,
        Rebooted {
            data,
            lock,
            acceptable,
            opened: first.opened,
            what: first_crash,
        },
        &mut random,
        outcome,
    )
}

/// Runs the second part of [`run_recovery_case`] on `data` as the data file (with no lock
/// file): `acceptable` are the states it may hold. `data` is what a power loss could have left
/// while open was creating the file, or after it returned: the first reboot must open it or
/// create it again.
pub fn run_recovery_from_image(
    case: &RecoveryCase<'_>,
    data: Option<&[u8]>,
    acceptable: &[Model],
) -> Result<RecoveryOutcome, String> {
    let mut random = SplitMix(case.seed ^ 0x7265_636f_7665_7279);
    let rebooted = Rebooted {
        data: data.map(<[u8]>::to_vec),
        lock: None,
        acceptable: acceptable.to_vec(),
        opened: false,
        what: "the given image".to_string(),
    };
    recover(case, rebooted, &mut random, RecoveryOutcome::default())
}

/// What the first reboot finds, and what it may hold.
struct Rebooted {
    data: Option<Vec<u8>>,
    lock: Option<Vec<u8>>,
    /// The states it may hold.
    acceptable: Vec<Model>,
    /// Whether open had returned before the power loss.
    opened: bool,
    /// The power loss, in words.
    what: String,
}

/// The second run on what the first reboot finds, a second power loss, and the checks of the
/// final reboot.
fn recover(
    case: &RecoveryCase<'_>,
    found: Rebooted,
    random: &mut SplitMix,
    mut outcome: RecoveryOutcome,
) -> Result<RecoveryOutcome, String> {
    let Rebooted {
        data,
        lock,
        acceptable,
        opened,
        what: first_crash,
    } = found;
    // The second run, on the rebooted directory: first without a crash, to count its
    // operations, then cut by a power loss at one of them or after the last.
    let rebooted = reboot(data.as_deref(), lock.as_deref())?;
    outcome.created_again = holds_no_environment(rebooted.path());
    if opened && outcome.created_again {
        return Err(format!(
            "after {first_crash} the reboot finds no environment, though open had returned"
        ));
    }
    let existed = data.is_some();
    let trial = {
        let trial = reboot(data.as_deref(), lock.as_deref())?;
        run(trial.path(), case, case.after, Fault::Never, &acceptable)
            .map_err(|e| format!("after {first_crash}: {e}"))?
    };
    let operations = trial.disk.operations();
    // Half the time in the first commit after the reboot (the one that may write over a meta
    // open passed over), else at any operation, or after the last.
    let second_crash_at = match trial.marks.get(..2) {
        Some(&[opened, first_commit]) if random.below(2) == 0 => {
            opened + 1 + random.below(first_commit - opened)
        }
        _ => 1 + random.below(operations + 1),
    };
    let fault = if second_crash_at > operations {
        Fault::Never
    } else {
        Fault::CrashAt(second_crash_at)
    };
    let second = run(rebooted.path(), case, case.after, fault, &acceptable)
        .map_err(|e| format!("after {first_crash}: {e}"))?;
    if let Some((slot, reason, opened_txn)) = second.passed_over {
        outcome.passed_over_commit_cut_short = reason == SkipReason::PagesNotWhole;
        outcome.first_commit_writes_passed_over_slot = slot == (opened_txn + 1) % 2;
    }
    if second.disk.crashed() {
        if second.opened {
            outcome.second_crash_in_transaction = Some(second.states.len());
        } else {
            outcome.second_crash_in_open = true;
        }
    }
    let second_crash = format!(
        "{first_crash}, then the second crash at operation {} of {operations} ({})",
        second_crash_at,
        if second.disk.crashed() {
            second.disk.in_flight()
        } else {
            "after the last".to_string()
        }
    );
    let acceptable = acceptable_after(&second, case, &acceptable);
    let (data, lock, fate) = after_power_loss(&second, outcome.created_again, existed, random);
    outcome.lock_fates[1] = fate;

    // The final reboot. (Its writes go through a disk that never fails, which passes them to
    // the file without syncing it: a real sync would cost more than the rest of the case.)
    let rebooted = reboot(data.as_deref(), lock.as_deref())?;
    let after = format!("after {second_crash} ({fate:?} lock file)");
    if second.opened && holds_no_environment(rebooted.path()) {
        return Err(format!(
            "{after} the reboot finds no environment, though open had returned"
        ));
    }
    let disk = SimulatedDisk::new(Fault::Never);
    // SAFETY: the directory is private to this case.
    let env = unsafe { options(case).page_io(disk.factory()).open(rebooted.path()) }
        .map_err(|e| format!("{after} the file does not open: {e}"))?;
    check_state(&env, &acceptable).map_err(|e| format!("{after} {e}"))?;
    let mut wtxn = env.write_txn().map_err(|e| format!("{after}: {e}"))?;
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("after"))
        .map_err(|e| format!("{after}: {e}"))?;
    db.put(&mut wtxn, b"after the crashes", b"ok")
        .map_err(|e| format!("{after}: {e}"))?;
    wtxn.commit()
        .map_err(|e| format!("{after} a new commit failed: {e}"))?;
    let report = check_with_orders(&env).map_err(|e| format!("{after}: {e}"))?;
    if !report.is_ok() {
        return Err(format!(
            "{after} and a new commit the checker found problems:\n{report}"
        ));
    }
    Ok(outcome)
}
