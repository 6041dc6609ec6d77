//! The catalog's records: what the catalog maps each database name to.
//!
//! ```text
//! key NAME (UTF-8)   value: tree descriptor (48 bytes, TreeInfo)
//!                           [u16 n, n bytes: the key order's name]   when CUSTOM_KEY_ORDER
//! key 0xFF           value: u16 n, n bytes: the unnamed database's key order's name
//! ```
//!
//! The unnamed database's descriptor lives in the meta, which has no room for a name; its
//! record sits in the catalog under a key that is not UTF-8, so never a database's name, and
//! only while that database is ordered by a custom comparator.

use super::id::{read_u16, write_u16};
use super::meta::{TreeFlags, TreeInfo};

/// The catalog key of the unnamed database's record.
pub(crate) const UNNAMED_DATABASE_KEY: &[u8] = &[0xFF];

/// The longest name of a key order a record holds.
pub(crate) const ORDER_NAME_MAX: usize = 255;

/// A named database's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DatabaseRecord<'a> {
    pub(crate) tree: TreeInfo,
    /// The name of the custom comparator its keys are ordered by, when its flags say so.
    pub(crate) key_order: Option<&'a str>,
}

/// Encodes a named database's record.
pub(crate) fn encode(tree: &TreeInfo, key_order: Option<&str>) -> Vec<u8> {
    debug_assert_eq!(
        key_order.is_some(),
        tree.flags.contains(TreeFlags::CUSTOM_KEY_ORDER)
    );
    let mut out = tree.encode().to_vec();
    if let Some(name) = key_order {
        out.extend_from_slice(&encode_order_name(name));
    }
    out
}

/// Decodes a named database's record; `None` if it is malformed (a name where the flags say
/// none, none where they say one, or bytes left over).
pub(crate) fn decode(bytes: &[u8]) -> Option<DatabaseRecord<'_>> {
    let (descriptor, rest) = bytes.split_at_checked(TreeInfo::ENCODED_SIZE)?;
    let tree = TreeInfo::decode(descriptor)?;
    let key_order = if tree.flags.contains(TreeFlags::CUSTOM_KEY_ORDER) {
        Some(decode_order_name(rest)?)
    } else if rest.is_empty() {
        None
    } else {
        return None;
    };
    Some(DatabaseRecord { tree, key_order })
}

/// Encodes the name of a key order: the unnamed database's whole record, a named one's tail.
pub(crate) fn encode_order_name(name: &str) -> Vec<u8> {
    assert!(
        name.len() <= ORDER_NAME_MAX,
        "checked when the database is opened"
    );
    let mut out = vec![0u8; 2];
    write_u16(&mut out, 0, name.len() as u16);
    out.extend_from_slice(name.as_bytes());
    out
}

/// Decodes the name of a key order, which must fill `bytes` exactly.
pub(crate) fn decode_order_name(bytes: &[u8]) -> Option<&str> {
    let (length, name) = bytes.split_at_checked(2)?;
    let length = read_u16(length, 0) as usize;
    if length != name.len() || length > ORDER_NAME_MAX || length == 0 {
        return None;
    }
    std::str::from_utf8(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::PageId;

    fn tree(flags: TreeFlags) -> TreeInfo {
        TreeInfo {
            root: PageId::new(9),
            depth: 2,
            flags,
            entries: 40,
            ..TreeInfo::default()
        }
    }

    #[test]
    fn a_plain_record_is_the_descriptor_alone() {
        let plain = tree(TreeFlags::INTEGER_KEY);
        let bytes = encode(&plain, None);
        assert_eq!(bytes.len(), TreeInfo::ENCODED_SIZE);
        assert_eq!(
            decode(&bytes),
            Some(DatabaseRecord {
                tree: plain,
                key_order: None
            })
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(&encode_order_name("by length"));
        assert_eq!(decode(&longer), None, "a name the flags do not announce");
        assert_eq!(decode(&bytes[..47]), None);
    }

    #[test]
    fn a_custom_order_record_carries_its_name() {
        let custom = tree(TreeFlags::CUSTOM_KEY_ORDER);
        let bytes = encode(&custom, Some("app::ByLength"));
        assert_eq!(bytes.len(), TreeInfo::ENCODED_SIZE + 2 + 13);
        assert_eq!(decode(&bytes).unwrap().key_order, Some("app::ByLength"));
        assert_eq!(
            decode(&bytes[..TreeInfo::ENCODED_SIZE]),
            None,
            "a name missing"
        );
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None, "a name cut short");
    }

    #[test]
    fn order_names_are_bounded_utf8_of_their_stated_length() {
        assert_eq!(decode_order_name(&encode_order_name("x")), Some("x"));
        let longest = "n".repeat(ORDER_NAME_MAX);
        assert_eq!(
            decode_order_name(&encode_order_name(&longest)),
            Some(longest.as_str())
        );
        assert_eq!(decode_order_name(&[0, 0]), None, "empty");
        assert_eq!(decode_order_name(&[1, 0, 0xFF]), None, "not UTF-8");
        assert_eq!(decode_order_name(&[2, 0, b'a']), None, "too short");
        let mut too_long = vec![0u8, 1];
        too_long.extend(std::iter::repeat_n(b'n', 256));
        assert_eq!(decode_order_name(&too_long), None);
    }
}
