//! The duplicates workload's engines: many values per key, kept sorted by each engine (a
//! `DUP_SORT` database in arbordb and LMDB, a multimap table in redb). Each engine gets the
//! same pairs in the same order, loads them in one durable transaction and reads every value
//! of the same keys.

use std::path::Path;

use redb::ReadableDatabase;

use crate::{directory_size, timed, Key, Measure, Plan, Rng, Value, VALUE_BYTES};

/// The workload: `plan.dup_keys` keys of `plan.dup_values_per_key` values each, loaded in a
/// random order in one transaction into a fresh directory under `base`, then every value of
/// `plan.dup_scans` random keys read, twice; reports each row through `row`.
pub fn run<D: DupEngine>(plan: &Plan, base: &Path, row: &mut impl FnMut(&str, Measure)) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let pairs = Rng(9).duplicates(plan.dup_keys, plan.dup_values_per_key);
    let duplicates = D::open(dir.path());
    row(
        &format!(
            "duplicates load ({} keys x {} values)",
            plan.dup_keys, plan.dup_values_per_key
        ),
        timed(|| duplicates.insert(&pairs)),
    );
    row(
        "size after duplicates load",
        Measure::Bytes(directory_size(dir.path())),
    );
    // What a scan of each key must find: its number of values and the sum of their last bytes.
    let mut by_key: std::collections::BTreeMap<Key, (usize, u64)> = Default::default();
    for (key, value) in &pairs {
        let entry = by_key.entry(*key).or_default();
        entry.0 += 1;
        entry.1 += value[VALUE_BYTES - 1] as u64;
    }
    let distinct_keys: Vec<Key> = by_key.keys().copied().collect();
    let mut state = 13u64;
    let scan_keys: Vec<Key> = (0..plan.dup_scans)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            distinct_keys[(state >> 33) as usize % distinct_keys.len()]
        })
        .collect();
    let expected = scan_keys.iter().fold((0, 0), |(count, sum), key| {
        (count + by_key[key].0, sum + by_key[key].1)
    });
    for pass in 1..=2 {
        row(
            &format!(
                "duplicate scans ({} keys, all values), pass {pass}",
                plan.dup_scans
            ),
            timed(|| assert_eq!(duplicates.scan_all(&scan_keys), expected)),
        );
    }
}

pub trait DupEngine: Sized {
    fn open(dir: &Path) -> Self;
    /// Adds `pairs` in one transaction with the engine's plain insert and default durability.
    fn insert(&self, pairs: &[(Key, Value)]);
    /// Reads every value of each key in one read transaction; returns how many values it read
    /// and a checksum of them.
    fn scan_all(&self, keys: &[Key]) -> (usize, u64);
}

/// A database of sorted duplicates named like this in arbordb and LMDB, the multimap table in
/// redb.
const NAME: &str = "duplicates";

/// arbordb and LMDB through heed share one implementation, opened with the options of the
/// other workloads (engines.rs).
macro_rules! heed_shaped_dup_engine {
    ($engine:ident, $krate:ident, $configure:path) => {
        pub struct $engine {
            env: $krate::Env,
            db: $krate::Database<$krate::types::Bytes, $krate::types::Bytes>,
        }

        impl DupEngine for $engine {
            fn open(dir: &Path) -> Self {
                let mut options = $krate::EnvOpenOptions::new();
                options.map_size(64 << 30).max_dbs(1);
                $configure(&mut options);
                let env = unsafe { options.open(dir).unwrap() };
                let mut wtxn = env.write_txn().unwrap();
                let mut database = env
                    .database_options()
                    .types::<$krate::types::Bytes, $krate::types::Bytes>();
                database.name(NAME).flags($krate::DatabaseFlags::DUP_SORT);
                let db = database.create(&mut wtxn).unwrap();
                wtxn.commit().unwrap();
                $engine { env, db }
            }

            fn insert(&self, pairs: &[(Key, Value)]) {
                let mut wtxn = self.env.write_txn().unwrap();
                for (key, value) in pairs {
                    self.db.put(&mut wtxn, key, value).unwrap();
                }
                wtxn.commit().unwrap();
            }

            fn scan_all(&self, keys: &[Key]) -> (usize, u64) {
                let rtxn = self.env.read_txn().unwrap();
                let (mut count, mut sum) = (0, 0u64);
                for key in keys {
                    let values = self.db.get_duplicates(&rtxn, key.as_slice()).unwrap();
                    for entry in values.expect("every scanned key was loaded") {
                        let value = entry.unwrap().1;
                        count += 1;
                        sum += value[value.len() - 1] as u64;
                    }
                }
                (count, sum)
            }
        }
    };
}

heed_shaped_dup_engine!(ArborDup, arbordb, crate::engines::configure_arbordb);
heed_shaped_dup_engine!(HeedDup, heed, crate::engines::configure_heed);

const TABLE: redb::MultimapTableDefinition<&[u8], &[u8]> = redb::MultimapTableDefinition::new(NAME);

pub struct RedbDup {
    db: redb::Database,
}

impl DupEngine for RedbDup {
    fn open(dir: &Path) -> Self {
        // The same cache as the other workloads' (engines.rs says why); this file is smaller.
        let db = redb::Database::builder()
            .set_cache_size(crate::engines::REDB_CACHE_BYTES)
            .create(dir.join("data.redb"))
            .unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_multimap_table(TABLE).unwrap();
        txn.commit().unwrap();
        RedbDup { db }
    }

    fn insert(&self, pairs: &[(Key, Value)]) {
        let txn = self.db.begin_write().unwrap();
        {
            let mut table = txn.open_multimap_table(TABLE).unwrap();
            for (key, value) in pairs {
                table.insert(key.as_slice(), value.as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    fn scan_all(&self, keys: &[Key]) -> (usize, u64) {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_multimap_table(TABLE).unwrap();
        let (mut count, mut sum) = (0, 0u64);
        for key in keys {
            for entry in table.get(key.as_slice()).unwrap() {
                let guard = entry.unwrap();
                let value = guard.value();
                count += 1;
                sum += value[value.len() - 1] as u64;
            }
        }
        (count, sum)
    }
}
