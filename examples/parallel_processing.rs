//! Many threads reading scopes while one thread writes: every reader works on its own
//! snapshot, never blocks the writer, and always sees whole commits.
//!
//! Run it with `cargo run --release --example parallel_processing`.

use std::sync::Arc;
use std::thread;

use arbordb::scoped::{scoped_database_options, GlobalScopeRegistry, Scope, ScopedDbError};
use arbordb::EnvOpenOptions;

const WORKERS: usize = 4;
const BATCHES: u64 = 200;

fn main() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().map_err(arbordb::Error::Io)?;
    // SAFETY: nothing else touches this fresh directory while the environment is open.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(256 << 20)
            .max_dbs(8)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    let events = scoped_database_options(&env, registry)
        .types::<u64, u64>()
        .name("events")
        .create(&mut wtxn)?;
    wtxn.commit()?;

    let readers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            // Environments and scoped databases are Clone + Send + Sync.
            let (env, events) = (env.clone(), events.clone());
            thread::spawn(move || -> Result<(u64, u64), ScopedDbError> {
                let scope = Scope::named(&format!("worker_{worker}"))?;
                let (mut snapshots, mut last) = (0, 0);
                while last < BATCHES {
                    let rtxn = env.read_txn()?;
                    // Batch b writes event b (value b * 10) to every worker's scope in one
                    // commit: a snapshot holds events 0..n with nothing missing.
                    let mut count = 0;
                    for entry in events.iter(&rtxn, &scope)? {
                        let (id, value) = entry?;
                        assert_eq!((id, value), (count, count * 10), "worker {worker}");
                        count += 1;
                    }
                    assert!(count >= last, "a later snapshot never shows less");
                    last = count;
                    snapshots += 1;
                }
                Ok((snapshots, last))
            })
        })
        .collect();

    for batch in 0..BATCHES {
        let mut wtxn = env.write_txn()?;
        for worker in 0..WORKERS {
            events.put(
                &mut wtxn,
                &Scope::named(&format!("worker_{worker}"))?,
                &batch,
                &(batch * 10),
            )?;
        }
        wtxn.commit()?;
    }

    for (worker, reader) in readers.into_iter().enumerate() {
        let (snapshots, seen) = reader.join().expect("reader thread panicked")?;
        println!("worker_{worker}: {snapshots} snapshots read, saw all {seen} events");
        assert_eq!(seen, BATCHES);
    }
    Ok(())
}
