//! Crashes during recovery, during creation, and with the lock file a power loss leaves.
//!
//! Each case creates an environment and runs transactions on a simulated disk that loses
//! power at a chosen operation (in the creation of the data file, or in a commit); the reboot
//! image, with the lock file of the crashed run as the power loss left it, is opened on a
//! second simulated disk that loses power at an operation of that open (which creates the
//! file again if nothing was ever created) or of the first one or two commits after it; the
//! image of that is opened once more. It must open, pass the checker, hold a state acceptable
//! after the first crash or after a commit of the second run that returned (or the one in
//! flight), and take a new commit. The runner is
//! `arbordb::testing::recovery::run_recovery_case`.
//!
//! Every case prints its seed on failure; replay one with
//! `ARBORDB_CRASH_SEED=<seed> cargo test --test crash_recovery <test name>`, run more with
//! `ARBORDB_CRASH_CASES=<count>`.

mod common;

use std::fs;
use std::path::Path;

use arbordb::testing::crash::{case_seeds, Op, DATABASE_NAMES};
use arbordb::testing::recovery::{
    operation_marks, run_recovery_case, run_recovery_from_image, LockFate, RecoveryCase,
    RecoveryOutcome,
};
use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{EnvFlags, EnvOpenOptions, Error, DATA_FILE_NAME, LOCK_FILE_NAME};
use common::Rng;

/// Transactions of one to three small changes (most commit with one sync), now and then a
/// value long enough for an overflow page.
fn small_transactions(rng: &mut Rng, count: u64) -> Vec<Vec<Op>> {
    (0..count)
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| {
                    let db = rng.below(DATABASE_NAMES.len() as u64) as usize;
                    let key = format!("key{:03}", rng.below(200)).into_bytes();
                    match rng.below(12) {
                        0 => Op::Delete { db, key },
                        1 => Op::Put {
                            db,
                            key,
                            value: rng.bytes(700),
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

/// Where the first crash falls.
#[derive(Clone, Copy)]
enum FirstCrash {
    /// At an operation of the creation, of the last transaction, or anywhere, by seed.
    Mixed,
    /// At this operation of the creation.
    InCreation(u64),
}

/// One seeded case.
fn recovery_case(seed: u64, flags: EnvFlags, first: FirstCrash) -> Result<RecoveryOutcome, String> {
    let mut rng = Rng(seed);
    let count = 1 + rng.below(7);
    let before = small_transactions(&mut rng, count);
    let count = 1 + rng.below(2);
    let after = small_transactions(&mut rng, count);
    let case = RecoveryCase {
        before: &before,
        after: &after,
        flags,
        page_size: if seed % 3 == 0 { 4096 } else { 512 },
        seed,
    };
    let marks = operation_marks(&case)?;
    let creation = marks[0];
    let first_crash_at = match first {
        FirstCrash::InCreation(at) => at.min(creation),
        FirstCrash::Mixed => {
            let before_last = marks[marks.len() - 2];
            let total = marks[marks.len() - 1];
            match rng.below(5) {
                0 => 1 + rng.below(creation),
                // The meta write or the sync of the last commit: a one-sync commit cut short
                // may leave a whole meta whose pages are not.
                1 => total - rng.below(2),
                2 => before_last + 1 + rng.below(total - before_last),
                _ => 1 + rng.below(total),
            }
        }
    };
    run_recovery_case(&case, first_crash_at)
        .map_err(|error| format!("{error} (first crash at operation {first_crash_at})"))
}

fn run_cases(
    default_cases: u64,
    salt: u64,
    flags: EnvFlags,
    first: FirstCrash,
) -> Vec<RecoveryOutcome> {
    case_seeds(default_cases, salt)
        .into_iter()
        .map(|seed| {
            recovery_case(seed, flags, first).unwrap_or_else(|error| {
                panic!("seed {seed}: {error}\nreplay with ARBORDB_CRASH_SEED={seed}")
            })
        })
        .collect()
}

/// Whether the cases were many enough for their coverage to be checked (not a replay).
fn many(outcomes: &[RecoveryOutcome]) -> bool {
    outcomes.len() >= 500
}

#[test]
fn power_loss_during_recovery_and_the_commits_after_it_keeps_a_returned_commit() {
    let outcomes = run_cases(1200, 1, EnvFlags::empty(), FirstCrash::Mixed);
    if !many(&outcomes) {
        return;
    }
    // The cases are what the test says they are: at least `percent` % of them are `what`.
    let at_least = |percent: usize, what: &str, test: &dyn Fn(&RecoveryOutcome) -> bool| {
        let count = outcomes.iter().filter(|o| test(o)).count();
        assert!(
            count * 100 >= percent * outcomes.len(),
            "{count} of {} cases {what}",
            outcomes.len()
        );
    };
    at_least(
        1,
        "crashed in a first commit writing over a meta open passed over",
        &|o| {
            o.passed_over_commit_cut_short
                && o.first_commit_writes_passed_over_slot
                && o.second_crash_in_transaction == Some(1)
        },
    );
    at_least(2, "passed over a commit cut short", &|o| {
        o.passed_over_commit_cut_short
    });
    at_least(30, "crashed in the first commit after the reboot", &|o| {
        o.second_crash_in_transaction == Some(1)
    });
    at_least(5, "crashed in the second commit after the reboot", &|o| {
        o.second_crash_in_transaction == Some(2)
    });
    at_least(5, "crashed in creation", &|o| o.first_crash_in_creation);
    at_least(2, "crashed creating the file again", &|o| {
        o.created_again && o.second_crash_in_open
    });
    for fate in [
        LockFate::AsItWas,
        LockFate::Missing,
        LockFate::CutShort,
        LockFate::Zeroed,
        LockFate::Garbage,
        LockFate::NamingNewerCommits,
    ] {
        at_least(8, &format!("left a {fate:?} lock file"), &|o| {
            o.lock_fates[0] == fate
        });
        at_least(
            8,
            &format!("left a {fate:?} lock file at the second reboot"),
            &|o| o.lock_fates[1] == fate,
        );
    }
}

#[test]
fn power_loss_during_recovery_with_no_meta_sync_loses_at_most_one_commit() {
    run_cases(300, 2, EnvFlags::NO_META_SYNC, FirstCrash::Mixed);
}

#[test]
fn power_loss_at_every_step_of_creation_leaves_a_file_that_opens_or_is_created_again() {
    let creation = operation_marks(&RecoveryCase {
        before: &[],
        after: &[],
        flags: EnvFlags::empty(),
        page_size: 512,
        seed: 0,
    })
    .unwrap()[0];
    // The write of both metas, the file's sync, the directory's sync.
    assert_eq!(creation, 3);
    for at in 1..=creation {
        let outcomes = run_cases(150, 3 + at, EnvFlags::empty(), FirstCrash::InCreation(at));
        if many(&outcomes) || outcomes.len() >= 100 {
            assert!(outcomes.iter().all(|o| o.first_crash_in_creation));
            // Before the directory sync returned, a reboot may find no file; after the file's
            // sync, a whole one that opens.
            let created_again = outcomes.iter().filter(|o| o.created_again).count();
            if at <= 2 {
                assert!(created_again > 0, "step {at}");
            }
        }
    }
}

/// A new data file with pages of `page_size` bytes, as creation writes it.
fn new_file_of(page_size: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut options = EnvOpenOptions::new();
    options.page_size(page_size).map_size(1 << 24);
    drop(unsafe { options.open(dir.path()) }.unwrap());
    fs::read(dir.path().join(DATA_FILE_NAME)).unwrap()
}

#[test]
fn power_loss_in_the_first_commits_after_a_creation_cut_short_keeps_a_valid_meta() {
    const PAGE: usize = 512;
    let whole = new_file_of(PAGE);
    // The 64-byte piece of each slot that holds its checksum (offset 148).
    let checksum_piece = |slot: usize| slot * PAGE + 128..slot * PAGE + 192;
    let outcomes: Vec<RecoveryOutcome> = case_seeds(300, 9)
        .into_iter()
        .map(|seed| {
            let mut rng = Rng(seed);
            let mut image = whole.clone();
            let what = match seed / 1000 % 4 {
                0 | 1 => {
                    // Slot 1 whole beside a torn slot 0 (or the other way round): one whole
                    // meta of transaction 0, in the slot the first commit writes (or not).
                    let torn = (seed / 1000 % 2) as usize;
                    image[checksum_piece(torn)].fill(0);
                    "one slot torn"
                }
                2 => {
                    for piece in image.chunks_mut(64) {
                        if rng.below(2) == 0 {
                            piece.fill(0);
                        }
                    }
                    "pieces lost at random"
                }
                _ => {
                    image.fill(0);
                    "zeros"
                }
            };
            let count = 1 + rng.below(2);
            let after = small_transactions(&mut rng, count);
            let case = RecoveryCase {
                before: &[],
                after: &after,
                flags: EnvFlags::empty(),
                page_size: PAGE,
                seed,
            };
            let empty = vec![Default::default(); DATABASE_NAMES.len()];
            run_recovery_from_image(&case, Some(&image), &[empty]).unwrap_or_else(|error| {
                panic!("seed {seed} ({what}): {error}\nreplay with ARBORDB_CRASH_SEED={seed}")
            })
        })
        .collect();
    if outcomes.len() >= 100 {
        // (Pieces lost at random are sometimes only zeros already.)
        let created_again = outcomes.iter().filter(|o| o.created_again).count();
        assert!(created_again * 10 >= outcomes.len() * 7, "{created_again}");
        let in_first_commit = outcomes
            .iter()
            .filter(|o| o.second_crash_in_transaction == Some(1))
            .count();
        assert!(in_first_commit * 3 >= outcomes.len(), "{in_first_commit}");
    }
}

// Deterministic cases of what a creation cut short and a reboot leave.

const PAGE: usize = 4096;

fn open_in(dir: &Path, flags: EnvFlags) -> arbordb::Result<arbordb::Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(1 << 24).page_size(PAGE);
    unsafe {
        options.flags(flags);
        options.open(dir)
    }
}

/// The bytes of a new data file: an environment created and never written.
fn new_file() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    drop(open_in(dir.path(), EnvFlags::empty()).unwrap());
    fs::read(dir.path().join(DATA_FILE_NAME)).unwrap()
}

/// Puts `bytes` as the data file of a fresh directory.
fn directory_with(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(DATA_FILE_NAME), bytes).unwrap();
    dir
}

#[test]
fn a_creation_cut_short_is_created_again_and_a_foreign_file_is_not() {
    let whole = new_file();
    assert_eq!(whole.len(), 2 * PAGE);
    // Torn in 64-byte pieces: slot 0 lost its checksum's piece, slot 1 its first piece.
    let mut torn = whole.clone();
    torn[128..192].fill(0);
    torn[PAGE..PAGE + 64].fill(0);
    // Slot 1 whole beside a torn slot 0: the first commit would overwrite the only valid meta.
    let mut slot_one_whole = whole.clone();
    slot_one_whole[128..192].fill(0);
    let mut slot_zero_lost = whole.clone();
    slot_zero_lost[..PAGE].fill(0);
    slot_zero_lost[PAGE + 40..].fill(0);
    let cut_short: [(&str, Vec<u8>); 7] = [
        ("slot 1 whole beside a torn slot 0", slot_one_whole),
        ("an empty file", Vec::new()),
        ("zeros", vec![0; 2 * PAGE]),
        ("one page of zeros", vec![0; PAGE]),
        ("torn metas", torn),
        ("both metas torn differently", slot_zero_lost),
        ("the first sector", whole[..512].to_vec()),
    ];
    for (what, bytes) in &cut_short {
        // Read-only, it cannot be created: refused, and left as it is.
        let dir = directory_with(bytes);
        let result = open_in(dir.path(), EnvFlags::READ_ONLY).map(drop);
        assert!(
            matches!(result, Err(Error::Mdb(MdbError::NotAnArbordbFile { .. }))),
            "{what}: {result:?}"
        );
        assert_eq!(
            &fs::read(dir.path().join(DATA_FILE_NAME)).unwrap(),
            bytes,
            "{what}"
        );
        // Writable, it is created afresh.
        let env = open_in(dir.path(), EnvFlags::empty()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(env.info().last_txn_id, 0, "{what}");
        common::assert_sound(&env);
        let mut wtxn = env.write_txn().unwrap();
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        db.put(&mut wtxn, b"key", b"value").unwrap();
        wtxn.commit().unwrap();
        drop(env);
        let env = open_in(dir.path(), EnvFlags::empty()).unwrap();
        let rtxn = env.read_txn().unwrap();
        let db = env
            .open_database::<Bytes, Bytes>(&rtxn, None)
            .unwrap()
            .unwrap();
        assert_eq!(
            db.get(&rtxn, b"key").unwrap(),
            Some(&b"value"[..]),
            "{what}"
        );
    }
    // The same with the data file named by the caller.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    fs::write(&file, vec![0u8; 2 * PAGE]).unwrap();
    drop(open_in(&file, EnvFlags::NO_SUB_DIR).unwrap());
    assert_eq!(fs::read(&file).unwrap(), whole);

    // A byte creation never writes makes a file foreign, refused and left as it is.
    let mut foreign = vec![0u8; 2 * PAGE];
    foreign[PAGE + 2000] = 1;
    let mut foreign_in_meta = whole.clone();
    foreign_in_meta[..64].fill(0);
    foreign_in_meta[PAGE..PAGE + 64].fill(0);
    foreign_in_meta[30] = 0x5a ^ whole[30] | 1;
    let mut cut_mid_sector = whole[..100].to_vec();
    cut_mid_sector[..8].fill(0);
    for (what, bytes) in [
        ("one stray byte among zeros", foreign),
        ("a stray byte in a torn meta", foreign_in_meta),
        ("zeros past the largest pages", vec![0u8; 2 * 65536 + 512]),
        ("a file cut inside a sector", cut_mid_sector),
    ] {
        for flags in [EnvFlags::empty(), EnvFlags::READ_ONLY] {
            let dir = directory_with(&bytes);
            let error = open_in(dir.path(), flags).map(drop).unwrap_err();
            assert!(
                matches!(error, Error::Mdb(MdbError::NotAnArbordbFile { .. })),
                "{what}: {error:?}"
            );
            assert_eq!(
                fs::read(dir.path().join(DATA_FILE_NAME)).unwrap(),
                bytes,
                "{what}"
            );
        }
    }
}

#[test]
fn a_lock_file_left_by_a_crash_is_reset_by_the_first_opener() {
    // An environment with two commits, closed.
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open_in(dir.path(), EnvFlags::empty()).unwrap();
        for value in [&b"one"[..], b"two"] {
            let mut wtxn = env.write_txn().unwrap();
            let db = env
                .create_database::<Bytes, Bytes>(&mut wtxn, None)
                .unwrap();
            db.put(&mut wtxn, b"key", value).unwrap();
            wtxn.commit().unwrap();
        }
    }
    let data_path = dir.path().join(DATA_FILE_NAME);
    let at_commit_two = fs::read(&data_path).unwrap();
    let lock_path = dir.path().join(LOCK_FILE_NAME);
    let left_over = fs::read(&lock_path).unwrap();
    // A lock file naming commit 1000 (the data file holds 2) and a reader that runs (this
    // process) at snapshot 1, as a crashed run could leave it; then other leftovers.
    let mut newer = left_over.clone();
    newer[3 * 8..4 * 8].copy_from_slice(&1000u64.to_le_bytes());
    newer[4 * 8..5 * 8].copy_from_slice(&999u64.to_le_bytes());
    newer[8 * 8..9 * 8].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
    newer[10 * 8..11 * 8].copy_from_slice(&2u64.to_le_bytes());
    for (what, bytes) in [
        ("naming newer commits", newer),
        ("zeros", vec![0; left_over.len()]),
        ("cut short", left_over[..20].to_vec()),
        ("garbage", vec![0xa5; 3 * left_over.len() + 7]),
        ("empty", Vec::new()),
    ] {
        fs::write(&data_path, &at_commit_two).unwrap();
        fs::write(&lock_path, &bytes).unwrap();
        let env = open_in(dir.path(), EnvFlags::empty()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(env.info().last_txn_id, 2, "{what}");
        assert_eq!(env.info().number_of_readers, 0, "{what}");
        let rtxn = env.read_txn().unwrap();
        let db = env
            .open_database::<Bytes, Bytes>(&rtxn, None)
            .unwrap()
            .unwrap();
        assert_eq!(db.get(&rtxn, b"key").unwrap(), Some(&b"two"[..]), "{what}");
        drop(rtxn);
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"key", b"three").unwrap();
        wtxn.commit().unwrap();
        assert_eq!(env.info().last_txn_id, 3, "{what}");
        common::assert_sound(&env);
    }
}
