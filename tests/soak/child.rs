//! The second process: the test binary re-runs itself with the soak's configuration in its
//! environment, opens the same environment, and runs one writer and one reader until it is
//! killed, reporting on stdout each commit after `commit()` returned (so the parent knows
//! which commits must be durable), each refused transaction and some snapshots.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::common::Rng;
use crate::worker::{self, Failure, Handles, Journal, Outcome, Stats, Writer};
use crate::EnvConfig;

/// Set in the child's environment: the configuration, then the environment's directory.
const CONFIG_VARIABLE: &str = "ARBORDB_SOAK_CHILD_CONFIG";
const DIR_VARIABLE: &str = "ARBORDB_SOAK_CHILD_DIR";
/// Marks the child's report lines (libtest may print before them on the same line).
const MARK: &str = "soak-child:";
/// How long a starting child may take to open the environment.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// In a child: its configuration and seed.
pub fn config_from_env() -> Option<(EnvConfig, u64)> {
    let config = std::env::var(CONFIG_VARIABLE).ok()?;
    let words: Vec<u64> = config
        .split_whitespace()
        .map(|word| word.parse().expect("a number in the child's configuration"))
        .collect();
    let [seed, page_size, map_size, txn_memory_max] = words[..] else {
        panic!("the child's configuration has four numbers: {config:?}");
    };
    let config = EnvConfig {
        dir: PathBuf::from(std::env::var(DIR_VARIABLE).expect("the child's directory")),
        page_size: page_size as usize,
        map_size: map_size as usize,
        txn_memory_max: (txn_memory_max != 0).then_some(txn_memory_max as usize),
    };
    Some((config, seed))
}

fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // The parent may be gone (it kills and stops reading): nothing to do then.
    let _ = writeln!(stdout, "{MARK}{line}");
    let _ = stdout.flush();
}

/// Waits to be killed.
fn idle() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The child's whole life: it never returns, the parent kills it.
pub fn run(config: EnvConfig, seed: u64) -> ! {
    // A panic in any thread must end the process, so the parent sees it.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("soak child: {info}");
        std::process::exit(101);
    }));
    // The parent holds the other end of stdin: if it dies without killing this process (a
    // failed test), the end of stdin ends this process too.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let env = match crate::open_env(&config) {
        Ok(env) => env,
        Err(error) => {
            let failure = Failure::of(error, "the child opening the environment");
            say(&format!("open-refused {}", failure.name()));
            idle();
        }
    };
    let handles = Handles::open(&env);
    say("ready");
    let reader = handles.clone();
    std::thread::spawn(move || {
        let mut rng = Rng(seed ^ 0x0bad_cafe);
        loop {
            let seen = worker::observe(&reader, &mut rng, "the child's reader");
            if rng.below(4) == 0 {
                say(&format!(
                    "observed {} {} {}",
                    seen.seq, seen.seed, seen.digest
                ));
            }
        }
    });
    let mut writer = Writer::new(seed, "the child's writer".to_string());
    loop {
        match writer.step(&handles, false) {
            Outcome::Committed { seq, recipe } => {
                say(&format!("committed {seq} {}", recipe.seed));
            }
            Outcome::Refused { recipe, failure } => {
                let seed = recipe.map_or("-".to_string(), |recipe| recipe.seed.to_string());
                let why = failure.map_or("aborted", Failure::name);
                say(&format!("refused {seed} {why}"));
                if failure == Some(Failure::Poisoned) {
                    idle();
                }
                if failure.is_some() {
                    std::thread::sleep(Duration::from_millis(1 + writer.rng().below(3)));
                }
            }
        }
    }
}

/// The parent's side of a child process. Dropping it kills the child.
pub struct ChildProcess {
    child: Child,
    /// Kept open while the child should live (see [`run`]).
    _stdin: ChildStdin,
    stdout: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    ready: mpsc::Receiver<()>,
}

impl ChildProcess {
    /// Starts a child running test `test` in the child role; its reports go to `journal`.
    pub fn spawn(test: &str, config: &EnvConfig, seed: u64, journal: Arc<Journal>) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                test,
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .env(
                CONFIG_VARIABLE,
                format!(
                    "{seed} {} {} {}",
                    config.page_size,
                    config.map_size,
                    config.txn_memory_max.unwrap_or(0)
                ),
            )
            .env(DIR_VARIABLE, &config.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the child process");
        let (ready_sender, ready) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some((_, report)) = line.split_once(MARK) {
                    if read_report(report, &journal) {
                        let _ = ready_sender.send(());
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            let mut pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                let mut buffer = [0; 4096];
                while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                    stderr
                        .lock()
                        .push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            });
        }
        ChildProcess {
            _stdin: child.stdin.take().unwrap(),
            child,
            stdout: Some(stdout),
            stderr,
            ready,
        }
    }

    /// Waits until the child has opened the environment (or reported that the full disk
    /// refused it).
    pub fn wait_ready(&mut self) {
        if self.ready.recv_timeout(READY_LIMIT).is_err() {
            // Let the stderr reader catch up.
            std::thread::sleep(Duration::from_millis(100));
            let status = self.child.try_wait().ok().flatten();
            panic!(
                "the child process did not open the environment (status {status:?}); its \
                 stderr:\n{}",
                self.stderr.lock()
            );
        }
    }

    /// Kills the child with SIGKILL, after checking it is still running, and waits until every
    /// report it made is in the journal.
    pub fn kill(mut self) {
        if let Some(status) = self.child.try_wait().expect("polling the child") {
            // Let the stderr reader catch up.
            std::thread::sleep(Duration::from_millis(100));
            let signal = match status.signal() {
                Some(libc::SIGBUS) => " (SIGBUS: it touched a shared map of a file on a full disk)",
                _ => "",
            };
            panic!(
                "the child process ended by itself ({status}){signal}; its stderr:\n{}",
                self.stderr.lock()
            );
        }
        self.child.kill().expect("SIGKILL to the child");
        self.child.wait().expect("reaping the child");
        self.stdout.take().unwrap().join().unwrap();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // A no-op once killed and reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Records one of the child's report lines; says whether it was the ready line.
fn read_report(report: &str, journal: &Journal) -> bool {
    let words: Vec<&str> = report.split_whitespace().collect();
    let number = |index: usize| -> u64 { words[index].parse().expect("a number in a report") };
    match words[0] {
        "ready" => return true,
        "open-refused" => {
            Stats::add(&journal.stats.opens_refused_for_space);
            return true;
        }
        "committed" => {
            journal.confirmed.lock().push((number(1), number(2)));
            Stats::add(&journal.stats.child_commits);
        }
        "refused" => {
            if words[1] != "-" {
                journal.refused.lock().insert(number(1));
            }
            journal.record_failure(match words[2] {
                "aborted" => None,
                name => Some(Failure::from_name(name)),
            });
        }
        "observed" => journal.observe(worker::Observation {
            seq: number(1),
            seed: number(2),
            digest: number(3),
        }),
        other => panic!("an unknown report from the child: {other:?}"),
    }
    false
}
