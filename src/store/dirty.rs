//! The dirty pages of a write transaction, by page number.
//!
//! Every page a write transaction reads is first looked up here, several times per put, so
//! the lookup must be cheap. A small transaction (a one-insert commit dirties about its
//! tree's depth plus one pages) keeps them in a short sorted list: a few comparisons per
//! lookup, and nothing to allocate or scan beyond its own pages. Past [`SMALL_MAX`] pages
//! they move to a table indexed by page number, which page numbers being small dense integers
//! allows: chunks of [`CHUNK_PAGES`] slots, allocated when a page in them first becomes dirty,
//! so that a lookup is two array indexings. Either way iteration comes out in page order,
//! which is the order commit writes in.

use crate::page::id::PageId;

/// Page slots per chunk of the table.
const CHUNK_PAGES: usize = 512;
/// The most dirty pages kept in the sorted list before the table takes over. A chunk costs
/// 8 KiB to allocate, scan and drop; five scattered pages took five of them, about a tenth of
/// a one-insert commit's CPU (docs/BENCHMARKS.md).
const SMALL_MAX: usize = 32;

type Chunk = Box<[Option<Box<[u8]>>]>;

/// Buffers of dirty pages (or overflow runs), keyed by their first page number.
#[derive(Clone, Default)]
pub(crate) struct DirtyPages {
    /// The pages while there are at most [`SMALL_MAX`], sorted by number; empty once the
    /// table is in use.
    small: Vec<(PageId, Box<[u8]>)>,
    /// The table, once it has taken over (`large`).
    chunks: Vec<Option<Chunk>>,
    large: bool,
    /// Buffers held, and their bytes (a commit decides how to sync from them).
    buffers: usize,
    bytes: usize,
}

fn split(id: PageId) -> (usize, usize) {
    (
        (id.get() / CHUNK_PAGES as u64) as usize,
        (id.get() % CHUNK_PAGES as u64) as usize,
    )
}

impl DirtyPages {
    /// The buffer of page `id`, if it is dirty.
    #[inline]
    pub(crate) fn get(&self, id: PageId) -> Option<&[u8]> {
        if !self.large {
            let index = self.small_index(id).ok()?;
            return Some(&self.small[index].1);
        }
        let (chunk, slot) = split(id);
        self.chunks.get(chunk)?.as_ref()?[slot].as_deref()
    }

    /// The buffer of page `id` for writing, if it is dirty.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: PageId) -> Option<&mut [u8]> {
        if !self.large {
            let index = self.small_index(id).ok()?;
            return Some(&mut self.small[index].1);
        }
        let (chunk, slot) = split(id);
        self.chunks.get_mut(chunk)?.as_mut()?[slot].as_deref_mut()
    }

    #[inline]
    fn small_index(&self, id: PageId) -> Result<usize, usize> {
        self.small.binary_search_by_key(&id, |&(page, _)| page)
    }

    /// Whether page `id` is dirty.
    #[inline]
    pub(crate) fn contains(&self, id: PageId) -> bool {
        self.get(id).is_some()
    }

    /// Records `buffer` as page `id`; returns the buffer it replaced, if any.
    pub(crate) fn insert(&mut self, id: PageId, buffer: Box<[u8]>) -> Option<Box<[u8]>> {
        self.buffers += 1;
        self.bytes += buffer.len();
        let replaced = if self.large {
            self.insert_in_table(id, buffer)
        } else {
            match self.small_index(id) {
                Ok(index) => Some(std::mem::replace(&mut self.small[index].1, buffer)),
                Err(index) => {
                    self.small.insert(index, (id, buffer));
                    if self.small.len() > SMALL_MAX {
                        self.large = true;
                        for (id, buffer) in std::mem::take(&mut self.small) {
                            self.insert_in_table(id, buffer);
                        }
                    }
                    None
                }
            }
        };
        if let Some(old) = &replaced {
            self.buffers -= 1;
            self.bytes -= old.len();
        }
        replaced
    }

    fn insert_in_table(&mut self, id: PageId, buffer: Box<[u8]>) -> Option<Box<[u8]>> {
        let (chunk, slot) = split(id);
        if self.chunks.len() <= chunk {
            self.chunks.resize_with(chunk + 1, || None);
        }
        let slots =
            self.chunks[chunk].get_or_insert_with(|| (0..CHUNK_PAGES).map(|_| None).collect());
        slots[slot].replace(buffer)
    }

    /// The number of buffers (pages and overflow runs) held, and their bytes.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.buffers, self.bytes)
    }

    /// Forgets page `id`; returns its buffer if it was dirty.
    pub(crate) fn remove(&mut self, id: PageId) -> Option<Box<[u8]>> {
        let removed = if self.large {
            let (chunk, slot) = split(id);
            self.chunks.get_mut(chunk)?.as_mut()?[slot].take()
        } else {
            let index = self.small_index(id).ok()?;
            Some(self.small.remove(index).1)
        };
        if let Some(buffer) = &removed {
            self.buffers -= 1;
            self.bytes -= buffer.len();
        }
        removed
    }

    /// Every dirty page number and buffer, in page order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (PageId, &mut [u8])> {
        // One of the two is empty.
        let small = self
            .small
            .iter_mut()
            .map(|(id, buffer)| (*id, &mut buffer[..]));
        let table = self
            .chunks
            .iter_mut()
            .enumerate()
            .flat_map(|(chunk, slots)| {
                slots
                    .iter_mut()
                    .flat_map(|slots| slots.iter_mut())
                    .enumerate()
                    .filter_map(move |(slot, buffer)| {
                        buffer.as_deref_mut().map(|buffer| {
                            (PageId::new((chunk * CHUNK_PAGES + slot) as u64), buffer)
                        })
                    })
            });
        small.chain(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_ordered_iteration() {
        let mut dirty = DirtyPages::default();
        insert_get_remove_and_ordered_iteration_in(&mut dirty);
        assert!(!dirty.large, "five pages stay in the sorted list");
        // The same in the table: fill it past the list first, then empty it again.
        let mut dirty = DirtyPages::default();
        let filler = 1_000_000..1_000_000 + SMALL_MAX as u64 + 1;
        for id in filler.clone().map(PageId::new) {
            dirty.insert(id, vec![0; 1].into_boxed_slice());
        }
        assert!(dirty.large);
        for id in filler.map(PageId::new) {
            assert!(dirty.remove(id).is_some());
        }
        insert_get_remove_and_ordered_iteration_in(&mut dirty);
    }

    #[test]
    fn moving_to_the_table_keeps_every_page_and_the_order() {
        let mut dirty = DirtyPages::default();
        let ids: Vec<PageId> = (0..SMALL_MAX as u64 * 3)
            .map(|n| PageId::new((n * 7919) % 100_003))
            .collect();
        for (n, &id) in ids.iter().enumerate() {
            assert!(dirty
                .insert(id, vec![n as u8; 2].into_boxed_slice())
                .is_none());
            assert_eq!(dirty.large, n >= SMALL_MAX, "after {} pages", n + 1);
        }
        for (n, &id) in ids.iter().enumerate() {
            assert_eq!(dirty.get(id).unwrap()[0], n as u8);
        }
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let order: Vec<PageId> = dirty.iter_mut().map(|(id, _)| id).collect();
        assert_eq!(order, sorted);
        assert_eq!(dirty.size(), (ids.len(), 2 * ids.len()));
    }

    fn insert_get_remove_and_ordered_iteration_in(dirty: &mut DirtyPages) {
        let page = PageId::new;
        for id in [5000u64, 3, 511, 512, 70_000] {
            assert!(dirty
                .insert(page(id), vec![id as u8; 4].into_boxed_slice())
                .is_none());
        }
        assert!(dirty.contains(page(512)));
        assert!(!dirty.contains(page(513)));
        assert!(!dirty.contains(page(1 << 40)));
        assert_eq!(dirty.get(page(511)).unwrap()[0], 511u64 as u8);
        dirty.get_mut(page(3)).unwrap()[0] = 99;
        assert_eq!(dirty.get(page(3)).unwrap()[0], 99);
        let order: Vec<u64> = dirty.iter_mut().map(|(id, _)| id.get()).collect();
        assert_eq!(order, vec![3, 511, 512, 5000, 70_000]);
        assert_eq!(dirty.size(), (5, 20));
        assert!(dirty.remove(page(512)).is_some());
        assert!(dirty.remove(page(512)).is_none());
        assert_eq!(dirty.iter_mut().count(), 4);
        assert!(dirty
            .insert(page(3), vec![0; 10].into_boxed_slice())
            .is_some());
        assert_eq!(dirty.size(), (4, 22));
    }
}
