//! A tour of arbordb: the README's first command.
//!
//! Opens a fresh environment in a temporary directory, loads 1,000,000 random keys in one
//! transaction, reads them all back, shows a snapshot reader keeping its view while a writer
//! commits, and prints statistics and timings.
//!
//! Run it with `cargo run --release --example tour`.

use std::time::Instant;

use arbordb::types::{Bytes, Str};
use arbordb::{EnvOpenOptions, Result};

const KEYS: usize = 1_000_000;
const KEY_BYTES: usize = 24;
const VALUE_BYTES: usize = 150;

/// splitmix64: a small, fast, deterministic generator so the tour needs no extra crate.
struct Rng(u64);

impl Rng {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    println!("arbordb tour, in {}", dir.path().display());

    // SAFETY: nothing else touches this fresh directory while the environment is open.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(16 << 30)
            .max_dbs(4)
            .open(dir.path())?
    };
    println!(
        "page size {} bytes, longest key {} bytes",
        env.page_size(),
        env.max_key_size()
    );

    // 1. Load a million random keys in one transaction.
    let mut rng = Rng(2026);
    let mut keys = vec![[0u8; KEY_BYTES]; KEYS];
    keys.iter_mut().for_each(|key| rng.fill(key));
    let mut value = [0u8; VALUE_BYTES];
    let started = Instant::now();
    let mut wtxn = env.write_txn()?;
    let data = env.create_database::<Bytes, Bytes>(&mut wtxn, Some("data"))?;
    for key in &keys {
        rng.fill(&mut value);
        data.put(&mut wtxn, key, &value)?;
    }
    let loaded = started.elapsed();
    wtxn.commit()?;
    let committed = started.elapsed();
    println!(
        "loaded {KEYS} random {KEY_BYTES}-byte keys with {VALUE_BYTES}-byte values: {:.2?} to insert, {:.2?} with the durable commit ({:.0} inserts/s)",
        loaded,
        committed,
        KEYS as f64 / committed.as_secs_f64()
    );

    // 2. Read them all back, by key and in order.
    let started = Instant::now();
    let rtxn = env.read_txn()?;
    let mut found = 0usize;
    for key in &keys {
        if data
            .get(&rtxn, key)?
            .is_some_and(|value| value.len() == VALUE_BYTES)
        {
            found += 1;
        }
    }
    let point = started.elapsed();
    let started = Instant::now();
    let mut previous: Option<&[u8]> = None;
    let mut in_order = 0usize;
    for entry in data.iter(&rtxn)? {
        let (key, _) = entry?;
        assert!(
            previous.is_none_or(|previous| previous < key),
            "keys come out sorted"
        );
        previous = Some(key);
        in_order += 1;
    }
    let scan = started.elapsed();
    println!(
        "read back {found} keys by point lookup in {point:.2?} ({:.0} gets/s); scanned {in_order} in order in {scan:.2?}",
        found as f64 / point.as_secs_f64()
    );
    assert_eq!((found, in_order), (KEYS, KEYS));
    drop(rtxn);

    // 3. A snapshot reader keeps its view while a writer commits.
    let mut wtxn = env.write_txn()?;
    let notes = env.create_database::<Str, Str>(&mut wtxn, Some("notes"))?;
    notes.put(&mut wtxn, "status", "before")?;
    wtxn.commit()?;
    let snapshot = env.read_txn()?;
    std::thread::scope(|scope| -> Result<()> {
        scope
            .spawn(|| -> Result<()> {
                let mut wtxn = env.write_txn()?;
                notes.put(&mut wtxn, "status", "after")?;
                for key in keys.iter().take(1000) {
                    data.delete(&mut wtxn, key)?;
                }
                wtxn.commit()
            })
            .join()
            .expect("the writer thread does not panic")
    })?;
    let latest = env.read_txn()?;
    println!(
        "snapshot reader sees status {:?} and {} keys; a reader begun after the commit sees {:?} and {} keys",
        notes.get(&snapshot, "status")?.unwrap_or("?"),
        data.len(&snapshot)?,
        notes.get(&latest, "status")?.unwrap_or("?"),
        data.len(&latest)?,
    );
    drop((snapshot, latest));

    // 4. Statistics.
    let rtxn = env.read_txn()?;
    let stat = data.stat(&rtxn)?;
    let info = env.info();
    println!(
        "database \"data\": depth {}, {} branch + {} leaf + {} overflow pages, {} entries",
        stat.depth, stat.branch_pages, stat.leaf_pages, stat.overflow_pages, stat.entries
    );
    println!(
        "environment: last txn {}, last page {}, file {:.1} MiB, map {} GiB, {} of {} reader slots in use",
        info.last_txn_id,
        info.last_page_number,
        env.real_disk_size()? as f64 / (1 << 20) as f64,
        info.map_size >> 30,
        info.number_of_readers,
        info.maximum_number_of_readers
    );
    drop(rtxn);
    let started = Instant::now();
    let report = env.check()?;
    println!(
        "checker: {} in {:.2?}",
        if report.is_ok() { "sound" } else { "PROBLEMS" },
        started.elapsed()
    );
    print!("{report}");
    assert!(report.is_ok());
    Ok(())
}
