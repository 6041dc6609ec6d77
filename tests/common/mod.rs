//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod orders;
pub mod pairs;
pub mod scopes;
pub mod tmpfs;

use std::path::Path;

use arbordb::{Env, EnvOpenOptions};

/// Opens (creating) an environment in `dir` with a 1 GiB map.
pub fn open(dir: &Path) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(16)
            .open(dir)
            .unwrap()
    }
}

/// Opens with a given page size.
pub fn open_with_page_size(dir: &Path, page_size: usize) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(16)
            .page_size(page_size)
            .open(dir)
            .unwrap()
    }
}

/// Borrows a bound on an owned key.
pub fn as_ref(bound: &std::ops::Bound<Vec<u8>>) -> std::ops::Bound<&[u8]> {
    match bound {
        std::ops::Bound::Included(key) => std::ops::Bound::Included(key.as_slice()),
        std::ops::Bound::Excluded(key) => std::ops::Bound::Excluded(key.as_slice()),
        std::ops::Bound::Unbounded => std::ops::Bound::Unbounded,
    }
}

/// Asserts that the checker finds nothing wrong.
pub fn assert_sound(env: &Env) {
    let report = env.check().unwrap();
    assert!(report.is_ok(), "checker found problems:\n{report}");
}

/// A small deterministic pseudo-random generator (splitmix64), so tests need no extra crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The bytes of an encoded format version 3 meta at the start of `slot` (the fixed 152 bytes
/// and its list of unsynced runs, `16 * n` bytes, n at offset 144), as docs/format.md lays
/// it out.
pub fn meta_bytes(slot: &[u8]) -> Vec<u8> {
    let runs = u32::from_le_bytes(slot[144..148].try_into().unwrap()) as usize;
    let runs_end = 152 + 16 * runs;
    let version = u32::from_le_bytes(slot[8..12].try_into().unwrap());
    if version < 5 {
        return slot[..runs_end].to_vec();
    }
    // Format version 5: the length of the freelist the meta keeps, then the freelist.
    let kept = u32::from_le_bytes(slot[runs_end..runs_end + 4].try_into().unwrap()) as usize;
    slot[..runs_end + 4 + kept].to_vec()
}

/// The freelist stream an encoded meta (see [`meta_bytes`]) keeps: empty if it names a chain.
pub fn meta_kept_freelist(meta: &[u8]) -> &[u8] {
    let runs = u32::from_le_bytes(meta[144..148].try_into().unwrap()) as usize;
    &meta[152 + 16 * runs + 4..]
}

/// Recomputes the checksum of an encoded version 3 to 5 meta (see [`meta_bytes`]) after a
/// test changed it: CRC32 of bytes 0..148 and of everything after 152, stored at 148.
pub fn reseal_meta(meta: &mut [u8]) {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&meta[..148]);
    hasher.update(&meta[152..]);
    let checksum = hasher.finalize();
    meta[148..152].copy_from_slice(&checksum.to_le_bytes());
}

/// The newest meta of a data file's bytes with pages of `page_size` bytes: its txn id and its
/// unsynced runs as (first page, pages).
pub fn newest_meta_runs(data_file: &[u8], page_size: usize) -> (u64, Vec<(u64, u32)>) {
    let decode = |slot: usize| {
        let meta = meta_bytes(&data_file[slot * page_size..]);
        let txn = u64::from_le_bytes(meta[16..24].try_into().unwrap());
        let count = u32::from_le_bytes(meta[144..148].try_into().unwrap()) as usize;
        let runs = meta[152..152 + 16 * count]
            .chunks(16)
            .map(|run| {
                let first = u64::from_le_bytes(run[..8].try_into().unwrap());
                (first, u32::from_le_bytes(run[8..12].try_into().unwrap()))
            })
            .collect();
        (txn, runs)
    };
    let (zero, one) = (decode(0), decode(1));
    if zero.0 > one.0 {
        zero
    } else {
        one
    }
}

/// The data file of an environment whose last commit (one insert, so one sync) reached the
/// disk with its meta but without the first page it lists, as a power loss can leave it: the
/// image and the txn id of the commit before (what must open; its key 7 holds `b"first"`, the
/// lost commit wrote `b"second"`). Page size 4096, unnamed database.
pub fn image_of_a_one_sync_commit_missing_a_page() -> (Vec<u8>, u64) {
    use arbordb::types::Bytes;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(arbordb::DATA_FILE_NAME);
    let env = open_with_page_size(dir.path(), 4096);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    wtxn.commit().unwrap();
    for key in 0..500u32 {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &key.to_be_bytes(), b"first").unwrap();
        wtxn.commit().unwrap();
    }
    let before = std::fs::read(&data).unwrap();
    let committed = env.info().last_txn_id as u64;
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &7u32.to_be_bytes(), b"second").unwrap();
    wtxn.commit().unwrap();
    let mut image = std::fs::read(&data).unwrap();
    let (txn, runs) = newest_meta_runs(&image, 4096);
    assert_eq!((txn, before.len()), (committed + 1, image.len()));
    let (first, pages) = runs[0];
    let range = first as usize * 4096..(first + u64::from(pages)) as usize * 4096;
    image[range.clone()].copy_from_slice(&before[range]);
    (image, committed)
}

/// Page `id` of the data file in `dir` (an environment directory), `page_size` bytes.
pub fn read_data_page(dir: &Path, page_size: usize, id: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(dir.join(arbordb::DATA_FILE_NAME)).unwrap();
    let mut page = vec![0u8; page_size];
    file.read_exact_at(&mut page, id * page_size as u64)
        .unwrap();
    page
}
