//! Helpers shared by the integration tests.
#![allow(dead_code)]

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
    slot[..152 + 16 * runs].to_vec()
}

/// Recomputes the checksum of an encoded version 3 meta (see [`meta_bytes`]) after a test
/// changed it: CRC32 of bytes 0..148 and of the list, stored at 148.
pub fn reseal_meta(meta: &mut [u8]) {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&meta[..148]);
    hasher.update(&meta[152..]);
    let checksum = hasher.finalize();
    meta[148..152].copy_from_slice(&checksum.to_le_bytes());
}
