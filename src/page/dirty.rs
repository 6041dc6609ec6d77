//! The dirty pages of a write transaction, by page number.
//!
//! Every page a write transaction reads is first looked up here, several times per put, so
//! the lookup must be cheap. Page numbers are small dense integers, so instead of hashing
//! they index a two-level table: chunks of [`CHUNK_PAGES`] slots, allocated when a page in
//! them first becomes dirty. A lookup is two array indexings; iteration comes out in page
//! order, which is the order commit writes in.

use super::id::PageId;

/// Page slots per chunk of the table.
const CHUNK_PAGES: usize = 512;

type Chunk = Box<[Option<Box<[u8]>>]>;

/// Buffers of dirty pages (or overflow runs), keyed by their first page number.
#[derive(Clone, Default)]
pub(crate) struct DirtyPages {
    chunks: Vec<Option<Chunk>>,
    /// Buffers held, and their bytes (a commit decides how to sync from them).
    buffers: usize,
    bytes: usize,
}

fn split(id: PageId) -> (usize, usize) {
    (
        (id / CHUNK_PAGES as u64) as usize,
        (id % CHUNK_PAGES as u64) as usize,
    )
}

impl DirtyPages {
    /// The buffer of page `id`, if it is dirty.
    #[inline]
    pub(crate) fn get(&self, id: PageId) -> Option<&[u8]> {
        let (chunk, slot) = split(id);
        self.chunks.get(chunk)?.as_ref()?[slot].as_deref()
    }

    /// The buffer of page `id` for writing, if it is dirty.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: PageId) -> Option<&mut [u8]> {
        let (chunk, slot) = split(id);
        self.chunks.get_mut(chunk)?.as_mut()?[slot].as_deref_mut()
    }

    /// Whether page `id` is dirty.
    #[inline]
    pub(crate) fn contains(&self, id: PageId) -> bool {
        self.get(id).is_some()
    }

    /// Records `buffer` as page `id`; returns the buffer it replaced, if any.
    pub(crate) fn insert(&mut self, id: PageId, buffer: Box<[u8]>) -> Option<Box<[u8]>> {
        let (chunk, slot) = split(id);
        if self.chunks.len() <= chunk {
            self.chunks.resize_with(chunk + 1, || None);
        }
        let slots =
            self.chunks[chunk].get_or_insert_with(|| (0..CHUNK_PAGES).map(|_| None).collect());
        self.buffers += 1;
        self.bytes += buffer.len();
        let replaced = slots[slot].replace(buffer);
        if let Some(old) = &replaced {
            self.buffers -= 1;
            self.bytes -= old.len();
        }
        replaced
    }

    /// The number of buffers (pages and overflow runs) held, and their bytes.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.buffers, self.bytes)
    }

    /// Forgets page `id`; returns its buffer if it was dirty.
    pub(crate) fn remove(&mut self, id: PageId) -> Option<Box<[u8]>> {
        let (chunk, slot) = split(id);
        let removed = self.chunks.get_mut(chunk)?.as_mut()?[slot].take();
        if let Some(buffer) = &removed {
            self.buffers -= 1;
            self.bytes -= buffer.len();
        }
        removed
    }

    /// Every dirty page number and buffer, in page order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (PageId, &mut [u8])> {
        self.chunks
            .iter_mut()
            .enumerate()
            .flat_map(|(chunk, slots)| {
                slots
                    .iter_mut()
                    .flat_map(|slots| slots.iter_mut())
                    .enumerate()
                    .filter_map(move |(slot, buffer)| {
                        buffer
                            .as_deref_mut()
                            .map(|buffer| ((chunk * CHUNK_PAGES + slot) as PageId, buffer))
                    })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_ordered_iteration() {
        let mut dirty = DirtyPages::default();
        for id in [5000u64, 3, 511, 512, 70_000] {
            assert!(dirty
                .insert(id, vec![id as u8; 4].into_boxed_slice())
                .is_none());
        }
        assert!(dirty.contains(512));
        assert!(!dirty.contains(513));
        assert!(!dirty.contains(1 << 40));
        assert_eq!(dirty.get(511).unwrap()[0], 511u64 as u8);
        dirty.get_mut(3).unwrap()[0] = 99;
        assert_eq!(dirty.get(3).unwrap()[0], 99);
        let order: Vec<u64> = dirty.iter_mut().map(|(id, _)| id).collect();
        assert_eq!(order, vec![3, 511, 512, 5000, 70_000]);
        assert_eq!(dirty.size(), (5, 20));
        assert!(dirty.remove(512).is_some());
        assert!(dirty.remove(512).is_none());
        assert_eq!(dirty.iter_mut().count(), 4);
        assert!(dirty.insert(3, vec![0; 10].into_boxed_slice()).is_some());
        assert_eq!(dirty.size(), (4, 22));
    }
}
