//! Large values reuse the space of the values they replace: a free stretch long enough for an
//! overflow run is found wherever the freelist keeps it (in the pool, in free segments not
//! read yet, or split between them), so replacing a value again and again levels off at two
//! copies of it (invariant 3: the copy the last commit replaced is reusable by the next).

mod common;

use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvOpenOptions};
use common::assert_sound;

const MIB: usize = 1 << 20;

fn open_with_map(dir: &std::path::Path, map_size: usize) -> (Env, Database<Bytes, Bytes>) {
    open_with(dir, map_size, 4096)
}

fn open_with(
    dir: &std::path::Path,
    map_size: usize,
    page_size: usize,
) -> (Env, Database<Bytes, Bytes>) {
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(map_size)
            .page_size(page_size)
            .open(dir)
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"small", b"a neighbour").unwrap();
    wtxn.commit().unwrap();
    (env, db)
}

/// Replaces the value of `key` with a `len`-byte value `times` times (first writing it), each
/// in a commit of its own, checking every `check_every`th commit (0: none); returns the file
/// size after each commit.
fn replace_repeatedly(
    env: &Env,
    db: Database<Bytes, Bytes>,
    len: usize,
    times: u8,
    check_every: u8,
) -> Vec<u64> {
    let mut sizes = Vec::new();
    for round in 0..=times {
        let value = vec![round; len];
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"large", &value).unwrap();
        wtxn.commit().unwrap();
        sizes.push(env.real_disk_size().unwrap());
        if check_every > 0 && round % check_every == 0 {
            assert_sound(env);
        }
    }
    let rtxn = env.read_txn().unwrap();
    let stored = db.get(&rtxn, b"large").unwrap().unwrap();
    assert!(stored.len() == len && stored.iter().all(|&byte| byte == times));
    sizes
}

#[test]
fn replacing_a_100_mib_value_20_times_keeps_the_file_under_three_values() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_with_map(dir.path(), 1 << 30);
    let largest = *replace_repeatedly(&env, db, 100 * MIB, 20, 0)
        .iter()
        .max()
        .unwrap();
    assert!(
        largest < 300 * MIB as u64,
        "the file reached {largest} bytes for a 100 MiB value"
    );
    assert_sound(&env);
}

#[test]
fn a_512_mib_map_survives_20_replacements_of_a_100_mib_value() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_with_map(dir.path(), 512 * MIB);
    replace_repeatedly(&env, db, 100 * MIB, 20, 0);
    assert_sound(&env);
}

/// The same, smaller and checked: a 12 MiB value in 512-byte pages is 24,577 pages (more
/// than the 16,384 the pool was once searched to), which the freelist keeps in hundreds of
/// free segments (61 pages each) and the chain. After the first rounds the file stops
/// growing (the free segments of each commit's spill, 400-odd pages, once came from the
/// file's end whenever no stretch that long was free: 2.7 copies after 60 rounds).
#[test]
fn replacing_a_value_of_many_small_pages_levels_off_and_every_commit_is_sound() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_with(dir.path(), 64 * MIB, 512);
    let sizes = replace_repeatedly(&env, db, 12 * MIB, 60, 1);
    let (after_20, last) = (sizes[20], *sizes.last().unwrap());
    assert!(
        after_20 < 30 * MIB as u64 && last <= after_20 + after_20 / 100,
        "the file grew to {after_20} bytes after 20 rounds and {last} after 60, for a 12 MiB value"
    );
}

/// A stretch for a value may be made of pages the freelist keeps in different places: here
/// the pages of two neighbouring values freed by different commits (two groups, each in
/// segments and the chain).
#[test]
fn a_value_reuses_the_space_of_two_neighbours_freed_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_with_map(dir.path(), 64 * MIB);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"left", &vec![1u8; 3 * MIB]).unwrap();
    db.put(&mut wtxn, b"right", &vec![2u8; 3 * MIB]).unwrap();
    wtxn.commit().unwrap();
    for key in [&b"left"[..], b"right"] {
        let mut wtxn = env.write_txn().unwrap();
        db.delete(&mut wtxn, key).unwrap();
        wtxn.commit().unwrap();
    }
    // Two empty commits make every freed page reusable.
    for _ in 0..2 {
        env.write_txn().unwrap().commit().unwrap();
    }
    let before = env.real_disk_size().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    // Longer than either old value. Not as long as both: the later commits' own pages (a
    // leaf, a free segment) took some of the first one's pages, reusable once it was freed.
    db.put(&mut wtxn, b"both", &vec![3u8; 7 * MIB / 2]).unwrap();
    wtxn.commit().unwrap();
    assert_eq!(
        env.real_disk_size().unwrap(),
        before,
        "the 3.5 MiB value went where the two 3 MiB ones were"
    );
    assert_sound(&env);
}

/// A commit putting one large value over a freelist of many small holes reads only the free
/// segments that could hold a stretch for it once the writer has summarized them: not every
/// segment again at each commit (invariant 12).
#[test]
fn a_large_value_over_a_fragmented_freelist_reads_few_segments_per_commit() {
    let dir = tempfile::tempdir().unwrap();
    let page_size = 512;
    let (env, db) = open_with(dir.path(), 1 << 30, page_size);
    // Values of two overflow pages each, every other one deleted: holes of two pages.
    let values = 60_000u32;
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..values {
        db.put(&mut wtxn, &n.to_be_bytes(), &[7u8; 700]).unwrap();
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for n in (0..values).step_by(2) {
        db.delete(&mut wtxn, &n.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    let free_pages = u64::from(values);
    let segments = free_pages / ((page_size as u64 - 24) / 8);
    // Each commit puts one value of eight pages, which no hole holds.
    let reads: Vec<u64> = (0..20u32)
        .map(|n| {
            let mut wtxn = env.write_txn().unwrap();
            db.put(&mut wtxn, &(values + n).to_be_bytes(), &[9u8; 3500])
                .unwrap();
            let reads = wtxn.pages_read();
            wtxn.commit().unwrap();
            reads
        })
        .collect();
    assert!(reads[0] >= segments, "the first reads them all: {reads:?}");
    assert!(
        reads[1..].iter().all(|&read| read <= 40),
        "later ones only a tree path and a few segments, of {segments}: {reads:?}"
    );
    assert_sound(&env);
}

/// A value one byte longer than the largest is refused before anything is read or written
/// (the buffer is never touched: it is allocated zeroed, and lazily, by the system).
#[test]
fn a_value_past_the_largest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { arbordb::EnvOpenOptions::new().open(dir.path()).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<arbordb::types::Bytes, arbordb::types::Bytes>(&mut wtxn, None)
        .unwrap();
    // Past a 32-bit length: refused.
    let huge = vec![0u8; u32::MAX as usize + 1];
    assert!(matches!(
        db.put(&mut wtxn, b"k", &huge),
        Err(arbordb::Error::Mdb(arbordb::MdbError::BadValSize))
    ));
    drop(huge);
    let max = arbordb::VALUE_SIZE_MAX;
    assert!(
        max > u32::MAX as usize - 4096,
        "the largest value is {max} bytes"
    );
    // One byte past the largest: refused too.
    let huge = vec![0u8; max + 1];
    assert!(matches!(
        db.put(&mut wtxn, b"k", &huge),
        Err(arbordb::Error::Mdb(arbordb::MdbError::BadValSize))
    ));
    drop(huge);
    // The transaction goes on.
    db.put(&mut wtxn, b"k", b"v").unwrap();
    wtxn.commit().unwrap();
}
