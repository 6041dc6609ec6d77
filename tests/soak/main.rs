//! The soak test: everything at once, for a bounded time.
//!
//! Rounds follow one another until the time is up (`ARBORDB_SOAK_SECONDS`, 20 by default).
//! Each round reopens the environment, then two writer and two reader threads of this process
//! and a second process (the test binary re-run as a child, one writer and one reader) work
//! on three named databases at once: random puts (some of overflow size, some
//! `NO_OVERWRITE`), deletes, range deletes, clears, nested transactions that commit or abort,
//! whole transactions that commit or abort, floods of large values and mass deletes
//! (`recipe.rs`). The child is killed with SIGKILL at random moments, one to three times per
//! round. Space is squeezed at random moments: when the test runs as root the environment
//! lives on a small tmpfs and a filler file beside it takes the free space, then gives it
//! back (`disk.rs`); elsewhere writers flood until the map is full. Writes must then fail with
//! `Io` (ENOSPC) or `MapFull` only, never corrupt anything, and work must go on once the space
//! is back. Some reopenings happen on a full disk (with and without the lock file left from
//! before), which may refuse with ENOSPC. A writer that meets `MapFull` may grow the map.
//!
//! After every kill (this process's threads still running), at the end of every round and
//! after every reopening, the environment must hold exactly the data after some commit of the
//! model, no older than any commit reported as returned, and the checker must pass
//! (`verify.rs`). Readers check that their snapshots never change and, now and then, run the
//! checker on them; snapshots they report are compared with the model too.
//!
//! Three roles share this binary: the test process mounts the tmpfs and supervises the soak,
//! which runs in a process of its own (so a signal such as SIGBUS fails the test with a message
//! and the tmpfs is unmounted whatever happens, and a hang is cut off); the soak's process
//! starts the children.
//!
//! The seed comes from the clock and is printed; `ARBORDB_SOAK_SEED` replays its random
//! choices (the interleaving of threads and processes differs from run to run).

#[path = "../common/mod.rs"]
mod common;

mod child;
mod disk;
mod recipe;
mod verify;
mod worker;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arbordb::{Env, EnvOpenOptions};

use child::ChildProcess;
use common::tmpfs::Tmpfs;
use common::Rng;
use disk::{Scratch, TMPFS_BYTES};
use verify::Chain;
use worker::{Failure, Handles, Journal, Outcome, Stats, Writer};

const TEST: &str = "soak_of_threads_processes_kills_and_a_full_disk";
const SEED_VARIABLE: &str = "ARBORDB_SOAK_SEED";
const SECONDS_VARIABLE: &str = "ARBORDB_SOAK_SECONDS";
/// Set in the soak's own process: seed, seconds, whether the directory is a tmpfs.
const RUNNER_VARIABLE: &str = "ARBORDB_SOAK_RUNNER";
const RUNNER_DIR_VARIABLE: &str = "ARBORDB_SOAK_RUNNER_DIR";
/// How long past its time budget the soak may run before it counts as hung (verification
/// and the last round come after the budget).
const HANG_MARGIN: Duration = Duration::from_secs(180);
const DEFAULT_SECONDS: u64 = 20;
const MIN_ROUNDS: u64 = 2;
const WRITERS: u64 = 2;
const READERS: u64 = 2;
/// The map starts small, so it fills; writers meeting `MapFull` may grow it, up to a cap
/// above the tmpfs's size (so the disk fills before the map) or, without a tmpfs, a cap that
/// keeps the map filling now and then.
const MAP_BYTES: usize = 4 << 20;
const MAP_STEP: usize = 2 << 20;
const MAP_CAP_ON_TMPFS: usize = 40 << 20;
const MAP_CAP_ELSEWHERE: usize = 12 << 20;
/// How long flooding writers get to meet a full disk or map.
const SQUEEZE_LIMIT: Duration = Duration::from_secs(30);
/// How long writers get to commit once the space is back.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

/// How every process opens the environment.
pub struct EnvConfig {
    pub dir: PathBuf,
    pub page_size: usize,
    pub map_size: usize,
    pub txn_memory_max: Option<usize>,
}

pub fn open_env(config: &EnvConfig) -> arbordb::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options
        .page_size(config.page_size)
        .map_size(config.map_size)
        .max_dbs(8);
    if let Some(bytes) = config.txn_memory_max {
        options.txn_memory_max(bytes);
    }
    unsafe { options.open(&config.dir) }
}

fn seed() -> u64 {
    match std::env::var(SEED_VARIABLE) {
        Ok(text) => {
            let text = text.trim();
            match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            }
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={text:?} is not a number"))
        }
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            Rng(now.as_nanos() as u64 ^ u64::from(std::process::id())).next_u64()
        }
    }
}

fn budget() -> Duration {
    let seconds = match std::env::var(SECONDS_VARIABLE) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SECONDS_VARIABLE}={text:?} is not a number of seconds")),
        Err(_) => DEFAULT_SECONDS,
    };
    Duration::from_secs(seconds)
}

/// A seed for one thread or process: distinct per round and role.
fn derive(seed: u64, round: u64, role: u64) -> u64 {
    Rng(seed ^ (round << 16) ^ role).next_u64()
}

/// Sets the flag when dropped, so worker threads stop when the test panics.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Soak {
    seed: u64,
    scratch: Scratch,
    config: EnvConfig,
    journal: Arc<Journal>,
    chain: Chain,
    rng: Rng,
    /// Whether space is short now: the filler holds the disk's free space (on a tmpfs), or
    /// writers flood until the map is full (elsewhere).
    squeezed: bool,
}

#[test]
fn soak_of_threads_processes_kills_and_a_full_disk() {
    if let Some((config, seed)) = child::config_from_env() {
        child::run(config, seed);
    }
    if let Some((scratch, seed, budget)) = runner_from_env() {
        run_soak(scratch, seed, budget);
        return;
    }
    supervise();
}

/// The test process itself: mounts the tmpfs, runs the soak in a process of its own (so that
/// however that process ends, even by a signal, the tmpfs is unmounted and the test reports
/// it), and gives it a time limit (a hang fails the test).
fn supervise() {
    let seed = seed();
    let budget = budget();
    eprintln!(
        "soak: seed {seed} (replay with {SEED_VARIABLE}={seed}), {} s ({SECONDS_VARIABLE})",
        budget.as_secs()
    );
    let tmpfs = Tmpfs::mount(TMPFS_BYTES);
    let plain = tempfile::tempdir().unwrap();
    if tmpfs.is_none() {
        // Straight to stderr, so the notice shows even when the test passes.
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: {TEST}: no tmpfs could be mounted (not root?): the full-disk part of the \
             soak is skipped; threads, processes, kills and a filling map still run"
        );
    }
    let dir = tmpfs.as_ref().map_or(plain.path(), |tmpfs| tmpfs.path());
    let mut runner = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            TEST,
            "--nocapture",
            "--test-threads=1",
            "--quiet",
        ])
        .env(
            RUNNER_VARIABLE,
            format!("{seed} {} {}", budget.as_secs(), u8::from(tmpfs.is_some())),
        )
        .env(RUNNER_DIR_VARIABLE, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the soak's process");
    let pipe = runner.stderr.take().unwrap();
    // Passed on as it comes (libtest shows it with --nocapture or on failure) and kept for
    // the failure message.
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let limit = budget + HANG_MARGIN;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = runner.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            runner.kill().unwrap();
            runner.wait().unwrap();
            stderr.join().unwrap();
            panic!("the soak hung: still running after {limit:?} (seed {seed})");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = stderr.join().unwrap();
    let signal = match status.signal() {
        Some(libc::SIGBUS) => " (SIGBUS: a shared map of a file on a full disk touched)",
        _ => "",
    };
    assert!(
        status.success(),
        "the soak failed ({status}{signal}); replay with {SEED_VARIABLE}={seed}; its output \
         ends:\n{}",
        tail(&output, 40)
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// In the soak's process: where to work, the seed and the time budget.
fn runner_from_env() -> Option<(Scratch, u64, Duration)> {
    let words = std::env::var(RUNNER_VARIABLE).ok()?;
    let words: Vec<u64> = words
        .split_whitespace()
        .map(|word| word.parse().expect("a number in the soak's configuration"))
        .collect();
    let [seed, seconds, can_fill] = words[..] else {
        panic!("the soak's configuration has three numbers: {words:?}");
    };
    let scratch = Scratch {
        dir: PathBuf::from(std::env::var(RUNNER_DIR_VARIABLE).expect("the soak's directory")),
        can_fill: can_fill != 0,
    };
    Some((scratch, seed, Duration::from_secs(seconds)))
}

fn run_soak(scratch: Scratch, seed: u64, budget: Duration) {
    let mut rng = Rng(seed);
    let config = EnvConfig {
        dir: scratch.env_dir(),
        page_size: [512, 1024, 4096][rng.below(3) as usize],
        map_size: MAP_BYTES,
        // Half the runs spill dirty pages before commit (and so write, and can meet a full
        // disk, inside puts and deletes).
        txn_memory_max: (rng.below(2) == 0).then_some(64 << 10),
    };
    eprintln!(
        "soak: page size {}, transaction memory limit {:?}, full disk {}",
        config.page_size,
        config.txn_memory_max,
        if scratch.can_fill { "on" } else { "skipped" }
    );
    std::fs::create_dir(&config.dir).unwrap();
    let mut soak = Soak {
        seed,
        scratch,
        config,
        journal: Arc::new(Journal::default()),
        chain: Chain::new(),
        rng,
        squeezed: false,
    };
    {
        let env = open_env(&soak.config).expect("creating the environment");
        Handles::create(&env).expect("creating the databases");
        soak.chain.verify(&env, &soak.journal, "after creating");
    }
    let started = Instant::now();
    let mut round = 0;
    while round < MIN_ROUNDS || started.elapsed() < budget {
        let env = soak.reopen(round);
        soak.run_round(&env, round);
        let context = format!("round {round}, its writers stopped");
        soak.chain.verify(&env, &soak.journal, &context);
        soak.chain.assert_no_snapshot_ahead(&soak.journal, &context);
        drop(env);
        round += 1;
        if round % 25 == 0 {
            let (entries, bytes) = soak.chain.size();
            eprintln!(
                "soak: {round} rounds, {} commits, {entries} entries of {bytes} bytes, a data \
                 file of {} bytes, {:.0} s",
                soak.chain.commits(),
                std::fs::metadata(soak.config.dir.join(arbordb::DATA_FILE_NAME))
                    .map_or(0, |metadata| metadata.len()),
                started.elapsed().as_secs_f64()
            );
        }
    }
    soak.finish(round, started.elapsed());
}

impl Soak {
    /// Reopens the environment and verifies it; some reopenings happen on a full disk.
    fn reopen(&mut self, round: u64) -> Env {
        let mode = if self.scratch.can_fill && round > 0 {
            self.rng.below(4)
        } else {
            0
        };
        if mode >= 2 {
            let context = format!("round {round}: reopening on a full disk");
            if mode == 3 {
                // As after a reboot that cleared it: the opener must create and size it.
                std::fs::remove_file(self.config.dir.join(arbordb::LOCK_FILE_NAME))
                    .expect("removing the lock file");
            }
            self.scratch.fill();
            Stats::add(&self.journal.stats.fills);
            Stats::add(&self.journal.stats.opens_on_a_full_disk);
            self.create_on_a_full_disk(&context);
            let outcome = open_env(&self.config);
            self.scratch.free();
            match outcome {
                Ok(env) => {
                    self.chain.verify(&env, &self.journal, &context);
                    return env;
                }
                Err(error) => {
                    assert_eq!(
                        Failure::of(error, &context),
                        Failure::NoSpace,
                        "{context}: refused"
                    );
                    Stats::add(&self.journal.stats.opens_refused_for_space);
                }
            }
        }
        let context = format!("round {round}: reopened");
        let env = open_env(&self.config).unwrap_or_else(|error| panic!("{context}: {error}"));
        self.chain.verify(&env, &self.journal, &context);
        env
    }

    /// Creating a new environment on the full disk succeeds or fails with ENOSPC.
    fn create_on_a_full_disk(&self, context: &str) {
        let dir = self.scratch.spare_dir();
        let _ = std::fs::create_dir(&dir);
        let config = EnvConfig {
            dir: dir.clone(),
            page_size: self.config.page_size,
            map_size: self.config.map_size,
            txn_memory_max: self.config.txn_memory_max,
        };
        match open_env(&config) {
            Ok(env) => {
                if let Err(error) = Handles::create(&env) {
                    Failure::of(error, &format!("{context}: a new environment"));
                }
            }
            Err(error) => {
                Failure::of(error, &format!("{context}: creating a new environment"));
            }
        }
        std::fs::remove_dir_all(&dir).expect("removing the new environment");
    }

    /// One round: the threads of this process work while child processes come and get killed
    /// and the disk fills and empties; then the space comes back and writers must commit again.
    fn run_round(&mut self, env: &Env, round: u64) {
        let handles = Handles::open(env);
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_panic = StopOnDrop(stop.clone());
        let mut threads: Vec<JoinHandle<()>> = Vec::new();
        for index in 0..WRITERS {
            let (handles, stop, journal) = (handles.clone(), stop.clone(), self.journal.clone());
            let seed = derive(self.seed, round, index + 1);
            let map_cap = if self.scratch.can_fill {
                MAP_CAP_ON_TMPFS
            } else {
                MAP_CAP_ELSEWHERE
            };
            threads.push(std::thread::spawn(move || {
                let name = format!("round {round}: writer {index}");
                let writer = Writer::new(seed, name);
                write_until(&handles, &stop, &journal, writer, map_cap);
            }));
        }
        for index in 0..READERS {
            let (handles, stop, journal) = (handles.clone(), stop.clone(), self.journal.clone());
            let mut rng = Rng(derive(self.seed, round, 100 + index));
            threads.push(std::thread::spawn(move || {
                let name = format!("round {round}: reader {index}");
                while !stop.load(Ordering::SeqCst) {
                    journal.observe(worker::observe(&handles, &mut rng, &name));
                }
            }));
        }
        for life in 0..1 + self.rng.below(3) {
            let child_seed = derive(self.seed, round, 200 + life);
            let mut child =
                ChildProcess::spawn(TEST, &self.config, child_seed, self.journal.clone());
            child.wait_ready();
            std::thread::sleep(Duration::from_millis(10 + self.rng.below(200)));
            // The first life of the first round always squeezes, so every run meets it.
            if (round == 0 && life == 0) || self.rng.below(2) == 0 {
                self.toggle_squeeze(round);
            }
            std::thread::sleep(Duration::from_millis(10 + self.rng.below(200)));
            child.kill();
            Stats::add(&self.journal.stats.kills);
            // While this process's threads go on.
            self.chain.verify(
                env,
                &self.journal,
                &format!("round {round}: after kill {life}"),
            );
        }
        if self.squeezed {
            std::thread::sleep(Duration::from_millis(self.rng.below(100)));
            self.toggle_squeeze(round);
        }
        let before = self.journal.commits();
        let freed = Instant::now();
        while self.journal.commits() == before {
            assert!(
                freed.elapsed() < RECOVERY_LIMIT,
                "round {round}: no commit in {RECOVERY_LIMIT:?} with the space back \
                 ({} writers poisoned)",
                Stats::get(&self.journal.stats.poisoned)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(self.rng.below(100)));
        stop.store(true, Ordering::SeqCst);
        let mut panicked = None;
        for thread in threads {
            if let Err(payload) = thread.join() {
                panicked.get_or_insert(payload);
            }
        }
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
    }

    /// Squeezes space or gives it back. On a tmpfs the filler takes the disk's free space;
    /// this process's writers then flood, and the squeeze lasts at least until a write met
    /// ENOSPC. Elsewhere they flood until a write met `MapFull`.
    fn toggle_squeeze(&mut self, round: u64) {
        self.squeezed = !self.squeezed;
        if !self.squeezed {
            self.journal.flood.store(false, Ordering::SeqCst);
            if self.scratch.can_fill {
                self.scratch.free();
            }
            return;
        }
        let (counter, what) = if self.scratch.can_fill {
            self.scratch.fill();
            Stats::add(&self.journal.stats.fills);
            (&self.journal.stats.no_space, "the disk was full")
        } else {
            (&self.journal.stats.map_full, "space was short")
        };
        let before = Stats::get(counter);
        self.journal.flood.store(true, Ordering::SeqCst);
        let squeezed = Instant::now();
        let counts_before = self.journal.stats.summary();
        while Stats::get(counter) == before {
            assert!(
                squeezed.elapsed() < SQUEEZE_LIMIT,
                "round {round}: {what} and writers flooded for {SQUEEZE_LIMIT:?}, but no write \
                 failed for it\nbefore: {counts_before}\nafter: {}\ndata file {:?} bytes",
                self.journal.stats.summary(),
                std::fs::metadata(self.config.dir.join(arbordb::DATA_FILE_NAME))
                    .map(|metadata| metadata.len()),
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn finish(&self, rounds: u64, elapsed: Duration) {
        let stats = &self.journal.stats;
        let get = Stats::get;
        eprintln!(
            "soak: {rounds} rounds in {:.1} s: {} commits by threads and {} by child processes \
             ({} in the model), {} aborted, {} failed for a full disk, {} for a full map, {} \
             poisoned, {} map growths, {} snapshots read ({} compared with the model), {} kills, {} disk fills, {} reopenings \
             on a full disk ({} refused), {} verifications",
            elapsed.as_secs_f64(),
            get(&stats.commits),
            get(&stats.child_commits),
            self.chain.commits(),
            get(&stats.aborts),
            get(&stats.no_space),
            get(&stats.map_full),
            get(&stats.poisoned),
            get(&stats.resizes),
            get(&stats.snapshots),
            get(&stats.snapshots_compared),
            get(&stats.kills),
            get(&stats.fills),
            get(&stats.opens_on_a_full_disk),
            get(&stats.opens_refused_for_space),
            get(&stats.verifications),
        );
        assert!(get(&stats.kills) >= MIN_ROUNDS, "the child was killed");
        assert!(
            get(&stats.child_commits) > 0,
            "the child processes committed"
        );
        assert!(get(&stats.commits) > 0, "the threads committed");
        if self.scratch.can_fill {
            assert!(get(&stats.no_space) > 0, "writes met the full disk");
        } else {
            assert!(get(&stats.map_full) > 0, "writes met the full map");
        }
    }
}

/// A writer thread's loop: write transactions until stopped; a writer that meets `MapFull`
/// may grow the map; a poisoned environment ends it.
fn write_until(
    handles: &Handles,
    stop: &AtomicBool,
    journal: &Journal,
    mut writer: Writer,
    map_cap: usize,
) {
    while !stop.load(Ordering::SeqCst) {
        let outcome = writer.step(handles, journal.flood.load(Ordering::SeqCst));
        journal.record(&outcome, false);
        let Outcome::Refused {
            failure: Some(failure),
            ..
        } = outcome
        else {
            continue;
        };
        match failure {
            Failure::Poisoned => return,
            Failure::MapFull if writer.rng().below(4) == 0 => {
                let current = handles.env.info().map_size;
                if current < map_cap {
                    unsafe { handles.env.resize(current + MAP_STEP) }
                        .unwrap_or_else(|error| panic!("growing the map: {error}"));
                    Stats::add(&journal.stats.resizes);
                }
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(1 + writer.rng().below(3)));
    }
}
