//! Opening an environment that another process is writing: the opener must not mistake a file
//! that grew under it for a truncated one. The test binary re-runs itself as the opening
//! process (as tests/multi_process.rs does).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arbordb::types::Bytes;
use arbordb::{Database, Env, EnvFlags, EnvOpenOptions};

const TEST: &str = "opening_while_another_process_grows_the_file_never_sees_it_truncated";
/// Set in the child's environment: the directory to open.
const DIR: &str = "ARBORDB_OPEN_WHILE_COMMITTING_DIR";
const OPENS: usize = 2_000;
const OPENERS: usize = 4;
const COMMITS_MAX: u64 = 2_000;
const ATTEMPTS: usize = 3;

fn open(dir: &Path) -> arbordb::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(1 << 30).max_dbs(2);
    // Syncs only slow the race down; a process crash is not part of this test.
    unsafe {
        options.flags(EnvFlags::NO_SYNC);
        options.open(dir)
    }
}

#[test]
fn opening_while_another_process_grows_the_file_never_sees_it_truncated() {
    if let Ok(dir) = std::env::var(DIR) {
        // The child: open and close again and again, reporting each failure.
        for _ in 0..OPENS {
            match open(Path::new(&dir)) {
                Ok(env) => drop(env.read_txn().expect("a read transaction")),
                Err(error) => println!("failed: {error}"),
            }
        }
        println!("done");
        return;
    }
    // The race needs an opener preempted inside its open: a few attempts make it likely.
    for attempt in 0..ATTEMPTS {
        let dir = tempfile::tempdir().unwrap();
        let env = open(dir.path()).unwrap();
        let mut wtxn = env.write_txn().unwrap();
        let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
        wtxn.commit().unwrap();
        // Commits that each grow the file (a value larger than the slack a growth adds), for as
        // long as the children open, up to a file of 64 MiB.
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (env, stop) = (env.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut key = 0u64;
                while !stop.load(Ordering::SeqCst) && key < COMMITS_MAX {
                    let mut wtxn = env.write_txn().unwrap();
                    db.put(&mut wtxn, &key.to_be_bytes(), &[7u8; 32 << 10])
                        .unwrap();
                    wtxn.commit().unwrap();
                    key += 1;
                }
                key
            })
        };
        // Several opening processes, so that some are preempted inside an open.
        let mut children: Vec<_> = (0..OPENERS)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
                    .env(DIR, dir.path())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut failures = Vec::new();
        let mut done = 0;
        for child in &mut children {
            for line in BufReader::new(child.stdout.take().unwrap()).lines() {
                let line = line.unwrap();
                if let Some((_, failure)) = line.split_once("failed: ") {
                    failures.push(failure.to_string());
                }
                done += usize::from(line.contains("done"));
            }
            assert!(child.wait().unwrap().success(), "an opening process failed");
        }
        stop.store(true, Ordering::SeqCst);
        let commits = writer.join().unwrap();
        assert_eq!(done, OPENERS, "the opening processes finished");
        assert!(commits > 100, "the writer made {commits} commits");
        assert!(
            failures.is_empty(),
            "attempt {attempt}: {} of {} opens failed while {commits} commits grew the file; \
             the first: {}",
            failures.len(),
            OPENS * OPENERS,
            failures[0]
        );
    }
}
