//! Old maps are released: a resize (or a growth of the map) replaces the map, transactions
//! that began on the old one read through it until they end, and then it is unmapped, so
//! that resizing any number of times costs no more mappings or address space than the maps
//! in use. At most 16 old maps are kept; a resize that would keep more is refused.

mod common;

use std::path::Path;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Database, Env, EnvOpenOptions, Error};

const MIB: usize = 1 << 20;
const GIB: usize = 1 << 30;

fn open(dir: &Path, map_size: usize) -> (Env, Database<Bytes, Bytes>) {
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(map_size)
            .max_readers(64)
            .open(dir)
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"key", b"first").unwrap();
    wtxn.commit().unwrap();
    (env, db)
}

/// The lengths in bytes of this process's mappings of the data file in `dir`.
fn data_mappings(dir: &Path) -> Vec<usize> {
    let data = dir.canonicalize().unwrap().join(arbordb::DATA_FILE_NAME);
    let data = data.to_str().unwrap();
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|line| line.ends_with(data))
        .map(|line| {
            let range = line.split(' ').next().unwrap();
            let (start, end) = range.split_once('-').unwrap();
            let start = usize::from_str_radix(start, 16).unwrap();
            let end = usize::from_str_radix(end, 16).unwrap();
            end - start
        })
        .collect()
}

fn resize(env: &Env, size: usize) -> arbordb::Result<()> {
    unsafe { env.resize(size) }
}

#[test]
fn seventy_thousand_resizes_keep_one_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), MIB);
    // More than the default vm.max_map_count (65,530), which every map kept would exhaust.
    for round in 0..70_000 {
        resize(&env, MIB + (round % 2) * 4096).unwrap();
    }
    assert_eq!(data_mappings(dir.path()).len(), 1);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"key", b"after").unwrap();
    wtxn.commit().unwrap();
    assert_eq!(
        db.get(&env.read_txn().unwrap(), b"key").unwrap(),
        Some(&b"after"[..])
    );
    common::assert_sound(&env);
}

#[test]
#[cfg(target_pointer_width = "64")]
fn growing_by_a_gib_600_times_keeps_only_the_newest_map() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), GIB);
    // Every map kept would need 180 TiB of address space, more than a process has (128 TiB).
    for gib in 2..=601 {
        resize(&env, gib * GIB).unwrap();
    }
    assert_eq!(data_mappings(dir.path()), vec![601 * GIB]);
    assert_eq!(env.info().map_size, 601 * GIB);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"key", b"after").unwrap();
    wtxn.commit().unwrap();
    assert_eq!(
        db.get(&env.read_txn().unwrap(), b"key").unwrap(),
        Some(&b"after"[..])
    );
}

#[test]
fn a_reader_across_resizes_reads_through_its_old_map_which_goes_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), 4 * MIB);
    let reader = env.read_txn().unwrap();
    let value = db.get(&reader, b"key").unwrap().unwrap();
    // Resizes and commits that grow the file well past the reader's map.
    for (round, size) in [8, 16, 32].into_iter().enumerate() {
        resize(&env, size * MIB).unwrap();
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"key", b"later").unwrap();
        db.put(&mut wtxn, &[round as u8], &vec![round as u8; 3 * MIB])
            .unwrap();
        wtxn.commit().unwrap();
    }
    assert!(env.real_disk_size().unwrap() > 8 * MIB as u64);
    let mut mappings = data_mappings(dir.path());
    mappings.sort_unstable();
    assert_eq!(
        mappings,
        vec![4 * MIB, 32 * MIB],
        "the reader's map and the newest; the ones between are gone"
    );
    // The reader still reads its snapshot, through its old map.
    assert_eq!(value, b"first");
    assert_eq!(db.get(&reader, b"key").unwrap(), Some(&b"first"[..]));
    assert_eq!(db.len(&reader).unwrap(), 1);
    // A reader begun now reads the newest commit through the newest map.
    let newer = env.read_txn().unwrap();
    assert_eq!(db.get(&newer, b"key").unwrap(), Some(&b"later"[..]));
    assert_eq!(db.get(&newer, &[2]).unwrap().unwrap().len(), 3 * MIB);
    drop(reader);
    assert_eq!(
        data_mappings(dir.path()),
        vec![32 * MIB],
        "the old map went when its last reader ended"
    );
    drop(newer);
    common::assert_sound(&env);
}

#[test]
fn a_thread_that_kept_a_snapshot_from_before_a_resize_begins_on_the_new_map() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), 4 * MIB);
    // The thread keeps the ended reader's snapshot box, which names the first map.
    drop(env.read_txn().unwrap());
    resize(&env, 8 * MIB).unwrap();
    assert_eq!(data_mappings(dir.path()), vec![8 * MIB]);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, b"key").unwrap(), Some(&b"first"[..]));
    drop(rtxn);
    resize(&env, 16 * MIB).unwrap();
    assert_eq!(data_mappings(dir.path()), vec![16 * MIB]);
}

#[test]
fn at_most_sixteen_old_maps_are_kept_and_a_resize_past_that_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), 4 * MIB);
    let mut readers = Vec::new();
    for round in 0..16 {
        readers.push(env.read_txn().unwrap());
        resize(&env, (5 + round) * MIB).unwrap();
    }
    assert_eq!(data_mappings(dir.path()).len(), 17);
    // A reader on the newest map: replacing it would keep a seventeenth old map.
    readers.push(env.read_txn().unwrap());
    let refused = resize(&env, 64 * MIB);
    assert!(
        matches!(
            refused,
            Err(Error::Mdb(MdbError::OldMapsInUse { kept: 16 }))
        ),
        "{refused:?}"
    );
    assert_eq!(env.info().map_size, 20 * MIB, "the map is as it was");
    assert_eq!(data_mappings(dir.path()).len(), 17);
    // Everything still works, and every reader still reads.
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"key", b"later").unwrap();
    wtxn.commit().unwrap();
    for reader in &readers {
        assert_eq!(db.get(reader, b"key").unwrap(), Some(&b"first"[..]));
    }
    // Once the oldest reader ends, its map goes and the resize is taken.
    readers.remove(0);
    resize(&env, 64 * MIB).unwrap();
    assert_eq!(data_mappings(dir.path()).len(), 17);
    drop(readers);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, b"key").unwrap(), Some(&b"later"[..]));
    assert_eq!(data_mappings(dir.path()), vec![64 * MIB]);
}

#[test]
fn readers_on_many_threads_stay_valid_while_another_resizes() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(dir.path(), 4 * MIB);
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..2_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[7u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let rtxn = env.read_txn().unwrap();
                    let mut count = 0;
                    for entry in db.iter(&rtxn).unwrap() {
                        let (key, value) = entry.unwrap();
                        assert!(key == b"key" || value == [7u8; 100]);
                        count += 1;
                    }
                    assert_eq!(count, 2_001);
                }
            });
        }
        for round in 0..3_000 {
            match resize(&env, 4 * MIB + (round % 3) * 4096) {
                Ok(()) | Err(Error::Mdb(MdbError::OldMapsInUse { .. })) => {}
                Err(error) => panic!("{error}"),
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // A reader's end racing a resize may leave its map to the next write transaction.
    env.write_txn().unwrap().abort();
    assert_eq!(data_mappings(dir.path()).len(), 1);
}

/// A write transaction whose begin fails after it pinned its map (here: on a damaged freelist
/// chain) leaves no pin behind, so the map goes at the next resize.
#[test]
fn a_write_transaction_that_fails_to_begin_leaves_its_map_unpinned() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (env, db) = open(dir.path(), 4 * MIB);
        // A freelist too long for the meta to keep: it goes to a chain page.
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, b"large", &[1; 800_000]).unwrap();
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        db.delete(&mut wtxn, b"large").unwrap();
        wtxn.commit().unwrap();
    }
    let path = dir.path().join(arbordb::DATA_FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let mut damaged = 0;
    for page in bytes.chunks_mut(4096).skip(2) {
        if page[4] == 4 {
            page[40] ^= 0xff;
            damaged += 1;
        }
    }
    assert!(damaged > 0, "a freelist chain page");
    std::fs::write(&path, &bytes).unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(4 * MIB)
            .open(dir.path())
            .unwrap()
    };
    assert!(env.write_txn().is_err());
    resize(&env, 8 * MIB).unwrap();
    assert_eq!(data_mappings(dir.path()), vec![8 * MIB]);
}
