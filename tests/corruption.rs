//! Damaged files are reported, never misread: random bytes of a valid environment are changed,
//! and the result is opened, checked, read in full against what was committed, and written to.
//!
//! The contract each damaged file must keep (a violation fails the case, naming its seed):
//! - open either fails with a typed error or opens at one of the file's two commits; opening
//!   at the older one happens only when damage reached the newer commit, and then the
//!   checker warns about the meta it passed over;
//! - damage to a byte the chosen commit reaches (its meta, or a page of its trees, the
//!   catalog, its overflow runs, its freelist chain or free segments, as mapped on the clean
//!   file by `arbordb::testing::page_roles`) makes the checker report a problem: every such
//!   page is covered whole by its checksum. Damage to the other meta gives at least a warning;
//!   damage to a free page, past the page count or past the encoded meta goes unreported
//!   (and is no problem: the checker reports one only for damage the chosen commit reaches);
//! - every get, `len`, both full iterations and a range of every database return committed
//!   keys, in order, with their committed values, or stop with a typed error. Without
//!   `verify_checksums_on_read` a read may return damaged bytes (reads skip the checksum),
//!   or miss a key, only when the checker reports a problem; with it, never;
//! - after a successful commit on top of the damage the same holds for the new contents.
//!
//! 10,000 seeded mutations run in every `cargo test` (7,000 bit flips in a file of 512-byte
//! pages, 3,000 overwritten byte runs in a file of 4096-byte pages; one flip in 16 and one run
//! in 8 aimed at a meta; each kind split between reads with and without checksum
//! verification, on different seeds); a watchdog turns a hang into a failure that names the
//! seed. A failure prints the seed: rerun with
//! `ARBORDB_CORRUPTION_SEED=<seed> cargo test --test corruption <test>`; run more cases with
//! `ARBORDB_CORRUPTION_CASES=<count>`.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbordb::testing::fuzz::assert_reads_agree;
use arbordb::testing::page_roles::{commit_reach, reseal_page, CommitReach, PageRole};
use arbordb::types::Bytes;
use arbordb::{Env, EnvOpenOptions, Result, RoTxn};
use common::Rng;

const NAMES: [Option<&str>; 3] = [None, Some("one"), Some("two")];
/// Every key the file ever held is one of these.
const KEY_COUNT: u32 = 400;

fn key(n: u32) -> Vec<u8> {
    format!("key{n:04}").into_bytes()
}

/// The contents of every database (by index in [`NAMES`]).
type Contents = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// A valid file and what each of its commits holds and reaches.
struct Pristine {
    bytes: Vec<u8>,
    /// The contents after commit 1 and after commit 2 (index: txn id - 1).
    contents: [Contents; 2],
    /// The reach of the meta in each slot (commit 2 in slot 0, commit 1 in slot 1).
    reach: [CommitReach; 2],
}

impl Pristine {
    fn reach_of(&self, txn_id: u64) -> &CommitReach {
        self.reach
            .iter()
            .find(|reach| reach.txn_id == txn_id)
            .expect("a commit of the file")
    }
}

fn build(page_size: usize) -> Pristine {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .page_size(page_size)
            .open(dir.path())
            .unwrap()
    };
    let mut contents: Contents = vec![BTreeMap::new(); NAMES.len()];
    let mut wtxn = env.write_txn().unwrap();
    let mut rng = Rng(5);
    for (index, name) in NAMES.into_iter().enumerate() {
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, name)
            .unwrap();
        for n in 0..KEY_COUNT {
            let len = if n % 50 == 0 {
                1500
            } else {
                rng.below(40) as usize
            };
            let value = rng.bytes(len);
            db.put(&mut wtxn, &key(n), &value).unwrap();
            contents[index].insert(key(n), value);
        }
    }
    wtxn.commit().unwrap();
    let after_first = contents.clone();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in (0..KEY_COUNT).step_by(3) {
        db.delete(&mut wtxn, &key(n)).unwrap();
        contents[0].remove(&key(n));
    }
    wtxn.commit().unwrap();
    common::assert_sound(&env);
    drop(env);
    let bytes = std::fs::read(dir.path().join("data.arbordb")).unwrap();
    let [Some(newer), Some(older)] = commit_reach(&bytes, page_size).unwrap() else {
        panic!("both slots of the clean file hold a valid meta");
    };
    assert_eq!((newer.txn_id, older.txn_id), (2, 1));
    Pristine {
        bytes,
        contents: [after_first, contents],
        reach: [newer, older],
    }
}

/// How one damaged file behaved.
#[derive(Default, Debug)]
struct Tally {
    open_failed: usize,
    older_commit: usize,
    reported: usize,
    sound: usize,
    significant_damage: usize,
    /// Reads that returned damaged bytes or missed a key (allowed without verification when
    /// the checker reports a problem).
    misreads_reported: usize,
    /// Reads, walks or writes that stopped with a typed error.
    typed_errors: usize,
    /// Cases whose writes on top of the damage committed.
    committed: usize,
}

/// Runs everything a user might do with the damaged file in `dir` and checks the contract
/// (module docs); `damaged` lists the file offsets whose bytes differ from the clean file.
fn exercise(dir: &Path, pristine: &Pristine, damaged: &[usize], verify: bool, tally: &mut Tally) {
    let env = match unsafe {
        EnvOpenOptions::new()
            .verify_checksums_on_read(verify)
            .open(dir)
    } {
        Ok(env) => env,
        Err(_) => {
            tally.open_failed += 1;
            return;
        }
    };
    let chosen = env.info().last_txn_id as u64;
    assert!(
        chosen == 1 || chosen == 2,
        "opened at txn {chosen}, which the file never held"
    );
    let reach = pristine.reach_of(chosen);
    let report = env.check();
    let reported = report.as_ref().map_or(true, |report| !report.is_ok());
    let warned = report.as_ref().map_or(true, |report| {
        !report.is_ok() || !report.warnings.is_empty()
    });
    if chosen == 1 {
        tally.older_commit += 1;
        let newer = pristine.reach_of(2);
        assert!(
            damaged.iter().any(|&at| newer.role_of_byte(at).is_some()),
            "opened at the older commit though no byte of the newer one is damaged"
        );
        assert!(
            warned,
            "opened at the older commit and the checker says nothing"
        );
    }
    if let Some(&at) = damaged.iter().find(|&&at| reach.role_of_byte(at).is_some()) {
        tally.significant_damage += 1;
        assert!(
            reported,
            "byte {at} (page {}, {:?}) of txn {chosen} is damaged and the checker reports no problem: {report:?}",
            at / env.page_size(),
            reach.role_of_byte(at).unwrap().map_or("the meta".to_string(), |role| format!("{role:?}"))
        );
    } else {
        // Nor does it cry wolf: damage to free pages or unused bytes is no problem.
        assert!(
            !reported,
            "no byte txn {chosen} reaches is damaged, yet the checker reports {report:?}"
        );
    }
    let other = pristine.reach_of(3 - chosen);
    if let Some(&at) = damaged
        .iter()
        .find(|&&at| at / env.page_size() == other.slot && other.role_of_byte(at).is_some())
    {
        assert!(
            warned,
            "byte {at} of the meta of txn {} is damaged and the checker does not warn",
            3 - chosen
        );
    }
    if reported {
        tally.reported += 1;
    } else {
        tally.sound += 1;
    }
    let mut contents = pristine.contents[chosen as usize - 1].clone();
    let checked = Checked {
        verify,
        reported,
        phase: "as opened",
    };
    if checked.reads(&env, &contents, tally).is_err() {
        tally.typed_errors += 1;
    }

    // Writes on top of the damage; on a successful commit the contract holds for the result.
    // A delete's answer (whether the key was there) is a read too.
    let mut written = || -> Result<()> {
        let mut wtxn = env.write_txn()?;
        for (index, name) in NAMES.into_iter().enumerate() {
            let db = env.create_database::<Bytes, Bytes>(&mut wtxn, name)?;
            for n in 0..60u32 {
                let key = key(n * 7 % KEY_COUNT);
                if n % 2 == 0 {
                    if db.put(&mut wtxn, &key, &[9u8; 30]).is_ok() {
                        contents[index].insert(key, vec![9u8; 30]);
                    }
                } else if let Ok(found) = db.delete(&mut wtxn, &key) {
                    if found != contents[index].contains_key(&key) {
                        checked.misread(
                            format!(
                                "{name:?}: deleting {:?} finds it {found}",
                                String::from_utf8_lossy(&key)
                            ),
                            tally,
                        );
                    }
                    if found {
                        contents[index].remove(&key);
                    }
                }
            }
        }
        wtxn.commit()
    };
    if written().is_err() {
        tally.typed_errors += 1;
        return;
    }
    tally.committed += 1;
    let reported = env.check().map_or(true, |report| !report.is_ok());
    let checked = Checked {
        verify,
        reported,
        phase: "after a commit on top",
    };
    if checked.reads(&env, &contents, tally).is_err() {
        tally.typed_errors += 1;
    }
}

/// A walk over a database.
#[derive(Debug, Clone, Copy)]
enum Walk {
    Forward,
    Backward,
    /// Forward from the key with this number.
    RangeFrom(u32),
}

/// The rules for reads of one snapshot.
struct Checked {
    verify: bool,
    /// Whether the checker reported a problem (or failed with an error).
    reported: bool,
    /// Which snapshot is read, for messages.
    phase: &'static str,
}

impl Checked {
    /// A read returned bytes that were never committed there.
    fn misread(&self, what: String, tally: &mut Tally) {
        let phase = self.phase;
        assert!(!self.verify, "{phase}, with checksum verification, {what}");
        assert!(
            self.reported,
            "{phase}, {what}, and the checker calls the file sound"
        );
        tally.misreads_reported += 1;
    }

    /// Reads every database in full (gets of every key ever written, `len`, both iterations,
    /// a range) and compares with `contents`.
    fn reads(&self, env: &Env, contents: &Contents, tally: &mut Tally) -> Result<()> {
        let rtxn = env.read_txn()?;
        for (index, name) in NAMES.into_iter().enumerate() {
            let committed = &contents[index];
            let db = match env.open_database::<Bytes, Bytes>(&rtxn, name) {
                Ok(Some(db)) => db,
                Ok(None) => {
                    self.misread(format!("database {name:?} is missing"), tally);
                    continue;
                }
                Err(_) => {
                    tally.typed_errors += 1;
                    continue;
                }
            };
            for n in 0..KEY_COUNT {
                let key = key(n);
                match db.get(&rtxn, &key) {
                    Ok(found) if found == committed.get(&key).map(Vec::as_slice) => {}
                    Ok(found) => self.misread(
                        format!(
                            "{name:?}: get {:?} returns {:?}, committed {:?}",
                            String::from_utf8_lossy(&key),
                            found.map(<[u8]>::len),
                            committed.get(&key).map(Vec::len)
                        ),
                        tally,
                    ),
                    Err(_) => tally.typed_errors += 1,
                }
            }
            match db.len(&rtxn) {
                Ok(len) if len == committed.len() as u64 => {}
                Ok(len) => self.misread(
                    format!("{name:?}: len {len}, committed {}", committed.len()),
                    tally,
                ),
                Err(_) => tally.typed_errors += 1,
            }
            for walk in [
                Walk::Forward,
                Walk::Backward,
                Walk::RangeFrom(KEY_COUNT / 2),
            ] {
                self.iteration(&rtxn, db, name, committed, walk, tally);
            }
        }
        Ok(())
    }

    fn iteration(
        &self,
        rtxn: &RoTxn<'_>,
        db: arbordb::Database<Bytes, Bytes>,
        name: Option<&str>,
        committed: &BTreeMap<Vec<u8>, Vec<u8>>,
        walk: Walk,
        tally: &mut Tally,
    ) {
        let from = match walk {
            Walk::RangeFrom(n) => key(n),
            Walk::Forward | Walk::Backward => Vec::new(),
        };
        let committed: BTreeMap<Vec<u8>, Vec<u8>> = committed
            .range(from.clone()..)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let committed = &committed;
        let backward = matches!(walk, Walk::Backward);
        let entries = match walk {
            Walk::Forward => db
                .iter(rtxn)
                .map(|iter| Box::new(iter) as Box<dyn Iterator<Item = _>>),
            Walk::Backward => db
                .rev_iter(rtxn)
                .map(|iter| Box::new(iter) as Box<dyn Iterator<Item = _>>),
            Walk::RangeFrom(_) => db
                .range(rtxn, &(Bound::Included(&from[..]), Bound::Unbounded))
                .map(|iter| Box::new(iter) as Box<dyn Iterator<Item = _>>),
        };
        let Ok(entries) = entries else {
            tally.typed_errors += 1;
            return;
        };
        let direction = format!("{walk:?}");
        let mut previous: Option<Vec<u8>> = None;
        let mut seen = 0usize;
        for (step, entry) in entries.enumerate() {
            let (key, value): (&[u8], &[u8]) = match entry {
                Ok(entry) => entry,
                Err(_) => {
                    tally.typed_errors += 1;
                    return;
                }
            };
            if step > 2 * KEY_COUNT as usize {
                self.misread(
                    format!("{name:?}: {direction} iteration does not end"),
                    tally,
                );
                return;
            }
            let in_order = previous
                .as_deref()
                .is_none_or(|previous| (previous < key) != backward && previous != key);
            if !in_order {
                self.misread(
                    format!(
                        "{name:?}: {direction} iteration returns {:?} out of order",
                        String::from_utf8_lossy(key)
                    ),
                    tally,
                );
            }
            match committed.get(key) {
                Some(expected) if expected == value => seen += 1,
                expected => self.misread(
                    format!(
                        "{name:?}: {direction} iteration returns {:?} with {} bytes, committed {:?}",
                        String::from_utf8_lossy(key),
                        value.len(),
                        expected.map(Vec::len)
                    ),
                    tally,
                ),
            }
            previous = Some(key.to_vec());
        }
        if seen < committed.len() {
            self.misread(
                format!(
                    "{name:?}: {direction} iteration ends after {seen} of {} committed entries",
                    committed.len()
                ),
                tally,
            );
        }
    }
}

/// Damages copies of a valid file with `damage`, exercises each and checks the contract;
/// a failure names the seed.
fn run_cases(
    page_size: usize,
    default_cases: u64,
    verify: bool,
    damage: impl Fn(&mut Rng, &mut [u8]),
) {
    let pristine = build(page_size);
    let seeds: Vec<u64> = match std::env::var("ARBORDB_CORRUPTION_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => {
            // The two modes take different seeds, so together they try twice the damage.
            let first = if verify { 1 << 20 } else { 0 };
            (first..first + cases(default_cases)).collect()
        }
    };
    let watchdog = Watchdog::start();
    let mut tally = Tally::default();
    for seed in seeds {
        watchdog.working_on(seed);
        let mut rng = Rng(seed);
        let mut bytes = pristine.bytes.clone();
        damage(&mut rng, &mut bytes);
        let damaged: Vec<usize> = (0..bytes.len())
            .filter(|&at| bytes[at] != pristine.bytes[at])
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.arbordb"), &bytes).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            exercise(dir.path(), &pristine, &damaged, verify, &mut tally)
        }));
        if let Err(panic) = outcome {
            panic!(
                "seed {seed}: {}\nrerun with ARBORDB_CORRUPTION_SEED={seed}",
                panic_message(&panic)
            );
        }
    }
    println!("{tally:?}");
}

/// Where damage starts: anywhere in the file, or (one time in `meta_odds`) in the first 256
/// bytes of a meta slot, which are few of the file's bytes but decide where open starts.
fn damage_at(rng: &mut Rng, bytes: &[u8], page_size: usize, meta_odds: u64) -> usize {
    if rng.below(meta_odds) == 0 {
        rng.below(2) as usize * page_size + rng.below(256) as usize
    } else {
        rng.below(bytes.len() as u64) as usize
    }
}

/// Bit flips: 1 to 8 bits of a file of 512-byte pages.
fn flip_bits(rng: &mut Rng, bytes: &mut [u8]) {
    for _ in 0..1 + rng.below(8) {
        let at = damage_at(rng, bytes, 512, 16);
        bytes[at] ^= 1 << rng.below(8);
    }
}

/// 1 to 4 runs of 1 to 32 random bytes written into a file of 4096-byte pages.
fn overwrite_runs(rng: &mut Rng, bytes: &mut [u8]) {
    for _ in 0..1 + rng.below(4) {
        let at = damage_at(rng, bytes, 4096, 8);
        let len = (1 + rng.below(32) as usize).min(bytes.len() - at);
        let noise = rng.bytes(len);
        bytes[at..at + len].copy_from_slice(&noise);
    }
}

#[test]
fn flipped_bits_are_reported_or_refused() {
    run_cases(512, 3500, false, flip_bits);
}

#[test]
fn flipped_bits_never_misread_with_verification() {
    run_cases(512, 3500, true, flip_bits);
}

#[test]
fn overwritten_runs_of_bytes_are_reported_or_refused() {
    run_cases(4096, 1500, false, overwrite_runs);
}

#[test]
fn overwritten_runs_of_bytes_never_misread_with_verification() {
    run_cases(4096, 1500, true, overwrite_runs);
}

/// With `verify_checksums_on_read`, a write transaction's lookups verify the committed pages
/// they read too: a delete of a key whose leaf is damaged fails instead of finding nothing
/// (it answered `Ok(false)` and committed, leaving the key; a put, which copies the leaf,
/// was refused already). Without the option the lookup answers from the bytes on disk, and
/// the checker reports the page.
#[test]
fn a_write_transaction_with_verification_refuses_a_damaged_leaf() {
    let pristine = build(512);
    let mut bytes = pristine.bytes.clone();
    let target = key(124);
    let mut damaged = 0;
    for at in 0..bytes.len() - target.len() {
        if bytes[at..at + target.len()] == target[..] {
            bytes[at + 2] = b'z';
            damaged += 1;
        }
    }
    assert!(damaged >= NAMES.len(), "the key is in every database");
    for verify in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.arbordb"), &bytes).unwrap();
        let env = unsafe {
            EnvOpenOptions::new()
                .verify_checksums_on_read(verify)
                .open(dir.path())
                .unwrap()
        };
        assert!(!env.check().unwrap().is_ok());
        for name in NAMES {
            let mut wtxn = env.write_txn().unwrap();
            let db = env
                .open_database::<Bytes, Bytes>(&wtxn, name)
                .unwrap()
                .unwrap();
            let found = db.get(&wtxn, &target).map(|value| value.is_some());
            let deleted = db.delete(&mut wtxn, &target);
            if verify {
                assert!(
                    matches!(
                        found,
                        Err(arbordb::Error::Mdb(arbordb::MdbError::CorruptedPage { .. }))
                    ),
                    "{name:?}: get in a write transaction: {found:?}"
                );
                assert!(
                    matches!(
                        deleted,
                        Err(arbordb::Error::Mdb(arbordb::MdbError::CorruptedPage { .. }))
                    ),
                    "{name:?}: delete: {deleted:?}"
                );
            } else {
                assert_eq!(
                    found.ok(),
                    Some(false),
                    "{name:?}: the damaged key reads as missing"
                );
                assert_eq!(deleted.ok(), Some(false), "{name:?}: and is not deleted");
            }
        }
    }
}

/// Damage under fresh checksums: bytes of one single-page branch, leaf, freelist chain page or
/// free segment of the newest commit are changed and its checksum is made right again, as a
/// bug writing a wrong page would leave it. The checker can only see what breaks the
/// structure (a changed value or key may be a legitimate one), so the contract is weaker:
/// whenever the checker passes the file, reads with verification succeed and agree with each
/// other ([`arbordb::testing::fuzz::assert_reads_agree`]), before and after a commit on top.
#[test]
fn structural_damage_under_fresh_checksums_is_reported_or_reads_consistently() {
    let page_size = 512;
    let pristine = build(page_size);
    let newest = pristine.reach_of(2);
    let pages: Vec<usize> = (0..newest.roles.len())
        .filter(|&page| {
            matches!(
                newest.roles[page],
                Some(
                    PageRole::Branch
                        | PageRole::Leaf
                        | PageRole::FreelistChain
                        | PageRole::FreeSegment
                )
            )
        })
        .collect();
    let seeds: Vec<u64> = match std::env::var("ARBORDB_CORRUPTION_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => (2 << 20..(2 << 20) + cases(1500)).collect(),
    };
    let watchdog = Watchdog::start();
    let (mut sound, mut reported, mut refused) = (0, 0, 0);
    for seed in seeds {
        watchdog.working_on(seed);
        let mut rng = Rng(seed);
        let mut bytes = pristine.bytes.clone();
        let page = pages[rng.below(pages.len() as u64) as usize];
        let span = &mut bytes[page * page_size..(page + 1) * page_size];
        for _ in 0..1 + rng.below(4) {
            // Mostly the header and slot array, where the structure is.
            let within = if rng.below(2) == 0 {
                60
            } else {
                page_size as u64 - 4
            };
            let at = 4 + rng.below(within) as usize;
            span[at] ^= 1 << rng.below(8);
        }
        reseal_page(span);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.arbordb"), &bytes).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<bool> {
            let env = unsafe {
                EnvOpenOptions::new()
                    .verify_checksums_on_read(true)
                    .open(dir.path())?
            };
            let passes = env.check()?.is_ok();
            if passes {
                let rtxn = env.read_txn()?;
                assert_reads_agree(&env, &rtxn);
            }
            let mut wtxn = env.write_txn()?;
            for name in NAMES {
                let db = env.create_database::<Bytes, Bytes>(&mut wtxn, name)?;
                for n in 0..60u32 {
                    let key = key(n * 7 % KEY_COUNT);
                    if n % 2 == 0 {
                        db.put(&mut wtxn, &key, &[9u8; 30])?;
                    } else {
                        db.delete(&mut wtxn, &key)?;
                    }
                }
            }
            wtxn.commit()?;
            if env.check()?.is_ok() {
                let rtxn = env.read_txn()?;
                assert_reads_agree(&env, &rtxn);
            }
            Ok(passes)
        }));
        match outcome {
            Ok(Ok(true)) => sound += 1,
            Ok(Ok(false)) => reported += 1,
            Ok(Err(_)) => refused += 1,
            Err(panic) => panic!(
                "seed {seed} (page {page}, {:?}): {}\nrerun with ARBORDB_CORRUPTION_SEED={seed}",
                newest.roles[page],
                panic_message(&panic)
            ),
        }
    }
    println!("{sound} passed the checker and read consistently, {reported} reported, {refused} stopped by a typed error");
}

/// The text of a caught panic.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic")
}

/// The number of cases to run: `default`, or `ARBORDB_CORRUPTION_CASES`.
fn cases(default: u64) -> u64 {
    std::env::var("ARBORDB_CORRUPTION_CASES")
        .map_or(default, |cases| cases.parse().expect("a number"))
}

/// Aborts the test process, naming the seed, if one case takes longer than a minute: a hang
/// on bad bytes is a bug, and this turns it into a failure instead of a stuck run.
struct Watchdog {
    /// The seed being worked on, plus one (0: idle), and a count of cases started.
    current: Arc<(AtomicU64, AtomicU64)>,
}

impl Watchdog {
    const CASE_TIME_LIMIT: Duration = Duration::from_secs(60);

    fn start() -> Watchdog {
        let current = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let watched = Arc::downgrade(&current);
        std::thread::spawn(move || loop {
            let Some(state) = watched.upgrade() else {
                return;
            };
            let started = state.1.load(Ordering::SeqCst);
            drop(state);
            std::thread::sleep(Self::CASE_TIME_LIMIT);
            let Some(state) = watched.upgrade() else {
                return;
            };
            let seed = state.0.load(Ordering::SeqCst);
            if seed != 0 && state.1.load(Ordering::SeqCst) == started {
                eprintln!(
                    "seed {} has run for over a minute: a hang (ARBORDB_CORRUPTION_SEED={})",
                    seed - 1,
                    seed - 1
                );
                std::process::abort();
            }
        });
        Watchdog { current }
    }

    fn working_on(&self, seed: u64) {
        self.current.0.store(seed + 1, Ordering::SeqCst);
        self.current.1.fetch_add(1, Ordering::SeqCst);
    }
}
