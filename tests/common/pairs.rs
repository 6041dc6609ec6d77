//! Pairs of duplicate-sorted databases as the tests compare them: owned, with a model of
//! each key's set of values.

use std::collections::{BTreeMap, BTreeSet};

use arbordb::types::Bytes;
use arbordb::{Database, Env};

/// A database of byte keys and values.
pub type Multimap = Database<Bytes, Bytes>;

/// The model: each key's set of values.
pub type Model = BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>;

/// The model's pairs in order.
pub fn pairs_of(model: &Model) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .flat_map(|(key, values)| values.iter().map(move |value| (key.clone(), value.clone())))
        .collect()
}

/// An entry read as owned bytes.
pub fn owned(entry: arbordb::Result<(&[u8], &[u8])>) -> (Vec<u8>, Vec<u8>) {
    let (key, value) = entry.unwrap();
    (key.to_vec(), value.to_vec())
}

/// Every pair of `db`, in order, as a new read transaction sees them.
pub fn stored_pairs(env: &Env, db: Multimap) -> Vec<(Vec<u8>, Vec<u8>)> {
    let rtxn = env.read_txn().unwrap();
    let pairs = db.iter(&rtxn).unwrap().map(owned).collect();
    pairs
}
