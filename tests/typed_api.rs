//! The heed-shaped typed API: codecs, neighbour lookups, prefix iteration, get_or_put,
//! delete_range, database options and lazy decoding, each against a model.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use arbordb::byteorder::{BigEndian, LittleEndian};
use arbordb::types::{Bytes, LazyDecode, SerdeBincode, SerdeJson, Str, Unit, I64, U32, U64};
use arbordb::Error;
use common::{as_ref, open, Rng};

#[test]
fn big_endian_integer_keys_iterate_in_numeric_order_signed_too() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let signed = env
        .create_database::<I64<BigEndian>, Unit>(&mut wtxn, Some("signed"))
        .unwrap();
    let unsigned = env
        .create_database::<U64<BigEndian>, U32<LittleEndian>>(&mut wtxn, Some("unsigned"))
        .unwrap();
    let numbers = [0i64, -1, 5, i64::MIN, i64::MAX, -300, 300, 42];
    for n in numbers {
        signed.put(&mut wtxn, &n, &()).unwrap();
        unsigned.put(&mut wtxn, &(n as u64), &(n as u32)).unwrap();
    }
    let mut sorted = numbers.to_vec();
    sorted.sort();
    let found: Vec<i64> = signed.iter(&wtxn).unwrap().map(|e| e.unwrap().0).collect();
    assert_eq!(found, sorted);
    let in_range: Vec<i64> = signed
        .range(&wtxn, &(-300..=5))
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(in_range, vec![-300, -1, 0, 5]);
    let mut unsigned_sorted: Vec<u64> = numbers.iter().map(|&n| n as u64).collect();
    unsigned_sorted.sort();
    let found: Vec<u64> = unsigned
        .iter(&wtxn)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(found, unsigned_sorted);
    assert_eq!(unsigned.get(&wtxn, &(42u64)).unwrap(), Some(42));
    wtxn.commit().unwrap();
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct User {
    name: String,
    age: u8,
    tags: Vec<String>,
}

#[test]
fn serde_codecs_and_lazy_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let alice = User {
        name: "Alice".into(),
        age: 30,
        tags: vec!["admin".into()],
    };
    let mut wtxn = env.write_txn().unwrap();
    let bincode = env
        .create_database::<Str, SerdeBincode<User>>(&mut wtxn, Some("bincode"))
        .unwrap();
    let json = env
        .create_database::<Str, SerdeJson<User>>(&mut wtxn, Some("json"))
        .unwrap();
    bincode.put(&mut wtxn, "alice", &alice).unwrap();
    json.put(&mut wtxn, "alice", &alice).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(bincode.get(&rtxn, "alice").unwrap(), Some(alice));
    let raw = json
        .remap_data_type::<Str>()
        .get(&rtxn, "alice")
        .unwrap()
        .unwrap();
    assert!(raw.contains("\"name\":\"Alice\""), "{raw}");
    let lazy = json
        .lazily_decode_data()
        .get(&rtxn, "alice")
        .unwrap()
        .unwrap();
    assert_eq!(lazy.decode().unwrap().age, 30);
    let not_json = bincode.remap_data_type::<SerdeJson<User>>();
    assert!(matches!(
        not_json.get(&rtxn, "alice"),
        Err(Error::Decoding(_))
    ));
    // A lazy value that is never decoded costs nothing and cannot fail.
    let lazy_everything = not_json.remap_data_type::<LazyDecode<SerdeJson<User>>>();
    assert_eq!(lazy_everything.iter(&rtxn).unwrap().count(), 1);
}

/// `SerdeRmp` (feature `serde-rmp`, on for the tests) stores MessagePack: rmp-serde's compact
/// form, the struct as an array of its fields.
#[test]
fn messagepack_values() {
    use arbordb::types::SerdeRmp;
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let bob = User {
        name: "Bob".into(),
        age: 7,
        tags: Vec::new(),
    };
    let mut wtxn = env.write_txn().unwrap();
    let users = env
        .create_database::<Str, SerdeRmp<User>>(&mut wtxn, Some("rmp"))
        .unwrap();
    users.put(&mut wtxn, "bob", &bob).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(users.get(&rtxn, "bob").unwrap(), Some(bob));
    let raw = users.remap_data_type::<Bytes>().get(&rtxn, "bob").unwrap();
    // fixarray of 3, fixstr "Bob", positive fixint 7, empty fixarray.
    assert_eq!(raw, Some(&[0x93, 0xa3, b'B', b'o', b'b', 0x07, 0x90][..]));
    let not_rmp = users.remap_data_type::<SerdeRmp<(u8, u8)>>();
    assert!(matches!(not_rmp.get(&rtxn, "bob"), Err(Error::Decoding(_))));
}

/// A temporary environment, a database in it, and the database's model.
type Fixture = (
    tempfile::TempDir,
    arbordb::Env,
    arbordb::Database<Bytes, Bytes>,
    BTreeMap<Vec<u8>, Vec<u8>>,
);

/// A database of random short byte keys and its model.
fn random_database(seed: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut rng = Rng(seed);
    let mut model = BTreeMap::new();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for _ in 0..2000 {
        let len = rng.below(4) as usize;
        let mut key = rng.bytes(len);
        // Plenty of 0x00 and 0xFF bytes, the edges of prefix and neighbour logic.
        key.iter_mut()
            .for_each(|byte| *byte = [0x00, 0x01, 0x7f, 0xfe, 0xff][*byte as usize % 5]);
        let value = rng.bytes(3);
        db.put(&mut wtxn, &key, &value).unwrap();
        model.insert(key, value);
    }
    wtxn.commit().unwrap();
    (dir, env, db, model)
}

#[test]
fn neighbour_lookups_match_a_model() {
    let (_dir, env, db, model) = random_database(21);
    let rtxn = env.read_txn().unwrap();
    let mut rng = Rng(22);
    let pair = |entry: Option<(&Vec<u8>, &Vec<u8>)>| entry.map(|(k, v)| (k.clone(), v.clone()));
    let owned = |entry: Option<(&[u8], &[u8])>| entry.map(|(k, v)| (k.to_vec(), v.to_vec()));
    for _ in 0..2000 {
        let len = rng.below(5) as usize;
        let mut probe = rng.bytes(len);
        probe
            .iter_mut()
            .for_each(|byte| *byte = [0x00, 0x01, 0x7f, 0xfe, 0xff][*byte as usize % 5]);
        let probe = probe.as_slice();
        assert_eq!(
            owned(db.get_lower_than(&rtxn, probe).unwrap()),
            pair(
                model
                    .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(probe)))
                    .next_back()
            ),
            "< {probe:?}"
        );
        assert_eq!(
            owned(db.get_lower_than_or_equal_to(&rtxn, probe).unwrap()),
            pair(
                model
                    .range::<[u8], _>((Bound::Unbounded, Bound::Included(probe)))
                    .next_back()
            ),
            "<= {probe:?}"
        );
        assert_eq!(
            owned(db.get_greater_than(&rtxn, probe).unwrap()),
            pair(
                model
                    .range::<[u8], _>((Bound::Excluded(probe), Bound::Unbounded))
                    .next()
            ),
            "> {probe:?}"
        );
        assert_eq!(
            owned(db.get_greater_than_or_equal_to(&rtxn, probe).unwrap()),
            pair(
                model
                    .range::<[u8], _>((Bound::Included(probe), Bound::Unbounded))
                    .next()
            ),
            ">= {probe:?}"
        );
    }
}

#[test]
fn prefix_iteration_matches_a_model_including_0xff_prefixes() {
    let (_dir, env, db, model) = random_database(31);
    let rtxn = env.read_txn().unwrap();
    let prefixes: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0xff],
        vec![0xff, 0xff],
        vec![0xff, 0xff, 0xff],
        vec![0x7f, 0xff],
        vec![0xfe],
        vec![0x01, 0x00],
    ];
    for prefix in prefixes {
        let expected: Vec<Vec<u8>> = model
            .keys()
            .filter(|key| key.starts_with(&prefix))
            .cloned()
            .collect();
        let forward: Vec<Vec<u8>> = db
            .prefix_iter(&rtxn, &prefix)
            .unwrap()
            .map(|e| e.unwrap().0.to_vec())
            .collect();
        assert_eq!(forward, expected, "prefix {prefix:?}");
        let mut backward: Vec<Vec<u8>> = db
            .rev_prefix_iter(&rtxn, &prefix)
            .unwrap()
            .map(|e| e.unwrap().0.to_vec())
            .collect();
        backward.reverse();
        assert_eq!(backward, expected, "reverse prefix {prefix:?}");
    }
    let missing: &[u8] = b"not there";
    assert_eq!(db.prefix_iter(&rtxn, missing).unwrap().count(), 0);
}

#[test]
fn get_or_put_returns_the_existing_value_or_stores_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    assert_eq!(db.get_or_put(&mut wtxn, "k", "first").unwrap(), None);
    assert_eq!(
        db.get_or_put(&mut wtxn, "k", "second").unwrap(),
        Some("first")
    );
    assert_eq!(db.get(&wtxn, "k").unwrap(), Some("first"));
    wtxn.commit().unwrap();
}

#[test]
fn delete_range_deletes_exactly_the_range_and_counts_it() {
    let mut rng = Rng(41);
    for round in 0..20 {
        let (_dir, env, db, mut model) = random_database(100 + round);
        let bound = |rng: &mut Rng| {
            let len = 1 + rng.below(2) as usize;
            let key: Vec<u8> = rng
                .bytes(len)
                .iter()
                .map(|b| [0x00, 0x01, 0x7f, 0xfe, 0xff][*b as usize % 5])
                .collect();
            match rng.below(3) {
                0 => Bound::Included(key),
                1 => Bound::Excluded(key),
                _ => Bound::Unbounded,
            }
        };
        let (start, end) = (bound(&mut rng), bound(&mut rng));
        let inverted = match (&start, &end) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b
                    || (a == b
                        && !matches!((&start, &end), (Bound::Included(_), Bound::Included(_))))
            }
            _ => false,
        };
        let doomed: Vec<Vec<u8>> = if inverted {
            Vec::new()
        } else {
            model
                .range::<Vec<u8>, _>((start.clone(), end.clone()))
                .map(|(k, _)| k.clone())
                .collect()
        };
        let borrowed = (as_ref(&start), as_ref(&end));
        let mut wtxn = env.write_txn().unwrap();
        assert_eq!(
            db.delete_range(&mut wtxn, &borrowed).unwrap(),
            doomed.len(),
            "{start:?}..{end:?}"
        );
        wtxn.commit().unwrap();
        for key in doomed {
            model.remove(&key);
        }
        let rtxn = env.read_txn().unwrap();
        let left: Vec<Vec<u8>> = db
            .iter(&rtxn)
            .unwrap()
            .map(|e| e.unwrap().0.to_vec())
            .collect();
        assert!(left.iter().eq(model.keys()), "{start:?}..{end:?}");
        drop(rtxn);
        common::assert_sound(&env);
    }
}

#[test]
fn database_options_create_and_open_and_names_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let scores = env
        .database_options()
        .types::<Str, U32<BigEndian>>()
        .name("scores")
        .create(&mut wtxn)
        .unwrap();
    scores.put(&mut wtxn, "alice", &7).unwrap();
    env.database_options()
        .types::<Str, Str>()
        .name("other")
        .create(&mut wtxn)
        .unwrap();
    let main = env
        .database_options()
        .types::<Str, Str>()
        .create(&mut wtxn)
        .unwrap();
    main.put(&mut wtxn, "unnamed", "yes").unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let reopened = env
        .database_options()
        .types::<Str, U32<BigEndian>>()
        .name("scores")
        .open(&rtxn)
        .unwrap()
        .unwrap();
    assert_eq!(reopened.get(&rtxn, "alice").unwrap(), Some(7));
    assert!(env
        .database_options()
        .types::<Str, Str>()
        .name("absent")
        .open(&rtxn)
        .unwrap()
        .is_none());
    assert_eq!(
        rtxn.database_names().unwrap(),
        vec!["other".to_string(), "scores".to_string()]
    );
}
