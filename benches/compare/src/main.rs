//! Runs redb's benchmark workloads against arbordb, LMDB (through heed) and redb, one engine
//! after another in one process, and prints a markdown table with arbordb's ratios.
//!
//! `cargo run --release -- [--scale F] [--runs N] [--output FILE] [--verify-reads]
//! [--only duplicates]` from benches/compare. `--scale 0.01` shrinks every count for a quick
//! run; `--verify-reads` opens arbordb with `verify_checksums_on_read`; `--only duplicates`
//! runs the duplicates workload alone (no other rows, no memory probe), to compare its rows
//! quickly.

mod duplicates;
mod engines;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use engines::{ArborEngine, Engine, HeedEngine, RedbEngine};

const KEY_BYTES: usize = 24;
const VALUE_BYTES: usize = 150;
/// How many calls of `len()` its row takes the median of.
const LEN_CALLS: usize = 101;

/// Set by `--verify-reads`: arbordb's read transactions verify page checksums.
pub static VERIFY_READS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub type Key = [u8; KEY_BYTES];
pub type Value = [u8; VALUE_BYTES];

/// The counts of each workload, scaled.
struct Plan {
    bulk: usize,
    individual: usize,
    batches: usize,
    batch_size: usize,
    reads: usize,
    range_reads: usize,
    range_length: usize,
    threads: usize,
    appended: usize,
    dup_keys: usize,
    dup_values_per_key: usize,
    dup_scans: usize,
}

impl Plan {
    fn new(scale: f64) -> Plan {
        let scaled = |n: usize| ((n as f64 * scale) as usize).max(10);
        Plan {
            bulk: scaled(5_000_000),
            individual: scaled(1_000),
            batches: scaled(100),
            batch_size: 1_000,
            reads: scaled(1_000_000),
            range_reads: scaled(500_000),
            range_length: 10,
            threads: 2,
            appended: scaled(5_000_000),
            dup_keys: scaled(10_000),
            dup_values_per_key: 100,
            dup_scans: scaled(10_000),
        }
    }
}

/// splitmix64, shared by every engine so they see the same keys.
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

    fn next(&mut self) -> u64 {
        let mut word = [0u8; 8];
        self.fill(&mut word);
        u64::from_le_bytes(word)
    }

    /// `keys` random keys with `per_key` random values each, shuffled: every engine gets the
    /// same pairs in the same order.
    fn duplicates(&mut self, keys: usize, per_key: usize) -> Vec<(Key, Value)> {
        let mut pairs = Vec::with_capacity(keys * per_key);
        for _ in 0..keys {
            let mut key = [0u8; KEY_BYTES];
            self.fill(&mut key);
            for _ in 0..per_key {
                let mut value = [0u8; VALUE_BYTES];
                self.fill(&mut value);
                pairs.push((key, value));
            }
        }
        for last in (1..pairs.len()).rev() {
            pairs.swap(last, (self.next() % (last as u64 + 1)) as usize);
        }
        pairs
    }

    fn pairs(&mut self, count: usize) -> Vec<(Key, Value)> {
        (0..count)
            .map(|_| {
                let mut pair = ([0u8; KEY_BYTES], [0u8; VALUE_BYTES]);
                self.fill(&mut pair.0);
                self.fill(&mut pair.1);
                pair
            })
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Measure {
    Time(Duration),
    Bytes(u64),
    NotApplicable,
}

impl Measure {
    fn value(self) -> Option<f64> {
        match self {
            Measure::Time(duration) => Some(duration.as_secs_f64()),
            Measure::Bytes(bytes) => Some(bytes as f64),
            Measure::NotApplicable => None,
        }
    }

    fn show(self) -> String {
        match self {
            Measure::Time(duration) if duration.as_micros() < 1 => {
                format!("{} ns", duration.as_nanos())
            }
            Measure::Time(duration) if duration.as_micros() < 100 => {
                format!("{:.1} µs", duration.as_secs_f64() * 1e6)
            }
            Measure::Time(duration) if duration.as_millis() < 10 => {
                format!("{} µs", duration.as_micros())
            }
            Measure::Time(duration) => format!("{} ms", duration.as_millis()),
            Measure::Bytes(bytes) => format!("{:.2} MiB", bytes as f64 / 1048576.0),
            Measure::NotApplicable => "n/a".to_string(),
        }
    }
}

fn timed(work: impl FnOnce()) -> Measure {
    let started = Instant::now();
    work();
    Measure::Time(started.elapsed())
}

fn directory_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// A field of /proc/self/status in KiB (Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the peak resident set size to the current one (writing 5 to /proc/self/clear_refs)
/// and returns the current one in KiB: the peak's growth from here is what the next step
/// needs beyond the data already in memory (the input pairs). Mapped file pages that the
/// process touches count too, so an engine that reads through its map shows them.
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS")
}

/// In a fresh process (so no engine inherits another's freed heap): the bulk load alone, then
/// the growth of the peak RSS over the RSS before it, printed in KiB.
fn peak_rss_probe<E: Engine>(plan: &Plan, base: &Path) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let engine = E::open(dir.path());
    let loaded = Rng(3).pairs(plan.bulk);
    let before = reset_peak_rss().expect("/proc/self/clear_refs and /proc/self/status (Linux)");
    engine.insert(&loaded, false);
    let peak = status_kib("VmHWM").unwrap();
    println!("{}", peak.saturating_sub(before));
}

/// Runs the peak RSS probe of `engine` in a child process; its answer in bytes.
fn peak_rss(engine: &str, scale: f64) -> Measure {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--peak-rss", engine, "--scale", &scale.to_string()])
        .output()
        .unwrap();
    match String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse::<u64>()
    {
        Ok(kib) if output.status.success() => Measure::Bytes(kib * 1024),
        _ => Measure::NotApplicable,
    }
}

/// Runs every workload on one engine (only the duplicates workload when `only_duplicates`);
/// returns (row name, measure) in table order.
fn run<E: Engine>(plan: &Plan, base: &Path, only_duplicates: bool) -> Vec<(String, Measure)> {
    let mut rows = Vec::new();
    let mut row = |name: &str, measure: Measure| {
        eprintln!("  {}: {name}: {}", E::NAME, measure.show());
        rows.push((name.to_string(), measure));
    };
    if !only_duplicates {
        run_pairs::<E>(plan, base, &mut row);
    }
    // Not in redb's table: many sorted values per key.
    duplicates::run::<E::Duplicates>(plan, base, &mut row);
    rows
}

/// Runs every workload but the duplicates one on one engine; reports each row through `row`.
fn run_pairs<E: Engine>(plan: &Plan, base: &Path, row: &mut impl FnMut(&str, Measure)) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let mut engine = E::open(dir.path());
    let mut rng = Rng(3);

    let loaded = rng.pairs(plan.bulk);
    row("bulk load", timed(|| engine.insert(&loaded, false)));
    row(
        "size after bulk load",
        Measure::Bytes(directory_size(dir.path())),
    );
    let singles = rng.pairs(plan.individual);
    row(
        &format!("individual writes ({})", plan.individual),
        timed(|| {
            singles
                .iter()
                .for_each(|pair| engine.insert(std::slice::from_ref(pair), false))
        }),
    );
    let batches: Vec<Vec<(Key, Value)>> = (0..plan.batches)
        .map(|_| rng.pairs(plan.batch_size))
        .collect();
    row(
        &format!("batch writes ({} x {})", plan.batches, plan.batch_size),
        timed(|| batches.iter().for_each(|batch| engine.insert(batch, false))),
    );
    let expected_len = (plan.bulk + plan.individual + plan.batches * plan.batch_size) as u64;
    // One call of len() takes a few microseconds, less than the machine's hiccups, so the row
    // is the median of many calls, each in a read transaction of its own as in redb's table.
    let mut len_calls: Vec<Duration> = (0..LEN_CALLS)
        .map(|_| {
            let started = Instant::now();
            assert_eq!(engine.len(), expected_len);
            started.elapsed()
        })
        .collect();
    len_calls.sort_unstable();
    row(
        &format!("len() (median of {LEN_CALLS} calls)"),
        Measure::Time(len_calls[LEN_CALLS / 2]),
    );

    // Random reads look up keys of the bulk load in a random order.
    let mut state = 11u64;
    let read_keys: Vec<Key> = (0..plan.reads)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            loaded[(state >> 33) as usize % loaded.len()].0
        })
        .collect();
    for pass in 1..=2 {
        row(
            &format!("random reads, pass {pass}"),
            timed(|| assert_eq!(engine.get_all(&read_keys), read_keys.len())),
        );
    }
    let range_keys = &read_keys[..plan.range_reads.min(read_keys.len())];
    for pass in 1..=2 {
        row(
            &format!("random range reads of {}, pass {pass}", plan.range_length),
            timed(|| assert!(engine.range_all(range_keys, plan.range_length) > 0)),
        );
    }
    let all_keys: Vec<Key> = loaded.iter().map(|(key, _)| *key).collect();
    row(
        &format!("random reads, {} threads", plan.threads),
        timed(|| {
            let shard = all_keys.len().div_ceil(plan.threads);
            std::thread::scope(|scope| {
                for keys in all_keys.chunks(shard) {
                    let engine = &engine;
                    scope.spawn(move || assert_eq!(engine.get_all(keys), keys.len()));
                }
            });
        }),
    );
    let doomed: Vec<Key> = all_keys.iter().step_by(2).copied().collect();
    row("removals (half the keys)", timed(|| engine.remove(&doomed)));
    row(
        "size after removals",
        Measure::Bytes(directory_size(dir.path())),
    );
    // Not in redb's table: small commits once a mass delete has left a large freelist (the
    // free space every engine must track without rewriting it at each commit).
    let singles_after_removals = Rng(7).pairs(plan.individual);
    row(
        &format!("individual writes after removals ({})", plan.individual),
        timed(|| {
            singles_after_removals
                .iter()
                .for_each(|pair| engine.insert(std::slice::from_ref(pair), false))
        }),
    );
    let compact_dir = tempfile::tempdir_in(base).unwrap();
    let mut compacted_size = Measure::NotApplicable;
    let compaction = timed(|| compacted_size = engine.compact(compact_dir.path()));
    // LMDB's compacting copy writes the live pages as they are; arbordb's also packs leaves
    // and branches full (a smaller file, more work); redb compacts its file in place.
    row("compaction (synced; see notes)", compaction);
    row("size after compaction", compacted_size);
    drop(engine);
    drop(dir);

    let sorted_dir = tempfile::tempdir_in(base).unwrap();
    let mut sorted = Rng(5).pairs(plan.appended);
    sorted.sort_unstable_by_key(|pair| pair.0);
    let fresh = E::open(sorted_dir.path());
    row(
        "sorted bulk load (APPEND)",
        timed(|| fresh.insert(&sorted, true)),
    );
    row(
        "size after sorted load",
        Measure::Bytes(directory_size(sorted_dir.path())),
    );
    drop((fresh, sorted, sorted_dir));
}

/// Each row's median over several runs of one engine.
fn median(runs: Vec<Vec<(String, Measure)>>) -> Vec<(String, Measure)> {
    let rows = runs[0].len();
    (0..rows)
        .map(|row| {
            let mut values: Vec<Measure> = runs.iter().map(|run| run[row].1).collect();
            values.sort_by(|a, b| {
                a.value()
                    .partial_cmp(&b.value())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            (runs[0][row].0.clone(), values[values.len() / 2])
        })
        .collect()
}

fn fsync_latency(base: &Path) -> Duration {
    let path = base.join("fsync-probe");
    let file = std::fs::File::create(&path).unwrap();
    let started = Instant::now();
    for round in 0..20u8 {
        std::io::Write::write_all(&mut &file, &[round; 4096]).unwrap();
        file.sync_data().unwrap();
    }
    let _ = std::fs::remove_file(&path);
    started.elapsed() / 20
}

fn main() {
    let mut scale = 1.0;
    let mut runs = 1usize;
    let mut output = None;
    let mut probe = None;
    let mut only_duplicates = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => {
                scale = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--scale takes a number")
            }
            "--output" => output = args.next(),
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--runs takes a number")
            }
            "--peak-rss" => probe = args.next(),
            "--verify-reads" => VERIFY_READS.store(true, std::sync::atomic::Ordering::Relaxed),
            "--only" => match args.next().as_deref() {
                Some("duplicates") => only_duplicates = true,
                other => panic!("--only takes `duplicates`, not {other:?}"),
            },
            other => panic!(
                "unknown argument {other}; use --scale F, --runs N, --output FILE, \
                 --verify-reads and --only duplicates"
            ),
        }
    }
    let base = std::env::current_dir()
        .unwrap()
        .join("target")
        .join("compare-data");
    std::fs::create_dir_all(&base).unwrap();
    let plan = Plan::new(scale);
    if let Some(engine) = probe {
        match engine.as_str() {
            "arbordb" => peak_rss_probe::<ArborEngine>(&plan, &base),
            "lmdb" => peak_rss_probe::<HeedEngine>(&plan, &base),
            "redb" => peak_rss_probe::<RedbEngine>(&plan, &base),
            other => panic!("unknown engine {other}"),
        }
        return;
    }
    let fsync = fsync_latency(&base);
    let verify_reads = VERIFY_READS.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("scale {scale}; fsync latency {fsync:?}; arbordb verifies reads: {verify_reads}");

    // Engines take turns, run after run, so that a noisy stretch hits all of them; each cell
    // is the median of the runs. The engine that goes first changes from run to run: the
    // first workloads of a process run slower here (memory the virtual machine has not
    // touched lately), and a fixed order would give that to one engine every time.
    let (mut arbor, mut lmdb, mut redb) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=runs {
        eprintln!("run {round} of {runs}");
        for turn in 0..3 {
            match (round - 1 + turn) % 3 {
                0 => arbor.push(run::<ArborEngine>(&plan, &base, only_duplicates)),
                1 => lmdb.push(run::<HeedEngine>(&plan, &base, only_duplicates)),
                _ => redb.push(run::<RedbEngine>(&plan, &base, only_duplicates)),
            }
        }
    }
    let (mut arbor, mut lmdb, mut redb) = (median(arbor), median(lmdb), median(redb));
    // Memory: one probe per engine, each in a process of its own.
    for (rows, engine) in [
        (&mut arbor, "arbordb"),
        (&mut lmdb, "lmdb"),
        (&mut redb, "redb"),
    ] {
        if only_duplicates {
            break;
        }
        let measure = peak_rss(engine, scale);
        eprintln!(
            "  {engine}: peak RSS growth during bulk load: {}",
            measure.show()
        );
        rows.push(("peak RSS growth during bulk load".to_string(), measure));
    }

    let ratio = |ours: Measure, theirs: Measure| match (ours.value(), theirs.value()) {
        (Some(ours), Some(theirs)) if theirs > 0.0 => format!("{:.2}x", ours / theirs),
        _ => "n/a".to_string(),
    };
    let mut table = String::new();
    writeln!(
        table,
        "| workload | arbordb | LMDB (heed) | redb | arbordb / LMDB | arbordb / redb |"
    )
    .unwrap();
    writeln!(table, "|---|---:|---:|---:|---:|---:|").unwrap();
    for ((name, ours), ((_, theirs_lmdb), (_, theirs_redb))) in
        arbor.iter().zip(lmdb.iter().zip(redb.iter()))
    {
        writeln!(
            table,
            "| {name} | {} | {} | {} | {} | {} |",
            ours.show(),
            theirs_lmdb.show(),
            theirs_redb.show(),
            ratio(*ours, *theirs_lmdb),
            ratio(*ours, *theirs_redb)
        )
        .unwrap();
    }
    writeln!(
        table,
        "\nscale {scale}; median of {runs} run(s); fsync latency {fsync:?}"
    )
    .unwrap();
    println!("{table}");
    if let Some(output) = output {
        std::fs::write(&output, &table).unwrap();
    }
    let _ = std::fs::remove_dir_all(&base);
}
