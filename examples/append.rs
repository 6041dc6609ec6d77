//! Measures what `PutFlags::APPEND` buys: a sorted bulk load with APPEND against the same keys
//! inserted in random order, in time and in file size.
//!
//! Run it with `cargo run --release --example append`.

use std::time::Instant;

use arbordb::types::Bytes;
use arbordb::{EnvOpenOptions, PutFlags, Result};

const KEYS: u64 = 1_000_000;

fn load(keys: &[[u8; 8]], flags: PutFlags) -> Result<(f64, u64, usize)> {
    let dir = tempfile::tempdir()?;
    // SAFETY: nothing else touches this fresh directory.
    let env = unsafe { EnvOpenOptions::new().map_size(8 << 30).open(dir.path())? };
    let started = Instant::now();
    let mut wtxn = env.write_txn()?;
    let db = env.create_database::<Bytes, Bytes>(&mut wtxn, None)?;
    for key in keys {
        db.put_with_flags(&mut wtxn, flags, key, &[7u8; 100])?;
    }
    wtxn.commit()?;
    let seconds = started.elapsed().as_secs_f64();
    let rtxn = env.read_txn()?;
    let leaves = db.stat(&rtxn)?.leaf_pages;
    drop(rtxn);
    Ok((seconds, env.real_disk_size()?, leaves))
}

fn main() -> Result<()> {
    let sorted: Vec<[u8; 8]> = (0..KEYS).map(|n| n.to_be_bytes()).collect();
    let mut shuffled = sorted.clone();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..shuffled.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        shuffled.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let (append_seconds, append_bytes, append_leaves) = load(&sorted, PutFlags::APPEND)?;
    let (random_seconds, random_bytes, random_leaves) = load(&shuffled, PutFlags::empty())?;
    println!("{KEYS} keys of 8 bytes, values of 100 bytes, one transaction each:");
    println!(
        "  sorted with APPEND: {append_seconds:.2} s, {:.1} MiB, {append_leaves} leaf pages",
        append_bytes as f64 / 1048576.0
    );
    println!(
        "  random order:       {random_seconds:.2} s, {:.1} MiB, {random_leaves} leaf pages",
        random_bytes as f64 / 1048576.0
    );
    println!(
        "  APPEND took {:.0}% of the time and {:.0}% of the space",
        100.0 * append_seconds / random_seconds,
        100.0 * append_bytes as f64 / random_bytes as f64
    );
    Ok(())
}
