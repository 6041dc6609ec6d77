//! Branch and leaf pages: the slotted node layout, reading it safely, and changing it.
//!
//! ```text
//! offset            field
//!  0                page header (kind 1 branch / 2 leaf, count, aux = upper)
//! 24                slot array: count x u16 cell offsets, in key order
//! 24 + 2*count      free space
//! upper             cells, packed towards the end of the page
//! ```
//!
//! A leaf cell is `u8 flags, u16 key_len, u32 value_len, key, value` where, with flag bit 0
//! (overflow), the value is replaced by the u64 number of the first page of its overflow run.
//! In a duplicate-sorted database, flag bit 1 says the value is a list of the key's values
//! (`duplicates.rs`), flag bit 3 that it is such a list packed at one width (`DUP_FIXED`),
//! and flag bit 2 that it is the 48-byte descriptor of a tree holding them (`dup_write.rs`).
//! No cell has more than one of these bits, nor any other.
//! A branch cell is `u64 child, u16 key_len, key`; cell 0 of a branch has an empty key and
//! stands for "everything below the next separator". Child `i` holds the keys `k` with
//! `separator(i) <= k < separator(i + 1)`.
//!
//! Cells are kept packed: removing one moves the cells below it up, so free space is always
//! the gap between the slot array and `upper`.
//!
//! A tree of a key's values in a `DUP_FIXED` database has dense leaves instead (page kind 6):
//! its keys (the values) all have one width, recorded in `aux`, and lie packed from offset 24
//! in order, without slots, cell headers or values, as LMDB's `LEAF2` pages. The functions
//! that change a page take either layout; a dense leaf's "cell" is its key's bytes.
//!
//! Every read of a page validates the offsets and lengths it follows and returns
//! [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage) instead of indexing out of bounds.

use std::cmp::Ordering;

use super::order::KeyOrder;
use crate::error::{Error, Result};
use crate::page::header::{self, PageKind, PAGE_HEADER_SIZE};
use crate::page::id::{read_page_id, read_u16, write_page_id, write_u16, write_u32};
use crate::page::PageId;

/// Where the slot array starts.
pub(crate) const SLOTS_OFFSET: usize = PAGE_HEADER_SIZE;
/// Bytes before the key in a leaf cell: flags, key length, value length.
pub(crate) const LEAF_CELL_HEADER: usize = 7;
/// Bytes before the key in a branch cell: child page, key length.
pub(crate) const BRANCH_CELL_HEADER: usize = 10;
/// Bytes of a reference to an overflow run inside a leaf cell.
pub(crate) const OVERFLOW_REFERENCE_SIZE: usize = 8;
/// Leaf cell flag: the value lives in an overflow run.
const FLAG_OVERFLOW: u8 = 1;
/// Leaf cell flag: the value is a list of the key's values.
const FLAG_DUPLICATES: u8 = 2;
/// Leaf cell flag: the value is the descriptor of a tree of the key's values.
const FLAG_DUPLICATE_TREE: u8 = 4;
/// Leaf cell flag: the value is a list of the key's values, packed at one width.
const FLAG_FIXED_DUPLICATES: u8 = 8;
/// Where a dense leaf's keys start.
const DENSE_KEYS_OFFSET: usize = PAGE_HEADER_SIZE;
/// Bytes of one slot.
pub(crate) const SLOT_SIZE: usize = 2;
/// Bytes of a CPU cache line (64 on the machines we run on; a wrong guess only costs speed).
const CACHE_LINE: usize = 64;

/// Bytes available for slots and cells in a page.
pub(crate) fn usable_bytes(page_size: usize) -> usize {
    page_size - SLOTS_OFFSET
}

/// The largest cell (without its slot) a page takes: a quarter of the usable space, so any
/// page holds at least four cells and a split always leaves both halves non-empty.
pub(crate) fn cell_size_max(page_size: usize) -> usize {
    usable_bytes(page_size) / 4 - SLOT_SIZE
}

/// The longest key a page of this size takes: one that still fits a leaf cell whose value is
/// moved to an overflow run, and a branch cell.
pub(crate) fn key_size_max(page_size: usize) -> usize {
    cell_size_max(page_size) - LEAF_CELL_HEADER - OVERFLOW_REFERENCE_SIZE
}

const _: () = assert!(BRANCH_CELL_HEADER <= LEAF_CELL_HEADER + OVERFLOW_REFERENCE_SIZE);

/// How a leaf cell stores its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoredValue<'a> {
    /// The value's bytes, in the cell.
    Inline(&'a [u8]),
    /// The value lives in an overflow run starting at `page`; it is `len` bytes long.
    Overflow {
        /// First page of the run.
        page: PageId,
        /// Value length in bytes.
        len: usize,
    },
    /// Two or more values of one key, listed in the cell (`duplicates.rs`).
    Duplicates(ValueList<'a>),
    /// The key's values are the keys of a tree of their own, whose encoded descriptor this
    /// is (`TreeInfo::ENCODED_SIZE` bytes).
    DuplicateTree(&'a [u8]),
}

/// The bytes of a list of a key's values as a cell holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueList<'a> {
    /// The encoded list.
    pub(crate) bytes: &'a [u8],
    /// Whether the values are packed at one width (a `DUP_FIXED` database's), rather than
    /// each after its length.
    pub(crate) fixed: bool,
}

/// How a page lays out its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Slotted cells of separators and children.
    Branch,
    /// Slotted cells of keys and values.
    Leaf,
    /// Keys of `width` bytes packed, without values: a leaf of a tree of a key's values in a
    /// `DUP_FIXED` database.
    DenseLeaf {
        /// Bytes of every key.
        width: usize,
    },
}

impl Layout {
    /// The key of a raw cell of a page of this layout.
    pub(crate) fn cell_key(self, cell: &[u8]) -> &[u8] {
        match self {
            Layout::Branch => cell_key(cell, false),
            Layout::Leaf => cell_key(cell, true),
            Layout::DenseLeaf { .. } => cell,
        }
    }
}

/// The size of a leaf cell holding `key` and a value stored as `value`.
pub(crate) fn leaf_cell_size(key_len: usize, value: &StoredValue<'_>) -> usize {
    LEAF_CELL_HEADER
        + key_len
        + match value {
            StoredValue::Inline(bytes) | StoredValue::DuplicateTree(bytes) => bytes.len(),
            StoredValue::Duplicates(list) => list.bytes.len(),
            StoredValue::Overflow { .. } => OVERFLOW_REFERENCE_SIZE,
        }
}

/// The size of a branch cell with a `key_len`-byte separator.
pub(crate) fn branch_cell_size(key_len: usize) -> usize {
    BRANCH_CELL_HEADER + key_len
}

/// Writes a leaf cell into `out` (exactly [`leaf_cell_size`] bytes).
pub(crate) fn write_leaf_cell(out: &mut [u8], key: &[u8], value: &StoredValue<'_>) {
    write_u16(out, 1, key.len() as u16);
    out[LEAF_CELL_HEADER..LEAF_CELL_HEADER + key.len()].copy_from_slice(key);
    let rest = LEAF_CELL_HEADER + key.len();
    let (flags, bytes) = match value {
        StoredValue::Inline(bytes) => (0, *bytes),
        StoredValue::Duplicates(ValueList { bytes, fixed }) => (
            if *fixed {
                FLAG_FIXED_DUPLICATES
            } else {
                FLAG_DUPLICATES
            },
            *bytes,
        ),
        StoredValue::DuplicateTree(bytes) => (FLAG_DUPLICATE_TREE, *bytes),
        StoredValue::Overflow { page, len } => {
            out[0] = FLAG_OVERFLOW;
            write_u32(out, 3, *len as u32);
            write_page_id(out, rest, *page);
            return;
        }
    };
    out[0] = flags;
    write_u32(out, 3, bytes.len() as u32);
    out[rest..rest + bytes.len()].copy_from_slice(bytes);
}

/// Writes a branch cell into `out` (exactly [`branch_cell_size`] bytes).
pub(crate) fn write_branch_cell(out: &mut [u8], child: PageId, key: &[u8]) {
    write_page_id(out, 0, child);
    write_u16(out, 8, key.len() as u16);
    out[BRANCH_CELL_HEADER..BRANCH_CELL_HEADER + key.len()].copy_from_slice(key);
}

/// A branch cell as an owned byte vector.
pub(crate) fn branch_cell(child: PageId, key: &[u8]) -> Vec<u8> {
    let mut cell = vec![0u8; branch_cell_size(key.len())];
    write_branch_cell(&mut cell, child, key);
    cell
}

/// The key of a raw cell taken from a node of the given kind.
pub(crate) fn cell_key(cell: &[u8], is_leaf: bool) -> &[u8] {
    if is_leaf {
        let len = read_u16(cell, 1) as usize;
        &cell[LEAF_CELL_HEADER..LEAF_CELL_HEADER + len]
    } else {
        let len = read_u16(cell, 8) as usize;
        &cell[BRANCH_CELL_HEADER..BRANCH_CELL_HEADER + len]
    }
}

/// The child of a raw branch cell.
pub(crate) fn cell_child(cell: &[u8]) -> PageId {
    read_page_id(cell, 0)
}

/// A validated, read-only view of a branch or leaf page.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    page: &'a [u8],
    /// The slot array: `count` little-endian `u16` cell offsets.
    slots: &'a [u8],
    id: PageId,
    count: usize,
    upper: usize,
    is_leaf: bool,
    /// A dense leaf, whose key width `upper` holds (it has no cell area). Kept in the room a
    /// slotted page's fields leave, so that a node stays one cache line.
    dense: bool,
}

/// A leaf cell checked against its page, with its header fields.
struct LeafCell<'a> {
    /// The whole cell.
    bytes: &'a [u8],
    key_len: usize,
    /// The value's length (also when it lives in an overflow run).
    value_len: usize,
    /// The cell's flags, checked to be one of the known kinds.
    flags: u8,
}

/// Where a leaf cell's key length is.
const LEAF_KEY_LENGTH_AT: usize = 1;
/// Where a branch cell's key length is.
const BRANCH_KEY_LENGTH_AT: usize = 8;

impl<'a> Node<'a> {
    /// Validates the header of page `id` and returns a view of it. `leaf` says which kind the
    /// tree's shape requires at this level.
    #[inline]
    pub(crate) fn open(page: &'a [u8], id: PageId, leaf: bool) -> Result<Node<'a>> {
        let (is_leaf, dense) = match header::kind(page) {
            Some(PageKind::Leaf) => (true, false),
            Some(PageKind::Branch) => (false, false),
            Some(PageKind::DenseLeaf) => (true, true),
            _ => return Err(Error::corrupted(id, "expected a branch or leaf page")),
        };
        if is_leaf != leaf {
            return Err(Error::corrupted(
                id,
                "a tree level mixes branch and leaf pages",
            ));
        }
        if header::page_id(page) != id {
            return Err(Error::corrupted(id, "the page header names another page"));
        }
        let count = header::count(page);
        if dense {
            return Self::open_dense(page, id, count);
        }
        let upper = header::aux(page) as usize;
        if SLOTS_OFFSET + SLOT_SIZE * count > upper || upper > page.len() {
            return Err(Error::corrupted(id, "the slot array overlaps the cells"));
        }
        if !is_leaf && count == 0 {
            return Err(Error::corrupted(id, "a branch page without children"));
        }
        // The search reads the slot array from one end to the other; load its lines together.
        for line in
            (SLOTS_OFFSET + CACHE_LINE..SLOTS_OFFSET + SLOT_SIZE * count).step_by(CACHE_LINE)
        {
            crate::os::prefetch(&page[line..]);
        }
        Ok(Node {
            page,
            slots: &page[SLOTS_OFFSET..SLOTS_OFFSET + SLOT_SIZE * count],
            id,
            count,
            upper,
            is_leaf,
            dense: false,
        })
    }

    /// A view of the dense leaf `id` of `count` keys, whose width and extent are checked.
    #[cold]
    fn open_dense(page: &'a [u8], id: PageId, count: usize) -> Result<Node<'a>> {
        let width = header::aux(page) as usize;
        if width == 0 || width > key_size_max(page.len()) {
            return Err(Error::corrupted(
                id,
                "a dense leaf with keys of no valid width",
            ));
        }
        if DENSE_KEYS_OFFSET + count * width > page.len() {
            return Err(Error::corrupted(
                id,
                "a dense leaf's keys run past its page",
            ));
        }
        Ok(Node {
            page,
            slots: &[],
            id,
            count,
            upper: width,
            is_leaf: true,
            dense: true,
        })
    }

    /// Whether this is a dense leaf.
    #[inline(always)]
    pub(crate) fn is_dense(&self) -> bool {
        self.dense
    }

    /// The page's layout.
    pub(crate) fn layout(&self) -> Layout {
        match (self.is_leaf, self.dense) {
            (false, _) => Layout::Branch,
            (true, false) => Layout::Leaf,
            (true, true) => Layout::DenseLeaf { width: self.upper },
        }
    }

    /// Key `index` of a dense leaf.
    #[inline]
    fn dense_key(&self, index: usize) -> Result<&'a [u8]> {
        let width = self.upper;
        let start = DENSE_KEYS_OFFSET + index * width;
        match self.page.get(start..start + width) {
            Some(key) if index < self.count => Ok(key),
            _ => Err(self.corrupted("a key past the end of a dense leaf")),
        }
    }

    /// The offset slot `index` holds; for an index past the slot array, the page's length,
    /// an offset every caller refuses (one bounds check instead of one per byte, and offsets
    /// stay small enough that adding a cell's field position cannot overflow).
    #[inline(always)]
    fn slot(&self, index: usize) -> usize {
        let at = SLOT_SIZE * index;
        match self.slots.get(at..at + SLOT_SIZE) {
            Some(&[low, high]) => u16::from_le_bytes([low, high]) as usize,
            _ => self.page.len(),
        }
    }

    /// Starts loading the cells of entries `from..from + count` (those past the end are
    /// skipped), for a cursor that is about to read them one after another: their cells lie
    /// anywhere in the page, so reading them in order would wait for one miss at a time.
    pub(crate) fn prefetch_cells(&self, from: usize, count: usize) {
        if self.dense {
            // A dense leaf's keys are read in address order, which the hardware follows.
            return;
        }
        for index in from..(from + count).min(self.count) {
            self.prefetch_cell(index);
        }
    }

    /// Starts loading the cell of entry `index` (nothing past the slot array: a prefetch of
    /// the page's end is harmless).
    #[inline(always)]
    pub(crate) fn prefetch_cell(&self, index: usize) {
        crate::os::prefetch(self.page.get(self.slot(index)..).unwrap_or_default());
    }

    /// Corruption found in this page. Out of line and cold, so the search loops stay small.
    #[cold]
    #[inline(never)]
    fn corrupted(&self, reason: &'static str) -> Error {
        Error::corrupted(self.id, reason)
    }

    /// The page this node was read from.
    pub(crate) fn id(&self) -> PageId {
        self.id
    }

    /// How many cells the node holds.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Whether this is a leaf.
    pub(crate) fn is_leaf(&self) -> bool {
        self.is_leaf
    }

    /// Bytes used by slots and cells.
    pub(crate) fn used_bytes(&self) -> usize {
        if self.dense {
            return self.upper * self.count;
        }
        self.page.len() - self.upper + SLOT_SIZE * self.count
    }

    /// Where cell `index` starts, checked to lie in the cell area.
    #[inline(always)]
    fn cell_offset(&self, index: usize) -> Result<usize> {
        debug_assert!(index < self.count);
        let offset = self.slot(index);
        if offset < self.upper {
            return Err(self.corrupted("a cell offset points outside the cell area"));
        }
        Ok(offset)
    }

    /// The raw bytes of cell `index`, validated against the page bounds.
    #[inline]
    pub(crate) fn cell(&self, index: usize) -> Result<&'a [u8]> {
        if self.dense {
            return self.dense_key(index);
        }
        if self.is_leaf {
            return Ok(self.leaf_cell(index)?.bytes);
        }
        let offset = self.cell_offset(index)?;
        // Offsets and lengths are below 2^17 here, so none of these additions overflows.
        let key_len = match self
            .page
            .get(offset + BRANCH_KEY_LENGTH_AT..offset + BRANCH_CELL_HEADER)
        {
            Some(&[low, high]) => u16::from_le_bytes([low, high]) as usize,
            _ => return Err(self.corrupted("a cell offset points outside the cell area")),
        };
        self.checked_cell(offset, BRANCH_CELL_HEADER + key_len)
    }

    /// The `size` bytes of the cell at `offset`, refused when they run past the page or
    /// exceed the cell size limit: cells we write never exceed a quarter page, a larger one
    /// is corrupt, and letting it through could make a split produce halves that do not fit.
    #[inline(always)]
    fn checked_cell(&self, offset: usize, size: usize) -> Result<&'a [u8]> {
        match self.page.get(offset..offset.saturating_add(size)) {
            Some(cell) if size <= cell_size_max(self.page.len()) => Ok(cell),
            _ => Err(self
                .corrupted("a cell runs past the end of its page or exceeds the cell size limit")),
        }
    }

    /// Leaf cell `index`, its fields each read once and the whole cell checked (every entry
    /// a cursor walks comes through here).
    #[inline(always)]
    fn leaf_cell(&self, index: usize) -> Result<LeafCell<'a>> {
        debug_assert!(self.is_leaf);
        let offset = self.cell_offset(index)?;
        let Some(&[flags, key_low, key_high, v0, v1, v2, v3]) =
            self.page.get(offset..offset + LEAF_CELL_HEADER)
        else {
            return Err(self.corrupted("a cell offset points outside the cell area"));
        };
        let key_len = u16::from_le_bytes([key_low, key_high]) as usize;
        let value_len = u32::from_le_bytes([v0, v1, v2, v3]) as usize;
        if !matches!(
            flags,
            0 | FLAG_OVERFLOW | FLAG_DUPLICATES | FLAG_DUPLICATE_TREE | FLAG_FIXED_DUPLICATES
        ) {
            return Err(self.corrupted("a leaf cell has unknown flags"));
        }
        let stored_len = if flags == FLAG_OVERFLOW {
            OVERFLOW_REFERENCE_SIZE
        } else {
            value_len
        };
        let size = (LEAF_CELL_HEADER + key_len).saturating_add(stored_len);
        Ok(LeafCell {
            bytes: self.checked_cell(offset, size)?,
            key_len,
            value_len,
            flags,
        })
    }

    /// The key of cell `index` (empty for cell 0 of a branch).
    #[inline]
    pub(crate) fn key(&self, index: usize) -> Result<&'a [u8]> {
        if self.dense {
            self.dense_key(index)
        } else if self.is_leaf {
            self.key_in::<LEAF_CELL_HEADER, LEAF_KEY_LENGTH_AT>(index)
        } else {
            self.key_in::<BRANCH_CELL_HEADER, BRANCH_KEY_LENGTH_AT>(index)
        }
    }

    /// The key of cell `index` of a page whose cells have a `HEADER`-byte header with the
    /// key length at `LENGTH_AT`. The search hot path: it validates only what the key needs
    /// (the whole cell is validated by `cell` when an entry is taken), with one check per
    /// field and the kind fixed at compile time.
    #[inline(always)]
    fn key_in<const HEADER: usize, const LENGTH_AT: usize>(
        &self,
        index: usize,
    ) -> Result<&'a [u8]> {
        let offset = self.cell_offset(index)?;
        // Offsets and lengths are below 2^17 here, so none of these additions overflows.
        let key_len = match self.page.get(offset + LENGTH_AT..offset + LENGTH_AT + 2) {
            Some(&[low, high]) => u16::from_le_bytes([low, high]) as usize,
            _ => return Err(self.corrupted("a cell offset points outside the cell area")),
        };
        let start = offset + HEADER;
        match self.page.get(start..start + key_len) {
            Some(key) => Ok(key),
            None => Err(self.corrupted("a key runs past the end of its page")),
        }
    }

    /// While a binary search step compares the cell at `middle`, starts loading the cells the
    /// next step may compare (one on each side), so that two cache misses overlap instead of
    /// following each other.
    #[inline(always)]
    fn prefetch_next_probes(&self, low: usize, middle: usize, high: usize) {
        for next in [
            low + (middle - low) / 2,
            middle + 1 + (high - middle - 1) / 2,
        ] {
            if next != middle {
                self.prefetch_cell(next);
            }
        }
    }

    /// The child page of branch cell `index`. Only the eight bytes of the child number are
    /// checked against the page: the page it names is checked when it is opened, and the rest
    /// of the cell when it is read for anything else.
    #[inline]
    pub(crate) fn child(&self, index: usize) -> Result<PageId> {
        debug_assert!(!self.is_leaf);
        let offset = self.cell_offset(index)?;
        match self.page.get(offset..offset + 8) {
            Some(&[a, b, c, d, e, f, g, h]) => {
                Ok(PageId::new(u64::from_le_bytes([a, b, c, d, e, f, g, h])))
            }
            _ => Err(self.corrupted("a cell offset points outside the cell area")),
        }
    }

    /// The key and stored value of leaf cell `index`.
    #[inline]
    pub(crate) fn entry(&self, index: usize) -> Result<(&'a [u8], StoredValue<'a>)> {
        if self.dense {
            return Ok((self.dense_key(index)?, StoredValue::Inline(&[])));
        }
        let cell = self.leaf_cell(index)?;
        let (key, stored) = cell.bytes[LEAF_CELL_HEADER..].split_at(cell.key_len);
        // `stored` is the eight bytes of a page number exactly when the value overflows.
        let value = match (cell.flags, stored) {
            (FLAG_OVERFLOW, &[a, b, c, d, e, f, g, h]) => StoredValue::Overflow {
                page: PageId::new(u64::from_le_bytes([a, b, c, d, e, f, g, h])),
                len: cell.value_len,
            },
            (FLAG_DUPLICATES, bytes) => StoredValue::Duplicates(ValueList {
                bytes,
                fixed: false,
            }),
            (FLAG_FIXED_DUPLICATES, bytes) => {
                StoredValue::Duplicates(ValueList { bytes, fixed: true })
            }
            (FLAG_DUPLICATE_TREE, descriptor) => StoredValue::DuplicateTree(descriptor),
            (_, value) => StoredValue::Inline(value),
        };
        Ok((key, value))
    }

    /// In a leaf: `Ok(index)` of `key`, or `Err(index)` where it would be inserted, under
    /// `order`.
    #[inline]
    pub(crate) fn search_leaf(&self, key: &[u8], order: KeyOrder) -> Result<Result<usize, usize>> {
        if self.dense {
            return self.search_dense(key, order);
        }
        // One search loop per order, chosen once: the byte-wise one compares slices inline.
        match order {
            KeyOrder::Bytes => self.search_leaf_by(key, <[u8]>::cmp),
            other => self.search_leaf_by(key, |a, b| other.compare(a, b)),
        }
    }

    /// `search_leaf` in a dense leaf.
    fn search_dense(&self, key: &[u8], order: KeyOrder) -> Result<Result<usize, usize>> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = low + (high - low) / 2;
            match order.compare(self.dense_key(middle)?, key) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Ok(Ok(middle)),
            }
        }
        Ok(Err(low))
    }

    #[inline(always)]
    fn search_leaf_by(
        &self,
        key: &[u8],
        compare: impl Fn(&[u8], &[u8]) -> Ordering,
    ) -> Result<Result<usize, usize>> {
        let (mut low, mut high) = (0, self.count);
        debug_assert!(self.is_leaf);
        while low < high {
            let middle = low + (high - low) / 2;
            self.prefetch_next_probes(low, middle, high);
            match compare(
                self.key_in::<LEAF_CELL_HEADER, LEAF_KEY_LENGTH_AT>(middle)?,
                key,
            ) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Ok(Ok(middle)),
            }
        }
        Ok(Err(low))
    }

    /// In a branch: the index of the child whose range holds `key` under `order`.
    #[inline]
    pub(crate) fn search_branch(&self, key: &[u8], order: KeyOrder) -> Result<usize> {
        match order {
            KeyOrder::Bytes => self.search_branch_by(key, <[u8]>::cmp),
            other => self.search_branch_by(key, |a, b| other.compare(a, b)),
        }
    }

    #[inline(always)]
    fn search_branch_by(
        &self,
        key: &[u8],
        compare: impl Fn(&[u8], &[u8]) -> Ordering,
    ) -> Result<usize> {
        // The last index whose separator is <= key; separator 0 is minus infinity.
        debug_assert!(!self.is_leaf);
        let (mut low, mut high) = (1, self.count);
        while low < high {
            let middle = low + (high - low) / 2;
            self.prefetch_next_probes(low, middle, high);
            let separator = self.key_in::<BRANCH_CELL_HEADER, BRANCH_KEY_LENGTH_AT>(middle)?;
            if compare(separator, key) != Ordering::Greater {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Ok(low - 1)
    }
}

/// Makes `page` an empty page of `layout` numbered `id`.
pub(crate) fn init(page: &mut [u8], id: PageId, layout: Layout) {
    let (kind, aux) = match layout {
        Layout::Branch => (PageKind::Branch, page.len()),
        Layout::Leaf => (PageKind::Leaf, page.len()),
        Layout::DenseLeaf { width } => (PageKind::DenseLeaf, width),
    };
    header::init(page, kind, id);
    header::set_aux(page, aux as u32);
}

/// The key width of `page` if it is a dense leaf.
#[inline]
fn dense_width(page: &[u8]) -> Option<usize> {
    (header::kind(page) == Some(PageKind::DenseLeaf)).then(|| header::aux(page) as usize)
}

fn upper(page: &[u8]) -> usize {
    header::aux(page) as usize
}

fn slot(page: &[u8], index: usize) -> usize {
    read_u16(page, SLOTS_OFFSET + SLOT_SIZE * index) as usize
}

/// Starts loading the header and the start of the slot array of a page about to be opened.
pub(crate) fn prefetch_head(page: &[u8]) {
    crate::os::prefetch(page);
    crate::os::prefetch(page.get(CACHE_LINE..).unwrap_or_default());
}

/// Free bytes between the slot array and the cells (after a dense leaf's keys).
pub(crate) fn free_bytes(page: &[u8]) -> usize {
    if let Some(width) = dense_width(page) {
        return page.len() - DENSE_KEYS_OFFSET - width * header::count(page);
    }
    upper(page) - SLOTS_OFFSET - SLOT_SIZE * header::count(page)
}

/// Inserts a `size`-byte cell at `index`, letting `fill` write its bytes. Returns false (and
/// changes nothing) when the page lacks room.
pub(crate) fn insert_cell_with(
    page: &mut [u8],
    index: usize,
    size: usize,
    fill: impl FnOnce(&mut [u8]),
) -> bool {
    let count = header::count(page);
    if let Some(width) = dense_width(page) {
        // A key of another width has no place in a dense leaf: callers check widths first,
        // so this is a corrupt page, which the split this asks for then reports.
        if size != width || free_bytes(page) < width {
            return false;
        }
        let at = DENSE_KEYS_OFFSET + width * index;
        page.copy_within(at..DENSE_KEYS_OFFSET + width * count, at + width);
        fill(&mut page[at..at + width]);
        header::set_count(page, count + 1);
        return true;
    }
    if free_bytes(page) < size + SLOT_SIZE {
        return false;
    }
    debug_assert!(index <= count);
    let offset = upper(page) - size;
    fill(&mut page[offset..offset + size]);
    let slot_at = SLOTS_OFFSET + SLOT_SIZE * index;
    let slots_end = SLOTS_OFFSET + SLOT_SIZE * count;
    page.copy_within(slot_at..slots_end, slot_at + SLOT_SIZE);
    write_u16(page, slot_at, offset as u16);
    header::set_count(page, count + 1);
    header::set_aux(page, offset as u32);
    true
}

/// Inserts the raw `cell` at `index`; false when the page lacks room.
pub(crate) fn insert_cell(page: &mut [u8], index: usize, cell: &[u8]) -> bool {
    insert_cell_with(page, index, cell.len(), |out| out.copy_from_slice(cell))
}

/// Removes cell `index` of a page of the given kind, keeping the cells packed.
pub(crate) fn remove_cell(page: &mut [u8], index: usize, cell_size: usize) {
    let count = header::count(page);
    if let Some(width) = dense_width(page) {
        let at = DENSE_KEYS_OFFSET + width * index;
        page.copy_within(at + width..DENSE_KEYS_OFFSET + width * count, at);
        header::set_count(page, count - 1);
        return;
    }
    let offset = slot(page, index);
    let low = upper(page);
    page.copy_within(low..offset, low + cell_size);
    for other in 0..count {
        let other_offset = slot(page, other);
        if other_offset < offset {
            write_u16(
                page,
                SLOTS_OFFSET + SLOT_SIZE * other,
                (other_offset + cell_size) as u16,
            );
        }
    }
    let slot_at = SLOTS_OFFSET + SLOT_SIZE * index;
    let slots_end = SLOTS_OFFSET + SLOT_SIZE * count;
    page.copy_within(slot_at + SLOT_SIZE..slots_end, slot_at);
    header::set_count(page, count - 1);
    header::set_aux(page, (low + cell_size) as u32);
}

/// Overwrites the bytes of cell `index` with a cell of the same size.
pub(crate) fn overwrite_cell(
    page: &mut [u8],
    index: usize,
    cell_size: usize,
    fill: impl FnOnce(&mut [u8]),
) {
    let offset = match dense_width(page) {
        Some(width) => DENSE_KEYS_OFFSET + width * index,
        None => slot(page, index),
    };
    fill(&mut page[offset..offset + cell_size]);
}

/// Points branch cell `index` at `child`.
pub(crate) fn set_child(page: &mut [u8], index: usize, child: PageId) {
    let offset = slot(page, index);
    write_page_id(page, offset, child);
}

/// Refills page `id` with `cells` in order, laid out as `layout` says.
///
/// Callers choose cells that fit by the sizes the pages report; they can only fail to fit if
/// the source pages were corrupt (for example two slots naming one cell, or keys of two
/// widths in a dense leaf), which is [`MdbError::CorruptedPage`](crate::MdbError::CorruptedPage).
pub(crate) fn fill(page: &mut [u8], id: PageId, layout: Layout, cells: &[&[u8]]) -> Result<()> {
    init(page, id, layout);
    for (index, cell) in cells.iter().enumerate() {
        if !insert_cell(page, index, cell) {
            return Err(Error::corrupted(
                id,
                "cells overlap: they do not fit when repacked",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_id(number: u64) -> PageId {
        PageId::new(number)
    }

    fn leaf_with(keys: &[&[u8]]) -> Vec<u8> {
        let mut page = vec![0u8; 512];
        init(&mut page, page_id(5), Layout::Leaf);
        for (index, key) in keys.iter().enumerate() {
            let value = StoredValue::Inline(b"value");
            let size = leaf_cell_size(key.len(), &value);
            assert!(insert_cell_with(&mut page, index, size, |out| {
                write_leaf_cell(out, key, &value)
            }));
        }
        page
    }

    #[test]
    fn insert_search_and_remove_keep_the_page_consistent() {
        let mut page = leaf_with(&[b"a", b"c", b"e"]);
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert_eq!(node.search_leaf(b"c", KeyOrder::Bytes).unwrap(), Ok(1));
        assert_eq!(node.search_leaf(b"d", KeyOrder::Bytes).unwrap(), Err(2));
        let free_before = free_bytes(&page);
        let size = node.cell(1).unwrap().len();
        remove_cell(&mut page, 1, size);
        assert_eq!(free_bytes(&page), free_before + size + SLOT_SIZE);
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert_eq!(node.count(), 2);
        assert_eq!(node.key(0).unwrap(), b"a");
        assert_eq!(node.key(1).unwrap(), b"e");
        assert_eq!(node.entry(1).unwrap().1, StoredValue::Inline(b"value"));
    }

    #[test]
    fn branch_search_finds_the_covering_child() {
        let mut page = vec![0u8; 512];
        init(&mut page, page_id(3), Layout::Branch);
        for (index, (child, key)) in [(10u64, &b""[..]), (11, b"m"), (12, b"t")]
            .iter()
            .enumerate()
        {
            assert!(insert_cell(
                &mut page,
                index,
                &branch_cell(page_id(*child), key)
            ));
        }
        let node = Node::open(&page, page_id(3), false).unwrap();
        assert_eq!(node.search_branch(b"", KeyOrder::Bytes).unwrap(), 0);
        assert_eq!(node.search_branch(b"l", KeyOrder::Bytes).unwrap(), 0);
        assert_eq!(node.search_branch(b"m", KeyOrder::Bytes).unwrap(), 1);
        assert_eq!(node.search_branch(b"s", KeyOrder::Bytes).unwrap(), 1);
        assert_eq!(node.search_branch(b"zz", KeyOrder::Bytes).unwrap(), 2);
        assert_eq!(node.child(2).unwrap(), page_id(12));
    }

    #[test]
    fn corrupt_offsets_are_errors_not_panics() {
        let mut page = leaf_with(&[b"a", b"b"]);
        write_u16(&mut page, SLOTS_OFFSET, 600);
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert!(node.key(0).is_err());
        let mut page = leaf_with(&[b"a"]);
        header::set_count(&mut page, 300);
        assert!(Node::open(&page, page_id(5), true).is_err());
        let page = leaf_with(&[b"a"]);
        assert!(
            Node::open(&page, page_id(6), true).is_err(),
            "wrong page id"
        );
        assert!(Node::open(&page, page_id(5), false).is_err(), "wrong kind");
    }

    #[test]
    fn an_oversized_cell_is_corruption() {
        let mut page = leaf_with(&[b"a"]);
        // Claim a 400-byte inline value: it fits in the page but no cell may be that large.
        let offset = slot(&page, 0);
        write_u32(&mut page, offset + 3, 400);
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert!(node.cell(0).is_err());
    }

    #[test]
    fn entry_and_child_check_what_they_read() {
        // An inline and an overflow entry read back as written.
        let mut page = vec![0u8; 512];
        init(&mut page, page_id(5), Layout::Leaf);
        let overflow = StoredValue::Overflow {
            page: page_id(77),
            len: 9000,
        };
        for (index, (key, value)) in [(&b"a"[..], StoredValue::Inline(b"one")), (b"b", overflow)]
            .iter()
            .enumerate()
        {
            let size = leaf_cell_size(key.len(), value);
            assert!(insert_cell_with(&mut page, index, size, |out| {
                write_leaf_cell(out, key, value)
            }));
        }
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert_eq!(
            node.entry(0).unwrap(),
            (&b"a"[..], StoredValue::Inline(b"one"))
        );
        assert_eq!(node.entry(1).unwrap(), (&b"b"[..], overflow));
        // A value length past the cell size limit, or a slot outside the cell area.
        let offset = slot(&page, 0);
        let mut oversized = page.clone();
        write_u32(&mut oversized, offset + 3, 400);
        let node = Node::open(&oversized, page_id(5), true).unwrap();
        assert!(node.entry(0).is_err());
        assert!(node.entry(1).is_ok());
        let mut stray = page.clone();
        write_u16(&mut stray, SLOTS_OFFSET, 40);
        assert!(Node::open(&stray, page_id(5), true)
            .unwrap()
            .entry(0)
            .is_err());
        write_u16(&mut stray, SLOTS_OFFSET, 510);
        assert!(Node::open(&stray, page_id(5), true)
            .unwrap()
            .entry(0)
            .is_err());

        // A branch's child: read where the slot says, refused outside the cell area or when
        // the eight bytes run past the page.
        let mut branch = vec![0u8; 512];
        init(&mut branch, page_id(3), Layout::Branch);
        assert!(insert_cell(&mut branch, 0, &branch_cell(page_id(10), b"")));
        assert!(insert_cell(&mut branch, 1, &branch_cell(page_id(11), b"m")));
        assert_eq!(
            Node::open(&branch, page_id(3), false)
                .unwrap()
                .child(1)
                .unwrap(),
            page_id(11)
        );
        write_u16(&mut branch, SLOTS_OFFSET + SLOT_SIZE, 30);
        assert!(Node::open(&branch, page_id(3), false)
            .unwrap()
            .child(1)
            .is_err());
        write_u16(&mut branch, SLOTS_OFFSET + SLOT_SIZE, 508);
        assert!(Node::open(&branch, page_id(3), false)
            .unwrap()
            .child(1)
            .is_err());
    }

    fn dense_leaf(keys: &[&[u8]]) -> Vec<u8> {
        let mut page = vec![0u8; 512];
        init(&mut page, page_id(5), Layout::DenseLeaf { width: 2 });
        for (index, key) in keys.iter().enumerate() {
            assert!(insert_cell(&mut page, index, key));
        }
        page
    }

    #[test]
    fn a_dense_leaf_packs_its_keys_and_changes_like_a_slotted_one() {
        let mut page = dense_leaf(&[b"aa", b"cc", b"ee"]);
        assert_eq!(&page[DENSE_KEYS_OFFSET..DENSE_KEYS_OFFSET + 6], b"aaccee");
        let node = Node::open(&page, page_id(5), true).unwrap();
        assert_eq!(node.layout(), Layout::DenseLeaf { width: 2 });
        assert_eq!(node.used_bytes(), 6);
        assert_eq!(node.search_leaf(b"cc", KeyOrder::Bytes).unwrap(), Ok(1));
        assert_eq!(node.search_leaf(b"dd", KeyOrder::Bytes).unwrap(), Err(2));
        assert_eq!(node.search_leaf(b"ff", KeyOrder::Bytes).unwrap(), Err(3));
        assert_eq!(
            node.entry(2).unwrap(),
            (&b"ee"[..], StoredValue::Inline(b""))
        );
        assert_eq!(node.cell(0).unwrap(), b"aa");
        assert!(node.key(3).is_err(), "past the keys");
        assert_eq!(free_bytes(&page), 512 - DENSE_KEYS_OFFSET - 6);
        // Insert in the middle, overwrite, remove: the keys stay packed and in place.
        assert!(insert_cell(&mut page, 1, b"bb"));
        overwrite_cell(&mut page, 3, 2, |out| out.copy_from_slice(b"ef"));
        remove_cell(&mut page, 0, 2);
        let node = Node::open(&page, page_id(5), true).unwrap();
        let keys: Vec<&[u8]> = (0..node.count()).map(|i| node.key(i).unwrap()).collect();
        assert_eq!(keys, [&b"bb"[..], b"cc", b"ef"]);
        assert!(!insert_cell(&mut page, 0, b"abc"), "a key of another width");
        // Full: 244 keys of 2 bytes fill the 488 bytes after the header.
        let mut full = dense_leaf(&[]);
        for index in 0..244u16 {
            assert!(insert_cell(&mut full, index as usize, &index.to_be_bytes()));
        }
        assert!(!insert_cell(&mut full, 0, b"zz"));
        assert_eq!(free_bytes(&full), 0);
        // Refilled as another layout, the page is that layout.
        fill(&mut full, page_id(5), Layout::Leaf, &[]).unwrap();
        assert_eq!(
            Node::open(&full, page_id(5), true).unwrap().layout(),
            Layout::Leaf
        );
        let mut mixed = vec![0u8; 512];
        assert!(fill(
            &mut mixed,
            page_id(5),
            Layout::DenseLeaf { width: 2 },
            &[b"aa", b"bbb"]
        )
        .is_err());
    }

    #[test]
    fn a_damaged_dense_leaf_is_corruption() {
        let page = dense_leaf(&[b"aa", b"bb"]);
        assert!(
            Node::open(&page, page_id(5), false).is_err(),
            "not a branch"
        );
        for (width, count, what) in [
            (0u32, 2usize, "width 0"),
            (key_size_max(512) as u32 + 1, 1, "wider than any key"),
            (2, 245, "keys past the page"),
        ] {
            let mut damaged = page.clone();
            header::set_aux(&mut damaged, width);
            header::set_count(&mut damaged, count);
            assert!(Node::open(&damaged, page_id(5), true).is_err(), "{what}");
        }
        let mut widest = page.clone();
        header::set_aux(&mut widest, key_size_max(512) as u32);
        header::set_count(&mut widest, 1);
        assert!(Node::open(&widest, page_id(5), true).is_ok());
    }

    #[test]
    fn limits_leave_room_for_four_cells() {
        for page_size in [512usize, 4096, 65536] {
            let max = cell_size_max(page_size);
            assert!(4 * (max + SLOT_SIZE) <= usable_bytes(page_size));
            assert!(branch_cell_size(key_size_max(page_size)) <= max);
        }
        assert!(key_size_max(4096) >= 511);
    }
}
