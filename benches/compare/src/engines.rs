//! The three engines behind one small interface. Every write is one durable transaction in
//! each engine's default durability. Where an engine's defaults would make it do other work
//! than the others, it is configured to match, and the comment says so.

use std::ops::Bound;
use std::path::Path;

use redb::ReadableDatabase;

use crate::duplicates::{ArborDup, DupEngine, HeedDup, RedbDup};
use crate::{Key, Measure, Value};

pub trait Engine: Sized + Sync {
    const NAME: &'static str;
    /// The same engine over a database of sorted duplicates (duplicates.rs).
    type Duplicates: DupEngine;
    fn open(dir: &Path) -> Self;
    /// Inserts `pairs` in one transaction (with `append`, in sorted order using the engine's
    /// append mode where it has one).
    fn insert(&self, pairs: &[(Key, Value)], append: bool);
    fn remove(&self, keys: &[Key]);
    fn len(&self) -> u64;
    /// Looks every key up in one read transaction; returns how many were found.
    fn get_all(&self, keys: &[Key]) -> usize;
    /// Reads `length` entries from each key on; returns a checksum.
    fn range_all(&self, keys: &[Key], length: usize) -> u64;
    /// Compacts (into `dir` if the engine copies) and makes the result durable; returns the
    /// compacted size.
    fn compact(&mut self, dir: &Path) -> Measure;
}

fn file_size(path: &Path) -> Measure {
    Measure::Bytes(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
}

/// arbordb and LMDB through heed have the same API (that is the point of arbordb's), so one
/// implementation serves both, with the crate path changed.
macro_rules! heed_shaped_engine {
    (
        $engine:ident,
        $krate:ident,
        $name:literal,
        $copy_file:literal,
        $configure:path,
        $duplicates:ident
    ) => {
        pub struct $engine {
            env: $krate::Env,
            db: $krate::Database<$krate::types::Bytes, $krate::types::Bytes>,
        }

        impl Engine for $engine {
            const NAME: &'static str = $name;
            type Duplicates = $duplicates;

            fn open(dir: &Path) -> Self {
                let mut options = $krate::EnvOpenOptions::new();
                options.map_size(64 << 30);
                $configure(&mut options);
                let env = unsafe { options.open(dir).unwrap() };
                let mut wtxn = env.write_txn().unwrap();
                let db = env.create_database(&mut wtxn, None).unwrap();
                wtxn.commit().unwrap();
                $engine { env, db }
            }

            fn insert(&self, pairs: &[(Key, Value)], append: bool) {
                let mut wtxn = self.env.write_txn().unwrap();
                let flags = if append {
                    $krate::PutFlags::APPEND
                } else {
                    $krate::PutFlags::empty()
                };
                for (key, value) in pairs {
                    self.db
                        .put_with_flags(&mut wtxn, flags, key, value)
                        .unwrap();
                }
                wtxn.commit().unwrap();
            }

            fn remove(&self, keys: &[Key]) {
                let mut wtxn = self.env.write_txn().unwrap();
                for key in keys {
                    self.db.delete(&mut wtxn, key).unwrap();
                }
                wtxn.commit().unwrap();
            }

            fn len(&self) -> u64 {
                self.db.len(&self.env.read_txn().unwrap()).unwrap()
            }

            fn get_all(&self, keys: &[Key]) -> usize {
                let rtxn = self.env.read_txn().unwrap();
                keys.iter()
                    .filter(|key| {
                        self.db
                            .get(&rtxn, key.as_slice())
                            .unwrap()
                            .is_some_and(|v| v.len() == 150)
                    })
                    .count()
            }

            fn range_all(&self, keys: &[Key], length: usize) -> u64 {
                let rtxn = self.env.read_txn().unwrap();
                let mut sum = 0u64;
                for key in keys {
                    let range = (Bound::Included(key.as_slice()), Bound::Unbounded);
                    for entry in self.db.range(&rtxn, &range).unwrap().take(length) {
                        sum += entry.unwrap().1[0] as u64;
                    }
                }
                sum
            }

            fn compact(&mut self, dir: &Path) -> Measure {
                let path = dir.join($copy_file);
                let copy = self
                    .env
                    .copy_to_path(&path, $krate::CompactionOption::Enabled)
                    .unwrap();
                // heed's copy does not sync the file it wrote (LMDB's copy writes with plain
                // write calls); arbordb's does, and redb's in-place compaction commits
                // durably. A copy is a backup only once it is on disk, so both copies are
                // synced inside the timed step (for arbordb a second sync, finding nothing).
                copy.sync_all().unwrap();
                file_size(&path)
            }
        }
    };
}

/// arbordb's options beyond the shared ones: `--verify-reads` turns on
/// `verify_checksums_on_read`, to measure what it costs the read rows.
pub fn configure_arbordb(options: &mut arbordb::EnvOpenOptions) {
    options
        .verify_checksums_on_read(crate::VERIFY_READS.load(std::sync::atomic::Ordering::Relaxed));
}

/// LMDB has nothing to configure beyond the shared options.
pub fn configure_heed<T>(_options: &mut T) {}

heed_shaped_engine!(
    ArborEngine,
    arbordb,
    "arbordb",
    "data.arbordb",
    configure_arbordb,
    ArborDup
);
heed_shaped_engine!(
    HeedEngine,
    heed,
    "LMDB",
    "data.mdb",
    configure_heed,
    HeedDup
);

const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("data");

/// redb reads through a cache of its own (1 GiB by default) where the memory-mapped engines
/// read through the operating system's page cache, which holds their whole file on this
/// machine. A cache larger than redb's largest file in the workloads (4 GiB after the
/// removals at scale 1) gives it the same advantage; its memory then shows in the peak-RSS row.
pub const REDB_CACHE_BYTES: usize = 6 << 30;

pub struct RedbEngine {
    db: redb::Database,
    path: std::path::PathBuf,
}

impl Engine for RedbEngine {
    const NAME: &'static str = "redb";
    type Duplicates = RedbDup;

    fn open(dir: &Path) -> Self {
        let path = dir.join("data.redb");
        let db = redb::Database::builder()
            .set_cache_size(REDB_CACHE_BYTES)
            .create(&path)
            .unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(TABLE).unwrap();
        txn.commit().unwrap();
        RedbEngine { db, path }
    }

    fn insert(&self, pairs: &[(Key, Value)], _append: bool) {
        let txn = self.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(TABLE).unwrap();
            for (key, value) in pairs {
                table.insert(key.as_slice(), value.as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    fn remove(&self, keys: &[Key]) {
        let txn = self.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(TABLE).unwrap();
            for key in keys {
                table.remove(key.as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    fn len(&self) -> u64 {
        use redb::ReadableTableMetadata;
        let txn = self.db.begin_read().unwrap();
        txn.open_table(TABLE).unwrap().len().unwrap()
    }

    fn get_all(&self, keys: &[Key]) -> usize {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(TABLE).unwrap();
        keys.iter()
            .filter(|key| {
                table
                    .get(key.as_slice())
                    .unwrap()
                    .is_some_and(|v| v.value().len() == 150)
            })
            .count()
    }

    fn range_all(&self, keys: &[Key], length: usize) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(TABLE).unwrap();
        let mut sum = 0u64;
        for key in keys {
            for entry in table.range(key.as_slice()..).unwrap().take(length) {
                sum += entry.unwrap().1.value()[0] as u64;
            }
        }
        sum
    }

    fn compact(&mut self, _dir: &Path) -> Measure {
        self.db.compact().unwrap();
        file_size(&self.path)
    }
}
