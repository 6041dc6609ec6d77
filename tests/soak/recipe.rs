//! What one write transaction does, as a pure function of a seed: the writer applies it to the
//! environment, the verifier replays it on a model. The environment's `history` database
//! records the recipe of every commit under its sequence number, so the model can follow
//! exactly the commits the file holds, whichever thread or process made them.

use std::collections::BTreeMap;
use std::ops::Bound;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Database, Env, Error, PutFlags, RoTxn, RwTxn};

use crate::common::Rng;
use crate::disk::TMPFS_BYTES;

/// The data databases (named) and the history database.
pub const DATA_NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
pub const HISTORY_NAME: &str = "history";

/// Distinct key numbers per database in ordinary transactions: few, so deletes and
/// overwrites hit.
const KEYS: u64 = 300;
/// Floods add keys from a range thirty times as large, so the data grows until the disk or
/// the map is full (removing transactions cover the whole range). The range must hold far
/// more than the disk: overwriting a flood's own keys frees as much as it takes, and large
/// values reuse freed space, so a small range could level off below a full disk. Keys stay
/// below 10,000, so that their four digits sort as their numbers.
const FLOOD_KEYS: u64 = 30 * KEYS;
/// One past the largest key number (four digits).
const KEY_NUMBERS: u64 = 10_000;
const _: () = assert!(FLOOD_KEYS < KEY_NUMBERS);

/// The largest value a fill writes.
const FILL_VALUE_BYTES: u64 = 64 << 10;

/// The content of the data databases, one map each.
pub type Model = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// What a transaction mostly does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Puts, deletes and the rest over a small key space: the data's size stays about the same.
    Grow,
    /// Large values under new keys: the file grows.
    Flood,
    /// Writes of half to five quarters of the tmpfs's size at once (writers do this while the
    /// disk is squeezed). Ordinary transactions clear whole databases now and then, so floods
    /// alone can level off below the size the file already has, its free pages taking them;
    /// a third of these cannot fit on the tmpfs whatever the file holds.
    Fill,
    /// Deletes and range deletes over every key (writers do this after the disk or the map
    /// filled).
    Shrink,
}

/// A transaction's recipe: its operations follow from these alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipe {
    pub seed: u64,
    pub kind: Kind,
}

impl Recipe {
    /// The bytes stored in the history database.
    pub fn encode(&self) -> [u8; 9] {
        let mut bytes = [0; 9];
        bytes[..8].copy_from_slice(&self.seed.to_be_bytes());
        bytes[8] = match self.kind {
            Kind::Grow => 0,
            Kind::Shrink => 1,
            Kind::Flood => 2,
            Kind::Fill => 3,
        };
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Recipe {
        assert_eq!(bytes.len(), 9, "a history value is 9 bytes");
        let kind = match bytes[8] {
            0 => Kind::Grow,
            1 => Kind::Shrink,
            2 => Kind::Flood,
            3 => Kind::Fill,
            other => panic!("a history value names kind {other}"),
        };
        Recipe {
            seed: u64::from_be_bytes(bytes[..8].try_into().unwrap()),
            kind,
        }
    }

    pub fn ops(&self) -> Vec<Op> {
        let mut rng = Rng(self.seed);
        match self.kind {
            Kind::Grow => (0..1 + rng.below(40))
                .map(|_| op(&mut rng, self.kind, 0))
                .collect(),
            Kind::Shrink => (0..1 + rng.below(12))
                .map(|_| op(&mut rng, self.kind, 0))
                .collect(),
            Kind::Flood => (0..1 + rng.below(40))
                .map(|_| {
                    let len = 1_000 + rng.below(15_000) as usize;
                    let fill = rng.next_u64() as u8;
                    Op::Put {
                        db: rng.below(DATA_NAMES.len() as u64) as usize,
                        key: key(KEYS + rng.below(FLOOD_KEYS - KEYS)),
                        value: (0..len).map(|i| fill.wrapping_add(i as u8)).collect(),
                        no_overwrite: false,
                    }
                })
                .collect(),
            Kind::Fill => {
                let mut left = TMPFS_BYTES / 2 + rng.below(TMPFS_BYTES * 3 / 4);
                let mut ops = Vec::new();
                while left > 0 {
                    let len = (FILL_VALUE_BYTES / 2 + rng.below(FILL_VALUE_BYTES / 2)).min(left);
                    left -= len;
                    let fill = rng.next_u64() as u8;
                    ops.push(Op::Put {
                        db: rng.below(DATA_NAMES.len() as u64) as usize,
                        key: key(KEYS + rng.below(FLOOD_KEYS - KEYS)),
                        value: (0..len as usize)
                            .map(|i| fill.wrapping_add(i as u8))
                            .collect(),
                        no_overwrite: false,
                    });
                }
                ops
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum Op {
    Put {
        db: usize,
        key: Vec<u8>,
        value: Vec<u8>,
        no_overwrite: bool,
    },
    Delete {
        db: usize,
        key: Vec<u8>,
    },
    /// Deletes the keys from `start` (included) to `end` (excluded).
    DeleteRange {
        db: usize,
        start: Vec<u8>,
        end: Vec<u8>,
    },
    Clear {
        db: usize,
    },
    /// A nested transaction that commits into its parent or aborts.
    Nested {
        ops: Vec<Op>,
        commit: bool,
    },
}

fn key(number: u64) -> Vec<u8> {
    let mut key = format!("k{number:04}").into_bytes();
    // Some keys are long (up to 54 bytes, within the smallest page size's limit).
    if number % 7 == 0 {
        key.resize(5 + (number % 50) as usize, b'-');
    }
    key
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(100) {
        0..=69 => rng.below(100),
        70..=93 => 100 + rng.below(1400),
        _ => 2_000 + rng.below(18_000),
    } as usize;
    let fill = rng.next_u64() as u8;
    (0..len).map(|i| fill.wrapping_add((i * 7) as u8)).collect()
}

fn op(rng: &mut Rng, kind: Kind, depth: u32) -> Op {
    let db = rng.below(DATA_NAMES.len() as u64) as usize;
    let roll = rng.below(1000);
    let (put, delete, range) = match kind {
        Kind::Grow | Kind::Flood | Kind::Fill => (600, 880, 920),
        Kind::Shrink => (50, 600, 990),
    };
    let keys = match kind {
        Kind::Grow | Kind::Flood | Kind::Fill => KEYS,
        Kind::Shrink => FLOOD_KEYS,
    };
    if roll < put {
        return Op::Put {
            db,
            key: key(rng.below(keys)),
            value: value(rng),
            no_overwrite: rng.below(10) == 0,
        };
    }
    if roll < delete {
        return Op::Delete {
            db,
            key: key(rng.below(keys)),
        };
    }
    if roll < range {
        let first = rng.below(keys);
        let span = match kind {
            Kind::Grow | Kind::Flood | Kind::Fill => 1 + rng.below(10),
            Kind::Shrink => 10 + rng.below(keys / 4),
        };
        return Op::DeleteRange {
            db,
            start: key(first),
            end: key((first + span).min(KEY_NUMBERS - 1)),
        };
    }
    if roll < 995 || depth > 0 {
        return Op::Nested {
            ops: (0..1 + rng.below(8))
                .map(|_| op(rng, kind, depth + 1))
                .collect(),
            commit: rng.below(2) == 0,
        };
    }
    Op::Clear { db }
}

/// Applies `ops` to a write transaction. The first failure is returned (the caller then
/// drops the transaction).
pub fn apply(
    env: &Env,
    txn: &mut RwTxn<'_>,
    dbs: &[Database<Bytes, Bytes>],
    ops: &[Op],
) -> arbordb::Result<()> {
    for op in ops {
        match op {
            Op::Put {
                db,
                key,
                value,
                no_overwrite,
            } => {
                if *no_overwrite {
                    match dbs[*db].put_with_flags(txn, PutFlags::NO_OVERWRITE, key, value) {
                        Ok(()) | Err(Error::Mdb(MdbError::KeyExist)) => {}
                        Err(error) => return Err(error),
                    }
                } else {
                    dbs[*db].put(txn, key, value)?;
                }
            }
            Op::Delete { db, key } => {
                dbs[*db].delete(txn, key)?;
            }
            Op::DeleteRange { db, start, end } => {
                let range = (
                    Bound::Included(start.as_slice()),
                    Bound::Excluded(end.as_slice()),
                );
                dbs[*db].delete_range(txn, &range)?;
            }
            Op::Clear { db } => dbs[*db].clear(txn)?,
            Op::Nested { ops, commit } => {
                let mut child = env.nested_write_txn(txn)?;
                apply(env, &mut child, dbs, ops)?;
                if *commit {
                    child.commit()?;
                } else {
                    child.abort();
                }
            }
        }
    }
    Ok(())
}

/// Replays `ops` on the model.
pub fn replay(model: &mut Model, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Put {
                db,
                key,
                value,
                no_overwrite,
            } => {
                if !*no_overwrite || !model[*db].contains_key(key) {
                    model[*db].insert(key.clone(), value.clone());
                }
            }
            Op::Delete { db, key } => {
                model[*db].remove(key);
            }
            Op::DeleteRange { db, start, end } => {
                if start < end {
                    let doomed: Vec<Vec<u8>> = model[*db]
                        .range(start.clone()..end.clone())
                        .map(|(key, _)| key.clone())
                        .collect();
                    for key in doomed {
                        model[*db].remove(&key);
                    }
                }
            }
            Op::Clear { db } => model[*db].clear(),
            Op::Nested { ops, commit } => {
                if *commit {
                    replay(model, ops);
                }
            }
        }
    }
}

/// A digest of every entry of every data database, in order.
pub fn digest<'a>(entries: impl Iterator<Item = (usize, &'a [u8], &'a [u8])>) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut mix = |bytes: &[u8]| {
        hash = (hash ^ bytes.len() as u64).wrapping_mul(0x0100_0000_01b3);
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (db, key, value) in entries {
        mix(&[db as u8]);
        mix(key);
        mix(value);
    }
    hash
}

pub fn model_digest(model: &Model) -> u64 {
    digest(model.iter().enumerate().flat_map(|(db, entries)| {
        entries
            .iter()
            .map(move |(key, value)| (db, key.as_slice(), value.as_slice()))
    }))
}

/// The digest of the data databases as `txn` sees them.
pub fn snapshot_digest(txn: &RoTxn<'_>, dbs: &[Database<Bytes, Bytes>]) -> u64 {
    let mut entries = Vec::new();
    for (index, db) in dbs.iter().enumerate() {
        for entry in db.iter(txn).expect("iterating a data database") {
            let (key, value) = entry.expect("reading an entry");
            entries.push((index, key, value));
        }
    }
    digest(entries.into_iter())
}

/// The contents of the data databases as `txn` sees them.
pub fn snapshot_contents(txn: &RoTxn<'_>, dbs: &[Database<Bytes, Bytes>]) -> Model {
    dbs.iter()
        .map(|db| {
            db.iter(txn)
                .expect("iterating a data database")
                .map(|entry| {
                    let (key, value) = entry.expect("reading an entry");
                    (key.to_vec(), value.to_vec())
                })
                .collect()
        })
        .collect()
}
