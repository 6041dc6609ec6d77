//! Damaged files give errors, never panics: random bytes of a valid environment are flipped
//! and the result is opened, read in full, checked and written to.
//!
//! 10,000 seeded mutations run in every `cargo test` (7,000 bit flips in a file of 512-byte
//! pages, 3,000 overwritten byte runs in a file of 4096-byte pages); a watchdog turns a hang
//! into a failure that names the seed. A failure prints the seed: rerun with
//! `ARBORDB_CORRUPTION_SEED=<seed> cargo test --test corruption`; run more cases with
//! `ARBORDB_CORRUPTION_CASES=<count>`.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbordb::types::Bytes;
use arbordb::{EnvOpenOptions, Result};
use common::Rng;

const NAMES: [Option<&str>; 3] = [None, Some("one"), Some("two")];

fn build(dir: &Path, page_size: usize) {
    let env = unsafe {
        EnvOpenOptions::new()
            .page_size(page_size)
            .open(dir)
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let mut rng = Rng(5);
    for name in NAMES {
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, name)
            .unwrap();
        for n in 0..400u32 {
            let len = if n % 50 == 0 {
                1500
            } else {
                rng.below(40) as usize
            };
            let value = rng.bytes(len);
            db.put(&mut wtxn, format!("key{n:04}").as_bytes(), &value)
                .unwrap();
        }
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in (0..400u32).step_by(3) {
        db.delete(&mut wtxn, format!("key{n:04}").as_bytes())
            .unwrap();
    }
    wtxn.commit().unwrap();
}

/// Everything a user might do with a damaged file. Errors are fine; panics are not.
fn exercise(dir: &Path) -> Result<()> {
    let env = unsafe { EnvOpenOptions::new().open(dir)? };
    let _ = env.check()?;
    {
        let rtxn = env.read_txn()?;
        for name in NAMES {
            let Ok(Some(db)) = env.open_database::<Bytes, Bytes>(&rtxn, name) else {
                continue;
            };
            let _ = db.iter(&rtxn).map(|iter| iter.count());
            let _ = db.rev_iter(&rtxn).map(|iter| iter.count());
            let _ = db.get(&rtxn, b"key0100");
            let _ = db
                .range(
                    &rtxn,
                    &(
                        std::ops::Bound::Included(&b"key02"[..]),
                        std::ops::Bound::Unbounded,
                    ),
                )
                .map(|iter| iter.count());
        }
    }
    let mut wtxn = env.write_txn()?;
    for name in NAMES {
        let db = env.create_database::<Bytes, Bytes>(&mut wtxn, name)?;
        for n in 0..60u32 {
            let key = format!("key{:04}", n * 7);
            let _ = if n % 2 == 0 {
                db.put(&mut wtxn, key.as_bytes(), &[9u8; 30]).map(|_| true)
            } else {
                db.delete(&mut wtxn, key.as_bytes())
            };
        }
    }
    wtxn.commit()?;
    let _ = env.check()?;
    Ok(())
}

/// Damages copies of a valid file with `damage` and exercises each; panics name the seed.
fn run_cases(page_size: usize, default_cases: u64, damage: impl Fn(&mut Rng, &mut Vec<u8>)) {
    let pristine_dir = tempfile::tempdir().unwrap();
    build(pristine_dir.path(), page_size);
    let pristine = std::fs::read(pristine_dir.path().join("data.arbordb")).unwrap();
    let seeds: Vec<u64> = match std::env::var("ARBORDB_CORRUPTION_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => {
            let cases = std::env::var("ARBORDB_CORRUPTION_CASES")
                .map_or(default_cases, |cases| cases.parse().expect("a number"));
            (0..cases).collect()
        }
    };
    let watchdog = Watchdog::start();
    let mut outcomes = [0usize; 2];
    for seed in seeds {
        watchdog.working_on(seed);
        let mut rng = Rng(seed);
        let mut bytes = pristine.clone();
        damage(&mut rng, &mut bytes);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.arbordb"), &bytes).unwrap();
        match catch_unwind(AssertUnwindSafe(|| exercise(dir.path()))) {
            Ok(Ok(())) => outcomes[0] += 1,
            Ok(Err(_)) => outcomes[1] += 1,
            Err(_) => panic!("seed {seed} panicked: rerun with ARBORDB_CORRUPTION_SEED={seed}"),
        }
    }
    println!(
        "{} exercised without error, {} with a typed error",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn flipped_bits_never_panic() {
    run_cases(512, 7000, |rng, bytes| {
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
    });
}

#[test]
fn overwritten_runs_of_bytes_never_panic() {
    run_cases(4096, 3000, |rng, bytes| {
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() as u64) as usize;
            let len = (1 + rng.below(32) as usize).min(bytes.len() - at);
            let noise = rng.bytes(len);
            bytes[at..at + len].copy_from_slice(&noise);
        }
    });
}

/// Aborts the test process, naming the seed, if one case takes longer than a minute: a hang
/// on bad bytes is a bug, and this turns it into a failure instead of a stuck run.
struct Watchdog {
    /// The seed being worked on, plus one (0: idle), and a count of cases started.
    current: Arc<(AtomicU64, AtomicU64)>,
}

impl Watchdog {
    const CASE_TIME_LIMIT: Duration = Duration::from_secs(60);

    fn start() -> Watchdog {
        let current = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let watched = Arc::downgrade(&current);
        std::thread::spawn(move || loop {
            let Some(state) = watched.upgrade() else {
                return;
            };
            let started = state.1.load(Ordering::SeqCst);
            drop(state);
            std::thread::sleep(Self::CASE_TIME_LIMIT);
            let Some(state) = watched.upgrade() else {
                return;
            };
            let seed = state.0.load(Ordering::SeqCst);
            if seed != 0 && state.1.load(Ordering::SeqCst) == started {
                eprintln!(
                    "seed {} has run for over a minute: a hang (ARBORDB_CORRUPTION_SEED={})",
                    seed - 1,
                    seed - 1
                );
                std::process::abort();
            }
        });
        Watchdog { current }
    }

    fn working_on(&self, seed: u64) {
        self.current.0.store(seed + 1, Ordering::SeqCst);
        self.current.1.fetch_add(1, Ordering::SeqCst);
    }
}
