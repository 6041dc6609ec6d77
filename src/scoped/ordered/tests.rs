//! The encoding's two promises: it round-trips, and byte order is value order.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{from_bytes, to_bytes};

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    to_bytes(value, &mut out).unwrap();
    out
}

/// Round-trips both values and checks that their encodings compare as they do.
fn check_pair<T: Serialize + DeserializeOwned + Ord + Debug>(a: &T, b: &T) {
    let (encoded_a, encoded_b) = (encode(a), encode(b));
    assert_eq!(&from_bytes::<T>(&encoded_a).unwrap(), a);
    assert_eq!(&from_bytes::<T>(&encoded_b).unwrap(), b);
    assert_eq!(encoded_a.cmp(&encoded_b), a.cmp(b), "{a:?} vs {b:?}");
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Kind {
    Plain,
    Tagged(u16),
    Named { label: String, rank: i8 },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Composite {
    tenant: u32,
    path: Vec<String>,
    kind: Kind,
    note: Option<String>,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Plain),
        any::<u16>().prop_map(Kind::Tagged),
        (".{0,4}", any::<i8>()).prop_map(|(label, rank)| Kind::Named { label, rank }),
    ]
}

fn composite() -> impl Strategy<Value = Composite> {
    (
        0u32..3,
        prop::collection::vec("[a\\x00b]{0,3}", 0..3),
        kind(),
        prop::option::of("[ab]{0,2}"),
    )
        .prop_map(|(tenant, path, kind, note)| Composite {
            tenant,
            path,
            kind,
            note,
        })
}

proptest! {
    #[test]
    fn strings_sort_as_strings(a in ".{0,6}", b in ".{0,6}") {
        check_pair(&a, &b);
    }

    #[test]
    fn strings_with_zero_bytes_sort_as_strings(a in "[a\\x00\\x01]{0,5}", b in "[a\\x00\\x01]{0,5}") {
        check_pair(&a, &b);
        check_pair(&(a.clone(), 1u8), &(b.clone(), 0u8));
    }

    #[test]
    fn byte_strings_sort_as_bytes(a in prop::collection::vec(any::<u8>(), 0..6),
                                  b in prop::collection::vec(any::<u8>(), 0..6)) {
        check_pair(&a, &b);
    }

    #[test]
    fn integers_sort_numerically(a in any::<i64>(), b in any::<i64>(), c in any::<u32>(), d in any::<u32>(),
                                 e in any::<i128>(), f in any::<i8>()) {
        check_pair(&a, &b);
        check_pair(&c, &d);
        check_pair(&e, &(e.wrapping_add(i128::from(f))));
        check_pair(&(a as i16), &(b as i16));
    }

    #[test]
    fn tuples_sort_field_by_field(a in (any::<u8>(), ".{0,3}", any::<i32>()),
                                  b in (any::<u8>(), ".{0,3}", any::<i32>())) {
        check_pair(&a, &b);
    }

    #[test]
    fn structs_enums_options_and_sequences_sort_as_derived(a in composite(), b in composite()) {
        check_pair(&a, &b);
    }

    #[test]
    fn maps_sort_as_maps(a in prop::collection::btree_map(0u8..4, ".{0,2}", 0..3),
                         b in prop::collection::btree_map(0u8..4, ".{0,2}", 0..3)) {
        check_pair::<BTreeMap<u8, String>>(&a, &b);
    }

    #[test]
    fn floats_sort_numerically(a in any::<f64>(), b in any::<f64>()) {
        prop_assume!(!a.is_nan() && !b.is_nan() && a != 0.0 && b != 0.0);
        let (encoded_a, encoded_b) = (encode(&a), encode(&b));
        prop_assert_eq!(from_bytes::<f64>(&encoded_a).unwrap(), a);
        prop_assert_eq!(encoded_a.cmp(&encoded_b), a.partial_cmp(&b).unwrap());
        let (small_a, small_b) = (a as f32, b as f32);
        if small_a != small_b {
            prop_assert_eq!(encode(&small_a).cmp(&encode(&small_b)), small_a.partial_cmp(&small_b).unwrap());
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..24)) {
        let _ = from_bytes::<Composite>(&bytes);
        let _ = from_bytes::<(String, u64)>(&bytes);
        let _ = from_bytes::<BTreeMap<String, Vec<u8>>>(&bytes);
    }
}

#[test]
fn a_whole_key_string_is_stored_as_its_bytes() {
    assert_eq!(encode(&"tenant"), b"tenant");
    assert_eq!(encode(&String::from("a\0b")), b"a\0b");
    // Inside a tuple the string is escaped and terminated.
    assert_eq!(encode(&("a\0b", 7u8)), b"a\0\xffb\0\0\x07");
}

#[test]
fn the_issue_example_sorts_as_strings() {
    let mut keys: Vec<Vec<u8>> = ["b", "aa", "c", "ab"].iter().map(encode).collect();
    keys.sort();
    let decoded: Vec<String> = keys.iter().map(|key| from_bytes(key).unwrap()).collect();
    assert_eq!(decoded, ["aa", "ab", "b", "c"]);
}

#[test]
fn malformed_input_is_an_error() {
    assert!(from_bytes::<u32>(b"\x00\x01").is_err(), "truncated");
    assert!(from_bytes::<u8>(b"\x00\x01").is_err(), "trailing bytes");
    assert!(from_bytes::<bool>(b"\x02").is_err(), "not a bool");
    assert!(
        from_bytes::<(String, u8)>(b"a\x00\x07\x01").is_err(),
        "bad escape"
    );
    assert!(from_bytes::<String>(b"\xff").is_err(), "not UTF-8");
    assert!(
        from_bytes::<char>(b"\x00\x11\x00\x00").is_err(),
        "not a char"
    );
    assert!(
        from_bytes::<Option<u8>>(b"\x05\x01").is_err(),
        "bad option tag"
    );
    assert!(
        from_bytes::<Vec<u8>>(b"\x01\x05\x07").is_err(),
        "bad marker"
    );
}
