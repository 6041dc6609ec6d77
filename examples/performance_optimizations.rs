//! The three kinds of scoped database side by side: serde keys and values, raw byte keys with
//! serde values, and raw bytes throughout. Each stores and reads the same entries; the timings
//! show what encoding costs (run with `--release` for meaningful numbers).
//!
//! Run it with `cargo run --release --example performance_optimizations`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arbordb::scoped::{scoped_database_options, GlobalScopeRegistry, Scope, ScopedDbError};
use arbordb::{Env, EnvOpenOptions, RoTxn, RwTxn};

const ENTRIES: u32 = 50_000;

fn key(i: u32) -> String {
    format!("user:{i:08}")
}

type Outcome<T> = Result<T, ScopedDbError>;

/// Times `ENTRIES` puts in one transaction, `ENTRIES` gets, and one walk of the scope.
fn measure(
    kind: &str,
    env: &Env,
    put: impl Fn(&mut RwTxn<'_>, u32) -> Outcome<()>,
    get: impl Fn(&RoTxn<'_>, u32) -> Outcome<()>,
    walk: impl Fn(&RoTxn<'_>) -> Outcome<usize>,
) -> Outcome<()> {
    let started = Instant::now();
    let mut wtxn = env.write_txn()?;
    for i in 0..ENTRIES {
        put(&mut wtxn, i)?;
    }
    wtxn.commit()?;
    let write = started.elapsed();
    let rtxn = env.read_txn()?;
    let started = Instant::now();
    for i in 0..ENTRIES {
        get(&rtxn, i)?;
    }
    let read = started.elapsed();
    let started = Instant::now();
    assert_eq!(walk(&rtxn)?, ENTRIES as usize);
    let scan = started.elapsed();
    let per = |total: Duration| total.as_nanos() as f64 / f64::from(ENTRIES);
    println!(
        "{kind:<28} put {:>7.0} ns   get {:>7.0} ns   iter {:>6.0} ns   (per entry)",
        per(write),
        per(read),
        per(scan)
    );
    Ok(())
}

fn main() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().map_err(arbordb::Error::Io)?;
    // SAFETY: nothing else touches this fresh directory while the environment is open.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(8)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    let typed = scoped_database_options(&env, registry.clone())
        .types::<String, String>()
        .name("typed")
        .create(&mut wtxn)?;
    let bytes_keys = scoped_database_options(&env, registry.clone())
        .bytes_keys::<String>()
        .name("bytes_keys")
        .create(&mut wtxn)?;
    let raw = scoped_database_options(&env, registry.clone())
        .raw_bytes()
        .name("raw")
        .create(&mut wtxn)?;
    wtxn.commit()?;
    let scope = Scope::named("tenant")?; // built once: its hash is computed once
    let value = "v".repeat(100);

    measure(
        "ScopedDatabase<String, _>",
        &env,
        |wtxn, i| typed.put(wtxn, &scope, &key(i), &value),
        |rtxn, i| {
            assert_eq!(
                typed.get(rtxn, &scope, &key(i))?.as_deref(),
                Some(value.as_str())
            );
            Ok(())
        },
        |rtxn| Ok(typed.iter(rtxn, &scope)?.count()),
    )?;
    measure(
        "ScopedBytesKeyDatabase<_>",
        &env,
        |wtxn, i| bytes_keys.put(wtxn, &scope, key(i).as_bytes(), &value),
        |rtxn, i| {
            assert_eq!(
                bytes_keys.get(rtxn, &scope, key(i).as_bytes())?.as_deref(),
                Some(value.as_str())
            );
            Ok(())
        },
        |rtxn| Ok(bytes_keys.iter(rtxn, &scope)?.count()),
    )?;
    // Values are read in place, without a copy.
    measure(
        "ScopedBytesDatabase",
        &env,
        |wtxn, i| raw.put(wtxn, &scope, key(i).as_bytes(), value.as_bytes()),
        |rtxn, i| {
            assert_eq!(
                raw.get(rtxn, &scope, key(i).as_bytes())?,
                Some(value.as_bytes())
            );
            Ok(())
        },
        |rtxn| Ok(raw.iter(rtxn, &scope)?.count()),
    )?;

    let rtxn = env.read_txn()?;
    // All three hold the same keys in the same order.
    let first_typed = typed.first(&rtxn, &scope)?.unwrap().0;
    let first_raw = raw.first(&rtxn, &scope)?.unwrap().0;
    assert_eq!(first_typed.as_bytes(), first_raw);
    assert_eq!(
        bytes_keys.last(&rtxn, &scope)?.unwrap().0,
        key(ENTRIES - 1).as_bytes()
    );
    Ok(())
}
