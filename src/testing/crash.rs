//! One crash case: run transactions on a simulated disk that crashes at a chosen operation,
//! reboot from the image the disk leaves, and check every guarantee of docs/design.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::{Fault, SimulatedDisk, TempDir};
use crate::types::Bytes;
use crate::{Comparator, Database, DatabaseFlags, Env, EnvFlags, EnvOpenOptions, RoTxn, RwTxn};

/// The databases a crash case writes: the unnamed one and three named ones, byte-wise, then
/// one ordered by a custom comparator ([`ByLengthThenDescending`]), one by
/// [`DatabaseFlags::REVERSE_KEY`] and one with sorted duplicates (see [`DATABASE_ORDERS`]).
pub const DATABASE_NAMES: [Option<&str>; 7] = [
    None,
    Some("alpha"),
    Some("beta"),
    Some("gamma"),
    Some("by length"),
    Some("reversed"),
    Some("pairs"),
];

/// The order of each database of [`DATABASE_NAMES`].
pub const DATABASE_ORDERS: [CaseOrder; 7] = [
    CaseOrder::Bytes,
    CaseOrder::Bytes,
    CaseOrder::Bytes,
    CaseOrder::Bytes,
    CaseOrder::Custom,
    CaseOrder::Reverse,
    CaseOrder::Pairs,
];

/// The index in [`DATABASE_NAMES`] of the duplicate-sorted database.
pub const PAIRS: usize = 6;

/// The longest value the duplicate-sorted database takes: a put there keeps a value's first
/// bytes only, so every workload's values fit it (a value is at most as long as a key, and a
/// key with its value must fit a plain cell).
pub const PAIR_VALUE_MAX: usize = 24;

/// The order of a crash case database's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOrder {
    /// Byte-wise.
    Bytes,
    /// [`ByLengthThenDescending`], a custom comparator.
    Custom,
    /// [`DatabaseFlags::REVERSE_KEY`].
    Reverse,
    /// [`DatabaseFlags::DUP_SORT`]: keys and values byte-wise; its model holds each pair
    /// (see [`pair_entry`]).
    Pairs,
}

/// Shorter keys first, then byte-wise descending: unlike the byte-wise order for keys of one
/// length as for keys of several, so a tree built or searched byte-wise goes wrong.
#[derive(Debug)]
pub enum ByLengthThenDescending {}

impl Comparator for ByLengthThenDescending {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        a.len().cmp(&b.len()).then_with(|| b.cmp(a))
    }

    fn name() -> String {
        "crash case: by length, then descending".to_owned()
    }
}

/// The expected contents of every database in [`DATABASE_NAMES`]. The duplicate-sorted
/// database's map holds each of its pairs as a key ([`pair_entry`]) with an empty value.
pub type Model = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// The model's entry for the pair `(key, value)` of the duplicate-sorted database: the key's
/// length, the key, the value (so a key's pairs share a prefix).
pub fn pair_entry(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut entry = (key.len() as u32).to_be_bytes().to_vec();
    entry.extend_from_slice(key);
    entry.extend_from_slice(value);
    entry
}

/// The value a put of `value` stores in the duplicate-sorted database.
fn pair_value(value: &[u8]) -> &[u8] {
    &value[..value.len().min(PAIR_VALUE_MAX)]
}

/// One change inside a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Put `value` under `key` in database `db` (an index into [`DATABASE_NAMES`]).
    Put {
        /// Database index.
        db: usize,
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Delete the pair of `key` and `value` from database `db` (in a database without
    /// duplicates, `key` if its value is `value`).
    DeletePair {
        /// Database index.
        db: usize,
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Delete `key` (with all its values) from database `db`.
    Delete {
        /// Database index.
        db: usize,
        /// The key.
        key: Vec<u8>,
    },
    /// Empty database `db`.
    Clear {
        /// Database index.
        db: usize,
    },
}

/// What a reboot finds.
#[derive(Debug, Clone, Copy)]
pub enum CrashKind {
    /// The machine lost power: unsynced writes are kept, lost or torn at random.
    PowerLoss,
    /// Only the process died: the page cache keeps every completed write.
    ProcessCrash,
}

/// A workload and how to crash it.
#[derive(Debug, Clone)]
pub struct CrashCase<'a> {
    /// Transactions, each committed at its end.
    pub transactions: &'a [Vec<Op>],
    /// Environment flags (the sync mode).
    pub flags: EnvFlags,
    /// Page size of the file.
    pub page_size: usize,
    /// What a reboot finds.
    pub kind: CrashKind,
    /// Chooses which unsynced writes survive.
    pub seed: u64,
    /// The environment's [`EnvOpenOptions::txn_memory_max`], if not the default: a small one
    /// makes transactions spill pages before their commit.
    pub txn_memory_max: Option<usize>,
}

struct Execution {
    /// `states[i]`: the model after `i` commits returned.
    states: Vec<Model>,
    /// The model of the transaction whose commit failed, if one did.
    in_flight: Option<Model>,
    disk: Arc<SimulatedDisk>,
}

fn options(case: &CrashCase<'_>) -> EnvOpenOptions {
    let mut options = EnvOpenOptions::new();
    options
        .page_size(case.page_size)
        .map_size(256 << 20)
        .max_dbs(8);
    if let Some(bytes) = case.txn_memory_max {
        options.txn_memory_max(bytes);
    }
    // SAFETY: the flags only choose what a crash may lose, which this runner checks.
    unsafe { options.flags(case.flags) };
    options
}

fn execute(
    dir: &Path,
    case: &CrashCase<'_>,
    fault: Fault,
    sector_size: usize,
) -> Result<Execution, String> {
    let disk = SimulatedDisk::with_sector_size(fault, sector_size);
    let failed = |what: &str, error: crate::Error| format!("{what}: {error}");
    let mut states: Vec<Model> = vec![vec![BTreeMap::new(); DATABASE_NAMES.len()]];
    // SAFETY: the directory is private to this case.
    let env = match unsafe { options(case).page_io(disk.factory()).open(dir) } {
        Ok(env) => env,
        // The crash came while open created the file: nothing was acknowledged.
        Err(_) if disk.crashed() => {
            return Ok(Execution {
                states,
                in_flight: None,
                disk,
            })
        }
        Err(error) => return Err(failed("open", error)),
    };
    let mut in_flight = None;
    'transactions: for ops in case.transactions {
        let mut working = states.last().expect("never empty").clone();
        let mut wtxn = env.write_txn().map_err(|e| failed("write_txn", e))?;
        let dbs = create_databases(&env, &mut wtxn).map_err(|e| failed("create_database", e))?;
        for op in ops {
            let result = apply(op, &dbs, &mut wtxn, &mut working);
            match result {
                Ok(()) => {}
                // The crash came while the transaction spilled pages: it never committed.
                Err(crate::Error::Io(_)) if disk.crashed() => break 'transactions,
                Err(error) => return Err(failed(&format!("{op:?}"), error)),
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
    Ok(Execution {
        states,
        in_flight,
        disk,
    })
}

/// The seeds of a family of crash cases: `ARBORDB_CRASH_SEED` alone if set (to replay one),
/// else `ARBORDB_CRASH_CASES` of them (`default_cases` if unset), `n * 1000 + salt` for each
/// `n`, so that families with different salts never share a seed.
pub fn case_seeds(default_cases: u64, salt: u64) -> Vec<u64> {
    match std::env::var("ARBORDB_CRASH_SEED") {
        Ok(seed) => vec![seed.parse().expect("ARBORDB_CRASH_SEED is a number")],
        Err(_) => {
            let cases = std::env::var("ARBORDB_CRASH_CASES").map_or(default_cases, |cases| {
                cases.parse().expect("ARBORDB_CRASH_CASES is a number")
            });
            (0..cases).map(|n| n * 1000 + salt).collect()
        }
    }
}

/// Creates (or opens) every database of [`DATABASE_NAMES`] in `wtxn`, in that order, each
/// with its order ([`DATABASE_ORDERS`]).
pub fn create_databases(
    env: &Env,
    wtxn: &mut RwTxn<'_>,
) -> crate::Result<Vec<Database<Bytes, Bytes>>> {
    DATABASE_NAMES
        .iter()
        .zip(DATABASE_ORDERS)
        .map(|(name, order)| {
            let mut options = env.database_options().types::<Bytes, Bytes>();
            if let Some(name) = name {
                options.name(name);
            }
            match order {
                CaseOrder::Bytes => options.create(wtxn),
                CaseOrder::Reverse => options.flags(DatabaseFlags::REVERSE_KEY).create(wtxn),
                CaseOrder::Pairs => options.flags(DatabaseFlags::DUP_SORT).create(wtxn),
                CaseOrder::Custom => options
                    .key_comparator::<ByLengthThenDescending>()
                    .create(wtxn)
                    .map(|db| erased(&db)),
            }
        })
        .collect()
}

/// Opens every database of [`DATABASE_NAMES`] that exists in `rtxn`, each with its order:
/// this registers the custom comparator, so the checker verifies the order with it.
pub fn open_databases(
    env: &Env,
    rtxn: &RoTxn<'_>,
) -> crate::Result<Vec<Option<Database<Bytes, Bytes>>>> {
    DATABASE_NAMES
        .iter()
        .zip(DATABASE_ORDERS)
        .map(|(name, order)| {
            let mut options = env.database_options().types::<Bytes, Bytes>();
            if let Some(name) = name {
                options.name(name);
            }
            match order {
                CaseOrder::Bytes => options.open(rtxn),
                CaseOrder::Reverse => options.flags(DatabaseFlags::REVERSE_KEY).open(rtxn),
                CaseOrder::Pairs => options.flags(DatabaseFlags::DUP_SORT).open(rtxn),
                CaseOrder::Custom => Ok(options
                    .key_comparator::<ByLengthThenDescending>()
                    .open(rtxn)?
                    .map(|db| erased(&db))),
            }
        })
        .collect()
}

/// The same database with the default comparator type: one handle type for all of them (the
/// order a tree is searched in comes from the database, not from the handle's type).
fn erased<C>(db: &Database<Bytes, Bytes, C>) -> Database<Bytes, Bytes> {
    Database::new(db.env_id(), db.dbi())
}

/// The environment's checker report, with every custom comparator of [`DATABASE_ORDERS`]
/// registered first; an order it could not verify is a problem here.
pub fn check_with_orders(env: &Env) -> Result<crate::CheckReport, String> {
    let rtxn = env.read_txn().map_err(|e| e.to_string())?;
    open_databases(env, &rtxn).map_err(|e| format!("opening the databases failed: {e}"))?;
    drop(rtxn);
    let report = env
        .check()
        .map_err(|e| format!("the checker failed: {e}"))?;
    if let Some(warning) = report.warnings.iter().find(|w| w.contains("not checked")) {
        return Err(format!("the checker could not verify an order: {warning}"));
    }
    Ok(report)
}

/// Applies `op` to the databases `dbs` (from [`create_databases`]) in `wtxn`, and to the model
/// `working` of what the transaction holds. In the duplicate-sorted database ([`PAIRS`]) a
/// put adds a pair, whose value is the first [`PAIR_VALUE_MAX`] bytes of the one given.
pub fn apply(
    op: &Op,
    dbs: &[Database<Bytes, Bytes>],
    wtxn: &mut RwTxn<'_>,
    working: &mut Model,
) -> crate::Result<()> {
    match op {
        Op::Put {
            db: PAIRS,
            key,
            value,
        } => {
            let value = pair_value(value);
            working[PAIRS].insert(pair_entry(key, value), Vec::new());
            dbs[PAIRS].put(wtxn, key, value)
        }
        Op::Put { db, key, value } => {
            working[*db].insert(key.clone(), value.clone());
            dbs[*db].put(wtxn, key, value)
        }
        Op::DeletePair {
            db: PAIRS,
            key,
            value,
        } => {
            let value = pair_value(value);
            working[PAIRS].remove(&pair_entry(key, value));
            dbs[PAIRS]
                .delete_one_duplicate(wtxn, key, value)
                .map(|_| ())
        }
        Op::DeletePair { db, key, value } => {
            if working[*db].get(key) == Some(value) {
                working[*db].remove(key);
            }
            dbs[*db].delete_one_duplicate(wtxn, key, value).map(|_| ())
        }
        Op::Delete { db: PAIRS, key } => {
            let prefix = pair_entry(key, b"");
            working[PAIRS].retain(|entry, _| !entry.starts_with(&prefix));
            dbs[PAIRS].delete(wtxn, key).map(|_| ())
        }
        Op::Delete { db, key } => {
            working[*db].remove(key);
            dbs[*db].delete(wtxn, key).map(|_| ())
        }
        Op::Clear { db } => {
            working[*db].clear();
            dbs[*db].clear(wtxn)
        }
    }
}

/// The operations (writes, resizes, syncs) the workload performs without a crash.
pub fn count_operations(case: &CrashCase<'_>) -> Result<u64, String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    Ok(execute(dir.path(), case, Fault::Never, case.page_size)?
        .disk
        .operations())
}

/// The operations the workload performs without a crash, and the numbers of those that are
/// syncs: a crash at a sync leaves every write of the commit being synced (and of its spills)
/// open to the power loss.
pub fn count_operations_and_syncs(case: &CrashCase<'_>) -> Result<(u64, Vec<u64>), String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let disk = execute(dir.path(), case, Fault::Never, case.page_size)?.disk;
    Ok((disk.operations(), disk.sync_operations()))
}

/// The commits and syncs the workload performs without a crash (a commit syncs once or twice,
/// `docs/design.md`, "The commit protocol").
pub fn count_commits_and_syncs(case: &CrashCase<'_>) -> Result<(u64, u64), String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let execution = execute(dir.path(), case, Fault::Never, case.page_size)?;
    Ok((execution.states.len() as u64 - 1, execution.disk.syncs()))
}

/// Reads every database of [`DATABASE_NAMES`], each opened with its order; a database that
/// does not iterate in strictly ascending order (its own), or whose get misses an entry the
/// iteration met, is [`crate::MdbError::CorruptedPage`](crate::MdbError::CorruptedPage).
pub fn read_model(env: &Env) -> crate::Result<Model> {
    let rtxn = env.read_txn()?;
    read_model_in(env, &rtxn)
}

/// [`read_model`] in the snapshot of `rtxn` (a write transaction's too).
pub fn read_model_in(env: &Env, rtxn: &RoTxn<'_>) -> crate::Result<Model> {
    let mut model = Vec::new();
    for (db, order) in open_databases(env, rtxn)?.into_iter().zip(DATABASE_ORDERS) {
        let mut contents = BTreeMap::new();
        if let (Some(db), CaseOrder::Pairs) = (db, order) {
            contents = read_pairs(db, rtxn)?;
        } else if let Some(db) = db {
            let mut previous: Option<&[u8]> = None;
            for entry in db.iter(rtxn)? {
                let (key, value) = entry?;
                if previous.is_some_and(|previous| order.compare(previous, key).is_ge()) {
                    return Err(crate::Error::corrupted(
                        0u64,
                        format!("a database ordered {order:?} iterates out of order"),
                    ));
                }
                if db.get(rtxn, key)? != Some(value) {
                    return Err(crate::Error::corrupted(
                        0u64,
                        format!("in a database ordered {order:?} a get misses an entry"),
                    ));
                }
                previous = Some(key);
                contents.insert(key.to_vec(), value.to_vec());
            }
        }
        model.push(contents);
    }
    Ok(model)
}

/// The pairs of the duplicate-sorted database `db`, as its model holds them. Pairs that do
/// not iterate in strictly ascending order (keys, then a key's values), a backward walk by
/// key that does not meet each key's last value, or a get that does not give a key's first
/// value are [`crate::MdbError::CorruptedPage`](crate::MdbError::CorruptedPage).
fn read_pairs(
    db: Database<Bytes, Bytes>,
    rtxn: &RoTxn<'_>,
) -> crate::Result<BTreeMap<Vec<u8>, Vec<u8>>> {
    let corrupted = |what: &str| crate::Error::corrupted(0u64, format!("duplicates: {what}"));
    let mut contents = BTreeMap::new();
    let mut previous: Option<(&[u8], &[u8])> = None;
    let mut lasts = Vec::new();
    for entry in db.iter(rtxn)? {
        let (key, value) = entry?;
        match previous {
            Some(pair) if pair >= (key, value) => return Err(corrupted("pairs out of order")),
            Some((last_key, _)) if last_key == key => {
                *lasts.last_mut().expect("the key's first pair") = (key, value);
            }
            _ => {
                if db.get(rtxn, key)? != Some(value) {
                    return Err(corrupted("a get misses a key's first value"));
                }
                lasts.push((key, value));
            }
        }
        previous = Some((key, value));
        contents.insert(pair_entry(key, value), Vec::new());
    }
    let backward: Vec<(&[u8], &[u8])> = db
        .rev_iter(rtxn)?
        .move_between_keys()
        .collect::<crate::Result<_>>()?;
    if !backward.iter().eq(lasts.iter().rev()) {
        return Err(corrupted(
            "a backward walk by key misses a key's last value",
        ));
    }
    Ok(contents)
}

impl CaseOrder {
    /// Compares two keys in this order.
    pub fn compare(self, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        match self {
            CaseOrder::Bytes | CaseOrder::Pairs => a.cmp(b),
            CaseOrder::Custom => ByLengthThenDescending::compare(a, b),
            CaseOrder::Reverse => a.iter().rev().cmp(b.iter().rev()),
        }
    }
}

/// What `env`, reopened after `crash` (words for messages), holds, once the checker found
/// nothing wrong with it.
pub fn checked_contents(env: &Env, crash: &str) -> Result<Model, String> {
    let report = check_with_orders(env).map_err(|e| format!("after {crash}: {e}"))?;
    if !report.is_ok() {
        return Err(format!(
            "after {crash} the checker found problems:\n{report}"
        ));
    }
    read_model(env).map_err(|e| format!("after {crash} reading failed: {e}"))
}

/// Runs `case`, crashing at operation `crash_at` (or not at all), reboots, and checks: the
/// file opens, the checker passes, the data equals the model after a commit no older than the
/// last one that returned (one older under `NO_META_SYNC`) or the one in flight, and the
/// environment takes a new commit. The disk's sectors are as large as the case's pages, so a
/// torn page write damages no other page. Returns what went wrong, in words.
pub fn run_crash_case(case: &CrashCase<'_>, crash_at: Option<u64>) -> Result<(), String> {
    let rebooted = reboot(case, crash_at, case.page_size)?;
    let crash = &rebooted.crash;
    let env = rebooted
        .env
        .map_err(|e| format!("after {crash} the file does not open: {e}"))?;
    let found = checked_contents(&env, crash)?;
    if !rebooted.acceptable.contains(&found) {
        return Err(format!(
            "after {crash} the data matches no acceptable commit ({} had returned)",
            rebooted.returned
        ));
    }
    commit_after(&env, crash)
}

/// What a reboot on a disk whose sectors are larger than the pages found, when it kept the
/// weaker promise of [`run_crash_case_on_sectors`].
#[derive(Debug)]
pub enum WeakOutcome {
    /// The file did not open: this typed error said why.
    Refused(crate::Error),
    /// The file opened, and the checker or a read reported damage (never a wrong value
    /// silently).
    Damaged(String),
    /// The file opened at an acceptable commit, passed the checker and took a new commit.
    Acceptable,
    /// The file opened at the commit before the oldest acceptable one and passed the checker:
    /// the last returned commit was lost (its meta destroyed by a torn write of a page that
    /// shares its sector).
    Previous,
}

/// Runs `case` on a disk with `sector_size`-byte physical sectors (larger than the pages: a
/// torn write may damage the other pages of its sectors, a meta write the other meta), and
/// checks the weaker promise that holds there: never a wrong value silently. The file is
/// refused with a typed error, or the checker or a read reports the damage, or it opens at an
/// acceptable commit that passes the checker and takes a new commit.
pub fn run_crash_case_on_sectors(
    case: &CrashCase<'_>,
    crash_at: Option<u64>,
    sector_size: usize,
) -> Result<WeakOutcome, String> {
    let rebooted = reboot(case, crash_at, sector_size)?;
    let crash = &rebooted.crash;
    let env = match rebooted.env {
        Ok(env) => env,
        Err(crate::Error::Io(error)) => {
            return Err(format!(
                "after {crash} opening failed with an I/O error: {error}"
            ))
        }
        Err(error) => return Ok(WeakOutcome::Refused(error)),
    };
    match check_with_orders(&env) {
        Err(error) => return Ok(WeakOutcome::Damaged(error)),
        Ok(report) if !report.is_ok() => return Ok(WeakOutcome::Damaged(report.to_string())),
        Ok(_) => {}
    }
    let found = match read_model(&env) {
        Ok(found) => found,
        Err(crate::Error::Io(error)) => {
            return Err(format!(
                "after {crash} reading failed with an I/O error: {error}"
            ))
        }
        Err(error) => return Ok(WeakOutcome::Damaged(format!("reading failed: {error}"))),
    };
    if !rebooted.acceptable.contains(&found) {
        if rebooted.previous.as_ref() == Some(&found) {
            return Ok(WeakOutcome::Previous);
        }
        return Err(format!(
            "after {crash} the checker passed but the data matches no acceptable commit \
             ({} had returned): a wrong value, silently",
            rebooted.returned
        ));
    }
    commit_after(&env, crash)?;
    Ok(WeakOutcome::Acceptable)
}

/// What a reboot after a crash finds.
struct Rebooted {
    /// The environment opened on the image, or why not.
    env: crate::Result<Env>,
    /// The model states the data may equal.
    acceptable: Vec<Model>,
    /// The state before the oldest acceptable one, if any.
    previous: Option<Model>,
    /// How many commits had returned.
    returned: usize,
    /// The crash, in words.
    crash: String,
    /// Holds the image's directory.
    _dir: TempDir,
}

/// Runs `case` on a disk with `sector_size`-byte sectors, crashing at operation `crash_at`
/// (or not at all), and opens the image a reboot finds.
fn reboot(
    case: &CrashCase<'_>,
    crash_at: Option<u64>,
    sector_size: usize,
) -> Result<Rebooted, String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let fault = crash_at.map_or(Fault::Never, Fault::CrashAt);
    let execution = execute(dir.path(), case, fault, sector_size)?;
    if crash_at.is_some() && !execution.disk.crashed() {
        return Err(format!("the disk did not crash at operation {crash_at:?}"));
    }
    let crash = format!(
        "the crash at operation {crash_at:?} ({})",
        execution.disk.in_flight()
    );
    let image = match (crash_at, case.kind) {
        (None, _) | (_, CrashKind::ProcessCrash) => {
            execution.disk.image_after_process_crash(case.seed)
        }
        (Some(_), CrashKind::PowerLoss) => execution.disk.image_after_power_loss(case.seed),
    };
    let rebooted = TempDir::new().map_err(|e| e.to_string())?;
    std::fs::write(rebooted.path().join(crate::env::DATA_FILE_NAME), &image)
        .map_err(|e| e.to_string())?;
    // SAFETY: the directory is private to this case.
    let env = unsafe { options(case).open(rebooted.path()) };
    let returned = execution.states.len() - 1;
    let oldest = if crash_at.is_none() {
        returned
    } else if case.flags.contains(EnvFlags::NO_META_SYNC) {
        returned.saturating_sub(1)
    } else {
        returned
    };
    let previous = oldest
        .checked_sub(1)
        .map(|previous| execution.states[previous].clone());
    let mut acceptable = execution.states[oldest..].to_vec();
    acceptable.extend(execution.in_flight);
    Ok(Rebooted {
        env,
        acceptable,
        previous,
        returned,
        crash,
        _dir: rebooted,
    })
}

/// Checks that the environment takes a new commit after the crash and stays sound.
fn commit_after(env: &Env, crash: &str) -> Result<(), String> {
    let mut wtxn = env.write_txn().map_err(|e| format!("after {crash}: {e}"))?;
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("after"))
        .map_err(|e| e.to_string())?;
    db.put(&mut wtxn, b"after the crash", b"ok")
        .map_err(|e| e.to_string())?;
    wtxn.commit()
        .map_err(|e| format!("after {crash} a new commit failed: {e}"))?;
    let report = check_with_orders(env).map_err(|e| format!("after {crash}: {e}"))?;
    if !report.is_ok() {
        return Err(format!(
            "after {crash} and a new commit the checker found problems:\n{report}"
        ));
    }
    Ok(())
}
