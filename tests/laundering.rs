//! One changed byte in a committed leaf, branch or overflow page, with its checksum left as it
//! was: no writer may copy the page (its copy would be sealed with a fresh checksum and the
//! damage would pass every later check), copies and dumps refuse it, and read transactions
//! report it when asked to verify checksums.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{CompactionOption, Database, Env, EnvFlags, EnvOpenOptions, Error};

const PAGE: usize = 512;
const DATA_FILE: &str = "data.arbordb";
/// The byte the leaf's damage leaves in the value of `key00000` (the value is twenty 7s).
const DAMAGED_BYTE: u8 = 0x57;

fn open(dir: &Path, verify_reads: bool) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .page_size(PAGE)
            .verify_checksums_on_read(verify_reads)
            .open(dir)
            .unwrap()
    }
}

fn main_db(env: &Env) -> Database<Bytes, Bytes> {
    let rtxn = env.read_txn().unwrap();
    env.open_database(&rtxn, None).unwrap().unwrap()
}

/// 3,000 small entries (a tree of depth 3 or more) and one value of three overflow pages.
fn build(dir: &Path) {
    let env = open(dir, false);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..3000u32 {
        db.put(&mut wtxn, format!("key{n:05}").as_bytes(), &[7u8; 20])
            .unwrap();
    }
    db.put(&mut wtxn, b"key00000-big", &[8u8; 1200]).unwrap();
    wtxn.commit().unwrap();
    assert!(db.stat(&env.read_txn().unwrap()).unwrap().depth >= 3);
}

fn read_page(dir: &Path, id: u64) -> Vec<u8> {
    common::read_data_page(dir, PAGE, id)
}

/// Changes one byte of the file, leaving every checksum as it was.
fn damage(dir: &Path, offset: u64, byte: u8) {
    let file = OpenOptions::new()
        .write(true)
        .open(dir.join(DATA_FILE))
        .unwrap();
    file.write_all_at(&[byte], offset).unwrap();
}

fn u16_at(page: &[u8], at: usize) -> usize {
    u16::from_le_bytes([page[at], page[at + 1]]) as usize
}

fn u64_at(page: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(page[at..at + 8].try_into().unwrap())
}

/// The unnamed database's root page, from the newest meta.
fn root(dir: &Path) -> u64 {
    let metas: Vec<Vec<u8>> = [0u64, 1].iter().map(|&slot| read_page(dir, slot)).collect();
    let newest = metas.iter().max_by_key(|meta| u64_at(meta, 16)).unwrap();
    u64_at(newest, 48)
}

/// The leftmost leaf (which holds `key00000` and `key00000-big`) and its parent branch.
fn leftmost_leaf(dir: &Path) -> (u64, u64) {
    let mut parent = root(dir);
    loop {
        let page = read_page(dir, parent);
        let next = u64_at(&page, u16_at(&page, 24));
        if read_page(dir, next)[4] == 2 {
            return (parent, next);
        }
        parent = next;
    }
}

/// Where a byte changes, and which page it belongs to.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A value byte of `key00000`'s entry in the leftmost leaf.
    Leaf,
    /// A byte of the free gap between the slots and the cells of the leftmost leaf's parent.
    Branch,
    /// A value byte on the second page of `key00000-big`'s overflow run.
    Overflow,
}

const TARGETS: [Target; 3] = [Target::Leaf, Target::Branch, Target::Overflow];

/// Damages `target` in a freshly built environment; returns the damaged page.
fn build_damaged(dir: &Path, target: Target) -> u64 {
    build(dir);
    let (branch, leaf) = leftmost_leaf(dir);
    let leaf_page = read_page(dir, leaf);
    let cell = |index: usize| u16_at(&leaf_page, 24 + 2 * index);
    let (page, offset) = match target {
        Target::Leaf => {
            let first = cell(0);
            assert_eq!(&leaf_page[first + 7..first + 15], b"key00000");
            (leaf, first + 7 + 8)
        }
        Target::Branch => {
            let page = read_page(dir, branch);
            let slots_end = 24 + 2 * u16_at(&page, 6);
            let cells_start = u16_at(&page, 16);
            assert!(slots_end < cells_start, "the branch has a free gap");
            (branch, slots_end)
        }
        Target::Overflow => {
            let big = cell(1);
            assert_eq!(&leaf_page[big + 7..big + 19], b"key00000-big");
            assert_eq!(leaf_page[big] & 1, 1, "stored in an overflow run");
            let run = u64_at(&leaf_page, big + 7 + 12);
            (run, PAGE + 100)
        }
    };
    damage(dir, page * PAGE as u64 + offset as u64, DAMAGED_BYTE);
    page
}

fn assert_corrupted_at<T: std::fmt::Debug>(result: Result<T, Error>, page: u64, what: &str) {
    match result {
        Err(Error::Mdb(MdbError::CorruptedPage {
            page: found,
            reason,
        })) => {
            assert_eq!(found, page, "{what}: {reason}");
            assert!(reason.contains("checksum"), "{what}: {reason}");
        }
        other => panic!("{what}: expected Corrupted at page {page}, got {other:?}"),
    }
}

/// The checker's verdict on the damaged page.
fn assert_check_reports(env: &Env, page: u64, what: &str) {
    let report = env.check().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.contains(&format!("page {page} "))
                && problem.contains("checksum")),
        "{what}: {:?}",
        report.problems
    );
}

#[test]
fn a_writer_refuses_to_copy_a_damaged_leaf_or_branch_and_nothing_is_committed() {
    for target in [Target::Leaf, Target::Branch] {
        let dir = tempfile::tempdir().unwrap();
        let page = build_damaged(dir.path(), target);
        let env = open(dir.path(), false);
        let db = main_db(&env);
        assert_check_reports(&env, page, "before");
        let mut wtxn = env.write_txn().unwrap();
        // key00001 lies in the damaged leaf, under the damaged branch.
        assert_corrupted_at(
            db.put(&mut wtxn, b"key00001", b"changed"),
            page,
            &format!("{target:?}: the put"),
        );
        assert!(
            matches!(
                db.put(&mut wtxn, b"key02999", b"x"),
                Err(Error::Mdb(MdbError::BadTxn))
            ),
            "{target:?}: the transaction is unusable"
        );
        assert!(matches!(wtxn.commit(), Err(Error::Mdb(MdbError::BadTxn))));
        let mut wtxn = env.write_txn().unwrap();
        assert_corrupted_at(
            db.delete(&mut wtxn, b"key00001"),
            page,
            &format!("{target:?}: the delete"),
        );
        wtxn.abort();
        // Nothing was committed or laundered: the damage is still reported, and the earlier
        // commit still reads.
        assert_check_reports(&env, page, &format!("{target:?}: after the writes"));
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db.get(&rtxn, b"key00001").unwrap(), Some(&[7u8; 20][..]));
        assert_eq!(db.get(&rtxn, b"key02999").unwrap(), Some(&[7u8; 20][..]));
        drop(rtxn);
        // A write elsewhere in the tree copies none of the damaged pages and commits.
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"key02999", b"changed").unwrap();
        wtxn.commit().unwrap();
        assert_check_reports(&env, page, &format!("{target:?}: after a write elsewhere"));
    }
}

#[test]
fn a_damaged_overflow_run_is_never_resealed_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let run = build_damaged(dir.path(), Target::Overflow);
    let env = open(dir.path(), false);
    let db = main_db(&env);
    assert_check_reports(&env, run, "before");
    // The leaf that refers to the run is sound: changing it copies the leaf, not the run.
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"key00001", b"changed").unwrap();
    wtxn.commit().unwrap();
    assert_check_reports(&env, run, "after a write to the run's leaf");
}

#[test]
fn copies_refuse_a_damaged_page_and_leave_no_file() {
    for target in TARGETS {
        let dir = tempfile::tempdir().unwrap();
        let page = build_damaged(dir.path(), target);
        let env = open(dir.path(), false);
        for option in [CompactionOption::Enabled, CompactionOption::Disabled] {
            let what = format!("{target:?}, {option:?}");
            let destination = dir.path().join("copy.arbordb");
            assert_corrupted_at(env.copy_to_path(&destination, option), page, &what);
            assert!(!destination.exists(), "{what}: the failed copy was removed");
            let mut file = tempfile::tempfile().unwrap();
            assert_corrupted_at(env.copy_to_file(&mut file, option), page, &what);
        }
        assert_check_reports(&env, page, &format!("{target:?}: after the copies"));
    }
}

#[test]
fn reads_verify_checksums_only_when_asked() {
    for target in TARGETS {
        let dir = tempfile::tempdir().unwrap();
        let page = build_damaged(dir.path(), target);
        let key: &[u8] = match target {
            Target::Overflow => b"key00000-big",
            _ => b"key00000",
        };
        {
            // Without the option a read hands out the bytes as they are on disk.
            let env = open(dir.path(), false);
            let db = main_db(&env);
            let rtxn = env.read_txn().unwrap();
            let value = db.get(&rtxn, key).unwrap().unwrap();
            match target {
                Target::Leaf => assert_eq!(value[0], DAMAGED_BYTE),
                Target::Branch => assert_eq!(value, &[7u8; 20]),
                Target::Overflow => assert_eq!(value[PAGE + 100 - 24], DAMAGED_BYTE),
            }
            assert!(db.iter(&rtxn).unwrap().all(|entry| entry.is_ok()));
            // The same path open with the other setting is refused, as differing flags are.
            let other = unsafe {
                EnvOpenOptions::new()
                    .verify_checksums_on_read(true)
                    .open(dir.path())
            };
            assert!(matches!(other, Err(Error::EnvAlreadyOpened)));
        }
        let env = open(dir.path(), true);
        let db = main_db(&env);
        let rtxn = env.read_txn().unwrap();
        let what = format!("{target:?}");
        assert_corrupted_at(db.get(&rtxn, key), page, &format!("{what}: get"));
        let forward: Result<Vec<_>, _> = db.iter(&rtxn).and_then(|iter| iter.collect());
        assert_corrupted_at(forward, page, &format!("{what}: iteration"));
        // Pages away from the damage read as before.
        assert_eq!(db.get(&rtxn, b"key02999").unwrap(), Some(&[7u8; 20][..]));
        drop(rtxn);
        // A write transaction verifies what it copies, whatever the option.
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"key02000", b"changed").unwrap();
        wtxn.commit().unwrap();
        assert_eq!(
            db.get(&env.read_txn().unwrap(), b"key02000").unwrap(),
            Some(&b"changed"[..])
        );
    }
}

fn arbor(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_tool_dumps_and_copies_only_sound_pages() {
    for target in TARGETS {
        let dir = tempfile::tempdir().unwrap();
        let page = build_damaged(dir.path(), target);
        let path = dir.path().to_str().unwrap();
        let names_the_damage = |stderr: &str, what: &str| {
            assert!(
                stderr.starts_with(&format!("arbor: {path}: "))
                    && stderr.contains(&format!("page {page}:")),
                "{target:?}, {what}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{target:?}, {what}: {stderr}");
        };
        let (status, stdout, stderr) = arbor(&["dump", path]);
        assert_eq!(status, Some(1), "{target:?}: dump: {stderr}");
        names_the_damage(&stderr, "dump");
        // The damaged value's bytes in the dump's hex, with the bytes around them.
        let damaged_hex = match target {
            Target::Leaf => Some("5707070707"),
            Target::Branch => None,
            Target::Overflow => Some("0808570808"),
        };
        if let Some(damaged_hex) = damaged_hex {
            assert!(
                !stdout.contains(damaged_hex),
                "{target:?}: the dump printed the damaged value"
            );
        }
        for compact in [false, true] {
            let destination = dir.path().join(format!("copy-{compact}"));
            let destination = destination.to_str().unwrap();
            let mut args = vec!["copy", path, destination];
            if compact {
                args.push("-c");
            }
            let (status, _, stderr) = arbor(&args);
            assert_eq!(status, Some(1), "{target:?}: {args:?}: {stderr}");
            names_the_damage(&stderr, "copy");
            assert!(!Path::new(destination).exists(), "{args:?} left a copy");
        }
        // The file was only read: the checker still finds the damage.
        let (status, stdout, _) = arbor(&["check", path]);
        assert_eq!(status, Some(2), "{target:?}: check");
        assert!(stdout.contains(&format!("page {page} ")), "{stdout}");
    }
}

/// Older format versions checksummed every page too: a writer copying all of an older file's
/// pages, copies and verifying reads accept them.
#[test]
fn pages_written_by_older_format_versions_pass_verification() {
    for fixture in [
        "format-1", "format-2", "format-3", "format-4", "format-5", "format-6",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            format!("tests/data/{fixture}.arbordb"),
            dir.path().join(DATA_FILE),
        )
        .unwrap();
        let env = unsafe {
            EnvOpenOptions::new()
                .max_dbs(4)
                .verify_checksums_on_read(true)
                .open(dir.path())
                .unwrap()
        };
        let copies = [CompactionOption::Disabled, CompactionOption::Enabled].map(|option| {
            let destination = dir.path().join(format!("{option:?}.arbordb"));
            env.copy_to_path(&destination, option)
                .unwrap_or_else(|error| panic!("{fixture}: {option:?}: {error}"));
            destination
        });
        let rtxn = env.read_txn().unwrap();
        let names: Vec<Option<String>> = std::iter::once(None)
            .chain(rtxn.database_names().unwrap().into_iter().map(Some))
            .collect();
        let mut contents = Vec::new();
        for name in &names {
            let db: Database<Bytes, Bytes> =
                env.open_database(&rtxn, name.as_deref()).unwrap().unwrap();
            let entries: Vec<(Vec<u8>, Vec<u8>)> = db
                .iter(&rtxn)
                .unwrap()
                .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|error| panic!("{fixture}: {name:?}: {error}"));
            assert!(!entries.is_empty());
            contents.push((db, entries));
        }
        drop(rtxn);
        // Rewriting every entry copies every page of every tree.
        let mut wtxn = env.write_txn().unwrap();
        for (db, entries) in &contents {
            for (key, value) in entries {
                db.put(&mut wtxn, key, value)
                    .unwrap_or_else(|error| panic!("{fixture}: {error}"));
            }
        }
        wtxn.commit().unwrap();
        common::assert_sound(&env);
        for copy in copies {
            let copied = unsafe {
                EnvOpenOptions::new()
                    .max_dbs(4)
                    .flags(EnvFlags::NO_SUB_DIR)
                    .open(&copy)
                    .unwrap()
            };
            common::assert_sound(&copied);
        }
    }
}
