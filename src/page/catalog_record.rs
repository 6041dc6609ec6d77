//! The catalog's records: what the catalog maps each database name to.
//!
//! ```text
//! key NAME (UTF-8)   value: tree descriptor (48 bytes, TreeInfo), then the names
//! key 0xFF           value: the names of the unnamed database
//!
//! names: [u16 n, n bytes: the key comparator's name]     when CUSTOM_KEY_ORDER
//!        [u16 n, n bytes: the value comparator's name]   when CUSTOM_VALUE_ORDER
//! ```
//!
//! The unnamed database's descriptor lives in the meta, which has no room for names; its
//! record sits in the catalog under a key that is not UTF-8, so never a database's name, and
//! only while one of its orders is a custom comparator.

use super::id::{read_u16, write_u16};
use super::meta::{TreeFlags, TreeInfo};

/// The catalog key of the unnamed database's record.
pub(crate) const UNNAMED_DATABASE_KEY: &[u8] = &[0xFF];

/// The longest name of an order a record holds.
pub(crate) const ORDER_NAME_MAX: usize = 255;

/// The names of a database's custom comparators, as its flags announce them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OrderNames {
    /// The key comparator's, with `CUSTOM_KEY_ORDER`.
    pub(crate) keys: Option<String>,
    /// The value comparator's, with `CUSTOM_VALUE_ORDER`.
    pub(crate) values: Option<String>,
}

impl OrderNames {
    /// Whether `flags` announce exactly these names.
    fn match_flags(&self, flags: TreeFlags) -> bool {
        self.keys.is_some() == flags.contains(TreeFlags::CUSTOM_KEY_ORDER)
            && self.values.is_some() == flags.contains(TreeFlags::CUSTOM_VALUE_ORDER)
    }

    /// Whether `flags` announce any name.
    pub(crate) fn announced_by(flags: TreeFlags) -> bool {
        flags.contains(TreeFlags::CUSTOM_KEY_ORDER) || flags.contains(TreeFlags::CUSTOM_VALUE_ORDER)
    }
}

/// A named database's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DatabaseRecord {
    pub(crate) tree: TreeInfo,
    pub(crate) names: OrderNames,
}

/// Encodes a named database's record.
pub(crate) fn encode(tree: &TreeInfo, names: &OrderNames) -> Vec<u8> {
    let mut out = tree.encode().to_vec();
    out.extend_from_slice(&encode_names(tree.flags, names));
    out
}

/// Decodes a named database's record; `None` if it is malformed (a name where the flags
/// say none, none where they say one, or bytes left over).
pub(crate) fn decode(bytes: &[u8]) -> Option<DatabaseRecord> {
    let (descriptor, rest) = bytes.split_at_checked(TreeInfo::ENCODED_SIZE)?;
    let tree = TreeInfo::decode(descriptor)?;
    let names = decode_names(rest, tree.flags)?;
    Some(DatabaseRecord { tree, names })
}

/// Encodes the names `flags` announce: the unnamed database's whole record, a named one's
/// tail.
pub(crate) fn encode_names(flags: TreeFlags, names: &OrderNames) -> Vec<u8> {
    assert!(names.match_flags(flags), "names as the flags announce");
    let mut out = Vec::new();
    for name in [&names.keys, &names.values].into_iter().flatten() {
        assert!(
            !name.is_empty() && name.len() <= ORDER_NAME_MAX,
            "checked when the database is opened"
        );
        let at = out.len();
        out.resize(at + 2, 0);
        write_u16(&mut out, at, name.len() as u16);
        out.extend_from_slice(name.as_bytes());
    }
    out
}

/// Decodes the names `flags` announce, which must fill `bytes` exactly.
pub(crate) fn decode_names(bytes: &[u8], flags: TreeFlags) -> Option<OrderNames> {
    let mut rest = bytes;
    let mut next = |announced: bool| -> Option<Option<String>> {
        if !announced {
            return Some(None);
        }
        let (length, tail) = rest.split_at_checked(2)?;
        let length = read_u16(length, 0) as usize;
        if length == 0 || length > ORDER_NAME_MAX {
            return None;
        }
        let (name, tail) = tail.split_at_checked(length)?;
        rest = tail;
        Some(Some(std::str::from_utf8(name).ok()?.to_owned()))
    };
    let keys = next(flags.contains(TreeFlags::CUSTOM_KEY_ORDER))?;
    let values = next(flags.contains(TreeFlags::CUSTOM_VALUE_ORDER))?;
    rest.is_empty().then_some(OrderNames { keys, values })
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

    fn names(keys: Option<&str>, values: Option<&str>) -> OrderNames {
        OrderNames {
            keys: keys.map(str::to_owned),
            values: values.map(str::to_owned),
        }
    }

    #[test]
    fn a_plain_record_is_the_descriptor_alone() {
        let plain = tree(TreeFlags::INTEGER_KEY);
        let bytes = encode(&plain, &OrderNames::default());
        assert_eq!(bytes.len(), TreeInfo::ENCODED_SIZE);
        assert_eq!(
            decode(&bytes),
            Some(DatabaseRecord {
                tree: plain,
                names: OrderNames::default()
            })
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[1, 0, b'x']);
        assert_eq!(decode(&longer), None, "a name the flags do not announce");
        assert_eq!(decode(&bytes[..47]), None);
    }

    #[test]
    fn a_custom_order_record_carries_its_names() {
        let custom = tree(TreeFlags::CUSTOM_KEY_ORDER);
        let bytes = encode(&custom, &names(Some("app::ByLength"), None));
        assert_eq!(bytes.len(), TreeInfo::ENCODED_SIZE + 2 + 13);
        assert_eq!(
            decode(&bytes).unwrap().names.keys.as_deref(),
            Some("app::ByLength")
        );
        assert_eq!(
            decode(&bytes[..TreeInfo::ENCODED_SIZE]),
            None,
            "a name missing"
        );
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None, "a name cut short");

        let both = tree(TreeFlags::CUSTOM_KEY_ORDER.with(TreeFlags::CUSTOM_VALUE_ORDER));
        let bytes = encode(&both, &names(Some("keys"), Some("values")));
        assert_eq!(
            decode(&bytes).unwrap().names,
            names(Some("keys"), Some("values"))
        );
        let values_only = tree(TreeFlags::DUP_SORT.with(TreeFlags::CUSTOM_VALUE_ORDER));
        let bytes = encode(&values_only, &names(None, Some("values")));
        assert_eq!(decode(&bytes).unwrap().names, names(None, Some("values")));
    }

    /// A record whose names differ from what its flags announce could not be read back, so
    /// it is never written: each side is checked, not just one.
    #[test]
    #[should_panic(expected = "names as the flags announce")]
    fn names_the_flags_do_not_announce_are_never_encoded() {
        encode_names(
            TreeFlags::CUSTOM_KEY_ORDER,
            &names(Some("keys"), Some("values")),
        );
    }

    #[test]
    fn order_names_are_bounded_utf8_of_their_stated_length() {
        let flags = TreeFlags::CUSTOM_KEY_ORDER;
        let read = |bytes: &[u8]| decode_names(bytes, flags).map(|names| names.keys);
        assert_eq!(
            read(&encode_names(flags, &names(Some("x"), None))),
            Some(Some("x".into()))
        );
        let longest = "n".repeat(ORDER_NAME_MAX);
        assert_eq!(
            read(&encode_names(flags, &names(Some(&longest), None))),
            Some(Some(longest))
        );
        assert_eq!(read(&[0, 0]), None, "empty");
        assert_eq!(read(&[1, 0, 0xFF]), None, "not UTF-8");
        assert_eq!(read(&[2, 0, b'a']), None, "too short");
        let mut too_long = vec![0u8, 1];
        too_long.extend(std::iter::repeat_n(b'n', 256));
        assert_eq!(read(&too_long), None);
        assert_eq!(
            decode_names(&[], TreeFlags::empty()),
            Some(OrderNames::default())
        );
    }
}
