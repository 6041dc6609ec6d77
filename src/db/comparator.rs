//! Key orders in heed's shape: [`Comparator`], [`LexicographicComparator`],
//! [`DefaultComparator`] and [`IntegerComparator`].
//!
//! A database is ordered by the comparator it is created with, for good: the tree is sorted by it.
//! arbordb records which one (a built-in order as a flag, an application's comparator by its
//! [`Comparator::name`]) and refuses to open the database with another
//! ([`Error::Mdb(MdbError::IncompatibleDatabase)`](crate::MdbError::IncompatibleDatabase)), where
//! LMDB cannot tell and would search a tree sorted one way with another order.

use std::any::TypeId;
use std::cmp::Ordering;

use crate::btree::order::CompareFn;
use crate::env::key_orders::Comparator as KeyComparator;
use crate::page::meta::TreeFlags;
use crate::txn::shape::DatabaseShape;

/// An order of keys (or of duplicate values), given as a function of their bytes.
///
/// It must be a total order and the same for ever: a database stays sorted by the order it
/// was written with. It should not panic; if it panics while a write changes a database, that
/// write transaction refuses every further operation and its commit
/// ([`Error::Mdb(MdbError::BadTxn)`](crate::MdbError::BadTxn)), so a change left half made is never
/// committed and nothing committed before is harmed. (A panic in a read only unwinds.)
pub trait Comparator {
    /// Compares the bytes of two keys.
    fn compare(a: &[u8], b: &[u8]) -> Ordering;

    /// The name a database records for this order, and checks when it is opened again. By
    /// default the type's full name ([`std::any::type_name`], with its module path), so two
    /// comparators of the same name in different modules stay apart. Moving or renaming the
    /// type changes it, and Rust does not promise that `type_name`'s text stays the same
    /// between compiler releases: a database that must outlive either should be created with
    /// a comparator that returns a fixed name here. A database recorded under an old name
    /// opens with a comparator whose `name` returns that text. (A
    /// [`LexicographicComparator`] always has its default name.) Two comparator types with
    /// one name in one environment are refused.
    fn name() -> String {
        std::any::type_name::<Self>().to_owned()
    }
}

/// A lexicographic order: keys compare element by element (bytes, in an order of their own),
/// a key that is a prefix of another first. Prefix iteration needs one.
pub trait LexicographicComparator: Comparator {
    /// Compares two bytes.
    fn compare_elem(a: u8, b: u8) -> Ordering;
    /// The byte just after `elem` in this order, `None` for the last.
    fn successor(elem: u8) -> Option<u8>;
    /// The byte just before `elem` in this order, `None` for the first.
    fn predecessor(elem: u8) -> Option<u8>;
    /// The last byte in this order.
    fn max_elem() -> u8;
    /// The first byte in this order.
    fn min_elem() -> u8;
}

impl<C: LexicographicComparator> Comparator for C {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        for (&x, &y) in a.iter().zip(b) {
            if x != y {
                return C::compare_elem(x, y);
            }
        }
        a.len().cmp(&b.len())
    }
}

/// Byte-wise order, shorter first on a shared prefix: what a database has unless told
/// otherwise.
#[derive(Debug)]
pub enum DefaultComparator {}

impl LexicographicComparator for DefaultComparator {
    #[inline]
    fn compare_elem(a: u8, b: u8) -> Ordering {
        a.cmp(&b)
    }

    #[inline]
    fn successor(elem: u8) -> Option<u8> {
        elem.checked_add(1)
    }

    #[inline]
    fn predecessor(elem: u8) -> Option<u8> {
        elem.checked_sub(1)
    }

    #[inline]
    fn max_elem() -> u8 {
        u8::MAX
    }

    #[inline]
    fn min_elem() -> u8 {
        u8::MIN
    }
}

/// Keys as unsigned integers in the machine's byte order (`u32` or `u64`/`usize`, all of one
/// size): LMDB's `INTEGER_KEY`. A database created with it records that flag, as heed's does.
///
/// arbordb compares them as little-endian integers, which is the machine's order on every
/// platform it builds for; keys of different lengths (which LMDB does not allow) order by
/// length first.
#[derive(Debug)]
pub enum IntegerComparator {}

impl Comparator for IntegerComparator {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }
}

/// What a handle with key comparator `C`, value comparator `CDUP` and `flags` asks of a
/// database. `CDUP` counts only with `DUP_SORT`, as in LMDB.
pub(crate) fn shape_of<C: Comparator + 'static, CDUP: Comparator + 'static>(
    flags: crate::DatabaseFlags,
) -> DatabaseShape {
    let mut tree_flags = TreeFlags::from_bits(flags.bits() & TreeFlags::SETTABLE);
    let custom = match built_in::<C>() {
        Some(BuiltIn::Bytes) => None,
        Some(BuiltIn::Integer) => {
            tree_flags = tree_flags.with(TreeFlags::INTEGER_KEY);
            None
        }
        None => Some((comparator::<C>(), C::name())),
    };
    let dup_sort = tree_flags.contains(TreeFlags::DUP_SORT);
    let custom_values = match built_in::<CDUP>() {
        _ if !dup_sort => None,
        Some(BuiltIn::Bytes) => None,
        Some(BuiltIn::Integer) => {
            tree_flags = tree_flags.with(TreeFlags::INTEGER_DUP);
            None
        }
        None => Some((comparator::<CDUP>(), CDUP::name())),
    };
    DatabaseShape {
        flags: tree_flags,
        custom,
        custom_values,
        exact: false,
    }
}

/// `C` as a handle registers it.
fn comparator<C: Comparator + 'static>() -> KeyComparator {
    KeyComparator {
        compare: C::compare as CompareFn,
        type_id: TypeId::of::<C>(),
        type_name: std::any::type_name::<C>(),
    }
}

/// A comparator arbordb has built in.
enum BuiltIn {
    Bytes,
    Integer,
}

/// Which built-in comparator `C` is, if any.
fn built_in<C: 'static>() -> Option<BuiltIn> {
    if TypeId::of::<C>() == TypeId::of::<DefaultComparator>() {
        Some(BuiltIn::Bytes)
    } else if TypeId::of::<C>() == TypeId::of::<IntegerComparator>() {
        Some(BuiltIn::Integer)
    } else {
        None
    }
}

/// The smallest key above every key that starts with `prefix` in `C`'s order, or `None`
/// when there is none (an empty prefix, or one of only `C`'s last byte).
pub(crate) fn prefix_successor<C: LexicographicComparator>(prefix: &[u8]) -> Option<Vec<u8>> {
    let keep = prefix.iter().rposition(|&byte| byte != C::max_elem())?;
    let mut successor = prefix[..=keep].to_vec();
    successor[keep] = C::successor(successor[keep])?;
    Some(successor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes in descending order: a lexicographic order of its own.
    enum Descending {}

    impl LexicographicComparator for Descending {
        fn compare_elem(a: u8, b: u8) -> Ordering {
            b.cmp(&a)
        }
        fn successor(elem: u8) -> Option<u8> {
            elem.checked_sub(1)
        }
        fn predecessor(elem: u8) -> Option<u8> {
            elem.checked_add(1)
        }
        fn max_elem() -> u8 {
            u8::MIN
        }
        fn min_elem() -> u8 {
            u8::MAX
        }
    }

    #[test]
    fn a_comparator_is_named_by_its_full_type_name() {
        assert_eq!(Descending::name(), std::any::type_name::<Descending>());
        assert!(Descending::name().contains("::"), "with its module path");
    }

    #[test]
    fn a_lexicographic_comparator_orders_by_its_bytes_then_by_length() {
        assert_eq!(DefaultComparator::compare(b"ab", b"abc"), Ordering::Less);
        assert_eq!(DefaultComparator::compare(b"b", b"abc"), Ordering::Greater);
        assert_eq!(Descending::compare(b"b", b"abc"), Ordering::Less);
        assert_eq!(
            Descending::compare(b"ab", b"abc"),
            Ordering::Less,
            "prefix first"
        );
    }

    #[test]
    fn integers_compare_by_value() {
        let key = |n: u32| n.to_le_bytes();
        assert_eq!(
            IntegerComparator::compare(&key(255), &key(256)),
            Ordering::Less
        );
        assert_eq!(
            IntegerComparator::compare(&key(1 << 24), &key(2)),
            Ordering::Greater
        );
        assert_eq!(
            IntegerComparator::compare(&key(9), &key(9)),
            Ordering::Equal
        );
    }

    #[test]
    fn the_built_in_comparators_become_flags_and_others_a_named_order() {
        use crate::DatabaseFlags;
        type Default = DefaultComparator;
        let default = shape_of::<Default, Default>(DatabaseFlags::empty());
        assert!(default.custom.is_none() && default.flags == TreeFlags::empty());
        let integer = shape_of::<IntegerComparator, Default>(DatabaseFlags::empty());
        assert!(integer.custom.is_none() && integer.flags == TreeFlags::INTEGER_KEY);
        let custom = shape_of::<Descending, Default>(DatabaseFlags::REVERSE_KEY);
        assert_eq!(custom.flags, TreeFlags::REVERSE_KEY);
        let (comparator, name) = custom.custom.unwrap();
        assert!(name.ends_with("Descending"), "{name}");
        assert_eq!((comparator.compare)(b"a", b"b"), Ordering::Greater);
        // A value comparator counts only with DUP_SORT.
        let ignored = shape_of::<Default, IntegerComparator>(DatabaseFlags::empty());
        assert!(ignored.custom_values.is_none() && ignored.flags == TreeFlags::empty());
        let integers = shape_of::<Default, IntegerComparator>(DatabaseFlags::DUP_SORT);
        assert_eq!(
            integers.flags,
            TreeFlags::DUP_SORT.with(TreeFlags::INTEGER_DUP)
        );
        let values = shape_of::<Default, Descending>(DatabaseFlags::DUP_SORT);
        assert!(values.custom_values.unwrap().1.ends_with("Descending"));
    }

    #[test]
    fn prefix_successors_follow_the_comparators_byte_order() {
        assert_eq!(
            prefix_successor::<DefaultComparator>(b"ab"),
            Some(b"ac".to_vec())
        );
        assert_eq!(
            prefix_successor::<DefaultComparator>(b"a\xFF"),
            Some(b"b".to_vec())
        );
        assert_eq!(prefix_successor::<DefaultComparator>(b"\xFF\xFF"), None);
        assert_eq!(prefix_successor::<DefaultComparator>(b""), None);
        assert_eq!(prefix_successor::<Descending>(b"ab"), Some(b"aa".to_vec()));
        assert_eq!(
            prefix_successor::<Descending>(b"b\x00"),
            Some(b"a".to_vec())
        );
        assert_eq!(prefix_successor::<Descending>(b"\x00"), None);
    }
}
