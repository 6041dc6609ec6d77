//! Micro-benchmarks of the hot paths, for finding regressions and guiding optimisation (the
//! comparison with other engines is benches/compare). Run with `cargo bench` here.

use std::hint::black_box;

use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvFlags, EnvOpenOptions};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn open(dir: &std::path::Path) -> Env {
    // SAFETY: a private temporary directory. NO_SYNC isolates the CPU cost of commits.
    unsafe {
        EnvOpenOptions::new()
            .map_size(8 << 30)
            .flags(EnvFlags::NO_SYNC)
            .open(dir)
            .unwrap()
    }
}

fn key(n: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    key[8..].copy_from_slice(&n.to_be_bytes());
    key
}

/// An environment whose unnamed database has `entries` entries of 100-byte values.
fn filled(entries: u64) -> (tempfile::TempDir, Env, Database<Bytes, Bytes>) {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..entries {
        db.put(&mut wtxn, &key(n), &[1u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    (dir, env, db)
}

fn point_get(c: &mut Criterion) {
    // Depths 1 to 4 with 16-byte keys and 100-byte values on 4 KiB pages.
    for entries in [20u64, 2_000, 200_000, 2_000_000] {
        let (_dir, env, db) = filled(entries);
        let rtxn = env.read_txn().unwrap();
        let depth = db.stat(&rtxn).unwrap().depth;
        let mut n = 0u64;
        c.bench_function(&format!("get, depth {depth} ({entries} entries)"), |b| {
            b.iter(|| {
                n = (n + 7919) % entries;
                black_box(db.get(&rtxn, &key(n)).unwrap());
            })
        });
    }
}

fn cursor_next(c: &mut Criterion) {
    let (_dir, env, db) = filled(200_000);
    let rtxn = env.read_txn().unwrap();
    let mut iter = db.iter(&rtxn).unwrap();
    c.bench_function("cursor next", |b| {
        b.iter(|| match iter.next() {
            Some(entry) => black_box(entry.unwrap()),
            None => {
                iter = db.iter(&rtxn).unwrap();
                black_box(iter.next().unwrap().unwrap())
            }
        })
    });
}

fn insert(c: &mut Criterion) {
    let (_dir, env, db) = filled(10_000);
    let mut wtxn = env.write_txn().unwrap();
    let mut n = 10_000u64;
    // Mostly inserts into a leaf with room; every ~30th splits one.
    c.bench_function("insert into a leaf (with occasional splits)", |b| {
        b.iter(|| {
            n += 1;
            db.put(&mut wtxn, &key(n), &[2u8; 100]).unwrap();
        })
    });
    drop(wtxn);
    let (_dir, env, db) = filled(0);
    c.bench_function("page split (a full leaf takes one more key)", |b| {
        b.iter_batched(
            || {
                let mut wtxn = env.write_txn().unwrap();
                for n in 0..35u64 {
                    db.put(&mut wtxn, &key(n), &[3u8; 100]).unwrap();
                }
                wtxn
            },
            |mut wtxn| {
                db.put(&mut wtxn, &key(1_000), &[3u8; 100]).unwrap();
                wtxn
            },
            // One input at a time: each input holds the writer lock, so a second setup
            // before the first transaction is dropped would wait for it forever.
            BatchSize::PerIteration,
        )
    });
}

fn small_commit(c: &mut Criterion) {
    let (_dir, env, db) = filled(100_000);
    let mut n = 0u64;
    c.bench_function("commit of a 10-put transaction (NO_SYNC)", |b| {
        b.iter(|| {
            let mut wtxn = env.write_txn().unwrap();
            for _ in 0..10 {
                n += 1;
                db.put(&mut wtxn, &key(n % 100_000), &[4u8; 100]).unwrap();
            }
            wtxn.commit().unwrap();
        })
    });
}

fn read_txn(c: &mut Criterion) {
    let (_dir, env, _db) = filled(1_000);
    c.bench_function("begin and end a read transaction", |b| {
        b.iter(|| black_box(env.read_txn().unwrap()))
    });
}

fn scoped_get(c: &mut Criterion) {
    use arbordb::scoped::{GlobalScopeRegistry, Scope, ScopedBytesDatabase};
    // 200,000 entries spread over 100 scopes, as a multi-tenant service would hold them; the
    // cost over a plain get is the registry lookup (collision check) and the prefix.
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let registry = std::sync::Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn).unwrap());
    let db = ScopedBytesDatabase::create(&env, "scoped", &mut wtxn, registry).unwrap();
    let scopes: Vec<Scope> = (0..100)
        .map(|i| Scope::named(&format!("tenant_{i}")).unwrap())
        .collect();
    for n in 0..200_000u64 {
        db.put(&mut wtxn, &scopes[(n % 100) as usize], &key(n), &[1u8; 100])
            .unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let mut n = 0u64;
    c.bench_function("scoped get (200000 entries in 100 scopes)", |b| {
        b.iter(|| {
            n = (n + 7919) % 200_000;
            black_box(db.get(&rtxn, &scopes[(n % 100) as usize], &key(n)).unwrap());
        })
    });
}

criterion_group!(
    benches,
    point_get,
    cursor_next,
    insert,
    small_commit,
    read_txn,
    scoped_get
);
criterion_main!(benches);
