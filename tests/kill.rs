//! A real crash: this test re-runs its own binary as a child that commits a deterministic
//! workload and reports each commit after `commit()` returns; the parent kills it with SIGKILL
//! at random moments, then reopens the environment, runs the checker, and verifies the data
//! equals the workload's state after a commit no older than the last one reported.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbordb::types::Bytes;
use arbordb::{Env, EnvOpenOptions};
use common::Rng;

/// Set in the child's environment: the directory to work in.
const CHILD_DIRECTORY: &str = "ARBORDB_KILL_TEST_CHILD_DIRECTORY";
const TEST_NAME: &str = "sigkill_at_random_moments_never_loses_a_reported_commit";
const KILLS: u64 = 50;
const NAMES: [&str; 2] = ["data", "other"];
const COUNTER_KEY: &[u8] = b"commits";

type Model = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// The changes of commit `number` (1-based): the same for the child and the parent's model.
fn changes(number: u64) -> Vec<(usize, Vec<u8>, Option<Vec<u8>>)> {
    let mut rng = Rng(number);
    (0..1 + rng.below(60))
        .map(|_| {
            let db = rng.below(2) as usize;
            let key = format!("key{:04}", rng.below(2000)).into_bytes();
            let value = match rng.below(10) {
                0..=1 => None,
                2 => Some(vec![number as u8; 3000 + rng.below(5000) as usize]),
                _ => {
                    let len = rng.below(100) as usize + 1;
                    Some(rng.bytes(len))
                }
            };
            (db, key, value)
        })
        .collect()
}

fn model_after(commits: u64) -> Model {
    let mut model = vec![BTreeMap::new(); NAMES.len()];
    for number in 1..=commits {
        for (db, key, value) in changes(number) {
            match value {
                Some(value) => model[db].insert(key, value),
                None => model[db].remove(&key),
            };
        }
    }
    model
}

fn open(dir: &Path) -> Env {
    unsafe { EnvOpenOptions::new().max_dbs(4).open(dir).unwrap() }
}

/// The child: commit forever, reporting each commit once `commit()` has returned.
fn run_child(dir: &Path) -> ! {
    let env = open(dir);
    let mut stdout = std::io::stdout().lock();
    loop {
        let mut wtxn = env.write_txn().unwrap();
        let counter = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        let dbs: Vec<_> = NAMES
            .iter()
            .map(|name| {
                env.create_database::<Bytes, Bytes>(&mut wtxn, Some(name))
                    .unwrap()
            })
            .collect();
        let done = counter
            .get(&wtxn, COUNTER_KEY)
            .unwrap()
            .map_or(0, |bytes| u64::from_be_bytes(bytes.try_into().unwrap()));
        let number = done + 1;
        for (db, key, value) in changes(number) {
            match value {
                Some(value) => dbs[db].put(&mut wtxn, &key, &value).unwrap(),
                None => {
                    dbs[db].delete(&mut wtxn, &key).unwrap();
                }
            }
        }
        counter
            .put(&mut wtxn, COUNTER_KEY, &number.to_be_bytes())
            .unwrap();
        wtxn.commit().unwrap();
        writeln!(stdout, "committed {number}").unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn sigkill_at_random_moments_never_loses_a_reported_commit() {
    if let Ok(dir) = std::env::var(CHILD_DIRECTORY) {
        run_child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed);
    let mut highest_seen = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_DIRECTORY, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reported = Arc::new(AtomicU64::new(0));
        let reader = {
            let stdout = child.stdout.take().unwrap();
            let reported = reported.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    // Not a prefix: libtest prints "test <name> ... " without a newline
                    // before the test runs, so the first report shares its line.
                    if let Some((_, number)) = line.split_once("committed ") {
                        reported.store(number.trim().parse().unwrap(), Ordering::SeqCst);
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20 + rng.below(130)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let last_reported = reported.load(Ordering::SeqCst);

        let env = open(dir.path());
        let report = env.check().unwrap();
        assert!(report.is_ok(), "kill {kill}: checker:\n{report}");
        let rtxn = env.read_txn().unwrap();
        let committed = match env.open_database::<Bytes, Bytes>(&rtxn, None).unwrap() {
            Some(counter) => counter
                .get(&rtxn, COUNTER_KEY)
                .unwrap()
                .map_or(0, |bytes| u64::from_be_bytes(bytes.try_into().unwrap())),
            None => 0,
        };
        assert!(
            committed >= last_reported.max(highest_seen),
            "kill {kill}: the file holds {committed} commits but {last_reported} were reported"
        );
        assert!(
            committed <= last_reported.max(highest_seen) + 1,
            "kill {kill}: more commits than the child could have made"
        );
        let found: Model = NAMES
            .iter()
            .map(|name| {
                match env
                    .open_database::<Bytes, Bytes>(&rtxn, Some(name))
                    .unwrap()
                {
                    Some(db) => db
                        .iter(&rtxn)
                        .unwrap()
                        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                        .collect(),
                    None => BTreeMap::new(),
                }
            })
            .collect();
        assert!(
            found == model_after(committed),
            "kill {kill}: the data is not the state after commit {committed}"
        );
        highest_seen = committed;
    }
    assert!(
        highest_seen > KILLS,
        "the children made progress: {highest_seen} commits"
    );
}
