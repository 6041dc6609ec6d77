//! The model test: random operation sequences over several databases against `BTreeMap`s.
//!
//! Each case opens an environment with small pages (so a few hundred operations build deep
//! trees and exercise splits, merges, borrowing and overflow runs), then runs puts (some with
//! NO_OVERWRITE, some with APPEND), deletes, clears, probes (the four neighbours of a key and a
//! range both ways), commits, aborts and reopenings over its databases. After every commit the
//! checker must pass, verifying every database's order, and every database must equal its
//! model; a reader opened mid-sequence must keep seeing its snapshot through later commits.
//! Two runs use byte-wise databases (the unnamed one and three named ones); a third orders its
//! databases by a custom comparator, by `REVERSE_KEY` and by `IntegerComparator`, each model
//! keyed by the same order. A fourth runs its own operations over `DUP_SORT` databases (see
//! "Sorted duplicates" below), each model a map of sets of values in the database's orders.
//!
//! Replay a failure with the seed proptest prints (PROPTEST_CASES / the persisted regression
//! file); see docs/testing.md.

mod common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{
    Comparator, Database, DatabaseFlags, Env, EnvOpenOptions, Error, IntegerComparator, PutFlags,
    RoTxn, RwTxn,
};
use common::orders::ByLengthThenReversed;
use proptest::prelude::*;

/// The order of a database's keys, as the model compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Byte-wise, the default.
    Bytes,
    /// [`ByLengthThenReversed`].
    LengthThenReversed,
    /// `DatabaseFlags::REVERSE_KEY`: byte-wise from the last byte.
    Reverse,
    /// `IntegerComparator` over 4-byte keys (little-endian `u32`).
    Integer,
}

impl Order {
    fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            Order::Bytes => a.cmp(b),
            Order::LengthThenReversed => ByLengthThenReversed::compare(a, b),
            Order::Reverse => a.iter().rev().cmp(b.iter().rev()),
            Order::Integer => {
                let number = |key: &[u8]| u32::from_le_bytes(key.try_into().expect("4 bytes"));
                number(a).cmp(&number(b))
            }
        }
    }

    /// The key the database stores for a generated key: integer keys are all 4 bytes.
    fn key(self, key: &[u8]) -> Vec<u8> {
        let mut key = key.to_vec();
        if self == Order::Integer {
            key.resize(4, 0);
        }
        key
    }

    /// A key just after `last` in this order, no longer than `max_key`, if there is one.
    fn successor(self, last: &[u8], max_key: usize) -> Option<Vec<u8>> {
        match self {
            Order::Integer => {
                let number = u32::from_le_bytes(last.try_into().expect("4 bytes"));
                Some(number.checked_add(1)?.to_le_bytes().to_vec())
            }
            _ if last.len() >= max_key => None,
            // A longer key that the last one begins (ends, read from the end) is after it.
            Order::Bytes | Order::LengthThenReversed => Some([last, &[0]].concat()),
            Order::Reverse => Some([&[0], last].concat()),
        }
    }
}

/// An order of keys or of values, as a model applies it.
trait Compares: Copy {
    fn compare(self, a: &[u8], b: &[u8]) -> Ordering;
}

impl Compares for Order {
    fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        Order::compare(self, a, b)
    }
}

/// Bytes in a model, ordered as their database orders them.
#[derive(Debug, Clone)]
struct Ordered<O> {
    bytes: Vec<u8>,
    order: O,
}

impl<O: Compares> PartialEq for Ordered<O> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<O: Compares> Eq for Ordered<O> {}
impl<O: Compares> PartialOrd for Ordered<O> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<O: Compares> Ord for Ordered<O> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order.compare(&self.bytes, &other.bytes)
    }
}

/// A key in a model, ordered as its database orders keys.
type Key = Ordered<Order>;

/// One database of a run: its name and the order of its keys.
#[derive(Debug, Clone, Copy)]
struct Spec {
    name: Option<&'static str>,
    order: Order,
}

const fn spec(name: Option<&'static str>, order: Order) -> Spec {
    Spec { name, order }
}

/// The unnamed database and three named ones, all byte-wise.
const BYTE_WISE: [Spec; 4] = [
    spec(None, Order::Bytes),
    spec(Some("alpha"), Order::Bytes),
    spec(Some("beta"), Order::Bytes),
    spec(Some("gamma"), Order::Bytes),
];

/// A database in each order other than byte-wise (the unnamed one by a custom comparator,
/// whose name the catalog keeps apart), and a byte-wise one beside them.
const ORDERED: [Spec; 5] = [
    spec(None, Order::LengthThenReversed),
    spec(Some("by length"), Order::LengthThenReversed),
    spec(Some("reversed"), Order::Reverse),
    spec(Some("integers"), Order::Integer),
    spec(Some("bytes"), Order::Bytes),
];

type Model = Vec<BTreeMap<Key, Vec<u8>>>;
/// Entries as stored: keys and values.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Clone)]
enum Op {
    Put {
        db: usize,
        key: Vec<u8>,
        value_len: usize,
        fill: u8,
        no_overwrite: bool,
    },
    /// A put with `PutFlags::APPEND`: of the key after the database's last one when
    /// `after_last` (and there is one), else of `key`, which may be out of order.
    Append {
        db: usize,
        key: Vec<u8>,
        after_last: bool,
        value_len: usize,
        fill: u8,
    },
    Delete {
        db: usize,
        key: Vec<u8>,
    },
    /// The four neighbours of `key`, and the range from `key` to `end` (bounds chosen by
    /// `bounds`) forward and backward, against the model inside the write transaction.
    Probe {
        db: usize,
        key: Vec<u8>,
        end: Vec<u8>,
        bounds: (u8, u8),
    },
    Clear {
        db: usize,
    },
    Commit,
    Abort,
    Reopen,
    OpenReader,
    CheckReader,
    CloseReader,
}

fn key_strategy(max_key: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // A small key space, so deletes and overwrites hit.
        8 => (0u16..300).prop_map(|n| format!("k{n:03}").into_bytes()),
        1 => Just(Vec::new()),
        1 => proptest::collection::vec(any::<u8>(), 0..=max_key),
        1 => (0u16..40).prop_map(move |n| { let mut key = vec![b'L'; max_key]; key[max_key - 2..].copy_from_slice(&n.to_be_bytes()); key }),
    ]
}

fn op_strategy(databases: usize, max_key: usize, page_size: usize) -> impl Strategy<Value = Op> {
    let value_len =
        || prop_oneof![6 => 0usize..64, 2 => 64usize..page_size, 1 => page_size..=3 * page_size];
    prop_oneof![
        40 => (0..databases, key_strategy(max_key), value_len(), any::<u8>(), prop::bool::weighted(0.1))
            .prop_map(|(db, key, value_len, fill, no_overwrite)| Op::Put { db, key, value_len, fill, no_overwrite }),
        4 => (0..databases, key_strategy(max_key), prop::bool::weighted(0.8), value_len(), any::<u8>())
            .prop_map(|(db, key, after_last, value_len, fill)| Op::Append { db, key, after_last, value_len, fill }),
        15 => (0..databases, key_strategy(max_key)).prop_map(|(db, key)| Op::Delete { db, key }),
        6 => (0..databases, key_strategy(max_key), key_strategy(max_key), (0u8..3, 0u8..3))
            .prop_map(|(db, key, end, bounds)| Op::Probe { db, key, end, bounds }),
        1 => (0..databases).prop_map(|db| Op::Clear { db }),
        6 => Just(Op::Commit),
        2 => Just(Op::Abort),
        1 => Just(Op::Reopen),
        2 => Just(Op::OpenReader),
        2 => Just(Op::CheckReader),
        1 => Just(Op::CloseReader),
    ]
}

fn value(len: usize, fill: u8) -> Vec<u8> {
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

fn open(dir: &std::path::Path, page_size: usize) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(8)
            .page_size(page_size)
            .open(dir)
            .unwrap()
    }
}

/// What the run does with a database, whatever the comparator type of its handle (the order
/// a tree is searched in comes from the database; the handle's type only chose it).
trait Handle {
    fn put(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &[u8],
        value: &[u8],
    ) -> arbordb::Result<()>;
    fn get(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<u8>>;
    fn delete(&self, txn: &mut RwTxn<'_>, key: &[u8]) -> bool;
    fn clear(&self, txn: &mut RwTxn<'_>);
    fn len(&self, txn: &RoTxn<'_>) -> u64;
    /// Every entry, in key order or backward.
    fn entries(&self, txn: &RoTxn<'_>, backward: bool) -> Entries;
    /// The keys in a range, in key order or backward.
    fn range(
        &self,
        txn: &RoTxn<'_>,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
        backward: bool,
    ) -> Vec<Vec<u8>>;
    /// The keys of `get_lower_than`, `get_lower_than_or_equal_to`, `get_greater_than` and
    /// `get_greater_than_or_equal_to`.
    fn neighbours(&self, txn: &RoTxn<'_>, key: &[u8]) -> [Option<Vec<u8>>; 4];
}

impl<C> Handle for Database<Bytes, Bytes, C> {
    fn put(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &[u8],
        value: &[u8],
    ) -> arbordb::Result<()> {
        self.put_with_flags(txn, flags, key, value)
    }

    fn get(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<u8>> {
        Database::get(self, txn, key).unwrap().map(<[u8]>::to_vec)
    }

    fn delete(&self, txn: &mut RwTxn<'_>, key: &[u8]) -> bool {
        Database::delete(self, txn, key).unwrap()
    }

    fn clear(&self, txn: &mut RwTxn<'_>) {
        Database::clear(self, txn).unwrap();
    }

    fn len(&self, txn: &RoTxn<'_>) -> u64 {
        Database::len(self, txn).unwrap()
    }

    fn entries(&self, txn: &RoTxn<'_>, backward: bool) -> Entries {
        let owned = |entry: arbordb::Result<(&[u8], &[u8])>| {
            let (key, value) = entry.unwrap();
            (key.to_vec(), value.to_vec())
        };
        if backward {
            self.rev_iter(txn).unwrap().map(owned).collect()
        } else {
            self.iter(txn).unwrap().map(owned).collect()
        }
    }

    fn range(
        &self,
        txn: &RoTxn<'_>,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
        backward: bool,
    ) -> Vec<Vec<u8>> {
        let key = |entry: arbordb::Result<(&[u8], &[u8])>| entry.unwrap().0.to_vec();
        if backward {
            self.rev_range(txn, &bounds).unwrap().map(key).collect()
        } else {
            Database::range(self, txn, &bounds)
                .unwrap()
                .map(key)
                .collect()
        }
    }

    fn neighbours(&self, txn: &RoTxn<'_>, key: &[u8]) -> [Option<Vec<u8>>; 4] {
        let found = |entry: arbordb::Result<Option<(&[u8], &[u8])>>| {
            entry.unwrap().map(|(key, _)| key.to_vec())
        };
        [
            found(self.get_lower_than(txn, key)),
            found(self.get_lower_than_or_equal_to(txn, key)),
            found(self.get_greater_than(txn, key)),
            found(self.get_greater_than_or_equal_to(txn, key)),
        ]
    }
}

/// Creates or opens the databases of `specs`, each with its order (which registers a custom
/// comparator with the environment, so the checker verifies the order with it).
fn databases(env: &Env, specs: &[Spec]) -> Vec<Box<dyn Handle>> {
    let mut wtxn = env.write_txn().unwrap();
    let dbs = specs
        .iter()
        .map(|spec| -> Box<dyn Handle> {
            let mut options = env.database_options().types::<Bytes, Bytes>();
            if let Some(name) = spec.name {
                options.name(name);
            }
            match spec.order {
                Order::Bytes => Box::new(options.create(&mut wtxn).unwrap()),
                Order::Reverse => {
                    options.flags(DatabaseFlags::REVERSE_KEY);
                    Box::new(options.create(&mut wtxn).unwrap())
                }
                Order::LengthThenReversed => Box::new(
                    options
                        .key_comparator::<ByLengthThenReversed>()
                        .create(&mut wtxn)
                        .unwrap(),
                ),
                Order::Integer => Box::new(
                    options
                        .key_comparator::<IntegerComparator>()
                        .create(&mut wtxn)
                        .unwrap(),
                ),
            }
        })
        .collect();
    wtxn.commit().unwrap();
    dbs
}

fn model_entries(model: &BTreeMap<Key, Vec<u8>>) -> Entries {
    model
        .iter()
        .map(|(k, v)| (k.bytes.clone(), v.clone()))
        .collect()
}

fn assert_matches(txn: &RoTxn<'_>, dbs: &[Box<dyn Handle>], model: &Model, context: &str) {
    for (index, db) in dbs.iter().enumerate() {
        let found = db.entries(txn, false);
        let expected = model_entries(&model[index]);
        assert_eq!(
            found.len(),
            expected.len(),
            "{context}: database {index} length"
        );
        assert!(
            found == expected,
            "{context}: database {index} contents differ"
        );
        assert_eq!(
            db.len(txn),
            expected.len() as u64,
            "{context}: database {index} len()"
        );
        let reversed = db.entries(txn, true);
        assert!(
            reversed
                .iter()
                .rev()
                .map(|(k, _)| k)
                .eq(expected.iter().map(|(k, _)| k)),
            "{context}: database {index} reverse"
        );
    }
}

/// Checks the neighbours of `key` and the range from `key` to `end` (`bounds`: 0 included,
/// 1 excluded, 2 unbounded, for the start and the end) in both directions against `model`.
fn assert_probe(
    txn: &RoTxn<'_>,
    db: &dyn Handle,
    model: &BTreeMap<Key, Vec<u8>>,
    (key, end, bounds): (&Key, &Key, (u8, u8)),
    context: &str,
) {
    let keys = || model.keys();
    let expected = [
        keys().rev().find(|k| *k < key),
        keys().rev().find(|k| *k <= key),
        keys().find(|k| *k > key),
        keys().find(|k| *k >= key),
    ]
    .map(|found| found.map(|k| k.bytes.clone()));
    assert_eq!(
        db.neighbours(txn, &key.bytes),
        expected,
        "{context}: neighbours (<, <=, >, >=)"
    );

    let (start, stop) = (bound(bounds.0, key), bound(bounds.1, end));
    let in_range = |k: &Key| {
        let after_start = match start {
            Bound::Included(s) => k >= s,
            Bound::Excluded(s) => k > s,
            Bound::Unbounded => true,
        };
        let before_stop = match stop {
            Bound::Included(s) => k <= s,
            Bound::Excluded(s) => k < s,
            Bound::Unbounded => true,
        };
        after_start && before_stop
    };
    let expected: Vec<Vec<u8>> = keys()
        .filter(|k| in_range(k))
        .map(|k| k.bytes.clone())
        .collect();
    let forward = db.range(txn, (bytes(start), bytes(stop)), false);
    assert_eq!(forward, expected, "{context}: range");
    let backward = db.range(txn, (bytes(start), bytes(stop)), true);
    assert!(
        backward.iter().rev().eq(expected.iter()),
        "{context}: rev_range"
    );
}

/// A bound at `at`: 0 included, 1 excluded, else unbounded.
fn bound(kind: u8, at: &Key) -> Bound<&Key> {
    match kind {
        0 => Bound::Included(at),
        1 => Bound::Excluded(at),
        _ => Bound::Unbounded,
    }
}

fn bytes(bound: Bound<&Key>) -> Bound<&[u8]> {
    bound.map(|key| key.bytes.as_slice())
}

fn assert_checker_passes(env: &Env, context: &str) {
    let report = env.check().unwrap();
    assert!(
        report.is_ok(),
        "{context}: checker found problems:\n{report}"
    );
    assert!(
        !report
            .warnings
            .iter()
            .any(|warning| warning.contains("not checked")),
        "{context}: the checker did not verify every order:\n{report}"
    );
}

/// Runs `ops` from `start`; returns where it stopped (at a Reopen) or `ops.len()`.
fn run_epoch(
    env: &Env,
    specs: &[Spec],
    dbs: &[Box<dyn Handle>],
    (ops, max_key): (&[Op], usize),
    start: usize,
    committed: &mut Model,
) -> usize {
    let mut working = committed.clone();
    let mut wtxn = Some(env.write_txn().unwrap());
    let mut reader: Option<(RoTxn<'_, arbordb::WithTls>, Model)> = None;
    let key_in = |db: usize, key: &[u8]| {
        let order = specs[db].order;
        Key {
            bytes: order.key(key),
            order,
        }
    };
    for (position, op) in ops.iter().enumerate().skip(start) {
        let context = format!("op {position} {op:?}");
        match op {
            Op::Put {
                db,
                key,
                value_len,
                fill,
                no_overwrite,
            } => {
                let txn = wtxn.as_mut().unwrap();
                let key = key_in(*db, key);
                let value = value(*value_len, *fill);
                let flags = if *no_overwrite {
                    PutFlags::NO_OVERWRITE
                } else {
                    PutFlags::empty()
                };
                let result = dbs[*db].put(txn, flags, &key.bytes, &value);
                if *no_overwrite && working[*db].contains_key(&key) {
                    assert!(
                        matches!(result, Err(Error::Mdb(MdbError::KeyExist))),
                        "{context}: {result:?}"
                    );
                } else {
                    result.unwrap();
                    working[*db].insert(key.clone(), value.clone());
                }
                let stored = dbs[*db].get(txn, &key.bytes);
                assert_eq!(
                    stored.as_ref(),
                    working[*db].get(&key),
                    "{context}: read own write"
                );
            }
            Op::Append {
                db,
                key,
                after_last,
                value_len,
                fill,
            } => {
                let txn = wtxn.as_mut().unwrap();
                let order = specs[*db].order;
                let last = working[*db].keys().next_back();
                let key = match last.and_then(|last| order.successor(&last.bytes, max_key)) {
                    Some(successor) if *after_last => Key {
                        bytes: successor,
                        order,
                    },
                    _ => key_in(*db, key),
                };
                let value = value(*value_len, *fill);
                let result = dbs[*db].put(txn, PutFlags::APPEND, &key.bytes, &value);
                if working[*db]
                    .keys()
                    .next_back()
                    .is_some_and(|last| *last >= key)
                {
                    assert!(
                        matches!(result, Err(Error::Mdb(MdbError::KeyExist))),
                        "{context}: an append not after the last key gave {result:?}"
                    );
                } else {
                    result.unwrap_or_else(|error| panic!("{context}: {error}"));
                    working[*db].insert(key, value);
                }
            }
            Op::Delete { db, key } => {
                let key = key_in(*db, key);
                let existed = dbs[*db].delete(wtxn.as_mut().unwrap(), &key.bytes);
                assert_eq!(existed, working[*db].remove(&key).is_some(), "{context}");
            }
            Op::Probe {
                db,
                key,
                end,
                bounds,
            } => {
                let probe = (&key_in(*db, key), &key_in(*db, end), *bounds);
                let txn = wtxn.as_ref().unwrap();
                assert_probe(txn, dbs[*db].as_ref(), &working[*db], probe, &context);
            }
            Op::Clear { db } => {
                dbs[*db].clear(wtxn.as_mut().unwrap());
                working[*db].clear();
            }
            Op::Commit => {
                let txn = wtxn.take().unwrap();
                assert_matches(&txn, dbs, &working, &format!("{context} before commit"));
                txn.commit().unwrap();
                *committed = working.clone();
                assert_checker_passes(env, &context);
                assert_matches(&env.read_txn().unwrap(), dbs, committed, &context);
                wtxn = Some(env.write_txn().unwrap());
            }
            Op::Abort => {
                wtxn.take().unwrap().abort();
                working = committed.clone();
                wtxn = Some(env.write_txn().unwrap());
            }
            Op::Reopen => return position,
            Op::OpenReader => reader = Some((env.read_txn().unwrap(), committed.clone())),
            Op::CheckReader => {
                if let Some((txn, model)) = &reader {
                    assert_matches(txn, dbs, model, &format!("{context} (reader)"));
                }
            }
            Op::CloseReader => reader = None,
        }
    }
    if let Some((txn, model)) = &reader {
        assert_matches(txn, dbs, model, "end of epoch (reader)");
    }
    ops.len()
}

fn run(ops: Vec<Op>, specs: &[Spec], page_size: usize, max_key: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut committed: Model = vec![BTreeMap::new(); specs.len()];
    let mut position = 0;
    loop {
        let env = open(dir.path(), page_size);
        let dbs = databases(&env, specs);
        assert_matches(&env.read_txn().unwrap(), &dbs, &committed, "after reopen");
        assert_checker_passes(&env, "after reopen");
        position = run_epoch(&env, specs, &dbs, (&ops, max_key), position, &mut committed);
        if position >= ops.len() {
            break;
        }
        position += 1; // past the Reopen
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn small_pages_match_the_model(ops in proptest::collection::vec(op_strategy(BYTE_WISE.len(), 105, 512), 1..400)) {
        run(ops, &BYTE_WISE, 512, 105);
    }

    #[test]
    fn os_pages_match_the_model(ops in proptest::collection::vec(op_strategy(BYTE_WISE.len(), 1001, 4096), 1..300)) {
        run(ops, &BYTE_WISE, 4096, 1001);
    }

    /// Databases ordered by a custom comparator, by `REVERSE_KEY` and by `IntegerComparator`
    /// (4-byte keys), against models ordered by the same functions.
    #[test]
    fn key_orders_match_the_model(ops in proptest::collection::vec(op_strategy(ORDERED.len(), 105, 512), 1..400)) {
        run(ops, &ORDERED, 512, 105);
    }
}

// ---- Sorted duplicates -------------------------------------------------------------------

/// Byte-wise descending: a value order unlike every key order of the run, so a tree of values
/// searched in its key's order (or byte-wise) goes wrong.
enum Descending {}

impl Comparator for Descending {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        b.cmp(a)
    }

    fn name() -> String {
        "model: descending".to_owned()
    }
}

/// The orders a duplicate-sorted database's values may take, beside [`Order`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueOrder {
    /// As a key order of [`Order`] (`Order::Reverse` is `REVERSE_DUP`, `Order::Integer`
    /// `INTEGER_DUP` over 4-byte values).
    As(Order),
    /// [`Descending`].
    Descending,
}

impl ValueOrder {
    fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            ValueOrder::As(order) => order.compare(a, b),
            ValueOrder::Descending => Descending::compare(a, b),
        }
    }

    /// Value number `n`: a 4-byte integer in the integer order, else up to 23 bytes whose
    /// first is `n`'s low byte (so values of one length and of several meet).
    fn value(self, n: u16) -> Vec<u8> {
        if self == ValueOrder::As(Order::Integer) {
            return (u32::from(n) * 257).to_le_bytes().to_vec();
        }
        let len = (usize::from(n) * 7) % 24;
        (0..len)
            .map(|i| (n as u8).wrapping_add((i * 13) as u8))
            .collect()
    }

    /// A value just after `last` in this order, at most `max` bytes, if there is one.
    fn successor(self, last: &[u8], max: usize) -> Option<Vec<u8>> {
        match self {
            ValueOrder::As(Order::Integer) => {
                let number = u32::from_le_bytes(last.try_into().expect("4 bytes"));
                Some(number.checked_add(1)?.to_le_bytes().to_vec())
            }
            // A proper prefix is byte-wise smaller.
            ValueOrder::Descending => last.split_last().map(|(_, rest)| rest.to_vec()),
            _ if last.len() >= max => None,
            ValueOrder::As(Order::Bytes | Order::LengthThenReversed) => Some([last, &[0]].concat()),
            ValueOrder::As(Order::Reverse) => Some([&[0], last].concat()),
        }
    }
}

/// A value in a model, ordered as its database orders values.
type Value = Ordered<ValueOrder>;

impl Compares for ValueOrder {
    fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        ValueOrder::compare(self, a, b)
    }
}

/// One duplicate-sorted database of the run: its name, key order and value order.
#[derive(Debug, Clone, Copy)]
struct DupSpec {
    name: &'static str,
    keys: Order,
    values: ValueOrder,
}

/// Byte-wise values; `REVERSE_DUP`; `INTEGER_DUP` with `DUP_FIXED`; a custom value
/// comparator; and custom comparators for both keys and values.
const DUP_SORTED: [DupSpec; 5] = [
    DupSpec {
        name: "pairs",
        keys: Order::Bytes,
        values: ValueOrder::As(Order::Bytes),
    },
    DupSpec {
        name: "reversed values",
        keys: Order::Bytes,
        values: ValueOrder::As(Order::Reverse),
    },
    DupSpec {
        name: "integer values",
        keys: Order::Bytes,
        values: ValueOrder::As(Order::Integer),
    },
    DupSpec {
        name: "values by length",
        keys: Order::Bytes,
        values: ValueOrder::As(Order::LengthThenReversed),
    },
    DupSpec {
        name: "both custom",
        keys: Order::LengthThenReversed,
        values: ValueOrder::Descending,
    },
];

/// The longest value a model run writes (an `APPEND_DUP` chain lengthens values).
const DUP_VALUE_MAX: usize = 40;

type DupModel = Vec<BTreeMap<Key, BTreeSet<Value>>>;

/// How a put of a pair is flagged.
#[derive(Debug, Clone, Copy)]
enum DupPutKind {
    Plain,
    NoDupData,
    NoOverwrite,
    /// `APPEND_DUP` of a value after the key's last one (when `after_last` and there is one)
    /// else of the generated value, which may be out of order.
    AppendDup {
        after_last: bool,
    },
}

#[derive(Debug, Clone)]
enum DupOp {
    /// `count` puts of values `n`, `n + step`, ... under `key`.
    Put {
        db: usize,
        key: Vec<u8>,
        n: u16,
        step: u16,
        count: u8,
        kind: DupPutKind,
    },
    /// Deletes `key` with all its values.
    Delete {
        db: usize,
        key: Vec<u8>,
    },
    /// `count` `delete_one_duplicate`s of `key`: of the values the model has at `pick`
    /// (modulo their number) when `existing`, else of generated value `pick`.
    DeleteOne {
        db: usize,
        key: Vec<u8>,
        pick: u16,
        count: u8,
        existing: bool,
    },
    /// `get` (the first value) and `get_duplicates` of `key`.
    Get {
        db: usize,
        key: Vec<u8>,
    },
    /// Every pair both ways and each key once both ways, against the working model.
    Walk {
        db: usize,
    },
    /// An `iter_mut` walk over pairs whose `del_current` deletes every `every`-th pair.
    DeleteWhileWalking {
        db: usize,
        every: u8,
    },
    Clear {
        db: usize,
    },
    Commit,
    Abort,
    Reopen,
}

fn dup_key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Few keys, so values pile up on them.
        12 => (0u8..10).prop_map(|n| format!("k{n}").into_bytes()),
        1 => Just(Vec::new()),
        // Long keys, though a key and its longest value must fit a plain cell (see the
        // ignored test in tests/duplicates.rs).
        1 => proptest::collection::vec(any::<u8>(), 0..=60),
    ]
}

fn dup_op_strategy() -> impl Strategy<Value = DupOp> {
    let db = || 0..DUP_SORTED.len();
    // Mostly one pair; now and then enough to move a key's values into a tree of their own.
    let count = || prop_oneof![6 => Just(1u8), 2 => 2u8..12, 1 => 12u8..60];
    let kind = prop_oneof![
        6 => Just(DupPutKind::Plain),
        1 => Just(DupPutKind::NoDupData),
        1 => Just(DupPutKind::NoOverwrite),
        2 => prop::bool::weighted(0.7).prop_map(|after_last| DupPutKind::AppendDup { after_last }),
    ];
    prop_oneof![
        30 => (db(), dup_key_strategy(), 0u16..400, 1u16..5, count(), kind)
            .prop_map(|(db, key, n, step, count, kind)| DupOp::Put { db, key, n, step, count, kind }),
        4 => (db(), dup_key_strategy()).prop_map(|(db, key)| DupOp::Delete { db, key }),
        14 => (db(), dup_key_strategy(), any::<u16>(), count(), prop::bool::weighted(0.85))
            .prop_map(|(db, key, pick, count, existing)| DupOp::DeleteOne { db, key, pick, count, existing }),
        5 => (db(), dup_key_strategy()).prop_map(|(db, key)| DupOp::Get { db, key }),
        2 => db().prop_map(|db| DupOp::Walk { db }),
        1 => (db(), 2u8..6).prop_map(|(db, every)| DupOp::DeleteWhileWalking { db, every }),
        1 => db().prop_map(|db| DupOp::Clear { db }),
        5 => Just(DupOp::Commit),
        1 => Just(DupOp::Abort),
        1 => Just(DupOp::Reopen),
    ]
}

/// What the duplicate run does with a database, whatever its comparator types.
trait DupHandle {
    fn put(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &[u8],
        value: &[u8],
    ) -> arbordb::Result<()>;
    fn delete(&self, txn: &mut RwTxn<'_>, key: &[u8]) -> bool;
    fn delete_one(&self, txn: &mut RwTxn<'_>, key: &[u8], value: &[u8]) -> bool;
    fn clear(&self, txn: &mut RwTxn<'_>);
    fn get(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<u8>>;
    fn duplicates(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<Vec<u8>>>;
    fn len(&self, txn: &RoTxn<'_>) -> u64;
    /// Every pair (each key once with `by_key`), forward or backward.
    fn pairs(&self, txn: &RoTxn<'_>, backward: bool, by_key: bool) -> Entries;
    /// Walks every pair with `iter_mut`, deleting those `delete` chooses; returns the pairs
    /// visited.
    fn delete_while_walking(
        &self,
        txn: &mut RwTxn<'_>,
        delete: &mut dyn FnMut(usize) -> bool,
    ) -> Entries;
}

impl<C, CDUP> DupHandle for Database<Bytes, Bytes, C, CDUP> {
    fn put(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &[u8],
        value: &[u8],
    ) -> arbordb::Result<()> {
        self.put_with_flags(txn, flags, key, value)
    }

    fn delete(&self, txn: &mut RwTxn<'_>, key: &[u8]) -> bool {
        Database::delete(self, txn, key).unwrap()
    }

    fn delete_one(&self, txn: &mut RwTxn<'_>, key: &[u8], value: &[u8]) -> bool {
        self.delete_one_duplicate(txn, key, value).unwrap()
    }

    fn clear(&self, txn: &mut RwTxn<'_>) {
        Database::clear(self, txn).unwrap();
    }

    fn get(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<u8>> {
        Database::get(self, txn, key).unwrap().map(<[u8]>::to_vec)
    }

    fn duplicates(&self, txn: &RoTxn<'_>, key: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.get_duplicates(txn, key).unwrap().map(|values| {
            values
                .map(|entry| {
                    let (found, value) = entry.unwrap();
                    assert_eq!(found, key, "get_duplicates strays to another key");
                    value.to_vec()
                })
                .collect()
        })
    }

    fn len(&self, txn: &RoTxn<'_>) -> u64 {
        Database::len(self, txn).unwrap()
    }

    fn pairs(&self, txn: &RoTxn<'_>, backward: bool, by_key: bool) -> Entries {
        let owned = |entry: arbordb::Result<(&[u8], &[u8])>| {
            let (key, value) = entry.unwrap();
            (key.to_vec(), value.to_vec())
        };
        match (backward, by_key) {
            (false, false) => self.iter(txn).unwrap().map(owned).collect(),
            (false, true) => self
                .iter(txn)
                .unwrap()
                .move_between_keys()
                .map(owned)
                .collect(),
            (true, false) => self.rev_iter(txn).unwrap().map(owned).collect(),
            (true, true) => self
                .rev_iter(txn)
                .unwrap()
                .move_between_keys()
                .map(owned)
                .collect(),
        }
    }

    fn delete_while_walking(
        &self,
        txn: &mut RwTxn<'_>,
        delete: &mut dyn FnMut(usize) -> bool,
    ) -> Entries {
        let mut visited = Vec::new();
        let mut iter = self.iter_mut(txn).unwrap();
        while let Some(entry) = iter.next() {
            let (key, value) = entry.unwrap();
            visited.push((key.to_vec(), value.to_vec()));
            if delete(visited.len() - 1) {
                assert!(iter.del_current().unwrap(), "del_current missed its pair");
            }
        }
        visited
    }
}

/// Creates or opens the databases of `specs` with their flags and comparators.
fn dup_databases(env: &Env, specs: &[DupSpec]) -> Vec<Box<dyn DupHandle>> {
    let mut wtxn = env.write_txn().unwrap();
    let dbs = specs
        .iter()
        .map(|spec| -> Box<dyn DupHandle> {
            let mut options = env.database_options().types::<Bytes, Bytes>();
            options.name(spec.name).flags(DatabaseFlags::DUP_SORT);
            match (spec.keys, spec.values) {
                (Order::Bytes, ValueOrder::As(Order::Bytes)) => {
                    Box::new(options.create(&mut wtxn).unwrap())
                }
                (Order::Bytes, ValueOrder::As(Order::Reverse)) => {
                    options.flags(DatabaseFlags::DUP_SORT | DatabaseFlags::REVERSE_DUP);
                    Box::new(options.create(&mut wtxn).unwrap())
                }
                // Its values are all 4 bytes: packed (lists without lengths, dense leaves).
                (Order::Bytes, ValueOrder::As(Order::Integer)) => Box::new({
                    options.flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
                    options
                        .dup_sort_comparator::<IntegerComparator>()
                        .create(&mut wtxn)
                        .unwrap()
                }),
                (Order::Bytes, ValueOrder::As(Order::LengthThenReversed)) => Box::new(
                    options
                        .dup_sort_comparator::<ByLengthThenReversed>()
                        .create(&mut wtxn)
                        .unwrap(),
                ),
                (Order::LengthThenReversed, ValueOrder::Descending) => Box::new(
                    options
                        .key_comparator::<ByLengthThenReversed>()
                        .dup_sort_comparator::<Descending>()
                        .create(&mut wtxn)
                        .unwrap(),
                ),
                other => unreachable!("no run uses {other:?}"),
            }
        })
        .collect();
    wtxn.commit().unwrap();
    dbs
}

fn model_pairs(model: &BTreeMap<Key, BTreeSet<Value>>) -> Entries {
    model
        .iter()
        .flat_map(|(key, values)| {
            values
                .iter()
                .map(move |value| (key.bytes.clone(), value.bytes.clone()))
        })
        .collect()
}

/// Each key once with its first value (or its last, `backward`).
fn model_keys(model: &BTreeMap<Key, BTreeSet<Value>>, backward: bool) -> Entries {
    let pick = |(key, values): (&Key, &BTreeSet<Value>)| {
        let value = if backward {
            values.last()
        } else {
            values.first()
        };
        (key.bytes.clone(), value.expect("never empty").bytes.clone())
    };
    if backward {
        model.iter().rev().map(pick).collect()
    } else {
        model.iter().map(pick).collect()
    }
}

/// Database `index` walked every way equals `model`, and `len` counts its pairs.
fn assert_dup_matches(
    txn: &RoTxn<'_>,
    db: &dyn DupHandle,
    model: &BTreeMap<Key, BTreeSet<Value>>,
    context: &str,
) {
    let expected = model_pairs(model);
    let forward = db.pairs(txn, false, false);
    assert!(forward == expected, "{context}: pairs differ");
    assert_eq!(db.len(txn), expected.len() as u64, "{context}: len()");
    let backward = db.pairs(txn, true, false);
    assert!(
        backward.iter().rev().eq(expected.iter()),
        "{context}: pairs backward differ"
    );
    assert_eq!(
        db.pairs(txn, false, true),
        model_keys(model, false),
        "{context}: keys (move_between_keys)"
    );
    assert_eq!(
        db.pairs(txn, true, true),
        model_keys(model, true),
        "{context}: keys backward (move_between_keys)"
    );
}

fn assert_all_dup_match(
    txn: &RoTxn<'_>,
    dbs: &[Box<dyn DupHandle>],
    model: &DupModel,
    context: &str,
) {
    for (index, db) in dbs.iter().enumerate() {
        assert_dup_matches(
            txn,
            db.as_ref(),
            &model[index],
            &format!("{context}, database {index}"),
        );
    }
}

/// Runs `ops` from `start` over the duplicate-sorted databases; returns where it stopped (at
/// a Reopen) or `ops.len()`.
fn run_dup_epoch(
    env: &Env,
    dbs: &[Box<dyn DupHandle>],
    ops: &[DupOp],
    start: usize,
    committed: &mut DupModel,
) -> usize {
    let mut working = committed.clone();
    let mut wtxn = env.write_txn().unwrap();
    let key_in = |db: usize, key: &[u8]| {
        let order = DUP_SORTED[db].keys;
        Key {
            bytes: order.key(key),
            order,
        }
    };
    let value_in = |db: usize, bytes: Vec<u8>| Value {
        bytes,
        order: DUP_SORTED[db].values,
    };
    for (position, op) in ops.iter().enumerate().skip(start) {
        let context = format!("op {position} {op:?}");
        match op {
            DupOp::Put {
                db,
                key,
                n,
                step,
                count,
                kind,
            } => {
                let (db, key) = (*db, key_in(*db, key));
                let order = DUP_SORTED[db].values;
                for i in 0..u16::from(*count) {
                    let values = working[db].get(&key);
                    let mut value = value_in(db, order.value(n.wrapping_add(i * step)));
                    let flags = match kind {
                        DupPutKind::Plain => PutFlags::empty(),
                        DupPutKind::NoDupData => PutFlags::NO_DUP_DATA,
                        DupPutKind::NoOverwrite => PutFlags::NO_OVERWRITE,
                        DupPutKind::AppendDup { after_last } => {
                            let last = values.and_then(BTreeSet::last);
                            if let Some(next) = last
                                .filter(|_| *after_last)
                                .and_then(|last| order.successor(&last.bytes, DUP_VALUE_MAX))
                            {
                                value = value_in(db, next);
                            }
                            PutFlags::APPEND_DUP
                        }
                    };
                    let refused = match kind {
                        DupPutKind::Plain => false,
                        DupPutKind::NoDupData => values.is_some_and(|v| v.contains(&value)),
                        DupPutKind::NoOverwrite => values.is_some(),
                        DupPutKind::AppendDup { .. } => values
                            .and_then(BTreeSet::last)
                            .is_some_and(|last| *last >= value),
                    };
                    let result = dbs[db].put(&mut wtxn, flags, &key.bytes, &value.bytes);
                    if refused {
                        assert!(
                            matches!(result, Err(Error::Mdb(MdbError::KeyExist))),
                            "{context} #{i}: expected KeyExist, got {result:?}"
                        );
                    } else {
                        result.unwrap_or_else(|error| panic!("{context} #{i}: {error}"));
                        working[db].entry(key.clone()).or_default().insert(value);
                    }
                }
                let expected = working[db]
                    .get(&key)
                    .map(|values| values.iter().map(|v| v.bytes.clone()).collect());
                assert_eq!(
                    dbs[db].duplicates(&wtxn, &key.bytes),
                    expected,
                    "{context}: read own writes"
                );
            }
            DupOp::Delete { db, key } => {
                let key = key_in(*db, key);
                let existed = dbs[*db].delete(&mut wtxn, &key.bytes);
                assert_eq!(existed, working[*db].remove(&key).is_some(), "{context}");
            }
            DupOp::DeleteOne {
                db,
                key,
                pick,
                count,
                existing,
            } => {
                let (db, key) = (*db, key_in(*db, key));
                for i in 0..u16::from(*count) {
                    let values = working[db].get(&key);
                    let value = match values {
                        Some(values) if *existing => {
                            let at = usize::from(pick.wrapping_add(i)) % values.len();
                            values.iter().nth(at).expect("in range").clone()
                        }
                        _ => value_in(db, DUP_SORTED[db].values.value(pick.wrapping_add(i))),
                    };
                    let expected = values.is_some_and(|values| values.contains(&value));
                    let existed = dbs[db].delete_one(&mut wtxn, &key.bytes, &value.bytes);
                    assert_eq!(existed, expected, "{context} #{i}");
                    if expected {
                        let values = working[db].get_mut(&key).expect("present");
                        values.remove(&value);
                        if values.is_empty() {
                            working[db].remove(&key);
                        }
                    }
                }
            }
            DupOp::Get { db, key } => {
                let key = key_in(*db, key);
                let values = working[*db].get(&key);
                assert_eq!(
                    dbs[*db].get(&wtxn, &key.bytes),
                    values.map(|values| values.first().expect("never empty").bytes.clone()),
                    "{context}: get"
                );
                assert_eq!(
                    dbs[*db].duplicates(&wtxn, &key.bytes),
                    values.map(|values| values.iter().map(|v| v.bytes.clone()).collect()),
                    "{context}: get_duplicates"
                );
            }
            DupOp::Walk { db } => {
                assert_dup_matches(&wtxn, dbs[*db].as_ref(), &working[*db], &context);
            }
            DupOp::DeleteWhileWalking { db, every } => {
                let every = usize::from(*every);
                let visited = dbs[*db].delete_while_walking(&mut wtxn, &mut |at| at % every == 0);
                assert!(
                    visited == model_pairs(&working[*db]),
                    "{context}: iter_mut visited other pairs"
                );
                for (at, (key, value)) in visited.into_iter().enumerate() {
                    if at % every == 0 {
                        let key = key_in(*db, &key);
                        let values = working[*db].get_mut(&key).expect("visited");
                        values.remove(&value_in(*db, value));
                        if values.is_empty() {
                            working[*db].remove(&key);
                        }
                    }
                }
            }
            DupOp::Clear { db } => {
                dbs[*db].clear(&mut wtxn);
                working[*db].clear();
            }
            DupOp::Commit => {
                assert_all_dup_match(&wtxn, dbs, &working, &format!("{context} before commit"));
                wtxn.commit().unwrap();
                *committed = working.clone();
                assert_checker_passes(env, &context);
                assert_all_dup_match(&env.read_txn().unwrap(), dbs, committed, &context);
                wtxn = env.write_txn().unwrap();
            }
            DupOp::Abort => {
                wtxn.abort();
                working = committed.clone();
                wtxn = env.write_txn().unwrap();
            }
            DupOp::Reopen => return position,
        }
    }
    ops.len()
}

fn run_dup(ops: Vec<DupOp>) {
    let dir = tempfile::tempdir().unwrap();
    let mut committed: DupModel = vec![BTreeMap::new(); DUP_SORTED.len()];
    let mut position = 0;
    loop {
        let env = open(dir.path(), 512);
        let dbs = dup_databases(&env, &DUP_SORTED);
        assert_all_dup_match(&env.read_txn().unwrap(), &dbs, &committed, "after reopen");
        assert_checker_passes(&env, "after reopen");
        position = run_dup_epoch(&env, &dbs, &ops, position, &mut committed);
        if position >= ops.len() {
            break;
        }
        position += 1; // past the Reopen
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Duplicate-sorted databases over 512-byte pages (values byte-wise, `REVERSE_DUP`,
    /// `INTEGER_DUP`, by a custom comparator, and custom keys and values together) against
    /// models of sets ordered by the same functions; keys gain enough values to move into a
    /// tree of their own and lose them again.
    #[test]
    fn duplicates_match_the_model(ops in proptest::collection::vec(dup_op_strategy(), 1..300)) {
        run_dup(ops);
    }
}
