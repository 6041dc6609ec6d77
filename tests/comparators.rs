//! Key orders: custom comparators, `IntegerComparator` and the `INTEGER_KEY` / `REVERSE_KEY`
//! flags, used in every path that compares keys (search, splits, merges, ranges, neighbours,
//! appends, the checker, the compacting copy), recorded with the database and checked when
//! it is opened again.

mod common;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use std::panic::{catch_unwind, AssertUnwindSafe};

use arbordb::byteorder::NativeEndian;
use arbordb::types::{Bytes, Str, Unit, U32};
use arbordb::MdbError;
use arbordb::{
    CompactionOption, Comparator, Database, DatabaseFlags, Env, EnvFlags, EnvOpenOptions, Error,
    IntegerComparator, LexicographicComparator, PutFlags,
};
use common::orders::ByLengthThenReversed;
use common::{assert_sound, open, open_with_page_size, Rng};

/// Strings holding integers, compared as the numbers they hold (heed's example).
enum StringAsInt {}

impl Comparator for StringAsInt {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let parse = |bytes: &[u8]| -> i64 { std::str::from_utf8(bytes).unwrap().parse().unwrap() };
        parse(a).cmp(&parse(b))
    }
}

/// A different function recorded under the same name as [`ByLengthThenReversed`]: what a
/// program that changed its comparator but not its name would open a database with.
enum ImpostorOfByLength {}

impl Comparator for ImpostorOfByLength {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.cmp(b)
    }

    fn name() -> String {
        "by length, then reversed".to_owned()
    }
}

/// Bytes in descending order: lexicographic, so prefix iteration works with it.
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

/// Panics when it meets the key "boom".
enum PanicsOnBoom {}

impl Comparator for PanicsOnBoom {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        if a == b"boom" || b == b"boom" {
            panic!("the comparator met boom");
        }
        a.cmp(b)
    }
}

/// A key ordered as `C` orders it, for the model.
struct Ordered<C>(Vec<u8>, std::marker::PhantomData<C>);

impl<C: Comparator> Ordered<C> {
    fn new(key: &[u8]) -> Self {
        Ordered(key.to_vec(), std::marker::PhantomData)
    }
}

impl<C: Comparator> PartialEq for Ordered<C> {
    fn eq(&self, other: &Self) -> bool {
        C::compare(&self.0, &other.0) == Ordering::Equal
    }
}
impl<C: Comparator> Eq for Ordered<C> {}
impl<C: Comparator> PartialOrd for Ordered<C> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<C: Comparator> Ord for Ordered<C> {
    fn cmp(&self, other: &Self) -> Ordering {
        C::compare(&self.0, &other.0)
    }
}

/// A key of 1 to `longest` random bytes.
fn random_key(rng: &mut Rng, longest: u64) -> Vec<u8> {
    let len = 1 + rng.below(longest) as usize;
    rng.bytes(len)
}

fn reopen(dir: &std::path::Path, env: Env) -> Env {
    drop(env);
    open_with_page_size(dir, 512)
}

#[test]
fn heeds_custom_comparator_example_orders_the_unnamed_database() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<StringAsInt>()
        .create(&mut wtxn)
        .unwrap();
    for key in ["-100000", "-10000", "-1000", "-100", "100"] {
        db.put(&mut wtxn, key, &()).unwrap();
    }
    let keys: Vec<&str> = db
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(keys, ["-100000", "-10000", "-1000", "-100", "100"]);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// Thousands of inserts and deletes in random order over 512-byte pages (splits, merges,
/// borrows at every level) against a model ordered by the same comparator: every read path
/// agrees, and the checker verifies the order with the comparator.
#[test]
fn a_custom_order_holds_through_splits_merges_ranges_and_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Bytes, Bytes, ByLengthThenReversed> = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("ordered")
        .create(&mut wtxn)
        .unwrap();
    wtxn.commit().unwrap();
    let mut model: BTreeMap<Ordered<ByLengthThenReversed>, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(7);
    for round in 0..6 {
        let mut wtxn = env.write_txn().unwrap();
        for _ in 0..1_500 {
            let len = 1 + rng.below(12) as usize;
            let key = rng.bytes(len);
            if rng.below(3) == 0 {
                let existed = db.delete(&mut wtxn, &key).unwrap();
                assert_eq!(existed, model.remove(&Ordered::new(&key)).is_some());
            } else {
                let value = vec![round as u8; rng.below(40) as usize];
                db.put(&mut wtxn, &key, &value).unwrap();
                model.insert(Ordered::new(&key), value);
            }
        }
        wtxn.commit().unwrap();
        let rtxn = env.read_txn().unwrap();
        let stored: Vec<(Vec<u8>, Vec<u8>)> = db
            .iter(&rtxn)
            .unwrap()
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (key.to_vec(), value.to_vec())
            })
            .collect();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = model
            .iter()
            .map(|(key, value)| (key.0.clone(), value.clone()))
            .collect();
        assert_eq!(stored, expected, "round {round}");
        let backwards: Vec<Vec<u8>> = db
            .rev_iter(&rtxn)
            .unwrap()
            .map(|entry| entry.unwrap().0.to_vec())
            .collect();
        assert!(backwards
            .iter()
            .eq(expected.iter().rev().map(|(key, _)| key)));
        for _ in 0..200 {
            let probe = random_key(&mut rng, 12);
            let at = Ordered::new(&probe);
            assert_eq!(
                db.get(&rtxn, &probe).unwrap(),
                model.get(&at).map(Vec::as_slice)
            );
            let below = db
                .get_lower_than(&rtxn, &probe)
                .unwrap()
                .map(|(k, _)| k.to_vec());
            let model_below = model.range(..&at).next_back().map(|(k, _)| k.0.clone());
            assert_eq!(below, model_below);
            let above = db
                .get_greater_than_or_equal_to(&rtxn, &probe)
                .unwrap()
                .map(|(k, _)| k.to_vec());
            let model_above = model.range(&at..).next().map(|(k, _)| k.0.clone());
            assert_eq!(above, model_above);
            let end = random_key(&mut rng, 12);
            let range = (Bound::Included(&probe[..]), Bound::Excluded(&end[..]));
            let in_range: Vec<Vec<u8>> = db
                .range(&rtxn, &range)
                .unwrap()
                .map(|entry| entry.unwrap().0.to_vec())
                .collect();
            let end_at = Ordered::new(&end);
            let model_range: Vec<Vec<u8>> = if at < end_at {
                model
                    .range(&at..&end_at)
                    .map(|(k, _)| k.0.clone())
                    .collect()
            } else {
                Vec::new()
            };
            assert_eq!(in_range, model_range);
        }
        drop(rtxn);
        assert_sound(&env);
    }
    assert!(db.stat(&env.read_txn().unwrap()).unwrap().depth >= 3);
}

#[test]
fn append_follows_the_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<StringAsInt>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    // Ascending as numbers, not as strings ("10" < "9" byte-wise).
    for n in 0..2_000 {
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, &n.to_string(), &())
            .unwrap();
    }
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, "1500", &()),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    assert!(matches!(
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, "1999", &()),
        Err(Error::Mdb(MdbError::KeyExist))
    ));
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let keys: Vec<i32> = db
        .iter(&rtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0.parse().unwrap())
        .collect();
    assert_eq!(keys, (0..2_000).collect::<Vec<_>>());
    drop(rtxn);
    assert_sound(&env);
}

/// heed's `integer_keys` test: native-endian `u32` keys come back in numeric order.
#[test]
fn integer_keys_iterate_in_numeric_order_and_the_flag_is_recorded() {
    type NativeU32 = U32<NativeEndian>;
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<NativeU32, NativeU32>()
        .key_comparator::<IntegerComparator>()
        .name("integers")
        .create(&mut wtxn)
        .unwrap();
    for i in (1000..2000).rev() {
        db.put(&mut wtxn, &i, &i).unwrap();
    }
    let keys: Vec<u32> = db
        .range(&wtxn, &(0..10_000))
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(keys, (1000..2000).collect::<Vec<_>>());
    wtxn.commit().unwrap();

    let env = reopen(dir.path(), env);
    let rtxn = env.read_txn().unwrap();
    // Opened without options, it keeps the order it was created with, as in LMDB.
    let plain: Database<NativeU32, NativeU32> =
        env.open_database(&rtxn, Some("integers")).unwrap().unwrap();
    assert_eq!(plain.first(&rtxn).unwrap(), Some((1000, 1000)));
    assert_eq!(plain.get(&rtxn, &1500).unwrap(), Some(1500));
    // The flag, asked for explicitly, matches; another flag does not.
    let mut options = env.database_options().types::<NativeU32, NativeU32>();
    options.name("integers").flags(DatabaseFlags::INTEGER_KEY);
    assert!(options.open(&rtxn).unwrap().is_some());
    let mut options = env.database_options().types::<NativeU32, NativeU32>();
    options.name("integers").flags(DatabaseFlags::REVERSE_KEY);
    assert!(matches!(
        options.open(&rtxn),
        Err(Error::Mdb(MdbError::IncompatibleDatabase { name: Some(name), reason })) if name == "integers" && reason.contains("INTEGER_KEY")
    ));
    // Prefix iteration assumes a lexicographic order, which integers are not.
    assert!(matches!(
        plain.prefix_iter(&rtxn, &7),
        Err(Error::Mdb(MdbError::IncompatibleDatabase { .. }))
    ));
}

#[test]
fn reverse_keys_order_by_their_last_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Str, Unit>();
    options.name("suffixes").flags(DatabaseFlags::REVERSE_KEY);
    let db = options.create(&mut wtxn).unwrap();
    for key in ["ab", "ba", "c", "bc", "za", "a"] {
        db.put(&mut wtxn, key, &()).unwrap();
    }
    let keys: Vec<&str> = db
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(keys, ["a", "ba", "za", "ab", "c", "bc"]);
    wtxn.commit().unwrap();
    assert_sound(&env);
}

#[test]
fn a_database_opens_only_with_the_comparator_it_was_created_with() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("ordered")
        .create(&mut wtxn)
        .unwrap();
    db.put(&mut wtxn, b"zz", b"1").unwrap();
    db.put(&mut wtxn, b"a", b"2").unwrap();
    // Another comparator for the same database in the same environment is refused at once.
    let other = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<StringAsInt>()
        .name("ordered")
        .create(&mut wtxn);
    assert!(
        matches!(
            other,
            Err(Error::Mdb(MdbError::IncompatibleDatabase { .. }))
        ),
        "{other:?}"
    );
    wtxn.commit().unwrap();

    let env = reopen(dir.path(), env);
    let rtxn = env.read_txn().unwrap();
    // Opened without options, in a process that has not given its comparator: it can be
    // walked and counted in its order, but not searched.
    let plain = env
        .open_database::<Bytes, Bytes>(&rtxn, Some("ordered"))
        .unwrap()
        .unwrap();
    assert_eq!(plain.len(&rtxn).unwrap(), 2);
    let walked: Vec<&[u8]> = plain
        .iter(&rtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(walked, [&b"a"[..], b"zz"]);
    let searched = plain.get(&rtxn, b"zz");
    assert!(
        matches!(&searched, Err(Error::Mdb(MdbError::IncompatibleDatabase { name: Some(name), reason })) if name == "ordered" && reason.contains("by length, then reversed")),
        "{searched:?}"
    );
    assert!(matches!(
        plain
            .range(&rtxn, &(Bound::Included(&b"a"[..]), Bound::Unbounded))
            .map(|mut range| range.next()),
        Err(Error::Mdb(MdbError::IncompatibleDatabase { .. }))
    ));
    let other = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<StringAsInt>()
        .name("ordered")
        .open(&rtxn);
    assert!(
        matches!(&other, Err(Error::Mdb(MdbError::IncompatibleDatabase { reason, .. })) if reason.contains("StringAsInt")),
        "{other:?}"
    );
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("ordered")
        .open(&rtxn)
        .unwrap()
        .unwrap();
    let keys: Vec<&[u8]> = db
        .iter(&rtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(keys, [&b"a"[..], b"zz"]);
    assert_eq!(db.get(&rtxn, b"zz").unwrap(), Some(&b"1"[..]));
}

/// The checker orders keys with the comparator this process registered: a database whose
/// comparator changed under the same name is reported, and one whose comparator no handle
/// gave is walked without an order check, saying so.
#[test]
fn the_checker_verifies_order_with_the_registered_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("ordered")
        .create(&mut wtxn)
        .unwrap();
    let mut rng = Rng(3);
    for _ in 0..500 {
        let key = random_key(&mut rng, 8);
        db.put(&mut wtxn, &key, b"v").unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);

    let env = reopen(dir.path(), env);
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(
        report
            .warnings
            .iter()
            .any(|warning| warning.contains("not checked")
                && warning.contains("by length, then reversed")),
        "{report}"
    );

    let rtxn = env.read_txn().unwrap();
    env.database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ImpostorOfByLength>()
        .name("ordered")
        .open(&rtxn)
        .unwrap()
        .unwrap();
    drop(rtxn);
    let report = env.check().unwrap();
    assert!(!report.is_ok(), "a tree out of the registered order passed");
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.contains("\"ordered\"")),
        "{report}"
    );
}

#[test]
fn a_compacting_copy_keeps_a_custom_order() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .create(&mut wtxn)
        .unwrap();
    let named = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("named")
        .create(&mut wtxn)
        .unwrap();
    let mut rng = Rng(11);
    let mut keys = Vec::new();
    for _ in 0..2_000 {
        let key = random_key(&mut rng, 10);
        db.put(&mut wtxn, &key, &key).unwrap();
        named.put(&mut wtxn, &key, b"n").unwrap();
        keys.push(key);
    }
    wtxn.commit().unwrap();
    let copy_dir = tempfile::tempdir().unwrap();
    let copy_path = copy_dir.path().join("copy.arbordb");
    env.copy_to_path(&copy_path, CompactionOption::Enabled)
        .unwrap();

    let copy = unsafe {
        EnvOpenOptions::new()
            .max_dbs(4)
            .flags(EnvFlags::NO_SUB_DIR)
            .open(&copy_path)
            .unwrap()
    };
    let rtxn = copy.read_txn().unwrap();
    let copied_db = copy
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .open(&rtxn)
        .unwrap()
        .unwrap();
    let copied_named = copy
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("named")
        .open(&rtxn)
        .unwrap()
        .unwrap();
    let original = env.read_txn().unwrap();
    assert!(db
        .iter(&original)
        .unwrap()
        .map(Result::unwrap)
        .eq(copied_db.iter(&rtxn).unwrap().map(Result::unwrap)));
    for key in &keys {
        assert_eq!(copied_db.get(&rtxn, key).unwrap(), Some(&key[..]));
        assert_eq!(copied_named.get(&rtxn, key).unwrap(), Some(&b"n"[..]));
    }
    drop(rtxn);
    assert_sound(&copy);
}

#[test]
fn prefix_iteration_follows_a_lexicographic_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<Descending>()
        .name("descending")
        .create(&mut wtxn)
        .unwrap();
    for key in ["a", "ab", "abc", "ac", "b", "aa"] {
        db.put(&mut wtxn, key, &()).unwrap();
    }
    let all: Vec<&str> = db
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(all, ["b", "a", "ac", "ab", "abc", "aa"]);
    let prefixed: Vec<&str> = db
        .prefix_iter(&wtxn, "ab")
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(prefixed, ["ab", "abc"]);
    let backwards: Vec<&str> = db
        .rev_prefix_iter(&wtxn, "a")
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(backwards, ["aa", "abc", "ab", "ac", "a"]);
}

/// A comparator that panics in the middle of a put leaves the write transaction unable to
/// commit; what was committed before is untouched and a new transaction works.
#[test]
fn a_panicking_comparator_cannot_commit_a_half_made_change() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Str>()
        .key_comparator::<PanicsOnBoom>()
        .name("fragile")
        .create(&mut wtxn)
        .unwrap();
    for n in 0..500 {
        db.put(&mut wtxn, &format!("key {n:04}"), "committed")
            .unwrap();
    }
    wtxn.commit().unwrap();

    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "key 0001", "changed").unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| db.put(&mut wtxn, "boom", "x")));
    assert!(panicked.is_err());
    assert!(matches!(
        db.put(&mut wtxn, "key 0002", "changed"),
        Err(Error::Mdb(MdbError::BadTxn))
    ));
    assert!(matches!(wtxn.commit(), Err(Error::Mdb(MdbError::BadTxn))));

    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "key 0001").unwrap(), Some("committed"));
    assert_eq!(db.len(&rtxn).unwrap(), 500);
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "key 0001", "changed").unwrap();
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// The unnamed database takes a comparator while empty, records its name in the catalog, and
/// gives it up when emptied and given another shape (its record then leaves the catalog).
#[test]
fn the_unnamed_database_records_its_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<StringAsInt>()
        .create(&mut wtxn)
        .unwrap();
    db.put(&mut wtxn, "10", &()).unwrap();
    db.put(&mut wtxn, "9", &()).unwrap();
    wtxn.commit().unwrap();
    // The record is not a database: the names list does not show it.
    assert!(env.read_txn().unwrap().database_names().unwrap().is_empty());

    let env = reopen(dir.path(), env);
    let rtxn = env.read_txn().unwrap();
    let plain = env
        .open_database::<Str, Unit>(&rtxn, None)
        .unwrap()
        .unwrap();
    assert!(matches!(
        plain.get(&rtxn, "9"),
        Err(Error::Mdb(MdbError::IncompatibleDatabase {
            name: None,
            ..
        }))
    ));
    let db = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<StringAsInt>()
        .open(&rtxn)
        .unwrap()
        .unwrap();
    assert_eq!(db.first(&rtxn).unwrap(), Some(("9", ())));
    assert_eq!(
        plain.get(&rtxn, "9").unwrap(),
        Some(()),
        "the name is now known"
    );
    drop(rtxn);
    assert_sound(&env);

    // Emptied, it takes integer keys; the comparator's record goes.
    let mut wtxn = env.write_txn().unwrap();
    db.clear(&mut wtxn).unwrap();
    let integers = env
        .database_options()
        .types::<U32<NativeEndian>, Unit>()
        .key_comparator::<IntegerComparator>()
        .create(&mut wtxn)
        .unwrap();
    integers.put(&mut wtxn, &256, &()).unwrap();
    integers.put(&mut wtxn, &3, &()).unwrap();
    wtxn.commit().unwrap();
    let env = reopen(dir.path(), env);
    // The checker reports a record the flags do not announce.
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    let plain = env
        .open_database::<U32<NativeEndian>, Unit>(&rtxn, None)
        .unwrap()
        .unwrap();
    assert_eq!(plain.first(&rtxn).unwrap(), Some((3, ())));
}

/// A comparator registered by one handle, an aborted transaction or a deleted database does
/// not stick to the database's place: the tree is searched with the order its record names.
#[test]
fn a_database_recreated_with_another_comparator_is_searched_in_its_new_order() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    // Created with one comparator in an aborted transaction, then with another.
    let mut wtxn = env.write_txn().unwrap();
    env.database_options()
        .types::<Str, Unit>()
        .key_comparator::<ByLengthThenReversed>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    wtxn.abort();
    let mut wtxn = env.write_txn().unwrap();
    let by_length = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<ByLengthThenReversed>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    wtxn.abort();
    let mut wtxn = env.write_txn().unwrap();
    let numbers = env
        .database_options()
        .types::<Str, Unit>()
        .key_comparator::<StringAsInt>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    for n in 0..300 {
        numbers.put(&mut wtxn, &n.to_string(), &()).unwrap();
    }
    wtxn.commit().unwrap();
    // Deleted and created again with the other comparator: the old handle searches the new
    // tree in the new tree's order.
    let mut wtxn = env.write_txn().unwrap();
    assert!(env.delete_database(&mut wtxn, "numbers").unwrap());
    let again = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<ByLengthThenReversed>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    let mut rng = Rng(9);
    let mut keys = Vec::new();
    for _ in 0..300 {
        let key = random_key(&mut rng, 6);
        again.put(&mut wtxn, &key, &()).unwrap();
        keys.push(key);
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    for key in &keys {
        assert_eq!(by_length.get(&rtxn, key).unwrap(), Some(()));
    }
    drop(rtxn);
    assert_sound(&env);
}

/// A database whose comparator this process never gave can still be cleared and deleted.
#[test]
fn a_database_without_its_comparator_can_be_cleared_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    for name in ["cleared", "deleted"] {
        let db = env
            .database_options()
            .types::<Str, Unit>()
            .key_comparator::<StringAsInt>()
            .name(name)
            .create(&mut wtxn)
            .unwrap();
        for n in 0..500 {
            db.put(&mut wtxn, &n.to_string(), &()).unwrap();
        }
    }
    wtxn.commit().unwrap();
    let env = reopen(dir.path(), env);
    let mut wtxn = env.write_txn().unwrap();
    let cleared = env
        .open_database::<Str, Unit>(&wtxn, Some("cleared"))
        .unwrap()
        .unwrap();
    cleared.clear(&mut wtxn).unwrap();
    assert!(env.delete_database(&mut wtxn, "deleted").unwrap());
    wtxn.commit().unwrap();
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(cleared.len(&rtxn).unwrap(), 0);
    assert_eq!(rtxn.database_names().unwrap(), ["cleared"]);
}

thread_local! {
    /// How many more comparisons [`Fused`] makes before it panics.
    static FUSE: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
}

/// Byte order, panicking at the comparison the fuse runs out on.
enum Fused {}

impl Comparator for Fused {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        FUSE.with(|fuse| {
            let left = fuse.get();
            if left == 0 {
                panic!("the fuse ran out");
            }
            fuse.set(left - 1);
        });
        a.cmp(b)
    }
}

/// A comparator that panics at a random comparison in the middle of puts, deletes and
/// range deletes (splits and merges half done): the transaction refuses to go on or commit,
/// and what the database holds is always what the model committed.
#[test]
fn a_comparator_panicking_mid_change_never_commits_a_half_made_tree() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<Fused>()
        .name("fused")
        .create(&mut wtxn)
        .unwrap();
    wtxn.commit().unwrap();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(23);
    let mut panicked = 0;
    for _ in 0..150 {
        let mut wtxn = env.write_txn().unwrap();
        let mut changed = model.clone();
        FUSE.with(|fuse| fuse.set(rng.below(4_000)));
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), Error> {
            for _ in 0..60 {
                let key = random_key(&mut rng, 4);
                match rng.below(5) {
                    0 => {
                        db.delete(&mut wtxn, &key)?;
                        changed.remove(&key);
                    }
                    1 => {
                        let end = random_key(&mut rng, 4);
                        let range = (Bound::Included(&key[..]), Bound::Excluded(&end[..]));
                        db.delete_range(&mut wtxn, &range)?;
                        changed.retain(|k, _| !(key <= *k && *k < end));
                    }
                    _ => {
                        let len = rng.below(80) as usize;
                        let value = rng.bytes(len);
                        db.put(&mut wtxn, &key, &value)?;
                        changed.insert(key, value);
                    }
                }
            }
            Ok(())
        }));
        FUSE.with(|fuse| fuse.set(u64::MAX));
        match outcome {
            Ok(result) => {
                result.unwrap();
                wtxn.commit().unwrap();
                model = changed;
            }
            Err(_) => {
                panicked += 1;
                assert!(matches!(
                    db.put(&mut wtxn, b"after", b"panic"),
                    Err(Error::Mdb(MdbError::BadTxn))
                ));
                assert!(matches!(wtxn.commit(), Err(Error::Mdb(MdbError::BadTxn))));
            }
        }
        let rtxn = env.read_txn().unwrap();
        let stored: Vec<(Vec<u8>, Vec<u8>)> = db
            .iter(&rtxn)
            .unwrap()
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (key.to_vec(), value.to_vec())
            })
            .collect();
        assert!(stored.into_iter().eq(model.clone()));
    }
    assert!(panicked > 30, "only {panicked} transactions panicked");
    assert_sound(&env);
}

/// Reverse order through thousands of keys: splits and merges choose whole keys as
/// separators.
#[test]
fn reverse_keys_hold_their_order_through_splits_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name("reversed").flags(DatabaseFlags::REVERSE_KEY);
    let db = options.create(&mut wtxn).unwrap();
    let reversed = |key: &[u8]| key.iter().rev().copied().collect::<Vec<u8>>();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(31);
    for round in 0..4 {
        for _ in 0..2_000 {
            let key = random_key(&mut rng, 10);
            if round % 2 == 1 && rng.below(2) == 0 {
                db.delete(&mut wtxn, &key).unwrap();
                model.remove(&reversed(&key));
            } else {
                db.put(&mut wtxn, &key, &key).unwrap();
                model.insert(reversed(&key), key);
            }
        }
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let stored: Vec<Vec<u8>> = db
        .iter(&rtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0.to_vec())
        .collect();
    assert_eq!(stored, model.values().cloned().collect::<Vec<_>>());
    assert!(db.stat(&rtxn).unwrap().depth >= 3);
    drop(rtxn);
    assert_sound(&env);
}

/// An order of values without DUP_SORT is refused; a huge `max_dbs` costs nothing; both
/// built-in key flags order keys from their end, as in LMDB.
#[test]
fn flag_combinations_and_max_dbs() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .max_dbs(u32::MAX)
            .open(dir.path())
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options
        .name("both")
        .flags(DatabaseFlags::INTEGER_KEY | DatabaseFlags::REVERSE_KEY);
    let both = options.create(&mut wtxn).unwrap();
    for key in [&b"\x01\x00"[..], b"\x02"] {
        both.put(&mut wtxn, key, b"").unwrap();
    }
    let keys: Vec<&[u8]> = both
        .iter(&wtxn)
        .unwrap()
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(
        keys,
        [&b"\x01\x00"[..], b"\x02"],
        "from the last byte, as LMDB"
    );
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name("values").flags(DatabaseFlags::INTEGER_DUP);
    assert!(matches!(
        options.create(&mut wtxn),
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
}

#[test]
fn database_info_describes_a_database_without_its_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    env.database_options()
        .types::<Bytes, Bytes>()
        .key_comparator::<ByLengthThenReversed>()
        .name("custom")
        .create(&mut wtxn)
        .unwrap()
        .put(&mut wtxn, b"k", b"v")
        .unwrap();
    env.database_options()
        .types::<Bytes, Bytes>()
        .name("both")
        .flags(DatabaseFlags::INTEGER_KEY | DatabaseFlags::REVERSE_KEY)
        .create(&mut wtxn)
        .unwrap();
    // Before the commit the name comes from the comparator registered at creation.
    let described = env.database_info(&wtxn, Some("custom")).unwrap().unwrap();
    assert_eq!(
        described.key_comparator.as_deref(),
        Some("by length, then reversed")
    );
    wtxn.commit().unwrap();
    drop(env);

    // A new process, which has no comparator: described, though it cannot be searched.
    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let custom = env
        .open_database::<Bytes, Bytes>(&rtxn, Some("custom"))
        .unwrap()
        .unwrap();
    assert!(matches!(
        custom.get(&rtxn, b"k"),
        Err(Error::Mdb(MdbError::IncompatibleDatabase { .. }))
    ));
    let described = env.database_info(&rtxn, Some("custom")).unwrap().unwrap();
    assert_eq!(
        described.key_comparator.as_deref(),
        Some("by length, then reversed")
    );
    assert_eq!(described.flags, DatabaseFlags::empty());
    assert_eq!(described.stat.entries, 1);
    let both = env.database_info(&rtxn, Some("both")).unwrap().unwrap();
    assert_eq!(
        both.flags,
        DatabaseFlags::INTEGER_KEY | DatabaseFlags::REVERSE_KEY
    );
    assert_eq!(both.key_comparator, None);
    let unnamed = env.database_info(&rtxn, None).unwrap().unwrap();
    assert_eq!(
        (unnamed.flags, unnamed.key_comparator),
        (DatabaseFlags::empty(), None)
    );
    assert_eq!(env.database_info(&rtxn, Some("missing")).unwrap(), None);
}

mod users {
    /// Shorter keys first.
    pub enum ByLength {}

    impl arbordb::Comparator for ByLength {
        fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
            a.len().cmp(&b.len()).then(a.cmp(b))
        }
    }

    /// Another order that claims a name already taken.
    pub enum Impostor {}

    impl arbordb::Comparator for Impostor {
        fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
            b.cmp(a)
        }

        fn name() -> String {
            <ByLength as arbordb::Comparator>::name()
        }
    }
}

mod logs {
    /// The same type name as `users::ByLength`, another order.
    pub enum ByLength {}

    impl arbordb::Comparator for ByLength {
        fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
            b.cmp(a)
        }
    }
}

/// Comparators are told apart by their full names, and two types under one name in one
/// environment are refused rather than one's order used for the other's database.
#[test]
fn comparators_of_one_type_name_stay_apart_and_one_name_takes_one_type() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let users_db = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<users::ByLength>()
        .name("users")
        .create(&mut wtxn)
        .unwrap();
    let logs_db = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<logs::ByLength>()
        .name("logs")
        .create(&mut wtxn)
        .unwrap();
    for key in [&b"bbb"[..], b"a", b"cc"] {
        users_db.put(&mut wtxn, key, &()).unwrap();
        logs_db.put(&mut wtxn, key, &()).unwrap();
    }
    let users_keys: Vec<&[u8]> = users_db
        .iter(&wtxn)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    let logs_keys: Vec<&[u8]> = logs_db.iter(&wtxn).unwrap().map(|e| e.unwrap().0).collect();
    assert_eq!(users_keys, [&b"a"[..], b"cc", b"bbb"]);
    assert_eq!(logs_keys, [&b"cc"[..], b"bbb", b"a"]);
    let impostor = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<users::Impostor>()
        .name("other")
        .create(&mut wtxn);
    assert!(
        matches!(&impostor, Err(Error::Mdb(MdbError::IncompatibleDatabase { reason, .. })) if reason.contains("Impostor")),
        "{impostor:?}"
    );
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// The unnamed database reshaped twice in one transaction (another order, then another
/// comparator) records the comparator it ends with.
#[test]
fn the_unnamed_database_reshaped_twice_records_its_last_comparator() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    env.database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<users::ByLength>()
        .create(&mut wtxn)
        .unwrap();
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Unit>();
    options.flags(DatabaseFlags::REVERSE_KEY);
    options.create(&mut wtxn).unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<logs::ByLength>()
        .create(&mut wtxn)
        .unwrap();
    for key in [&b"a"[..], b"b", b"c"] {
        db.put(&mut wtxn, key, &()).unwrap();
    }
    wtxn.commit().unwrap();
    let env = reopen(dir.path(), env);
    let rtxn = env.read_txn().unwrap();
    let info = env.database_info(&rtxn, None).unwrap().unwrap();
    assert_eq!(
        info.key_comparator.as_deref(),
        Some(std::any::type_name::<logs::ByLength>())
    );
    let db = env
        .database_options()
        .types::<Bytes, Unit>()
        .key_comparator::<logs::ByLength>()
        .open(&rtxn)
        .unwrap()
        .unwrap();
    assert_eq!(db.get(&rtxn, b"c").unwrap(), Some(()));
    drop(rtxn);
    assert_sound(&env);
}
