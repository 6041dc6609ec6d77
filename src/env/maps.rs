//! Every map of the data file an environment has made, kept until the environment closes.
//!
//! A map is replaced when it no longer covers what a commit needs: after
//! [`Env::resize`](crate::Env::resize), or when another process with a larger map size grew
//! the file. Transactions that began on the old map still read through it, so it must stay
//! mapped while they run. Counting references on every begin and end (an `Arc`) costs two
//! locked instructions per read transaction, a third of its cost; so instead no map is ever
//! unmapped before its environment, and a transaction borrows its map for the environment's
//! lifetime. What that keeps is address space only (the pages are the file's, in the page
//! cache), and replacements are rare: a process makes one per resize and one per larger map
//! size another process records.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::os::Map;

/// Chunk `k` holds `2^k` maps, so 32 chunks hold more maps than an address space fits.
const CHUNKS: usize = 32;

/// The maps of one environment, by index in the order they were made.
pub(crate) struct MapSet {
    chunks: [OnceLock<Box<[OnceLock<Map>]>>; CHUNKS],
    /// The index of the newest map: the one new transactions use.
    newest: AtomicUsize,
    /// Held while a map is added, so two threads growing at once make one map.
    adding: Mutex<()>,
}

/// Where map `index` lives: its chunk and its place in the chunk.
fn position(index: usize) -> (usize, usize) {
    let chunk = (index + 1).ilog2() as usize;
    (chunk, index + 1 - (1 << chunk))
}

impl MapSet {
    pub(crate) fn new(first: Map) -> MapSet {
        let set = MapSet {
            chunks: [const { OnceLock::new() }; CHUNKS],
            newest: AtomicUsize::new(0),
            adding: Mutex::new(()),
        };
        set.store(0, first);
        set
    }

    /// Map `index`, one this set handed out.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> &Map {
        let (chunk, offset) = position(index);
        self.chunks[chunk]
            .get()
            .and_then(|maps| maps[offset].get())
            .expect("map indexes come from this set")
    }

    /// The newest map and its index.
    #[inline]
    pub(crate) fn newest(&self) -> (usize, &Map) {
        let index = self.newest.load(Ordering::Acquire);
        (index, self.get(index))
    }

    /// The newest map if it is at least `len` bytes long, else a new one of `len` bytes (made
    /// the newest).
    pub(crate) fn at_least(&self, file: &File, len: usize) -> io::Result<(usize, &Map)> {
        let newest = self.newest();
        if newest.1.len() >= len {
            return Ok(newest);
        }
        let _adding = self.adding.lock();
        let newest = self.newest();
        if newest.1.len() >= len {
            return Ok(newest);
        }
        Ok(self.push_locked(Map::new(file, len)?))
    }

    /// Adds `map` as the newest (a resize, which may also shrink the map).
    pub(crate) fn push(&self, map: Map) -> (usize, &Map) {
        let _adding = self.adding.lock();
        self.push_locked(map)
    }

    fn push_locked(&self, map: Map) -> (usize, &Map) {
        let index = self.newest.load(Ordering::Relaxed) + 1;
        self.store(index, map);
        self.newest.store(index, Ordering::Release);
        (index, self.get(index))
    }

    fn store(&self, index: usize, map: Map) {
        let (chunk, offset) = position(index);
        let maps =
            self.chunks[chunk].get_or_init(|| (0..1 << chunk).map(|_| OnceLock::new()).collect());
        if maps[offset].set(map).is_err() {
            unreachable!("map {index} is stored once, under the adding lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_fill_each_chunk_in_turn() {
        let positions: Vec<_> = (0..8).map(position).collect();
        assert_eq!(
            positions,
            [
                (0, 0),
                (1, 0),
                (1, 1),
                (2, 0),
                (2, 1),
                (2, 2),
                (2, 3),
                (3, 0)
            ]
        );
        assert_eq!(position((1 << 20) - 2), (19, (1 << 19) - 1));
    }

    #[test]
    fn maps_keep_their_index_and_only_a_longer_one_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.path().join("data"))
            .unwrap();
        file.set_len(4096).unwrap();
        let set = MapSet::new(Map::new(&file, 4096).unwrap());
        let (index, map) = set.at_least(&file, 4096).unwrap();
        assert_eq!((index, map.len()), (0, 4096), "long enough already");
        for pages in 2..=20 {
            let (index, map) = set.at_least(&file, pages * 4096).unwrap();
            assert_eq!((index, map.len()), (pages - 1, pages * 4096));
        }
        let (index, map) = set.push(Map::new(&file, 8192).unwrap());
        assert_eq!((index, map.len()), (20, 8192), "a resize may shrink");
        assert_eq!(set.newest().0, 20);
        for index in 0..20 {
            assert_eq!(set.get(index).len(), (index + 1) * 4096, "old maps stay");
        }
    }
}
