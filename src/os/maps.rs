//! The maps of the data file one environment has made, and when an old one is unmapped.
//!
//! A map is replaced when it no longer covers what a commit needs: after
//! [`Env::resize`](crate::Env::resize), or when another process with a larger map size grew
//! the file. Transactions that began on the old map still read through it, so it must stay
//! mapped while they run; once none does, it is unmapped (else a process that resizes often
//! runs out of mappings, `vm.max_map_count`, or of address space).
//!
//! Counting references on every begin and end (an `Arc`) would cost two locked instructions
//! per read transaction, a third of its cost. Instead each user (a reader slot of this
//! process, and the writer) *pins* the index of the map it reads through in a word of its
//! own, and the pins are scanned only when an old map might be released:
//!
//! - A reader stores its pin (a plain store) before the reader table's `fence(SeqCst)` that
//!   publishes its snapshot (`readers.rs`), and after that fence checks that its map is
//!   still the newest; if not, it begins again on the newest.
//! - Whoever makes a new map the newest, and whoever later looks for old maps to release,
//!   issues `fence(SeqCst)` after the newest index was stored and before scanning the pins.
//!
//! Either the scan sees the pin, or the reader's check sees the newer map and the reader
//! never reads through the old one: the same argument as the reader table's. A user clears
//! its pin (a release store) after its last read through the map and before its reader slot
//! can be claimed again. So beginning a read transaction on the newest map (every begin but
//! those racing a new map) adds no locked instruction: one store before the fence that is
//! there anyway, and one load after it.
//!
//! Old maps are released when a map is added, when a transaction that read through an old
//! map ends, and when a write transaction begins with old maps still kept. At most
//! [`OLD_MAPS_MAX`] old maps are kept: adding a map while that many are still pinned is
//! refused ([`AddError::OldMapsInUse`]).

use std::fs::File;
use std::io;
use std::sync::OnceLock;

use parking_lot::Mutex;

use super::Map;
use crate::sync::{fence, AtomicUsize, Ordering};

/// The most old maps (maps other than the newest) kept mapped for transactions still reading
/// through them. Each is pinned by at least one live transaction of this process; a resize
/// (or a growth of the map) that would keep more is refused, so that a process holding
/// readers across many resizes does not run out of mappings or address space.
pub(crate) const OLD_MAPS_MAX: usize = 16;

/// Chunk `k` holds `2^k` maps, so 32 chunks hold more maps than a process makes.
const CHUNKS: usize = 32;

/// A pin word's value for no map.
const UNPINNED: usize = 0;

/// Why a map was not added.
#[derive(Debug)]
pub(crate) enum AddError {
    /// Mapping failed.
    Io(io::Error),
    /// [`OLD_MAPS_MAX`] old maps are still pinned by live transactions.
    OldMapsInUse,
}

impl From<io::Error> for AddError {
    fn from(error: io::Error) -> AddError {
        AddError::Io(error)
    }
}

/// The index of the newest map and the users' pins: the atomics of the protocol in the
/// module docs (model-checked with a reader table in `readers.rs`).
pub(crate) struct Pins {
    /// The index of the newest map: the one new transactions use.
    newest: AtomicUsize,
    /// Per user (reader slot `i` is user `i`, the writer the last): the index + 1 of the map
    /// it reads through, or [`UNPINNED`].
    words: Box<[AtomicUsize]>,
}

impl Pins {
    /// Pins for `users` users, map 0 the newest.
    pub(crate) fn new(users: usize) -> Pins {
        Pins {
            newest: AtomicUsize::new(0),
            words: (0..users).map(|_| AtomicUsize::new(UNPINNED)).collect(),
        }
    }

    /// The index of the newest map.
    #[inline]
    pub(crate) fn newest(&self) -> usize {
        self.newest.load(Ordering::Acquire)
    }

    /// Makes map `index` the newest (the map must be in place first).
    pub(crate) fn set_newest(&self, index: usize) {
        self.newest.store(index, Ordering::Release);
    }

    /// Records that `user` reads through map `index`; see [`MapSet::pin`].
    #[inline]
    pub(crate) fn pin(&self, user: usize, index: usize) {
        // Release: a scan that sees this value sees everything before it, such as the end
        // of this slot's previous user (who cleared its pin before the slot was claimed).
        self.words[user].store(index + 1, Ordering::Release);
    }

    /// Records that `user` reads through no map.
    #[inline]
    pub(crate) fn unpin(&self, user: usize) {
        self.words[user].store(UNPINNED, Ordering::Release);
    }

    /// The maps pinned now, after the fence that orders a store of the newest index before
    /// this scan (module docs). A map not listed may be released: no user reads through it,
    /// and none will (a user pinning it now finds it is not the newest).
    pub(crate) fn pinned(&self) -> Vec<usize> {
        fence(Ordering::SeqCst);
        self.words
            .iter()
            .map(|word| word.load(Ordering::Acquire))
            .filter(|&word| word != UNPINNED)
            .map(|word| word - 1)
            .collect()
    }
}

/// The maps of one environment, by index in the order they were made.
pub(crate) struct MapSet {
    chunks: [OnceLock<Box<[OnceLock<Map>]>>; CHUNKS],
    /// The newest map's index and the users' pins.
    pins: Pins,
    /// The old maps still mapped, by index. Held while a map is added or released, so two
    /// threads growing at once make one map.
    kept: Mutex<Vec<usize>>,
    /// `kept.len()`, to look at without the lock.
    kept_count: AtomicUsize,
    /// Whether maps made here let the kernel read ahead ([`Map::new`]).
    read_ahead: bool,
}

/// Where map `index` lives: its chunk and its place in the chunk.
fn position(index: usize) -> (usize, usize) {
    let chunk = (index + 1).ilog2() as usize;
    (chunk, index + 1 - (1 << chunk))
}

impl MapSet {
    /// A set whose first (and newest) map is `first`, with `users` pin words; the maps it
    /// makes itself let the kernel read ahead if `read_ahead` ([`Map::new`]).
    pub(crate) fn new(first: Map, users: usize, read_ahead: bool) -> MapSet {
        let set = MapSet {
            chunks: [const { OnceLock::new() }; CHUNKS],
            pins: Pins::new(users),
            kept: Mutex::new(Vec::new()),
            kept_count: AtomicUsize::new(0),
            read_ahead,
        };
        set.store(0, first);
        set
    }

    /// Map `index`, one this set handed out. Its bytes may be read only while a pin of the
    /// caller's names it (the module docs).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> &Map {
        let (chunk, offset) = position(index);
        self.chunks[chunk]
            .get()
            .and_then(|maps| maps[offset].get())
            .expect("map indexes come from this set")
    }

    /// The index of the newest map.
    #[inline]
    pub(crate) fn newest_index(&self) -> usize {
        self.pins.newest()
    }

    /// The newest map and its index.
    #[inline]
    pub(crate) fn newest(&self) -> (usize, &Map) {
        let index = self.newest_index();
        (index, self.get(index))
    }

    /// Records that `user` reads through map `index`. The caller then issues
    /// `fence(SeqCst)` and checks that `index` is still the newest before reading through it
    /// (the module docs); [`Self::pin_newest`] does all three.
    #[inline]
    pub(crate) fn pin(&self, user: usize, index: usize) {
        self.pins.pin(user, index);
    }

    /// Pins map `index` for `user` and reports whether it is still the newest (if not, the
    /// caller must not read through it, and pins another).
    pub(crate) fn pin_newest(&self, user: usize, index: usize) -> bool {
        self.pin(user, index);
        fence(Ordering::SeqCst);
        self.newest_index() == index
    }

    /// Records that `user` no longer reads through any map: after its last read.
    #[inline]
    pub(crate) fn unpin(&self, user: usize) {
        self.pins.unpin(user);
    }

    /// How many old maps are kept mapped now.
    #[inline]
    pub(crate) fn old_maps_kept(&self) -> usize {
        self.kept_count.load(Ordering::Relaxed)
    }

    /// The newest map if it is at least `len` bytes long, else a new one of `len` bytes (made
    /// the newest).
    pub(crate) fn at_least(&self, file: &File, len: usize) -> Result<(usize, &Map), AddError> {
        let newest = self.newest();
        if newest.1.len() >= len {
            return Ok(newest);
        }
        let mut kept = self.kept.lock();
        let newest = self.newest();
        if newest.1.len() >= len {
            return Ok(newest);
        }
        self.make_room(&mut kept)?;
        let map = Map::new(file, len, self.read_ahead)?;
        Ok(self.push_locked(&mut kept, map))
    }

    /// Whether maps of this set let the kernel read ahead.
    pub(crate) fn read_ahead(&self) -> bool {
        self.read_ahead
    }

    /// Adds `map` as the newest (a resize, which may also shrink the map).
    pub(crate) fn push(&self, map: Map) -> Result<(usize, &Map), AddError> {
        let mut kept = self.kept.lock();
        self.make_room(&mut kept)?;
        Ok(self.push_locked(&mut kept, map))
    }

    /// Unmaps every old map no transaction reads through.
    pub(crate) fn release_unused(&self) {
        let mut kept = self.kept.lock();
        self.release_locked(&mut kept);
    }

    /// Releases what it can; refuses when the newest map could not become an old one
    /// without keeping more than [`OLD_MAPS_MAX`].
    fn make_room(&self, kept: &mut Vec<usize>) -> Result<(), AddError> {
        self.release_locked(kept);
        if kept.len() >= OLD_MAPS_MAX {
            return Err(AddError::OldMapsInUse);
        }
        Ok(())
    }

    fn push_locked(&self, kept: &mut Vec<usize>, map: Map) -> (usize, &Map) {
        let old = self.pins.newest();
        let index = old + 1;
        self.store(index, map);
        self.pins.set_newest(index);
        kept.push(old);
        // Often nobody reads through the map just replaced: unmap it now.
        self.release_locked(kept);
        (index, self.get(index))
    }

    fn release_locked(&self, kept: &mut Vec<usize>) {
        if kept.is_empty() {
            return;
        }
        let pinned = self.pins.pinned();
        kept.retain(|&index| {
            let in_use = pinned.contains(&index);
            if !in_use {
                self.get(index).release();
            }
            in_use
        });
        self.kept_count.store(kept.len(), Ordering::Relaxed);
    }

    fn store(&self, index: usize, map: Map) {
        let (chunk, offset) = position(index);
        let maps =
            self.chunks[chunk].get_or_init(|| (0..1 << chunk).map(|_| OnceLock::new()).collect());
        if maps[offset].set(map).is_err() {
            unreachable!("map {index} is stored once, under the lock");
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

    fn data_file(dir: &std::path::Path) -> File {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("data"))
            .unwrap();
        file.set_len(4096).unwrap();
        file
    }

    #[test]
    fn maps_keep_their_index_and_only_a_longer_one_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = data_file(dir.path());
        let set = MapSet::new(Map::new(&file, 4096, true).unwrap(), 2, true);
        let (index, map) = set.at_least(&file, 4096).unwrap();
        assert_eq!((index, map.len()), (0, 4096), "long enough already");
        for pages in 2..=20 {
            let (index, map) = set.at_least(&file, pages * 4096).unwrap();
            assert_eq!((index, map.len()), (pages - 1, pages * 4096));
        }
        let (index, map) = set.push(Map::new(&file, 8192, true).unwrap()).unwrap();
        assert_eq!((index, map.len()), (20, 8192), "a resize may shrink");
        assert_eq!(set.newest().0, 20);
        for index in 0..20 {
            assert_eq!(
                set.get(index).len(),
                (index + 1) * 4096,
                "lengths stay known"
            );
            assert!(!set.get(index).is_mapped(), "nobody pinned map {index}");
        }
        assert_eq!(set.old_maps_kept(), 0);
    }

    #[test]
    fn a_pinned_map_stays_until_unpinned_and_the_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        let file = data_file(dir.path());
        let set = MapSet::new(Map::new(&file, 4096, true).unwrap(), OLD_MAPS_MAX + 1, true);
        assert!(set.pin_newest(0, 0));
        set.push(Map::new(&file, 8192, true).unwrap()).unwrap();
        assert!(set.get(0).is_mapped(), "user 0 reads through it");
        assert_eq!(set.get(0).bytes().len(), 4096);
        assert!(
            !set.pin_newest(1, 0),
            "no longer the newest: not to be read"
        );
        set.unpin(1);
        set.unpin(0);
        set.release_unused();
        assert!(!set.get(0).is_mapped());
        // Each user pins a map, then the map is replaced: the old ones are kept, up to the
        // bound; the next addition is refused until one is unpinned.
        for user in 0..OLD_MAPS_MAX {
            let newest = set.newest_index();
            assert!(set.pin_newest(user, newest));
            set.push(Map::new(&file, 4096, true).unwrap()).unwrap();
        }
        assert_eq!(set.old_maps_kept(), OLD_MAPS_MAX);
        assert!(matches!(
            set.push(Map::new(&file, 4096, true).unwrap()),
            Err(AddError::OldMapsInUse)
        ));
        assert!(matches!(
            set.at_least(&file, 1 << 20),
            Err(AddError::OldMapsInUse)
        ));
        set.unpin(3);
        set.push(Map::new(&file, 4096, true).unwrap()).unwrap();
        assert_eq!(
            set.old_maps_kept(),
            OLD_MAPS_MAX - 1,
            "the one unpinned went"
        );
    }
}
