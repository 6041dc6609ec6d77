//! The checker finds damage: it is a test oracle only if it can fail.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use arbordb::types::Bytes;
use arbordb::{Env, EnvOpenOptions};
use common::{assert_sound, meta_bytes, meta_kept_freelist, open, reseal_meta};

const DATA_FILE: &str = "data.arbordb";
const PAGE: u64 = 4096;

/// Builds an environment with a few hundred pages, some free, and closes it.
fn build(dir: &Path) {
    let env = open(dir);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let named = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("named"))
        .unwrap();
    for n in 0..5000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[1u8; 100]).unwrap();
        named.put(&mut wtxn, &n.to_be_bytes(), &[2u8; 10]).unwrap();
    }
    db.put(&mut wtxn, b"big", &vec![3u8; 20_000]).unwrap();
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..2000u32 {
        db.delete(&mut wtxn, &n.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
}

fn reopen(dir: &Path) -> Env {
    unsafe { EnvOpenOptions::new().open(dir).unwrap() }
}

fn file(dir: &Path) -> std::fs::File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(DATA_FILE))
        .unwrap()
}

/// The newest meta's slot offset and bytes.
fn newest_meta(dir: &Path) -> (u64, Vec<u8>) {
    let file = file(dir);
    let mut best = (0, Vec::new(), 0u64);
    for slot in [0, PAGE] {
        let mut meta = vec![0u8; 4096];
        file.read_exact_at(&mut meta, slot).unwrap();
        let meta = meta_bytes(&meta);
        let txn = u64::from_le_bytes(meta[16..24].try_into().unwrap());
        if best.1.is_empty() || txn > best.2 {
            best = (slot, meta, txn);
        }
    }
    (best.0, best.1)
}

fn rewrite_meta(dir: &Path, slot: u64, mut meta: Vec<u8>) {
    reseal_meta(&mut meta);
    file(dir).write_all_at(&meta, slot).unwrap();
}

#[test]
fn a_flipped_byte_in_a_tree_page_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, meta) = newest_meta(dir.path());
    let main_root = u64::from_le_bytes(meta[48..56].try_into().unwrap());
    // Flip a byte deep in the root page's cell area (not the header).
    let offset = main_root * PAGE + PAGE - 10;
    let file = file(dir.path());
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, offset).unwrap();
    file.write_all_at(&[byte[0] ^ 0x01], offset).unwrap();
    let report = reopen(dir.path()).check().unwrap();
    assert!(!report.is_ok());
    assert!(
        report.problems.iter().any(|p| p.contains("checksum")),
        "{report}"
    );
}

#[test]
fn a_lost_freelist_shows_as_leaked_pages() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, mut meta) = newest_meta(dir.path());
    // The freelist is in a chain the meta names, or (format version 5) in the meta itself.
    meta[40..48].copy_from_slice(&0u64.to_le_bytes());
    let kept = meta_kept_freelist(&meta).len();
    let kept_len_at = meta.len() - kept - 4;
    meta.truncate(kept_len_at);
    meta.extend_from_slice(&0u32.to_le_bytes());
    rewrite_meta(dir.path(), slot, meta);
    let report = reopen(dir.path()).check().unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("leaked")),
        "{report}"
    );
}

#[test]
fn a_kept_freelist_that_does_not_decode_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, mut meta) = newest_meta(dir.path());
    assert_eq!(
        meta[40..48],
        [0; 8],
        "the last commit keeps its freelist in its meta"
    );
    let kept = meta_kept_freelist(&meta).len();
    assert!(kept > 0);
    // A group count no stream of this length can hold (the checksum is made to match).
    let at = meta.len() - kept;
    meta[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    rewrite_meta(dir.path(), slot, meta);
    let env = reopen(dir.path());
    let report = env.check().unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("the freelist")),
        "{report}"
    );
    // A writer refuses to build on it rather than reuse pages it cannot trust.
    assert!(matches!(
        env.write_txn(),
        Err(arbordb::Error::Mdb(arbordb::MdbError::CorruptedPage { .. }))
    ));
}

#[test]
fn a_page_in_two_trees_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, mut meta) = newest_meta(dir.path());
    // Make the catalog's root the unnamed database's root.
    let main_root = meta[48..56].to_vec();
    meta[96..104].copy_from_slice(&main_root);
    rewrite_meta(dir.path(), slot, meta);
    let report = reopen(dir.path()).check().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("used twice") || p.contains("descriptor")),
        "{report}"
    );
}

#[test]
fn wrong_counts_in_a_descriptor_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, mut meta) = newest_meta(dir.path());
    let entries = u64::from_le_bytes(meta[88..96].try_into().unwrap());
    meta[88..96].copy_from_slice(&(entries + 1).to_le_bytes());
    rewrite_meta(dir.path(), slot, meta);
    let env = reopen(dir.path());
    let report = env.check().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("descriptor says")),
        "{report}"
    );
    assert_eq!(report.problem_count, 1, "{report}");
}

/// A descriptor's counts come from the file: wrong ones are reported, and a writer that
/// relies on them (emptying the tree resets them) does not panic, in a debug build either.
#[test]
fn emptying_a_tree_whose_descriptor_counts_overflow_pages_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        db.put(&mut wtxn, b"only", b"small").unwrap();
        wtxn.commit().unwrap();
    }
    let (slot, mut meta) = newest_meta(dir.path());
    // The unnamed database's descriptor is at 48; its overflow page count at 32 within it.
    meta[80..88].copy_from_slice(&3u64.to_le_bytes());
    rewrite_meta(dir.path(), slot, meta);
    let env = reopen(dir.path());
    assert!(!env.check().unwrap().is_ok());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&wtxn, None)
        .unwrap()
        .unwrap();
    assert!(db.delete(&mut wtxn, b"only").unwrap());
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// The slot offset and bytes of the older meta.
fn older_meta(dir: &Path) -> (u64, Vec<u8>) {
    let (newest, _) = newest_meta(dir);
    let slot = if newest == 0 { PAGE } else { 0 };
    let mut meta = vec![0u8; 4096];
    file(dir).read_exact_at(&mut meta, slot).unwrap();
    (slot, meta_bytes(&meta))
}

#[test]
fn a_torn_older_meta_is_a_warning_not_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, _) = older_meta(dir.path());
    file(dir.path())
        .write_all_at(&[0xAB; 64], slot + 64)
        .unwrap();
    let report = reopen(dir.path()).check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(
        report.warnings.iter().any(|w| w.contains("torn")),
        "{report}"
    );
}

#[test]
fn an_older_meta_that_disagrees_with_the_newest_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (slot, mut meta) = older_meta(dir.path());
    meta[12..16].copy_from_slice(&8192u32.to_le_bytes());
    meta[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    rewrite_meta(dir.path(), slot, meta);
    let report = reopen(dir.path()).check().unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("page size 8192")),
        "{report}"
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("more pages than the file")),
        "{report}"
    );
}

/// A free segment whose bytes were damaged is reported by the checker, and a writer that
/// needs its pages gets `Corrupted` instead of handing out pages it cannot trust, while
/// everything committed stays readable.
#[test]
fn a_damaged_free_segment_is_reported_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        for n in 0..40_000u32 {
            db.put(&mut wtxn, &n.to_be_bytes(), &[1u8; 100]).unwrap();
        }
        wtxn.commit().unwrap();
        // Freeing about a thousand pages in one commit spills them into free segments.
        let mut wtxn = env.write_txn().unwrap();
        for n in (0..40_000u32).filter(|n| n % 10 != 0) {
            db.delete(&mut wtxn, &n.to_be_bytes()).unwrap();
        }
        wtxn.commit().unwrap();
        assert_sound(&env);
        assert!(env.check().unwrap().pages_free > 1000);
    }
    // Every free segment in the file is live (no commit has read one yet); damage the first,
    // in its unused tail so that only its checksum can tell.
    let file = file(dir.path());
    let pages = file.metadata().unwrap().len() / PAGE;
    let segment = (2..pages)
        .find(|&page| {
            let mut header = [0u8; 16];
            file.read_exact_at(&mut header, page * PAGE).unwrap();
            header[4] == 5 && u64::from_le_bytes(header[8..16].try_into().unwrap()) == page
        })
        .expect("the delete spilled free segments");
    file.write_all_at(&[0xA5], segment * PAGE + PAGE - 1)
        .unwrap();

    let env = reopen(dir.path());
    let report = env.check().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("free segment fails its checksum")),
        "{report}"
    );
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 4000);
    drop(rtxn);
    // The delete's pages become reusable two commits later (invariant 3): one small commit
    // first, then a writer that uses up the free pages reaches the damaged segment and stops.
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"small", b"commit").unwrap();
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let outcome = (0..200_000u32)
        .try_for_each(|n| db.put(&mut wtxn, &(1_000_000 + n).to_be_bytes(), &[2u8; 100]));
    assert!(
        matches!(
            outcome,
            Err(arbordb::Error::Mdb(arbordb::MdbError::CorruptedPage { .. }))
        ),
        "{outcome:?}"
    );
    wtxn.abort();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 4001);
    assert_eq!(
        db.get(&rtxn, &10u32.to_be_bytes()).unwrap(),
        Some(&[1u8; 100][..])
    );
}
