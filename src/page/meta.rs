//! Meta pages: the two roots of everything, alternating per commit.
//!
//! Pages 0 and 1 each hold one meta. A commit writes its meta into the slot of the older one
//! (`txn_id % 2`), so the newest durable meta is never overwritten. Open takes the valid meta
//! with the highest txn id; a meta whose CRC32 does not match is ignored.
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
//! 144    4    checksum        CRC32 of bytes 0..144
//! ```

use super::id::{read_u32, read_u64, write_u32, write_u64, PageId, TxnId};

/// The first eight bytes of every arbordb data file.
pub(crate) const MAGIC: [u8; 8] = *b"ARBORDB\0";

/// The on-disk format version; it moves with every incompatible change (docs/format.md).
/// Commits write this version.
pub const FORMAT_VERSION: u32 = 2;

/// The oldest format version still read. A version 1 file (no free segments) is read as is;
/// its first commit writes a version 2 meta, and older arbordb releases then refuse the file.
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
const CHECKSUM_OFFSET: usize = CATALOG_OFFSET + TreeInfo::ENCODED_SIZE;

/// Bytes of an encoded meta.
pub(crate) const META_SIZE: usize = CHECKSUM_OFFSET + 4;

const _: () = assert!(CHECKSUM_OFFSET == 144);
const _: () = assert!(META_SIZE <= PAGE_SIZE_MIN);

/// Whether `size` is a page size arbordb supports.
pub(crate) fn is_valid_page_size(size: usize) -> bool {
    size.is_power_of_two() && (PAGE_SIZE_MIN..=PAGE_SIZE_MAX).contains(&size)
}

/// The descriptor of one B-tree: its root and its statistics.
///
/// ```text
/// offset size field
///  0     8    root            root page, 0 for an empty tree
///  8     4    depth           levels, 0 for an empty tree, 1 for a lone leaf
/// 12     4    reserved        0
/// 16     8    branch_pages
/// 24     8    leaf_pages
/// 32     8    overflow_pages
/// 40     8    entries
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TreeInfo {
    pub(crate) root: PageId,
    pub(crate) depth: u32,
    pub(crate) branch_pages: u64,
    pub(crate) leaf_pages: u64,
    pub(crate) overflow_pages: u64,
    pub(crate) entries: u64,
}

impl TreeInfo {
    /// Bytes of an encoded tree descriptor.
    pub(crate) const ENCODED_SIZE: usize = 48;

    /// Encodes into `out`, which is at least [`Self::ENCODED_SIZE`] bytes.
    pub(crate) fn encode_into(&self, out: &mut [u8]) {
        write_u64(out, 0, self.root);
        write_u32(out, 8, self.depth);
        write_u32(out, 12, 0);
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
            root: read_u64(bytes, 0),
            depth: read_u32(bytes, 8),
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
    /// The magic is right but the format version is another.
    OtherVersion(u32),
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
            txn_id: 0,
            page_count: super::id::META_PAGE_COUNT,
            map_size,
            freelist: 0,
            main: TreeInfo::default(),
            catalog: TreeInfo::default(),
        }
    }

    /// Encodes with its checksum.
    pub(crate) fn encode(&self) -> [u8; META_SIZE] {
        let mut out = [0u8; META_SIZE];
        out[MAGIC_OFFSET..MAGIC_OFFSET + 8].copy_from_slice(&MAGIC);
        write_u32(&mut out, VERSION_OFFSET, FORMAT_VERSION);
        write_u32(&mut out, PAGE_SIZE_OFFSET, self.page_size);
        write_u64(&mut out, TXN_ID_OFFSET, self.txn_id);
        write_u64(&mut out, PAGE_COUNT_OFFSET, self.page_count);
        write_u64(&mut out, MAP_SIZE_OFFSET, self.map_size);
        write_u64(&mut out, FREELIST_OFFSET, self.freelist);
        self.main.encode_into(&mut out[MAIN_OFFSET..]);
        self.catalog.encode_into(&mut out[CATALOG_OFFSET..]);
        let checksum = crc32fast::hash(&out[..CHECKSUM_OFFSET]);
        write_u32(&mut out, CHECKSUM_OFFSET, checksum);
        out
    }

    /// Decodes the meta at the start of `bytes` (at least [`META_SIZE`] long).
    pub(crate) fn decode(bytes: &[u8]) -> MetaSlot {
        if bytes.len() < META_SIZE || bytes[MAGIC_OFFSET..MAGIC_OFFSET + 8] != MAGIC {
            return MetaSlot::NotArbordb;
        }
        let version = read_u32(bytes, VERSION_OFFSET);
        if !(FORMAT_VERSION_OLDEST_READ..=FORMAT_VERSION).contains(&version) {
            return MetaSlot::OtherVersion(version);
        }
        if read_u32(bytes, CHECKSUM_OFFSET) != crc32fast::hash(&bytes[..CHECKSUM_OFFSET]) {
            return MetaSlot::BadChecksum;
        }
        let page_size = read_u32(bytes, PAGE_SIZE_OFFSET);
        if !is_valid_page_size(page_size as usize) {
            return MetaSlot::BadPageSize(page_size);
        }
        let tree = |offset: usize| {
            TreeInfo::decode(&bytes[offset..offset + TreeInfo::ENCODED_SIZE])
                .expect("slice has the encoded size")
        };
        MetaSlot::Valid(Meta {
            page_size,
            txn_id: read_u64(bytes, TXN_ID_OFFSET),
            page_count: read_u64(bytes, PAGE_COUNT_OFFSET),
            map_size: read_u64(bytes, MAP_SIZE_OFFSET),
            freelist: read_u64(bytes, FREELIST_OFFSET),
            main: tree(MAIN_OFFSET),
            catalog: tree(CATALOG_OFFSET),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Meta {
        let mut meta = Meta::empty(4096, 1 << 30);
        meta.txn_id = 7;
        meta.page_count = 99;
        meta.freelist = 42;
        meta.main.root = 5;
        meta.main.depth = 2;
        meta.main.entries = 1000;
        meta.catalog.root = 6;
        meta
    }

    #[test]
    fn meta_round_trips() {
        let meta = sample();
        assert_eq!(Meta::decode(&meta.encode()), MetaSlot::Valid(meta));
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let encoded = sample().encode();
        for index in 0..META_SIZE {
            let mut damaged = encoded;
            damaged[index] ^= 0x20;
            assert_ne!(
                Meta::decode(&damaged),
                MetaSlot::Valid(sample()),
                "byte {index}"
            );
            assert!(
                !matches!(Meta::decode(&damaged), MetaSlot::Valid(_)),
                "byte {index}"
            );
        }
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
            MetaSlot::OtherVersion(FORMAT_VERSION + 1)
        );
    }

    #[test]
    fn a_version_1_meta_is_still_read() {
        let mut encoded = sample().encode();
        write_u32(&mut encoded, VERSION_OFFSET, 1);
        let checksum = crc32fast::hash(&encoded[..CHECKSUM_OFFSET]);
        write_u32(&mut encoded, CHECKSUM_OFFSET, checksum);
        assert_eq!(Meta::decode(&encoded), MetaSlot::Valid(sample()));
        write_u32(&mut encoded, VERSION_OFFSET, 0);
        assert_eq!(Meta::decode(&encoded), MetaSlot::OtherVersion(0));
    }

    #[test]
    fn unsupported_page_size_is_reported() {
        let mut meta = sample();
        meta.page_size = 3000;
        assert_eq!(Meta::decode(&meta.encode()), MetaSlot::BadPageSize(3000));
    }
}
