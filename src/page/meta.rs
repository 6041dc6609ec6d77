//! Meta pages: the two roots of everything, alternating per commit.
//!
//! Pages 0 and 1 each hold one meta. A commit writes its meta into the slot of the older one
//! (`txn_id % 2`), so the newest durable meta is never overwritten. Open takes the valid meta
//! with the highest txn id; a meta whose CRC32 does not match is ignored, and so is one whose
//! unsynced runs (below) do not all match their checksums.
//!
//! ```text
//! offset size field
//!   0    8    magic           "ARBORDB\0"
//!   8    4    format_version  FORMAT_VERSION
//!  12    4    page_size       bytes per page, a power of two in 512..=65536
//!  16    8    txn_id          the commit that wrote this meta
//!  24    8    page_count      pages in use: every page number is below this
//!  32    8    map_size        map size in bytes when written (informational)
//!  40    8    freelist        first page of the freelist chain, 0 if none
//!  48   48    main            the unnamed database's tree (TreeInfo)
//!  96   48    catalog         the catalog tree: name -> TreeInfo of each named database
//! 144    4    unsynced_runs   n, the runs listed below (format version 3)
//! 148    4    checksum        CRC32 of bytes 0..148 and of everything after 152
//! 152   16n   runs            first page u64, pages u32, checksum u32 of each run
//! +16n   4    freelist_bytes  m, 0 unless the freelist is kept here (format version 5)
//! +4     m    freelist        the freelist stream (`freelist.rs`) when `freelist` is 0
//! ```
//!
//! A version 2 meta ends at 148 with its checksum (CRC32 of bytes 0..144) at 144; a version 3
//! or 4 meta ends after its runs.
//!
//! **A small freelist lives in the meta** (format version 5). A commit that leaves at most
//! [`freelist_capacity`] bytes of freelist stream writes it into its meta instead of a chain
//! page: the meta is written anyway, so the commit writes one place fewer, and a sync's time
//! grows with the places written. The checksum covers it like the rest.
//!
//! **Unsynced runs.** A small commit writes its pages and its meta and then syncs once
//! (`txn/commit.rs`), so after a power loss the meta may be on disk while some of its pages
//! are not. Such a meta lists every page or overflow run the commit wrote with the checksum
//! that run's header carries; open takes the meta only if every listed run reads back with that
//! checksum ([`verify_unsynced`]). A meta written after its pages were synced lists nothing.
//! Only pages the commit wrote can be missing: every other page it names belongs to earlier
//! commits, which were durable before it began.

use super::id::{
    read_page_id, read_txn_id, read_u32, read_u64, write_page_id, write_txn_id, write_u32,
    write_u64, PageId, TxnId,
};

/// The first eight bytes of every arbordb data file.
pub(crate) const MAGIC: [u8; 8] = *b"ARBORDB\0";

/// The on-disk format version; it moves with every incompatible change (docs/format.md).
/// Commits write this version.
pub const FORMAT_VERSION: u32 = 7;

/// The oldest format version still read. Version 1 (no free segments), version 2 (no
/// unsynced runs), version 3 (no free segments marked as holding runs), version 4 (no
/// freelist in the meta), version 5 (no database flags) and version 6 (no `DUP_FIXED`) files
/// are read as they are; their first commit writes a current meta.
pub(crate) const FORMAT_VERSION_OLDEST_READ: u32 = 1;

/// The smallest supported page size in bytes.
pub(crate) const PAGE_SIZE_MIN: usize = 512;
/// The largest supported page size in bytes (cell offsets are 16-bit).
pub(crate) const PAGE_SIZE_MAX: usize = 65536;

const MAGIC_OFFSET: usize = 0;
const VERSION_OFFSET: usize = 8;
const PAGE_SIZE_OFFSET: usize = 12;
const TXN_ID_OFFSET: usize = 16;
const PAGE_COUNT_OFFSET: usize = 24;
const MAP_SIZE_OFFSET: usize = 32;
const FREELIST_OFFSET: usize = 40;
const MAIN_OFFSET: usize = 48;
const CATALOG_OFFSET: usize = MAIN_OFFSET + TreeInfo::ENCODED_SIZE;
const UNSYNCED_COUNT_OFFSET: usize = CATALOG_OFFSET + TreeInfo::ENCODED_SIZE;
const CHECKSUM_OFFSET: usize = UNSYNCED_COUNT_OFFSET + 4;
const RUNS_OFFSET: usize = CHECKSUM_OFFSET + 4;
/// Where a version 2 meta keeps its checksum (of the bytes before it).
const CHECKSUM_OFFSET_VERSION_2: usize = UNSYNCED_COUNT_OFFSET;

/// Bytes of an encoded meta that lists no unsynced runs (the fixed part of every meta).
pub(crate) const META_SIZE: usize = RUNS_OFFSET;

/// The most unsynced runs a meta lists: a commit that writes more syncs its pages before its
/// meta. Bounds both the meta's size and the reads that verify it on open.
pub(crate) const UNSYNCED_RUNS_MAX: usize = 64;
/// The most bytes of pages a meta's unsynced runs may cover (what open reads to verify them).
pub(crate) const UNSYNCED_BYTES_MAX: u64 = 1 << 20;

/// The most freelist stream bytes a meta holds (with pages of 4 KiB or more).
pub(crate) const FREELIST_BYTES_MAX: usize = 1024;

/// The most bytes a meta slot holds: the fixed part, the longest list of runs and the largest
/// freelist.
pub(crate) const META_SIZE_MAX: usize =
    RUNS_OFFSET + UNSYNCED_RUNS_MAX * UnsyncedRun::ENCODED_SIZE + 4 + FREELIST_BYTES_MAX;

const _: () = assert!(CHECKSUM_OFFSET_VERSION_2 == 144);
const _: () = assert!(CHECKSUM_OFFSET == 148);
const _: () = assert!(META_SIZE <= PAGE_SIZE_MIN);
const _: () = assert!(META_SIZE_MAX <= 4096);
const _: () = assert!(RUNS_OFFSET + 4 + PAGE_SIZE_MIN / 4 <= PAGE_SIZE_MIN);

/// The most freelist stream bytes a meta holds with pages of `page_size` bytes: a quarter of
/// the page, at most [`FREELIST_BYTES_MAX`].
pub(crate) fn freelist_capacity(page_size: usize) -> usize {
    (page_size / 4).min(FREELIST_BYTES_MAX)
}

/// The most unsynced runs a meta lists with pages of `page_size` bytes next to
/// `freelist_bytes` bytes of freelist (all must fit in the meta's page and in
/// [`META_SIZE_MAX`]).
pub(crate) fn unsynced_runs_capacity(page_size: usize, freelist_bytes: usize) -> usize {
    runs_fitting(
        page_size
            .min(META_SIZE_MAX)
            .saturating_sub(RUNS_OFFSET + 4 + freelist_bytes),
    )
}

/// [`unsynced_runs_capacity`] of a version 3 or 4 meta, which has no freelist field.
fn unsynced_runs_capacity_version_4(page_size: usize) -> usize {
    runs_fitting(page_size.saturating_sub(RUNS_OFFSET))
}

/// How many unsynced runs `room` bytes hold, at most [`UNSYNCED_RUNS_MAX`].
fn runs_fitting(room: usize) -> usize {
    (room / UnsyncedRun::ENCODED_SIZE).min(UNSYNCED_RUNS_MAX)
}

/// What a meta holds after its fixed part: the runs its commit wrote without syncing them
/// first, and its freelist stream when it keeps the freelist itself (`Meta::freelist` is then
/// 0). Shared, because a snapshot keeps it for as long as transactions read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetaTail {
    pub(crate) runs: Vec<UnsyncedRun>,
    pub(crate) freelist: Option<std::sync::Arc<[u8]>>,
}

/// The bytes of a meta slot worth reading with pages of `page_size` bytes.
pub(crate) fn slot_read_len(page_size: usize) -> usize {
    page_size.min(META_SIZE_MAX)
}

/// One page or overflow run a commit wrote without syncing it before its meta, as the meta
/// lists it.
///
/// ```text
/// offset size field
///  0     8    first      the run's first page
///  8     4    pages      pages in the run (1 for a page of its own)
/// 12     4    checksum   the checksum its header records (CRC32 of the run from byte 4)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnsyncedRun {
    pub(crate) first: PageId,
    pub(crate) pages: u32,
    pub(crate) checksum: u32,
}

impl UnsyncedRun {
    /// Bytes of an encoded run.
    pub(crate) const ENCODED_SIZE: usize = 16;
}

/// Whether `size` is a page size arbordb supports.
pub(crate) fn is_valid_page_size(size: usize) -> bool {
    size.is_power_of_two() && (PAGE_SIZE_MIN..=PAGE_SIZE_MAX).contains(&size)
}

/// How a database orders and stores its entries, recorded in its tree descriptor. The bits
/// LMDB has keep LMDB's values; arbordb's own start at bit 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub(crate) struct TreeFlags(u32);

impl TreeFlags {
    /// Keys compare byte-wise from their last byte (LMDB's `MDB_REVERSEKEY`).
    pub(crate) const REVERSE_KEY: TreeFlags = TreeFlags(0x02);
    /// Keys compare as unsigned integers (LMDB's `MDB_INTEGERKEY`).
    pub(crate) const INTEGER_KEY: TreeFlags = TreeFlags(0x08);
    /// A key may have several values, kept sorted (LMDB's `MDB_DUPSORT`).
    pub(crate) const DUP_SORT: TreeFlags = TreeFlags(0x04);
    /// With `DUP_SORT`: a key's values all have one size, stored packed (LMDB's
    /// `MDB_DUPFIXED`).
    pub(crate) const DUP_FIXED: TreeFlags = TreeFlags(0x10);
    /// With `DUP_SORT`: values compare as unsigned integers (LMDB's `MDB_INTEGERDUP`).
    pub(crate) const INTEGER_DUP: TreeFlags = TreeFlags(0x20);
    /// With `DUP_SORT`: values compare byte-wise from their last byte (`MDB_REVERSEDUP`).
    pub(crate) const REVERSE_DUP: TreeFlags = TreeFlags(0x40);
    /// Keys are ordered by a function of the application's, whose name the catalog records.
    pub(crate) const CUSTOM_KEY_ORDER: TreeFlags = TreeFlags(0x1_0000);
    /// With `DUP_SORT`: values are ordered by a function of the application's, whose name
    /// the catalog records.
    pub(crate) const CUSTOM_VALUE_ORDER: TreeFlags = TreeFlags(0x2_0000);
    /// Only in the descriptor of a tree of a key's values, in a `DUP_FIXED` database: its
    /// leaves are dense (`btree/node.rs`).
    pub(crate) const DENSE_LEAVES: TreeFlags = TreeFlags(0x4_0000);
    /// The flags a database's options may set (the rest are arbordb's to set).
    pub(crate) const SETTABLE: u32 = 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40;
    /// Every flag this version knows; any other bit set is corruption (or a newer format,
    /// which the meta's version refuses first).
    const KNOWN: u32 = Self::SETTABLE | 0x1_0000 | 0x2_0000 | 0x4_0000;

    /// No flag.
    pub(crate) const fn empty() -> TreeFlags {
        TreeFlags(0)
    }

    /// From raw bits, as a database's options give them.
    pub(crate) const fn from_bits(bits: u32) -> TreeFlags {
        TreeFlags(bits)
    }

    /// The raw bits.
    pub(crate) const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub(crate) const fn contains(self, other: TreeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with `other`'s flags added.
    pub(crate) const fn with(self, other: TreeFlags) -> TreeFlags {
        TreeFlags(self.0 | other.0)
    }

    /// The bits this version does not know, if any is set.
    pub(crate) const fn unknown_bits(self) -> Option<u32> {
        match self.0 & !Self::KNOWN {
            0 => None,
            bits => Some(bits),
        }
    }
}

/// The descriptor of one B-tree: its root and its statistics.
///
/// ```text
/// offset size field
///  0     8    root            root page, 0 for an empty tree
///  8     4    depth           levels, 0 for an empty tree, 1 for a lone leaf
/// 12     4    flags           the database's flags (TreeFlags; 0 before format version 6)
/// 16     8    branch_pages
/// 24     8    leaf_pages
/// 32     8    overflow_pages
/// 40     8    entries
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TreeInfo {
    pub(crate) root: PageId,
    pub(crate) depth: u32,
    pub(crate) flags: TreeFlags,
    pub(crate) branch_pages: u64,
    pub(crate) leaf_pages: u64,
    pub(crate) overflow_pages: u64,
    pub(crate) entries: u64,
}

impl TreeInfo {
    /// Bytes of an encoded tree descriptor.
    pub(crate) const ENCODED_SIZE: usize = 48;

    /// An empty tree with `flags`.
    pub(crate) fn empty(flags: TreeFlags) -> TreeInfo {
        TreeInfo {
            flags,
            ..TreeInfo::default()
        }
    }

    /// Encodes into `out`, which is at least [`Self::ENCODED_SIZE`] bytes.
    pub(crate) fn encode_into(&self, out: &mut [u8]) {
        write_page_id(out, 0, self.root);
        write_u32(out, 8, self.depth);
        write_u32(out, 12, self.flags.bits());
        write_u64(out, 16, self.branch_pages);
        write_u64(out, 24, self.leaf_pages);
        write_u64(out, 32, self.overflow_pages);
        write_u64(out, 40, self.entries);
    }

    /// Encodes into a fresh array.
    pub(crate) fn encode(&self) -> [u8; Self::ENCODED_SIZE] {
        let mut out = [0u8; Self::ENCODED_SIZE];
        self.encode_into(&mut out);
        out
    }

    /// Decodes; `None` when `bytes` is not exactly [`Self::ENCODED_SIZE`] long.
    pub(crate) fn decode(bytes: &[u8]) -> Option<TreeInfo> {
        if bytes.len() != Self::ENCODED_SIZE {
            return None;
        }
        Some(TreeInfo {
            root: read_page_id(bytes, 0),
            depth: read_u32(bytes, 8),
            flags: TreeFlags(read_u32(bytes, 12)),
            branch_pages: read_u64(bytes, 16),
            leaf_pages: read_u64(bytes, 24),
            overflow_pages: read_u64(bytes, 32),
            entries: read_u64(bytes, 40),
        })
    }
}

/// The decoded contents of a meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) page_size: u32,
    pub(crate) txn_id: TxnId,
    pub(crate) page_count: u64,
    pub(crate) map_size: u64,
    pub(crate) freelist: PageId,
    pub(crate) main: TreeInfo,
    pub(crate) catalog: TreeInfo,
}

/// What a slot of the file holds, as far as meta decoding can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaSlot {
    /// A meta that passed every check.
    Valid(Meta),
    /// The bytes do not start with the magic.
    NotArbordb,
    /// The magic is right and the format version is newer than this build reads: a newer
    /// release committed to the file. No release writes a version above its own, so neither
    /// a torn write of this or an older release nor a failed checksum can explain it away;
    /// opening must refuse rather than fall back to the other meta, which the next commit
    /// would write over the newer one (docs/format.md, "Opening a file").
    NewerVersion(u32),
    /// The magic and version are right but the checksum fails (a torn or damaged meta).
    BadChecksum,
    /// The checksum passes but the page size is unsupported.
    BadPageSize(u32),
}

impl Meta {
    /// The meta of a brand-new file: txn 0, two meta pages, empty trees.
    pub(crate) fn empty(page_size: u32, map_size: u64) -> Meta {
        Meta {
            page_size,
            txn_id: TxnId::BEFORE_FIRST_COMMIT,
            page_count: super::id::META_PAGE_COUNT,
            map_size,
            freelist: PageId::NONE,
            main: TreeInfo::default(),
            catalog: TreeInfo::default(),
        }
    }

    /// Encodes with its checksum, listing no unsynced runs (its pages are synced before it
    /// is written) and keeping no freelist.
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.encode_with(&[], None)
    }

    /// Encodes with its checksum, the runs its commit writes without syncing them first, and
    /// the freelist stream when the meta keeps it (then `self.freelist` is 0).
    ///
    /// # Panics
    /// If the freelist is larger than [`freelist_capacity`], or `runs` longer than the page
    /// can hold beside it ([`unsynced_runs_capacity`]).
    pub(crate) fn encode_with(&self, runs: &[UnsyncedRun], freelist: Option<&[u8]>) -> Vec<u8> {
        let page_size = self.page_size as usize;
        let freelist = freelist.unwrap_or_default();
        assert!(
            freelist.len() <= freelist_capacity(page_size),
            "{} bytes of freelist do not fit in a meta",
            freelist.len()
        );
        assert!(
            runs.len() <= unsynced_runs_capacity(page_size, freelist.len()),
            "{} unsynced runs do not fit in a meta",
            runs.len()
        );
        let freelist_at = RUNS_OFFSET + runs.len() * UnsyncedRun::ENCODED_SIZE;
        let mut out = vec![0u8; freelist_at + 4 + freelist.len()];
        out[MAGIC_OFFSET..MAGIC_OFFSET + 8].copy_from_slice(&MAGIC);
        write_u32(&mut out, VERSION_OFFSET, FORMAT_VERSION);
        write_u32(&mut out, PAGE_SIZE_OFFSET, self.page_size);
        write_txn_id(&mut out, TXN_ID_OFFSET, self.txn_id);
        write_u64(&mut out, PAGE_COUNT_OFFSET, self.page_count);
        write_u64(&mut out, MAP_SIZE_OFFSET, self.map_size);
        write_page_id(&mut out, FREELIST_OFFSET, self.freelist);
        self.main.encode_into(&mut out[MAIN_OFFSET..]);
        self.catalog.encode_into(&mut out[CATALOG_OFFSET..]);
        write_u32(&mut out, UNSYNCED_COUNT_OFFSET, runs.len() as u32);
        for (index, run) in runs.iter().enumerate() {
            let at = RUNS_OFFSET + index * UnsyncedRun::ENCODED_SIZE;
            write_page_id(&mut out, at, run.first);
            write_u32(&mut out, at + 8, run.pages);
            write_u32(&mut out, at + 12, run.checksum);
        }
        write_u32(&mut out, freelist_at, freelist.len() as u32);
        out[freelist_at + 4..].copy_from_slice(freelist);
        let checksum = meta_checksum(&out);
        write_u32(&mut out, CHECKSUM_OFFSET, checksum);
        out
    }

    /// Decodes the meta at the start of `bytes`, which hold the slot's first
    /// [`slot_read_len`] bytes (at least [`META_SIZE`]; a list of runs or a freelist reaching
    /// past them counts as a bad checksum).
    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> MetaSlot {
        Self::decode_with_tail(bytes).0
    }

    /// Decodes as [`decode`](Self::decode) and returns what follows the fixed part too
    /// (empty unless the slot is valid).
    pub(crate) fn decode_with_tail(bytes: &[u8]) -> (MetaSlot, MetaTail) {
        let fail = |slot| (slot, MetaTail::default());
        if bytes.len() < CHECKSUM_OFFSET || bytes[MAGIC_OFFSET..MAGIC_OFFSET + 8] != MAGIC {
            return fail(MetaSlot::NotArbordb);
        }
        let version = read_u32(bytes, VERSION_OFFSET);
        if version > FORMAT_VERSION {
            return fail(MetaSlot::NewerVersion(version));
        }
        if version < FORMAT_VERSION_OLDEST_READ {
            // No release wrote it: damage, as a failed checksum is.
            return fail(MetaSlot::BadChecksum);
        }
        let page_size = read_u32(bytes, PAGE_SIZE_OFFSET);
        let mut runs = Vec::new();
        let mut freelist = None;
        if version < 3 {
            let stored = read_u32(bytes, CHECKSUM_OFFSET_VERSION_2);
            if stored != crc32fast::hash(&bytes[..CHECKSUM_OFFSET_VERSION_2]) {
                return fail(MetaSlot::BadChecksum);
            }
        } else {
            // The counts are not trusted before the checksum: one no commit could have written
            // (more than the page holds, or than `bytes` reaches) is a torn meta.
            let count = read_u32(bytes, UNSYNCED_COUNT_OFFSET) as usize;
            let runs_end =
                RUNS_OFFSET + count.min(UNSYNCED_RUNS_MAX + 1) * UnsyncedRun::ENCODED_SIZE;
            let (capacity, end) = if version < 5 {
                (
                    unsynced_runs_capacity_version_4(page_size as usize),
                    runs_end,
                )
            } else {
                if runs_end + 4 > bytes.len() {
                    return fail(MetaSlot::BadChecksum);
                }
                let freelist_bytes = read_u32(bytes, runs_end) as usize;
                if freelist_bytes > freelist_capacity(page_size as usize) {
                    return fail(MetaSlot::BadChecksum);
                }
                (
                    unsynced_runs_capacity(page_size as usize, freelist_bytes),
                    runs_end + 4 + freelist_bytes,
                )
            };
            if count > capacity || end > bytes.len() {
                return fail(MetaSlot::BadChecksum);
            }
            if read_u32(bytes, CHECKSUM_OFFSET) != meta_checksum(&bytes[..end]) {
                return fail(MetaSlot::BadChecksum);
            }
            if end > runs_end + 4 {
                freelist = Some(bytes[runs_end + 4..end].into());
            }
            runs = (0..count)
                .map(|index| {
                    let at = RUNS_OFFSET + index * UnsyncedRun::ENCODED_SIZE;
                    UnsyncedRun {
                        first: read_page_id(bytes, at),
                        pages: read_u32(bytes, at + 8),
                        checksum: read_u32(bytes, at + 12),
                    }
                })
                .collect();
        }
        if !is_valid_page_size(page_size as usize) {
            return fail(MetaSlot::BadPageSize(page_size));
        }
        let tree = |offset: usize| {
            TreeInfo::decode(&bytes[offset..offset + TreeInfo::ENCODED_SIZE])
                .expect("slice has the encoded size")
        };
        let meta = Meta {
            page_size,
            txn_id: read_txn_id(bytes, TXN_ID_OFFSET),
            page_count: read_u64(bytes, PAGE_COUNT_OFFSET),
            map_size: read_u64(bytes, MAP_SIZE_OFFSET),
            freelist: read_page_id(bytes, FREELIST_OFFSET),
            main: tree(MAIN_OFFSET),
            catalog: tree(CATALOG_OFFSET),
        };
        (MetaSlot::Valid(meta), MetaTail { runs, freelist })
    }
}

/// The txn id a slot's bytes claim, checksum or not: what a meta that failed its checksum
/// says of itself, to tell whether open passed over a newer commit (for reporting only; never
/// trusted for anything else). `None` without the magic.
pub(crate) fn claimed_txn_id(bytes: &[u8]) -> Option<TxnId> {
    if bytes.len() < TXN_ID_OFFSET + 8 || bytes[MAGIC_OFFSET..MAGIC_OFFSET + 8] != MAGIC {
        return None;
    }
    Some(read_txn_id(bytes, TXN_ID_OFFSET))
}

/// The checksum of an encoded version 3 meta: CRC32 of everything but the checksum field.
fn meta_checksum(encoded: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&encoded[..CHECKSUM_OFFSET]);
    hasher.update(&encoded[RUNS_OFFSET..]);
    hasher.finalize()
}

/// Whether every run a meta lists reads back as its commit wrote it: inside the meta's
/// `page_count` pages, `UNSYNCED_BYTES_MAX` in all, and with the checksum the list records
/// both in the run's header and over its bytes. `read(offset, buffer)` fills `buffer` from the
/// file; a read error other than a short file is returned.
///
/// `false` means the commit that wrote the meta did not reach the disk whole (a power loss
/// before its sync returned), or the file is damaged: either way the meta is not to be used.
pub(crate) fn verify_unsynced(
    runs: &[UnsyncedRun],
    page_size: usize,
    page_count: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let mut total_bytes = 0u64;
    let mut buffer = Vec::new();
    for run in runs {
        let end = run.first.checked_add(u64::from(run.pages));
        let in_range = run.first >= PageId::FIRST_TREE_PAGE
            && run.pages > 0
            && end.is_some_and(|end| end.get() <= page_count);
        total_bytes += u64::from(run.pages) * page_size as u64;
        if !in_range || total_bytes > UNSYNCED_BYTES_MAX {
            return Ok(false);
        }
        buffer.resize(run.pages as usize * page_size, 0);
        match read(run.first.byte_offset(page_size), &mut buffer) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(error) => return Err(error),
        }
        let recorded = super::header::recorded_checksum(&buffer);
        if recorded != run.checksum || super::header::compute_checksum(&buffer) != run.checksum {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Meta {
        let mut meta = Meta::empty(4096, 1 << 30);
        meta.txn_id = TxnId::new(7);
        meta.page_count = 99;
        meta.freelist = PageId::new(42);
        meta.main.root = PageId::new(5);
        meta.main.depth = 2;
        meta.main.entries = 1000;
        meta.catalog.root = PageId::new(6);
        meta
    }

    #[test]
    fn meta_round_trips() {
        let meta = sample();
        assert_eq!(Meta::decode(&meta.encode()), MetaSlot::Valid(meta));
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        assert_every_flipped_byte_is_detected(&sample().encode(), 0x20);
    }

    /// Flips bits `mask` of each byte of `encoded` in turn: no such meta may decode as valid.
    fn assert_every_flipped_byte_is_detected(encoded: &[u8], mask: u8) {
        for index in 0..encoded.len() {
            let mut damaged = encoded.to_vec();
            damaged[index] ^= mask;
            assert!(
                !matches!(Meta::decode(&damaged), MetaSlot::Valid(_)),
                "byte {index}"
            );
        }
    }

    fn runs() -> Vec<UnsyncedRun> {
        vec![
            UnsyncedRun {
                first: PageId::new(9),
                pages: 1,
                checksum: 0xdead_beef,
            },
            UnsyncedRun {
                first: PageId::new(20),
                pages: 3,
                checksum: 7,
            },
        ]
    }

    #[test]
    fn unsynced_runs_round_trip_and_every_flipped_byte_of_them_is_detected() {
        let encoded = sample().encode_with(&runs(), None);
        assert_eq!(encoded.len(), META_SIZE + 2 * UnsyncedRun::ENCODED_SIZE + 4);
        assert_eq!(
            Meta::decode_with_tail(&encoded),
            (MetaSlot::Valid(sample()), tail(runs(), None))
        );
        // Trailing bytes (the rest of the slot) do not matter.
        let mut slot = encoded.clone();
        slot.resize(4096, 0xAA);
        assert_eq!(Meta::decode_with_tail(&slot).1, tail(runs(), None));
        assert_every_flipped_byte_is_detected(&encoded, 0x04);
        // A list cut short by the bytes read is a bad checksum, not a panic.
        assert_eq!(
            Meta::decode(&encoded[..encoded.len() - 1]),
            MetaSlot::BadChecksum
        );
    }

    fn tail(runs: Vec<UnsyncedRun>, freelist: Option<&[u8]>) -> MetaTail {
        MetaTail {
            runs,
            freelist: freelist.map(Into::into),
        }
    }

    #[test]
    fn a_freelist_round_trips_beside_runs_and_every_flipped_byte_of_it_is_detected() {
        let mut meta = sample();
        meta.freelist = PageId::NONE;
        let stream: Vec<u8> = (0..200u8).collect();
        let encoded = meta.encode_with(&runs(), Some(&stream));
        assert_eq!(
            encoded.len(),
            META_SIZE + 2 * UnsyncedRun::ENCODED_SIZE + 4 + 200
        );
        assert_eq!(
            Meta::decode_with_tail(&encoded),
            (MetaSlot::Valid(meta), tail(runs(), Some(&stream)))
        );
        let mut slot = encoded.clone();
        slot.resize(4096, 0xAA);
        assert_eq!(Meta::decode_with_tail(&slot).1, tail(runs(), Some(&stream)));
        assert_every_flipped_byte_is_detected(&encoded, 0x10);
        // Cut short by the bytes read (a torn or short read): a bad checksum, not a panic.
        for len in [encoded.len() - 1, encoded.len() - 200, META_SIZE + 1] {
            assert_eq!(
                Meta::decode(&encoded[..len]),
                MetaSlot::BadChecksum,
                "{len}"
            );
        }
    }

    #[test]
    fn counts_beyond_the_page_are_a_bad_checksum() {
        let mut small = sample();
        small.page_size = 512;
        assert_eq!(freelist_capacity(512), 128);
        assert_eq!(freelist_capacity(4096), FREELIST_BYTES_MAX);
        assert_eq!(freelist_capacity(65536), FREELIST_BYTES_MAX);
        assert_eq!(unsynced_runs_capacity(512, 0), 22);
        assert_eq!(unsynced_runs_capacity(512, 128), 14);
        assert_eq!(
            unsynced_runs_capacity(4096, FREELIST_BYTES_MAX),
            UNSYNCED_RUNS_MAX
        );
        assert_eq!(
            unsynced_runs_capacity(65536, FREELIST_BYTES_MAX),
            UNSYNCED_RUNS_MAX
        );
        // More runs than the page holds, then a freelist larger than the page allows.
        for (field, too_many) in [(UNSYNCED_COUNT_OFFSET, 23), (RUNS_OFFSET, 129)] {
            for count in [too_many, u32::MAX] {
                let mut encoded = small.encode();
                encoded.resize(4096, 0);
                write_u32(&mut encoded, field, count);
                assert_eq!(
                    Meta::decode(&encoded),
                    MetaSlot::BadChecksum,
                    "{field} {count}"
                );
            }
        }
    }

    /// For every page size and freelist length, a meta listing as many runs as
    /// `unsynced_runs_capacity` allows fits in the slot that is read and decodes whole, and
    /// one run more would not fit (unless the list is at its maximum).
    #[test]
    fn the_runs_capacity_fills_the_slot_as_far_as_it_goes() {
        let mut page_size = PAGE_SIZE_MIN;
        while page_size <= PAGE_SIZE_MAX {
            let limit = slot_read_len(page_size);
            let mut meta = sample();
            meta.page_size = page_size as u32;
            meta.freelist = PageId::NONE;
            let most = freelist_capacity(page_size);
            for freelist_len in (0..=most).step_by(3).chain([most]) {
                let capacity = unsynced_runs_capacity(page_size, freelist_len);
                let runs = vec![runs()[1]; capacity];
                let stream = vec![0x5A; freelist_len];
                let encoded = meta.encode_with(&runs, Some(&stream));
                let case = format!("page {page_size}, freelist {freelist_len}");
                assert!(encoded.len() <= limit, "{case}");
                assert!(
                    capacity == UNSYNCED_RUNS_MAX
                        || encoded.len() + UnsyncedRun::ENCODED_SIZE > limit,
                    "{case}: room for one run more"
                );
                let mut slot = encoded.clone();
                slot.resize(limit, 0);
                let (decoded, tail) = Meta::decode_with_tail(&slot);
                assert_eq!(decoded, MetaSlot::Valid(meta), "{case}");
                assert_eq!(tail.runs, runs, "{case}");
            }
            page_size *= 2;
        }
    }

    #[test]
    fn a_claimed_txn_id_needs_the_magic_and_its_bytes() {
        let encoded = sample().encode();
        assert_eq!(claimed_txn_id(&encoded), Some(TxnId::new(7)));
        assert_eq!(
            claimed_txn_id(&encoded[..TXN_ID_OFFSET + 8]),
            Some(TxnId::new(7))
        );
        assert_eq!(claimed_txn_id(&encoded[..TXN_ID_OFFSET + 7]), None);
        assert_eq!(claimed_txn_id(&encoded[..1]), None);
        let mut foreign = encoded;
        foreign[MAGIC_OFFSET] ^= 1;
        assert_eq!(claimed_txn_id(&foreign), None);
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn encoding_more_runs_than_the_page_holds_panics() {
        let mut small = sample();
        small.page_size = 512;
        small.encode_with(&vec![runs()[0]; 15], Some(&[0u8; 128]));
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn encoding_a_freelist_larger_than_the_page_allows_panics() {
        let mut small = sample();
        small.page_size = 512;
        small.encode_with(&[], Some(&[0u8; 129]));
    }

    #[test]
    fn version_3_and_4_metas_are_still_read() {
        for version in [3, 4] {
            // The older layout: the runs end the meta, with no freelist field.
            let mut encoded = sample().encode_with(&runs(), None);
            encoded.truncate(encoded.len() - 4);
            write_u32(&mut encoded, VERSION_OFFSET, version);
            let checksum = meta_checksum(&encoded);
            write_u32(&mut encoded, CHECKSUM_OFFSET, checksum);
            assert_eq!(
                Meta::decode_with_tail(&encoded),
                (MetaSlot::Valid(sample()), tail(runs(), None))
            );
            encoded[20] ^= 1;
            assert_eq!(Meta::decode(&encoded), MetaSlot::BadChecksum);
        }
    }

    /// A file image of `pages` pages of 512 bytes, where page `id` holds a sealed page.
    fn image_with_sealed_pages(pages: u64, sealed: &[(u64, usize)]) -> Vec<u8> {
        let mut image = vec![0u8; pages as usize * 512];
        for &(id, run) in sealed {
            let start = id as usize * 512;
            let bytes = &mut image[start..start + run * 512];
            bytes[100] = id as u8;
            super::super::header::seal(bytes);
        }
        image
    }

    fn run_of(image: &[u8], first: u64, pages: u32) -> UnsyncedRun {
        UnsyncedRun {
            first: PageId::new(first),
            pages,
            checksum: read_u32(image, first as usize * 512),
        }
    }

    fn verify(image: &[u8], runs: &[UnsyncedRun], page_count: u64) -> bool {
        verify_unsynced(runs, 512, page_count, |offset, buffer| {
            let start = offset as usize;
            let bytes = image.get(start..start + buffer.len()).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "past the end")
            })?;
            buffer.copy_from_slice(bytes);
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn unsynced_runs_verify_only_when_every_run_reads_back_whole() {
        let image = image_with_sealed_pages(12, &[(3, 1), (5, 4)]);
        let listed = [run_of(&image, 3, 1), run_of(&image, 5, 4)];
        assert!(verify(&image, &listed, 12));
        assert!(verify(&image, &[], 12));
        // A page of the run that did not reach the disk (still zeros, or older contents).
        let mut lost = image.clone();
        lost[7 * 512 + 300] ^= 1;
        assert!(!verify(&lost, &listed, 12));
        // A page that did not reach the disk at all but holds another sealed page.
        let older = image_with_sealed_pages(12, &[(3, 1), (5, 4), (11, 1)]);
        let mut stale = older.clone();
        stale[3 * 512..4 * 512].copy_from_slice(&older[11 * 512..12 * 512]);
        assert!(!verify(&stale, &listed, 12));
        // Runs outside the file, at the metas, empty, or past the meta's page count.
        for bad in [
            UnsyncedRun {
                first: PageId::NONE,
                ..listed[0]
            },
            UnsyncedRun {
                pages: 0,
                ..listed[0]
            },
            UnsyncedRun {
                first: PageId::new(11),
                pages: 2,
                ..listed[0]
            },
            UnsyncedRun {
                first: PageId::new(u64::MAX),
                pages: 2,
                ..listed[0]
            },
        ] {
            assert!(!verify(&image, &[bad], 12), "{bad:?}");
        }
        assert!(!verify(&image, &listed, 8));
        // A file shorter than the meta says: not verified, not an error.
        assert!(!verify(&image[..6 * 512], &listed, 12));
        // More bytes than a commit lists.
        let huge = UnsyncedRun {
            first: PageId::FIRST_TREE_PAGE,
            pages: (UNSYNCED_BYTES_MAX / 512 + 1) as u32,
            checksum: 0,
        };
        assert!(!verify(&image, &[huge], u64::MAX));
    }

    /// Runs that all read back whole verify up to `UNSYNCED_BYTES_MAX` bytes in all, and not
    /// one page beyond.
    #[test]
    fn unsynced_runs_verify_up_to_the_byte_limit_and_not_past_it() {
        let limit_pages = (UNSYNCED_BYTES_MAX / 512) as usize;
        let (first, last) = (2, 2 + limit_pages as u64);
        let image = image_with_sealed_pages(last + 1, &[(first, limit_pages), (last, 1)]);
        let at_limit = run_of(&image, first, limit_pages as u32);
        let past = run_of(&image, last, 1);
        assert!(verify(&image, &[at_limit], last + 1));
        assert!(verify(&image, &[past], last + 1));
        assert!(!verify(&image, &[at_limit, past], last + 1));
    }

    /// A read that fails other than by reaching the end of the file is an error, not a meta
    /// that merely did not verify.
    #[test]
    fn a_read_error_while_verifying_is_returned() {
        let image = image_with_sealed_pages(4, &[(3, 1)]);
        let failed = verify_unsynced(&[run_of(&image, 3, 1)], 512, 4, |_, _| {
            Err(std::io::Error::other("the disk failed"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "the disk failed");
    }

    #[test]
    fn wrong_magic_and_version_are_told_apart() {
        let mut encoded = sample().encode();
        encoded[0] = b'X';
        assert_eq!(Meta::decode(&encoded), MetaSlot::NotArbordb);
        let mut encoded = sample().encode();
        write_u32(&mut encoded, VERSION_OFFSET, FORMAT_VERSION + 1);
        assert_eq!(
            Meta::decode(&encoded),
            MetaSlot::NewerVersion(FORMAT_VERSION + 1)
        );
    }

    #[test]
    fn version_1_and_2_metas_are_still_read() {
        for version in [1, 2] {
            // The older layout: 148 bytes, the checksum of the first 144 at 144.
            let mut encoded = sample().encode()[..148].to_vec();
            write_u32(&mut encoded, VERSION_OFFSET, version);
            let checksum = crc32fast::hash(&encoded[..CHECKSUM_OFFSET_VERSION_2]);
            write_u32(&mut encoded, CHECKSUM_OFFSET_VERSION_2, checksum);
            assert_eq!(
                Meta::decode_with_tail(&encoded),
                (MetaSlot::Valid(sample()), MetaTail::default())
            );
            encoded[20] ^= 1;
            assert_eq!(Meta::decode(&encoded), MetaSlot::BadChecksum);
        }
        let mut encoded = sample().encode();
        write_u32(&mut encoded, VERSION_OFFSET, 0);
        assert_eq!(Meta::decode(&encoded), MetaSlot::BadChecksum);
    }

    #[test]
    fn unsupported_page_size_is_reported() {
        let mut meta = sample();
        meta.page_size = 3000;
        assert_eq!(Meta::decode(&meta.encode()), MetaSlot::BadPageSize(3000));
    }
}
