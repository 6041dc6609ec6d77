//! The soak's writers and readers, the same in the parent's threads and in the child process,
//! and the journal where their outcomes are gathered for the verifier.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Database, Env, Error};
use parking_lot::Mutex;

use crate::common::Rng;
use crate::recipe::{self, Kind, Recipe, DATA_NAMES, HISTORY_NAME};

/// The databases of one open environment.
#[derive(Clone)]
pub struct Handles {
    pub env: Env,
    pub data: Vec<Database<Bytes, Bytes>>,
    pub history: Database<Bytes, Bytes>,
}

impl Handles {
    /// Creates the databases if missing (a write transaction).
    pub fn create(env: &Env) -> arbordb::Result<Handles> {
        let mut wtxn = env.write_txn()?;
        let data = DATA_NAMES
            .iter()
            .map(|name| env.create_database(&mut wtxn, Some(name)))
            .collect::<arbordb::Result<_>>()?;
        let history = env.create_database(&mut wtxn, Some(HISTORY_NAME))?;
        wtxn.commit()?;
        Ok(Handles {
            env: env.clone(),
            data,
            history,
        })
    }

    /// Opens the databases, which exist.
    pub fn open(env: &Env) -> Handles {
        let rtxn = env.read_txn().expect("a read transaction");
        let open = |name| {
            env.open_database(&rtxn, Some(name))
                .expect("opening a database")
                .unwrap_or_else(|| panic!("database {name} exists"))
        };
        Handles {
            env: env.clone(),
            data: DATA_NAMES.iter().map(|name| open(name)).collect(),
            history: open(HISTORY_NAME),
        }
    }
}

/// The newest entry of the history: the sequence number of the last commit and its recipe.
pub fn last_commit(handles: &Handles, txn: &arbordb::RoTxn<'_>) -> (u64, Option<Recipe>) {
    match handles.history.last(txn).expect("reading the history") {
        Some((key, value)) => (
            u64::from_be_bytes(key.try_into().expect("an 8-byte history key")),
            Some(Recipe::decode(value)),
        ),
        None => (0, None),
    }
}

/// Why a write transaction failed: the only failures the soak allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// `Error::Io` with ENOSPC.
    NoSpace,
    MapFull,
    /// A sync failed earlier; the environment refuses writes until reopened.
    Poisoned,
}

impl Failure {
    /// The failure `error` is, or a panic naming it when the soak does not allow it.
    pub fn of(error: Error, context: &str) -> Failure {
        match error {
            Error::Io(ref io) if io.kind() == std::io::ErrorKind::StorageFull => Failure::NoSpace,
            Error::Mdb(MdbError::MapFull) => Failure::MapFull,
            Error::Mdb(MdbError::EnvPoisoned) => Failure::Poisoned,
            other => panic!("{context}: unexpected error: {other} ({other:?})"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Failure::NoSpace => "no-space",
            Failure::MapFull => "map-full",
            Failure::Poisoned => "poisoned",
        }
    }

    pub fn from_name(name: &str) -> Failure {
        match name {
            "no-space" => Failure::NoSpace,
            "map-full" => Failure::MapFull,
            "poisoned" => Failure::Poisoned,
            other => panic!("unknown failure {other:?}"),
        }
    }
}

/// What one write transaction came to.
pub enum Outcome {
    /// `commit()` returned `Ok`: the commit must be in the file from now on.
    Committed { seq: u64, recipe: Recipe },
    /// Aborted on purpose, or failed (`recipe` is `None` when it failed before its recipe was
    /// chosen): the file must never hold it.
    Refused {
        recipe: Option<Recipe>,
        failure: Option<Failure>,
    },
}

/// A writer: one thread's stream of write transactions.
pub struct Writer {
    rng: Rng,
    /// How many more transactions remove data (set after the disk or the map filled).
    pressure: u32,
    name: String,
}

impl Writer {
    pub fn new(seed: u64, name: String) -> Writer {
        Writer {
            rng: Rng(seed),
            pressure: 0,
            name,
        }
    }

    /// One write transaction: begin, read the next sequence number, apply a recipe, record it
    /// in the history, then commit (nine in ten) or abort. With `flood`, half the recipes are
    /// floods or fills.
    pub fn step(&mut self, handles: &Handles, flood: bool) -> Outcome {
        let context = &self.name;
        let mut wtxn = match handles.env.write_txn() {
            Ok(wtxn) => wtxn,
            Err(error) => {
                return Outcome::Refused {
                    recipe: None,
                    failure: Some(Failure::of(error, context)),
                };
            }
        };
        let (last, _) = last_commit(handles, &wtxn);
        let seq = last + 1;
        let kind = if self.pressure > 0 {
            self.pressure -= 1;
            Kind::Shrink
        } else {
            match self.rng.below(20) {
                0 => Kind::Shrink,
                1..=2 => Kind::Flood,
                3..=5 if flood => Kind::Fill,
                6..=12 if flood => Kind::Flood,
                _ => Kind::Grow,
            }
        };
        let recipe = Recipe {
            seed: self.rng.next_u64(),
            kind,
        };
        let failed = |writer: &mut Writer, error: Error| {
            let failure = Failure::of(error, &writer.name);
            if failure != Failure::Poisoned {
                writer.pressure = 3;
            }
            Outcome::Refused {
                recipe: Some(recipe),
                failure: Some(failure),
            }
        };
        if let Err(error) = recipe::apply(&handles.env, &mut wtxn, &handles.data, &recipe.ops()) {
            drop(wtxn);
            return failed(self, error);
        }
        if let Err(error) = handles
            .history
            .put(&mut wtxn, &seq.to_be_bytes(), &recipe.encode())
        {
            drop(wtxn);
            return failed(self, error);
        }
        if self.rng.below(10) == 0 {
            wtxn.abort();
            return Outcome::Refused {
                recipe: Some(recipe),
                failure: None,
            };
        }
        match wtxn.commit() {
            Ok(()) => Outcome::Committed { seq, recipe },
            Err(error) => failed(self, error),
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

/// What a reader saw: the digest of the data after commit `seq` (whose recipe has `seed`; 0
/// before the first commit).
#[derive(Clone, Copy, Debug)]
pub struct Observation {
    pub seq: u64,
    pub seed: u64,
    pub digest: u64,
}

/// One read transaction: the digest of its snapshot, taken twice with commits going on in
/// between, must not change; now and then the checker runs on the snapshot.
pub fn observe(handles: &Handles, rng: &mut Rng, context: &str) -> Observation {
    let rtxn = handles
        .env
        .read_txn()
        .unwrap_or_else(|error| panic!("{context}: read_txn: {error}"));
    let (seq, recipe) = last_commit(handles, &rtxn);
    let digest = recipe::snapshot_digest(&rtxn, &handles.data);
    std::thread::sleep(Duration::from_millis(rng.below(4)));
    assert_eq!(
        recipe::snapshot_digest(&rtxn, &handles.data),
        digest,
        "{context}: the snapshot of commit {seq} changed while it was read"
    );
    assert_eq!(
        last_commit(handles, &rtxn).0,
        seq,
        "{context}: the snapshot's history changed"
    );
    if rng.below(25) == 0 {
        let report = rtxn
            .check()
            .unwrap_or_else(|error| panic!("{context}: checking a snapshot: {error}"));
        assert!(
            report.is_ok(),
            "{context}: the snapshot of commit {seq} is damaged:\n{report}"
        );
    }
    Observation {
        seq,
        seed: recipe.map_or(0, |recipe| recipe.seed),
        digest,
    }
}

/// Counters for the summary and the coverage assertions.
#[derive(Default)]
pub struct Stats {
    pub commits: AtomicU64,
    pub child_commits: AtomicU64,
    pub aborts: AtomicU64,
    pub no_space: AtomicU64,
    pub map_full: AtomicU64,
    pub poisoned: AtomicU64,
    pub resizes: AtomicU64,
    pub snapshots: AtomicU64,
    /// Snapshots whose digest was compared with the model's.
    pub snapshots_compared: AtomicU64,
    pub kills: AtomicU64,
    pub fills: AtomicU64,
    pub opens_on_a_full_disk: AtomicU64,
    pub opens_refused_for_space: AtomicU64,
    pub verifications: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The counters of writes, for a failure's message.
    pub fn summary(&self) -> String {
        let get = Stats::get;
        format!(
            "{} commits, {} by child processes, {} aborted, {} failed for a full disk, {} for a \
             full map, {} poisoned, {} map growths",
            get(&self.commits),
            get(&self.child_commits),
            get(&self.aborts),
            get(&self.no_space),
            get(&self.map_full),
            get(&self.poisoned),
            get(&self.resizes),
        )
    }
}

/// Observations kept per verification: each costs a digest of the model.
const OBSERVATIONS_KEPT: usize = 48;

/// Everything the writers and readers of both processes report.
#[derive(Default)]
pub struct Journal {
    /// (sequence number, seed) of every commit whose `commit()` returned `Ok`.
    pub confirmed: Mutex<Vec<(u64, u64)>>,
    /// Seeds of transactions that were aborted or failed.
    pub refused: Mutex<HashSet<u64>>,
    pub observations: Mutex<Vec<Observation>>,
    pub stats: Stats,
    /// Set while the disk is full: this process's writers flood, so they meet it.
    pub flood: AtomicBool,
}

impl Journal {
    pub fn record(&self, outcome: &Outcome, child: bool) {
        match outcome {
            Outcome::Committed { seq, recipe } => {
                self.confirmed.lock().push((*seq, recipe.seed));
                Stats::add(if child {
                    &self.stats.child_commits
                } else {
                    &self.stats.commits
                });
            }
            Outcome::Refused { recipe, failure } => {
                if let Some(recipe) = recipe {
                    self.refused.lock().insert(recipe.seed);
                }
                self.record_failure(*failure);
            }
        }
    }

    pub fn record_failure(&self, failure: Option<Failure>) {
        Stats::add(match failure {
            None => &self.stats.aborts,
            Some(Failure::NoSpace) => &self.stats.no_space,
            Some(Failure::MapFull) => &self.stats.map_full,
            Some(Failure::Poisoned) => &self.stats.poisoned,
        });
    }

    pub fn observe(&self, observation: Observation) {
        let seen = self.stats.snapshots.fetch_add(1, Ordering::Relaxed) as usize;
        let mut kept = self.observations.lock();
        if kept.len() < OBSERVATIONS_KEPT {
            kept.push(observation);
        } else {
            // Later snapshots replace earlier ones in turn, so every part of a round is seen.
            kept[seen % OBSERVATIONS_KEPT] = observation;
        }
    }

    pub fn commits(&self) -> u64 {
        self.confirmed.lock().len() as u64
    }
}
