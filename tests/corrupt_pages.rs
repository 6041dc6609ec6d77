//! Targeted damage to branch and leaf pages, with checksums recomputed so that the damage is not
//! simply caught as a checksum failure: bad counts, offsets, lengths, cycles and page numbers each
//! give `Error::Mdb(MdbError::CorruptedPage)` from reads, a problem from the checker, and an error
//! (not a panic) from writes. Damage that reads well (keys out of order, out of their parent's
//! range) is split and merged by writes without a panic.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Env, EnvOpenOptions, Error};

const PAGE: usize = 512;
const DATA_FILE: &str = "data.arbordb";

fn build(dir: &Path) {
    let env = unsafe { EnvOpenOptions::new().page_size(PAGE).open(dir).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..3000u32 {
        db.put(&mut wtxn, format!("key{n:05}").as_bytes(), &[7u8; 20])
            .unwrap();
    }
    db.put(&mut wtxn, b"key00000-big", &[8u8; 3000]).unwrap();
    wtxn.commit().unwrap();
    assert!(db.stat(&env.read_txn().unwrap()).unwrap().depth >= 3);
}

fn read_page(dir: &Path, id: u64) -> Vec<u8> {
    common::read_data_page(dir, PAGE, id)
}

/// Writes `page` back with a fresh checksum, so only the structural damage remains.
fn write_page(dir: &Path, id: u64, mut page: Vec<u8>) {
    let checksum = crc32fast::hash(&page[4..]);
    page[..4].copy_from_slice(&checksum.to_le_bytes());
    let file = OpenOptions::new()
        .write(true)
        .open(dir.join(DATA_FILE))
        .unwrap();
    file.write_all_at(&page, id * PAGE as u64).unwrap();
}

fn u16_at(page: &[u8], at: usize) -> usize {
    u16::from_le_bytes([page[at], page[at + 1]]) as usize
}

/// The unnamed database's root page, from the newest meta.
fn root(dir: &Path) -> u64 {
    let metas: Vec<Vec<u8>> = [0u64, 1].iter().map(|&slot| read_page(dir, slot)).collect();
    let txn = |meta: &Vec<u8>| u64::from_le_bytes(meta[16..24].try_into().unwrap());
    let newest = if txn(&metas[0]) > txn(&metas[1]) {
        &metas[0]
    } else {
        &metas[1]
    };
    u64::from_le_bytes(newest[48..56].try_into().unwrap())
}

/// Child `index` of branch page `page`.
fn child(page: &[u8], index: usize) -> u64 {
    let offset = u16_at(page, 24 + 2 * index);
    u64::from_le_bytes(page[offset..offset + 8].try_into().unwrap())
}

fn set_child(page: &mut [u8], index: usize, child: u64) {
    let offset = u16_at(page, 24 + 2 * index);
    page[offset..offset + 8].copy_from_slice(&child.to_le_bytes());
}

/// The leftmost leaf and its parent.
fn leftmost_leaf(dir: &Path) -> (u64, u64) {
    let mut parent = root(dir);
    loop {
        let page = read_page(dir, parent);
        let next = child(&page, 0);
        if read_page(dir, next)[4] == 2 {
            return (parent, next);
        }
        parent = next;
    }
}

/// Reads, checks and writes the damaged environment; every path must give an error.
fn assert_damage_is_reported(dir: &Path, what: &str) {
    let env: Env = unsafe { EnvOpenOptions::new().open(dir).unwrap() };
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    let forward: Result<Vec<_>, _> = db.iter(&rtxn).and_then(|iter| iter.collect());
    assert!(
        matches!(forward, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
        "{what}: forward iteration gave {:?}",
        forward.map(|v| v.len())
    );
    let backward: Result<Vec<_>, _> = db.rev_iter(&rtxn).and_then(|iter| iter.collect());
    assert!(
        matches!(backward, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
        "{what}: backward iteration"
    );
    drop(rtxn);
    let report = env.check().unwrap();
    assert!(!report.is_ok(), "{what}: the checker found nothing");
    let mut wtxn = env.write_txn().unwrap();
    let mut failures = 0;
    for n in 0..3000u32 {
        let key = format!("key{n:05}");
        if db.put(&mut wtxn, key.as_bytes(), b"new").is_err() {
            failures += 1;
            break;
        }
    }
    assert!(failures > 0, "{what}: writing over the damage never failed");
}

#[test]
fn a_branch_page_without_children() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (parent, _) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), parent);
    page[6..8].copy_from_slice(&0u16.to_le_bytes());
    write_page(dir.path(), parent, page);
    assert_damage_is_reported(dir.path(), "a branch page with count 0");
}

#[test]
fn a_count_larger_than_the_slot_array() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, leaf) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), leaf);
    page[6..8].copy_from_slice(&400u16.to_le_bytes());
    write_page(dir.path(), leaf, page);
    assert_damage_is_reported(dir.path(), "a leaf count past the cells");
}

#[test]
fn a_slot_pointing_outside_the_page() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, leaf) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), leaf);
    page[24..26].copy_from_slice(&(PAGE as u16 - 2).to_le_bytes());
    write_page(dir.path(), leaf, page);
    assert_damage_is_reported(dir.path(), "a slot at the page's end");
}

#[test]
fn a_key_length_running_past_the_page() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, leaf) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), leaf);
    let offset = u16_at(&page, 24);
    page[offset + 1..offset + 3].copy_from_slice(&60000u16.to_le_bytes());
    write_page(dir.path(), leaf, page);
    assert_damage_is_reported(dir.path(), "a key length past the page");
}

#[test]
fn a_cycle_back_to_the_root_terminates_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (parent, _) = leftmost_leaf(dir.path());
    let root = root(dir.path());
    let mut page = read_page(dir.path(), parent);
    set_child(&mut page, 0, root);
    write_page(dir.path(), parent, page);
    assert_damage_is_reported(dir.path(), "a child pointing back at the root");
}

#[test]
fn a_child_page_number_past_the_file() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (parent, _) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), parent);
    set_child(&mut page, 0, 1 << 40);
    write_page(dir.path(), parent, page);
    assert_damage_is_reported(dir.path(), "a child past the file");
}

#[test]
fn a_child_pointing_at_a_meta_page() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (parent, _) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), parent);
    set_child(&mut page, 0, 1);
    write_page(dir.path(), parent, page);
    assert_damage_is_reported(dir.path(), "a child that is a meta page");
}

#[test]
fn an_overflow_reference_to_a_page_that_is_not_an_overflow_run() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, leaf) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), leaf);
    let count = u16_at(&page, 6);
    let big = (0..count)
        .map(|index| u16_at(&page, 24 + 2 * index))
        .find(|&offset| page[offset] & 1 == 1);
    let offset = big.expect("the large value is in the leftmost leaf");
    let key_len = u16_at(&page, offset + 1);
    let reference = offset + 7 + key_len;
    let root = root(dir.path());
    page[reference..reference + 8].copy_from_slice(&root.to_le_bytes());
    write_page(dir.path(), leaf, page);
    let env = unsafe { EnvOpenOptions::new().open(dir.path()).unwrap() };
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    assert!(matches!(
        db.get(&rtxn, b"key00000-big"),
        Err(Error::Mdb(MdbError::CorruptedPage { .. }))
    ));
    assert!(db
        .iter(&rtxn)
        .unwrap()
        .any(|entry| matches!(entry, Err(Error::Mdb(MdbError::CorruptedPage { .. })))));
    drop(rtxn);
    assert!(!env.check().unwrap().is_ok());
    // Deleting or replacing the value must not free the page the bad reference names.
    for replace in [false, true] {
        let mut wtxn = env.write_txn().unwrap();
        let result = if replace {
            db.put(&mut wtxn, b"key00000-big", b"small")
        } else {
            db.delete(&mut wtxn, b"key00000-big").map(|_| ())
        };
        assert!(
            matches!(result, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
            "replace {replace}: {result:?}"
        );
    }
}

/// Puts new keys just above the first one, all in the leftmost leaf's range, then deletes
/// them and the first keys, so that the pages around the leftmost leaf split and merge. The
/// writes may fail; they must not panic, as a debug build's checks of each split and merge
/// would if they took damage read from the file for a bug of the writer.
fn split_and_merge_over_the_damage(dir: &Path, what: &str) {
    let env: Env = unsafe { EnvOpenOptions::new().open(dir).unwrap() };
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    drop(rtxn);
    assert!(
        !env.check().unwrap().is_ok(),
        "{what}: the checker found nothing"
    );
    let new_key = |n: u32| format!("key00000+{n:03}");
    let mut changes = 0;
    for deleting in [false, true] {
        let mut wtxn = env.write_txn().unwrap();
        for n in 0..200u32 {
            let result = if deleting {
                db.delete(&mut wtxn, new_key(n).as_bytes())
                    .and_then(|_| db.delete(&mut wtxn, format!("key{n:05}").as_bytes()))
                    .map(drop)
            } else {
                db.put(&mut wtxn, new_key(n).as_bytes(), &[5u8; 20])
            };
            match result {
                Ok(()) => changes += 1,
                Err(_) => break,
            }
        }
        let _ = wtxn.commit();
    }
    assert!(changes > 0, "{what}: no write got through");
}

#[test]
fn keys_out_of_order_in_a_page_that_splits_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (_, leaf) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), leaf);
    let (first, second) = (24 + 2, 24 + 2 * 4);
    let slot: [u8; 2] = page[first..first + 2].try_into().unwrap();
    page.copy_within(second..second + 2, first);
    page[second..second + 2].copy_from_slice(&slot);
    write_page(dir.path(), leaf, page);
    split_and_merge_over_the_damage(dir.path(), "two keys of a leaf swapped");
}

#[test]
fn keys_outside_their_parents_range_in_pages_that_split_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let (parent, _) = leftmost_leaf(dir.path());
    let mut page = read_page(dir.path(), parent);
    let (first, second) = (child(&page, 0), child(&page, 1));
    set_child(&mut page, 0, second);
    set_child(&mut page, 1, first);
    write_page(dir.path(), parent, page);
    split_and_merge_over_the_damage(dir.path(), "two leaves swapped under their parent");
}

/// A write iterator whose walk failed on a damaged page yields nothing more, even after a
/// put through it succeeds elsewhere in the tree (the put moves it; the walk must not go on
/// past the damage it reported).
#[test]
fn a_write_iterator_that_failed_stays_ended_after_a_put() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    // The rightmost leaf gets a count past its slot array.
    let mut id = root(dir.path());
    loop {
        let page = read_page(dir.path(), id);
        if page[4] == 2 {
            break;
        }
        id = child(&page, u16_at(&page, 6) - 1);
    }
    let mut leaf = read_page(dir.path(), id);
    leaf[6..8].copy_from_slice(&u16::MAX.to_le_bytes());
    write_page(dir.path(), id, leaf);

    let env: Env = unsafe { EnvOpenOptions::new().open(dir.path()).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&wtxn, None)
        .unwrap()
        .unwrap();
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    let mut visited = 0;
    let error = loop {
        match iter.next() {
            Some(Ok(_)) => visited += 1,
            Some(Err(error)) => break error,
            None => panic!("the walk reached its end past the damaged leaf"),
        }
    };
    assert!(matches!(error, Error::Mdb(MdbError::CorruptedPage { .. })));
    assert!(visited > 100, "the damage is in the last leaf");
    // The first leaf is intact: a put there succeeds, and the walk stays ended.
    iter.put_current_with_options::<Bytes>(arbordb::PutFlags::empty(), b"key00000-again", b"v")
        .unwrap();
    assert!(iter.next().is_none(), "the failed walk went on");
}
