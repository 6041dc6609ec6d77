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
//! keyed by the same order.
//!
//! Replay a failure with the seed proptest prints (PROPTEST_CASES / the persisted regression
//! file); see docs/testing.md.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use arbordb::types::Bytes;
use arbordb::{
    Comparator, Database, DatabaseFlags, Env, EnvOpenOptions, Error, IntegerComparator, PutFlags,
    RoTxn, RwTxn,
};
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

/// Shorter keys first, then byte-wise from the last byte: unlike the byte-wise order in both
/// respects, so a separator, bound or append check computed byte-wise goes wrong.
enum ByLengthThenReversed {}

impl Comparator for ByLengthThenReversed {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    fn name() -> String {
        "model: by length, then reversed".to_owned()
    }
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

/// A key in a model, ordered as its database orders keys.
#[derive(Debug, Clone)]
struct Key {
    bytes: Vec<u8>,
    order: Order,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order.compare(&self.bytes, &other.bytes)
    }
}

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
    let mut reader: Option<(RoTxn<'_>, Model)> = None;
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
                        matches!(result, Err(Error::KeyExist)),
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
                        matches!(result, Err(Error::KeyExist)),
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
