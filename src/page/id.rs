//! Page numbers and transaction ids.

/// The number of a page in the data file: its byte offset is `id * page_size`.
///
/// Pages 0 and 1 are the meta pages, so 0 doubles as "no page" in tree roots and links.
pub(crate) type PageId = u64;

/// A transaction id. Commits number 1, 2, 3, ...; a fresh file's metas hold 0.
pub(crate) type TxnId = u64;

/// The number of meta pages at the start of the file; the first page a tree may use.
pub(crate) const META_PAGE_COUNT: u64 = 2;

/// Reads a little-endian `u16` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

/// Reads a little-endian `u32` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(raw)
}

/// Reads a little-endian `u64` at `offset`. The caller has checked the bounds.
#[inline]
pub(crate) fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(raw)
}

/// Writes a little-endian `u16` at `offset`.
#[inline]
pub(crate) fn write_u16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u32` at `offset`.
#[inline]
pub(crate) fn write_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u64` at `offset`.
#[inline]
pub(crate) fn write_u64(bytes: &mut [u8], offset: usize, value: u64) {
    bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}
