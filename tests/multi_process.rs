//! Several processes on one environment: the test binary re-runs itself as child processes
//! (each test dispatches to its child role when `ARBORDB_CHILD_ROLE` is set), which talk to
//! the parent through stdin and stdout lines.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arbordb::byteorder::BigEndian;
use arbordb::types::{Bytes, U64};
use arbordb::MdbError;
use arbordb::{Database, Env, EnvFlags, EnvOpenOptions, Error};

const ROLE: &str = "ARBORDB_CHILD_ROLE";
const DIR: &str = "ARBORDB_CHILD_DIR";

type Counter = Database<Bytes, U64<BigEndian>>;

fn open_with(dir: &Path, configure: impl FnOnce(&mut EnvOpenOptions)) -> Env {
    let mut options = EnvOpenOptions::new();
    options.map_size(1 << 30).max_dbs(4);
    configure(&mut options);
    unsafe { options.open(dir).unwrap() }
}

fn open(dir: &Path) -> Env {
    open_with(dir, |_| {})
}

fn open_no_sync(dir: &Path) -> Env {
    open_with(dir, |options| unsafe {
        options.flags(EnvFlags::NO_SYNC);
    })
}

/// A child process running `role` of the test `test`, in `dir`. Dropping it kills the
/// child, so a failing test leaves no process behind.
struct ChildProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

/// How long a child may stay silent before the test gives up on it.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

impl ChildProcess {
    fn spawn(test: &str, role: &str, dir: &Path) -> ChildProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                test,
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .env(ROLE, role)
            .env(DIR, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProcess {
            child,
            stdin,
            lines,
        }
    }

    /// The child's next line that starts with `prefix`, without the prefix.
    fn expect(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(SILENCE_LIMIT) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the child was silent for {SILENCE_LIMIT:?} waiting for {prefix:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the child ended without saying {prefix:?}")
                }
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    fn succeeds(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // Already reaped children make these no-ops.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In a child: the role and directory the parent gave it.
fn child_role() -> Option<(String, PathBuf)> {
    let role = std::env::var(ROLE).ok()?;
    Some((role, PathBuf::from(std::env::var(DIR).unwrap())))
}

fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").unwrap();
    stdout.flush().unwrap();
}

fn wait_for_parent() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    line.trim().to_string()
}

fn values_db(env: &Env) -> Database<Bytes, Bytes> {
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database(&mut wtxn, Some("values")).unwrap();
    wtxn.commit().unwrap();
    db
}

/// The number of entries and a digest of every key and value.
fn digest(db: &Database<Bytes, Bytes>, rtxn: &arbordb::RoTxn<'_>) -> (u64, u64) {
    let mut entries = 0;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for entry in db.iter(rtxn).unwrap() {
        let (key, value) = entry.unwrap();
        for &byte in key.iter().chain(value) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        entries += 1;
    }
    (entries, hash)
}

const KEYS: u32 = 2_000;

fn overwrite_all(env: &Env, db: &Database<Bytes, Bytes>, version: u32) {
    let mut wtxn = env.write_txn().unwrap();
    for key in 0..KEYS {
        db.put(&mut wtxn, &key.to_be_bytes(), &[version as u8; 100])
            .unwrap();
    }
    wtxn.commit().unwrap();
}

#[test]
fn a_reader_process_keeps_its_snapshot_while_a_writer_process_overwrites() {
    const TEST: &str = "a_reader_process_keeps_its_snapshot_while_a_writer_process_overwrites";
    if let Some((role, dir)) = child_role() {
        let env = open_no_sync(&dir);
        let db = values_db(&env);
        match role.as_str() {
            "reader" => {
                let rtxn = env.read_txn().unwrap();
                let before = digest(&db, &rtxn);
                say(&format!("ready {} {}", before.0, before.1));
                assert_eq!(wait_for_parent(), "check");
                assert_eq!(digest(&db, &rtxn), before, "the snapshot changed");
                let report = rtxn.check().unwrap();
                assert!(
                    report.is_ok(),
                    "the reader's snapshot is damaged:\n{report}"
                );
                say("intact");
            }
            "writer" => {
                for version in 1..=150 {
                    overwrite_all(&env, &db, version);
                }
                let report = env.check().unwrap();
                assert!(report.is_ok(), "{report}");
                say("done");
            }
            _ => unreachable!(),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open_no_sync(dir.path());
        overwrite_all(&env, &values_db(&env), 0);
    }
    let mut reader = ChildProcess::spawn(TEST, "reader", dir.path());
    let ready = reader.expect("ready");
    let mut writer = ChildProcess::spawn(TEST, "writer", dir.path());
    writer.expect("done");
    writer.succeeds();
    reader.say("check");
    reader.expect("intact");
    reader.succeeds();

    let env = open(dir.path());
    common::assert_sound(&env);
    let db = values_db(&env);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &7u32.to_be_bytes()).unwrap(),
        Some(&[150u8; 100][..])
    );
    let (entries, hash) = digest(&db, &rtxn);
    assert_ne!(
        format!("{entries} {hash}"),
        ready,
        "the writer's commits landed"
    );
}

#[test]
fn two_writer_processes_never_interleave() {
    const TEST: &str = "two_writer_processes_never_interleave";
    const INCREMENTS: u64 = 1_000;
    if let Some((_, dir)) = child_role() {
        let env = open_no_sync(&dir);
        let mut wtxn = env.write_txn().unwrap();
        let counter: Counter = env.create_database(&mut wtxn, None).unwrap();
        wtxn.commit().unwrap();
        say("ready");
        assert_eq!(wait_for_parent(), "go");
        for _ in 0..INCREMENTS {
            let mut wtxn = env.write_txn().unwrap();
            let value = counter.get(&wtxn, b"counter").unwrap().unwrap_or(0);
            counter.put(&mut wtxn, b"counter", &(value + 1)).unwrap();
            wtxn.commit().unwrap();
        }
        say("done");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut writers: Vec<ChildProcess> = (0..2)
        .map(|_| ChildProcess::spawn(TEST, "writer", dir.path()))
        .collect();
    for writer in &mut writers {
        writer.expect("ready");
    }
    for writer in &mut writers {
        writer.say("go");
    }
    for mut writer in writers {
        writer.expect("done");
        writer.succeeds();
    }
    let env = open(dir.path());
    common::assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    let counter: Counter = env.open_database(&rtxn, None).unwrap().unwrap();
    assert_eq!(
        counter.get(&rtxn, b"counter").unwrap(),
        Some(2 * INCREMENTS)
    );
}

#[test]
fn readers_in_several_processes_run_concurrently_with_the_writer() {
    const TEST: &str = "readers_in_several_processes_run_concurrently_with_the_writer";
    const ACCOUNTS: u64 = 100;
    const TOTAL: u64 = ACCOUNTS * 1_000;
    if let Some((_, dir)) = child_role() {
        let env = open_no_sync(&dir);
        let rtxn = env.read_txn().unwrap();
        let accounts: Counter = env.open_database(&rtxn, None).unwrap().unwrap();
        drop(rtxn);
        say("ready");
        let (mut snapshots, mut distinct, mut last_id) = (0u64, 0u64, u64::MAX);
        loop {
            let rtxn = env.read_txn().unwrap();
            // Transfers keep the total: a snapshot that mixed two commits would not.
            let mut sum = 0;
            for entry in accounts.iter(&rtxn).unwrap() {
                let (key, balance) = entry.unwrap();
                if key != b"stop" {
                    sum += balance;
                }
            }
            assert_eq!(sum, TOTAL, "snapshot {} is not one commit", rtxn.id());
            snapshots += 1;
            if rtxn.id() != last_id {
                assert!(
                    last_id == u64::MAX || rtxn.id() > last_id,
                    "snapshots went back in time"
                );
                distinct += 1;
                last_id = rtxn.id();
            }
            if accounts.get(&rtxn, b"stop").unwrap().is_some() {
                break;
            }
        }
        say(&format!("saw {snapshots} {distinct}"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open_no_sync(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let accounts: Counter = env.create_database(&mut wtxn, None).unwrap();
    for account in 0..ACCOUNTS {
        accounts
            .put(&mut wtxn, &account.to_be_bytes(), &(TOTAL / ACCOUNTS))
            .unwrap();
    }
    wtxn.commit().unwrap();
    let mut readers: Vec<ChildProcess> = (0..3)
        .map(|_| ChildProcess::spawn(TEST, "reader", dir.path()))
        .collect();
    for reader in &mut readers {
        reader.expect("ready");
    }
    let mut rng = common::Rng(7);
    let started = Instant::now();
    let mut commits = 0;
    while started.elapsed() < Duration::from_millis(1_500) || commits < 200 {
        let mut wtxn = env.write_txn().unwrap();
        for _ in 0..5 {
            let (from, to) = (rng.below(ACCOUNTS), rng.below(ACCOUNTS));
            let amount = rng.below(10);
            let balance = accounts.get(&wtxn, &from.to_be_bytes()).unwrap().unwrap();
            if balance >= amount && from != to {
                let other = accounts.get(&wtxn, &to.to_be_bytes()).unwrap().unwrap();
                accounts
                    .put(&mut wtxn, &from.to_be_bytes(), &(balance - amount))
                    .unwrap();
                accounts
                    .put(&mut wtxn, &to.to_be_bytes(), &(other + amount))
                    .unwrap();
            }
        }
        wtxn.commit().unwrap();
        commits += 1;
    }
    let mut wtxn = env.write_txn().unwrap();
    accounts.put(&mut wtxn, b"stop", &0).unwrap();
    wtxn.commit().unwrap();
    for mut reader in readers {
        let saw = reader.expect("saw");
        let distinct: u64 = saw.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(
            distinct > 1,
            "a reader saw only {distinct} commit(s) while {commits} were made"
        );
        reader.succeeds();
    }
    common::assert_sound(&env);
}

/// A child that begins `count` read transactions, reports, and waits to be killed.
fn hold_readers_until_killed(dir: &Path, count: usize) -> ! {
    let env = open(dir);
    let held: Vec<_> = (0..count).map(|_| env.read_txn().unwrap()).collect();
    say(&format!("holding {}", held.len()));
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn a_killed_reader_leaves_a_slot_that_clear_stale_readers_reclaims() {
    const TEST: &str = "a_killed_reader_leaves_a_slot_that_clear_stale_readers_reclaims";
    if let Some((_, dir)) = child_role() {
        hold_readers_until_killed(&dir, 2);
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let child = {
        let mut child = ChildProcess::spawn(TEST, "reader", dir.path());
        assert_eq!(child.expect("holding"), "2");
        child
    };
    let mine = env.read_txn().unwrap();
    assert_eq!(env.info().number_of_readers, 3, "the table is shared");
    child.kill();
    assert_eq!(
        env.info().number_of_readers,
        3,
        "a killed reader's slots stay taken"
    );
    assert_eq!(env.clear_stale_readers().unwrap(), 2);
    assert_eq!(
        env.info().number_of_readers,
        1,
        "this process's reader is alive"
    );
    assert_eq!(env.clear_stale_readers().unwrap(), 0);
    drop(mine);
    assert_eq!(env.info().number_of_readers, 0);
}

#[test]
fn a_full_table_of_dead_readers_is_reclaimed_by_read_txn() {
    const TEST: &str = "a_full_table_of_dead_readers_is_reclaimed_by_read_txn";
    if let Some((_, dir)) = child_role() {
        hold_readers_until_killed(&dir, 3);
    }
    let dir = tempfile::tempdir().unwrap();
    // The first opener sets the table's size for every process.
    let env = open_with(dir.path(), |options| {
        options.max_readers(3);
    });
    let mut child = ChildProcess::spawn(TEST, "reader", dir.path());
    assert_eq!(child.expect("holding"), "3");
    match env.read_txn() {
        Err(Error::Mdb(MdbError::ReadersFull)) => assert_eq!(env.max_readers(), 3),
        other => panic!("expected ReadersFull, got {:?}", other.map(|txn| txn.id())),
    }
    child.kill();
    let rtxns: Vec<_> = (0..3)
        .map(|_| {
            env.read_txn()
                .expect("the dead readers' slots are reclaimed")
        })
        .collect();
    assert_eq!(rtxns.len(), 3);
}

#[test]
fn the_writer_reclaims_dead_readers_that_pin_pages() {
    const TEST: &str = "the_writer_reclaims_dead_readers_that_pin_pages";
    if let Some((_, dir)) = child_role() {
        hold_readers_until_killed(&dir, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open_no_sync(dir.path());
    let db = values_db(&env);
    overwrite_all(&env, &db, 0);
    let mut child = ChildProcess::spawn(TEST, "reader", dir.path());
    child.expect("holding");
    overwrite_all(&env, &db, 1); // the dead-to-be reader now pins commit 0's pages
    child.kill();
    let started = Instant::now();
    let mut version = 2;
    while env.info().number_of_readers > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the writer never reclaimed the slot"
        );
        overwrite_all(&env, &db, version);
        version += 1;
    }
    // With the slot gone, steady overwrites reuse pages: the file stops growing.
    for version in version..version + 5 {
        overwrite_all(&env, &db, version);
    }
    let settled = env.real_disk_size().unwrap();
    for version in version + 5..version + 25 {
        overwrite_all(&env, &db, version);
    }
    assert_eq!(
        env.real_disk_size().unwrap(),
        settled,
        "pages are reused again"
    );
    common::assert_sound(&env);
}

#[test]
fn a_writer_killed_mid_transaction_leaves_the_environment_writable() {
    const TEST: &str = "a_writer_killed_mid_transaction_leaves_the_environment_writable";
    if let Some((role, dir)) = child_role() {
        let env = open(&dir);
        let db = values_db(&env);
        match role.as_str() {
            "stuck" => {
                let mut wtxn = env.write_txn().unwrap();
                for key in 0..KEYS {
                    db.put(&mut wtxn, &key.to_be_bytes(), b"uncommitted")
                        .unwrap();
                }
                say("writing");
                loop {
                    std::thread::sleep(Duration::from_secs(60));
                }
            }
            "committing" => loop {
                let mut wtxn = env.write_txn().unwrap();
                let counter = db
                    .get(&wtxn, b"count")
                    .unwrap()
                    .map_or(0, |bytes| u64::from_be_bytes(bytes.try_into().unwrap()));
                for key in 0..200u32 {
                    db.put(&mut wtxn, &key.to_be_bytes(), &counter.to_be_bytes())
                        .unwrap();
                }
                db.put(&mut wtxn, b"count", &(counter + 1).to_be_bytes())
                    .unwrap();
                wtxn.commit().unwrap();
                say("committed");
            },
            "next" => {
                overwrite_all(&env, &db, 9);
                say("wrote");
            }
            _ => unreachable!(),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = values_db(&env);
    overwrite_all(&env, &db, 1);

    // Killed holding the write transaction: the lock goes with the process.
    let mut stuck = ChildProcess::spawn(TEST, "stuck", dir.path());
    stuck.expect("writing");
    assert!(
        matches!(env.try_write_txn(), Err(Error::Mdb(MdbError::WriterBusy))),
        "another process holds the writer lock"
    );
    stuck.kill();
    let wtxn = env.write_txn().unwrap();
    assert_eq!(
        db.get(&wtxn, &5u32.to_be_bytes()).unwrap(),
        Some(&[1u8; 100][..])
    );
    wtxn.abort();

    // Killed at random points of a commit loop, several times, while this process stays open.
    let mut rng = common::Rng(11);
    for _ in 0..5 {
        let mut committing = ChildProcess::spawn(TEST, "committing", dir.path());
        committing.expect("committed");
        std::thread::sleep(Duration::from_millis(rng.below(60)));
        committing.kill();
        let mut wtxn = env.write_txn().unwrap();
        let count = u64::from_be_bytes(
            db.get(&wtxn, b"count")
                .unwrap()
                .unwrap()
                .try_into()
                .unwrap(),
        );
        // The last commit is whole: every key carries the count before it.
        for key in 0..200u32 {
            assert_eq!(
                db.get(&wtxn, &key.to_be_bytes()).unwrap(),
                Some(&(count - 1).to_be_bytes()[..])
            );
        }
        db.put(&mut wtxn, b"parent", b"wrote").unwrap();
        wtxn.commit().unwrap();
        common::assert_sound(&env);
    }

    // And a new process opens and writes.
    let mut next = ChildProcess::spawn(TEST, "next", dir.path());
    next.expect("wrote");
    next.succeeds();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &5u32.to_be_bytes()).unwrap(),
        Some(&[9u8; 100][..])
    );
    drop(rtxn);
    common::assert_sound(&env);
}

#[test]
fn a_process_with_a_larger_map_grows_the_file_and_others_follow() {
    const TEST: &str = "a_process_with_a_larger_map_grows_the_file_and_others_follow";
    if let Some((_, dir)) = child_role() {
        let env = open_with(&dir, |options| {
            options.map_size(64 << 20);
        });
        let db = values_db(&env);
        let mut wtxn = env.write_txn().unwrap();
        for key in 0..10_000u32 {
            db.put(&mut wtxn, &key.to_be_bytes(), &[3u8; 1_000])
                .unwrap();
        }
        wtxn.commit().unwrap();
        say("grown");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open_with(dir.path(), |options| {
        options.map_size(2 << 20);
    });
    let db = values_db(&env);
    let mut child = ChildProcess::spawn(TEST, "grower", dir.path());
    child.expect("grown");
    child.succeeds();
    assert!(
        env.real_disk_size().unwrap() > 8 << 20,
        "the child grew the file past this map"
    );
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 10_000);
    assert_eq!(
        db.get(&rtxn, &9_999u32.to_be_bytes()).unwrap(),
        Some(&[3u8; 1_000][..])
    );
    drop(rtxn);
    // The reader mapped as far as the child may grow the file (not one more map per commit
    // that grows it).
    assert_eq!(env.info().map_size, 64 << 20);
    // The writer adopts the larger map size too.
    let mut wtxn = env.write_txn().unwrap();
    for key in 10_000..12_000u32 {
        db.put(&mut wtxn, &key.to_be_bytes(), &[4u8; 1_000])
            .unwrap();
    }
    wtxn.commit().unwrap();
    assert!(env.info().map_size >= 64 << 20);
    common::assert_sound(&env);
}

#[test]
fn read_only_opens_work_on_a_read_only_directory_and_file() {
    const TEST: &str = "read_only_opens_work_on_a_read_only_directory_and_file";
    if let Some((_, dir)) = child_role() {
        // Root ignores file permissions: become `nobody` so the permissions bind.
        unsafe {
            if libc::geteuid() == 0 {
                assert_eq!(libc::setgid(65534), 0);
                assert_eq!(libc::setuid(65534), 0);
            }
        }
        let data = dir.join(arbordb::DATA_FILE_NAME);
        let denied = std::fs::OpenOptions::new()
            .write(true)
            .open(&data)
            .unwrap_err();
        assert_eq!(
            denied.kind(),
            std::io::ErrorKind::PermissionDenied,
            "the test setup must deny writes"
        );
        let env = open_with(&dir, |options| unsafe {
            options.flags(EnvFlags::READ_ONLY);
        });
        let rtxn = env.read_txn().unwrap();
        let db: Database<Bytes, Bytes> = env.open_database(&rtxn, Some("values")).unwrap().unwrap();
        let value = db.get(&rtxn, &3u32.to_be_bytes()).unwrap().unwrap();
        assert!(matches!(
            env.write_txn(),
            Err(Error::Mdb(MdbError::ReadOnly))
        ));
        say(&format!("read {}", value[0]));
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for keep_lock_file in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        {
            let env = open(dir.path());
            overwrite_all(&env, &values_db(&env), 5);
        }
        let lock = dir.path().join(arbordb::LOCK_FILE_NAME);
        if !keep_lock_file {
            std::fs::remove_file(&lock).unwrap();
        }
        let lock_before = std::fs::read(&lock).ok();
        set_mode(&dir.path().join(arbordb::DATA_FILE_NAME), 0o444);
        if keep_lock_file {
            set_mode(&lock, 0o444);
        }
        set_mode(dir.path(), 0o555);

        let mut child = ChildProcess::spawn(TEST, "reader", dir.path());
        assert_eq!(child.expect("read"), "5");
        child.succeeds();
        assert_eq!(
            std::fs::read(&lock).ok(),
            lock_before,
            "the lock file was not written or created"
        );
        set_mode(dir.path(), 0o755);
    }
}

#[test]
fn a_readers_slot_is_laid_out_as_the_format_says() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().max_readers(4).open(dir.path()) }.unwrap();
    let db: Database<U64<BigEndian>, U64<BigEndian>> = {
        let mut wtxn = env.write_txn().unwrap();
        let db = env.create_database(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, &1, &1).unwrap();
        wtxn.commit().unwrap();
        db
    };
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, &1).unwrap(), Some(1));
    let snapshot = env.info().last_txn_id as u64;
    // Native-endian words (docs/format.md, "Lock file"): the header's 8, then slot 0's owner
    // pid, start time and snapshot id plus one.
    let bytes = std::fs::read(dir.path().join(arbordb::LOCK_FILE_NAME)).unwrap();
    let word =
        |index: usize| u64::from_ne_bytes(bytes[index * 8..index * 8 + 8].try_into().unwrap());
    assert_eq!(word(2), 4, "slot count");
    assert_eq!(word(3), snapshot, "current txn id");
    assert_eq!(word(8), u64::from(std::process::id()), "owner pid");
    assert_ne!(word(9), 0, "owner start time");
    assert_eq!(word(10), snapshot + 1, "snapshot id plus one");
    assert_eq!(&bytes[40..64], &[0; 24], "reserved header words");
    assert_eq!(
        &bytes[88..],
        &vec![0; bytes.len() - 88][..],
        "reserved and free slot words"
    );
    drop(rtxn);
}

#[test]
fn a_lock_file_claiming_an_impossible_slot_count_is_refused() {
    const TEST: &str = "a_lock_file_claiming_an_impossible_slot_count_is_refused";
    if let Some((_, dir)) = child_role() {
        match unsafe { EnvOpenOptions::new().open(&dir) } {
            Err(Error::Mdb(MdbError::InvalidLockFile { reason, .. })) => {
                say(&format!("refused {reason}"))
            }
            other => panic!("expected InvalidLockFile, got {:?}", other.map(|_| ())),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().max_readers(4).open(dir.path()) }.unwrap();
    let lock = dir.path().join(arbordb::LOCK_FILE_NAME);
    // The file is 64 + 64 N bytes (docs/format.md).
    assert_eq!(std::fs::metadata(&lock).unwrap().len(), 64 + 64 * 4);
    let file = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    use std::os::unix::fs::FileExt;
    // Word 2 is the slot count, in the machine's byte order; this process holds the file
    // open, so a joining process validates it instead of initialising it.
    for (claimed, expected) in [
        (0u64, "claims 0 reader slots"),
        (5, "claims 5 reader slots"),
    ] {
        file.write_all_at(&claimed.to_ne_bytes(), 16).unwrap();
        let mut child = ChildProcess::spawn(TEST, "opener", dir.path());
        let refused = child.expect("refused");
        assert!(refused.contains(expected), "{refused}");
        child.succeeds();
    }
    file.write_all_at(&4u64.to_ne_bytes(), 16).unwrap();
    assert!(env.read_txn().is_ok());
}

#[test]
fn a_foreign_lock_file_held_by_another_process_is_refused() {
    const TEST: &str = "a_foreign_lock_file_held_by_another_process_is_refused";
    if let Some((_, dir)) = child_role() {
        let result = unsafe { EnvOpenOptions::new().open(&dir) };
        match result {
            Err(Error::Mdb(MdbError::InvalidLockFile { path, reason })) => {
                assert!(path.ends_with(arbordb::LOCK_FILE_NAME));
                say(&format!("refused {reason}"));
            }
            other => panic!("expected InvalidLockFile, got {:?}", other.map(|_| ())),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    // Another program scribbles over the lock file while this process holds it open.
    std::fs::write(
        dir.path().join(arbordb::LOCK_FILE_NAME),
        b"not a lock file at all",
    )
    .unwrap();
    let mut child = ChildProcess::spawn(TEST, "opener", dir.path());
    assert!(child.expect("refused").contains("ARBORLCK"));
    child.succeeds();
    drop(env);
    // Once no process holds it, the next opener re-initialises it. (Retried briefly: a child
    // that another test thread is spawning holds copies of this process's descriptors, and so
    // its open lock, until it execs.)
    let started = Instant::now();
    let env = loop {
        match unsafe { EnvOpenOptions::new().open(dir.path()) } {
            Ok(env) => break env,
            Err(Error::Mdb(MdbError::InvalidLockFile { .. }))
                if started.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("reopening failed: {error}"),
        }
    };
    assert!(env.read_txn().is_ok());
}

#[test]
fn a_commit_whose_writer_died_before_publishing_it_is_found_by_the_next_writer() {
    const TEST: &str =
        "a_commit_whose_writer_died_before_publishing_it_is_found_by_the_next_writer";
    if let Some((_, dir)) = child_role() {
        let env = open(&dir);
        let db = values_db(&env);
        overwrite_all(&env, &db, 2);
        say(&format!("committed {}", env.info().last_txn_id));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = values_db(&env);
    overwrite_all(&env, &db, 1);
    let mut child = ChildProcess::spawn(TEST, "writer", dir.path());
    let last: u64 = child.expect("committed").parse().unwrap();
    child.succeeds();
    // Make it as if the child died after writing its last meta but before publishing its id:
    // put the current txn id (word 3 of the lock file) back to the commit before.
    let published = last - 1;
    use std::os::unix::fs::FileExt;
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join(arbordb::LOCK_FILE_NAME))
        .unwrap();
    lock.write_all_at(&published.to_ne_bytes(), 24).unwrap();

    // Readers still see the published commit, and one holds it across the repair. (The
    // commit before the child's last only opened the database: the data is version 1.)
    let reader = env.read_txn().unwrap();
    assert_eq!(reader.id(), published);
    assert_eq!(
        db.get(&reader, &0u32.to_be_bytes()).unwrap(),
        Some(&[1u8; 100][..])
    );
    // The next writer builds on the unpublished commit, not on the one before it.
    let mut wtxn = env.write_txn().unwrap();
    assert_eq!(wtxn.id(), published + 2);
    assert_eq!(
        db.get(&wtxn, &0u32.to_be_bytes()).unwrap(),
        Some(&[2u8; 100][..])
    );
    for key in 0..KEYS / 2 {
        db.put(&mut wtxn, &key.to_be_bytes(), &[3u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    // The held reader's pages were not reused.
    assert_eq!(
        db.get(&reader, &(KEYS - 1).to_be_bytes()).unwrap(),
        Some(&[1u8; 100][..])
    );
    assert!(reader.check().unwrap().is_ok());
    drop(reader);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(
        db.get(&rtxn, &0u32.to_be_bytes()).unwrap(),
        Some(&[3u8; 100][..])
    );
    assert_eq!(
        db.get(&rtxn, &(KEYS - 1).to_be_bytes()).unwrap(),
        Some(&[2u8; 100][..])
    );
    drop(rtxn);
    common::assert_sound(&env);
}

#[test]
fn a_process_opening_after_a_skipped_meta_reads_the_published_commit() {
    const TEST: &str = "a_process_opening_after_a_skipped_meta_reads_the_published_commit";
    let read_key_7 = |env: &Env| {
        let rtxn = env.read_txn().unwrap();
        let db = env
            .open_database::<Bytes, Bytes>(&rtxn, None)
            .unwrap()
            .unwrap();
        let value = db
            .get(&rtxn, &7u32.to_be_bytes())
            .unwrap()
            .unwrap()
            .to_vec();
        (rtxn.id(), String::from_utf8(value).unwrap())
    };
    if let Some((_, dir)) = child_role() {
        // Not the first opener: the meta the first one skipped is still in its slot.
        let env = open(&dir);
        let (id, value) = read_key_7(&env);
        say(&format!("before {id} {value}"));
        wait_for_parent();
        let (id, value) = read_key_7(&env);
        say(&format!("after {id} {value}"));
        return;
    }
    let (image, committed) = common::image_of_a_one_sync_commit_missing_a_page();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(arbordb::DATA_FILE_NAME), &image).unwrap();
    let env = open(dir.path());
    assert_eq!(read_key_7(&env), (committed, "first".to_string()));
    let mut child = ChildProcess::spawn(TEST, "reader", dir.path());
    assert_eq!(child.expect("before"), format!("{committed} first"));
    // The next commit has the skipped meta's txn id; the child must read it, not that meta.
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, &7u32.to_be_bytes(), b"third").unwrap();
    wtxn.commit().unwrap();
    child.say("go");
    assert_eq!(child.expect("after"), format!("{} third", committed + 1));
    child.succeeds();
    common::assert_sound(&env);
}

/// Zeroes the meta slot of commit `txn_id` in the data file under `dir` (damage after the
/// commit, which the lock file still names).
fn zero_meta_slot_of(dir: &Path, page_size: usize, txn_id: u64) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(arbordb::DATA_FILE_NAME))
        .unwrap();
    let slot = (txn_id % 2) * page_size as u64;
    std::os::unix::fs::FileExt::write_all_at(&file, &vec![0; page_size], slot).unwrap();
}

/// A reader whose process has not seen the newest commit reads its meta from the file. If the
/// lock file names that commit but its slot does not hold it (the slot damaged after the
/// commit), beginning a read fails with a typed error at once: it must not wait for a newer
/// commit that may never come, nor read another commit as if it were that one.
#[test]
fn a_published_commit_missing_from_its_slot_is_reported_not_waited_for() {
    const TEST: &str = "a_published_commit_missing_from_its_slot_is_reported_not_waited_for";
    if let Some((_, dir)) = child_role() {
        let env = open(&dir);
        let mut wtxn = env.write_txn().unwrap();
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        db.put(&mut wtxn, b"from", b"child").unwrap();
        wtxn.commit().unwrap();
        say(&format!("committed {}", env.info().last_txn_id));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let before = env.read_txn().unwrap().id();
    let child = ChildProcess::spawn(TEST, "writer", dir.path());
    let mut child = child;
    let committed: u64 = child.expect("committed").parse().unwrap();
    assert_eq!(committed, before + 1);
    child.succeeds();
    zero_meta_slot_of(dir.path(), env.page_size(), committed);
    let (sender, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let begun = env.read_txn().map(|rtxn| rtxn.id());
        let _ = sender.send(begun);
    });
    match outcome.recv_timeout(Duration::from_secs(20)) {
        Ok(Err(Error::Mdb(MdbError::CorruptedPage { page, .. }))) => {
            assert_eq!(page, committed % 2)
        }
        Ok(other) => panic!("beginning a read gave {other:?}"),
        Err(_) => panic!("beginning a read waited for 20 s"),
    }
}

/// A process joining others takes the commit the lock file names. If that commit's slot does
/// not hold it (the slot damaged after the commit), the open fails at once with an error
/// naming the slot: it neither waits for a newer commit nor opens an older one.
#[test]
fn a_process_joining_when_the_published_commit_is_missing_is_told_so() {
    const TEST: &str = "a_process_joining_when_the_published_commit_is_missing_is_told_so";
    if let Some((_, dir)) = child_role() {
        let mut options = EnvOpenOptions::new();
        options.map_size(1 << 30).max_dbs(4);
        match unsafe { options.open(&dir) } {
            Ok(env) => say(&format!("outcome opened at {}", env.info().last_txn_id)),
            Err(Error::Mdb(MdbError::CorruptedPage { page, reason })) => {
                say(&format!("outcome {page} {reason}"))
            }
            Err(other) => say(&format!("outcome other {other}")),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    db.put(&mut wtxn, b"only", b"commit").unwrap();
    wtxn.commit().unwrap();
    let committed = env.info().last_txn_id as u64;
    zero_meta_slot_of(dir.path(), env.page_size(), committed);
    let mut child = ChildProcess::spawn(TEST, "opener", dir.path());
    let outcome = child.expect("outcome");
    assert!(
        outcome.starts_with(&format!("{} ", committed % 2))
            && outcome.contains(&format!("names commit {committed}")),
        "{outcome}"
    );
    child.succeeds();
}

/// `PREV_SNAPSHOT` across processes: it is refused while another process has the environment
/// open; opened writable, it keeps other processes from opening until its first commit (so
/// that none builds on the commit it is about to discard), and they then see that commit;
/// opened read-only, until it closes.
#[test]
fn a_previous_snapshot_writer_opens_alone_and_lets_others_in_after_its_commit() {
    const TEST: &str = "a_previous_snapshot_writer_opens_alone_and_lets_others_in_after_its_commit";
    if let Some((role, dir)) = child_role() {
        match role.as_str() {
            "holder" => {
                let _env = open(&dir);
                say("open");
                wait_for_parent();
            }
            "joiner" => {
                say("opening");
                let env = open(&dir);
                let db = values_db(&env);
                let rtxn = env.read_txn().unwrap();
                let keys: Vec<Vec<u8>> = db
                    .iter(&rtxn)
                    .unwrap()
                    .map(|entry| entry.unwrap().0.to_vec())
                    .collect();
                say(&format!(
                    "opened {}",
                    String::from_utf8(keys.concat()).unwrap()
                ));
            }
            _ => unreachable!(),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = values_db(&env);
    for key in [b"a", b"b"] {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, key, b"v").unwrap();
        wtxn.commit().unwrap();
    }
    env.prepare_for_closing().wait();

    let holder = ChildProcess::spawn(TEST, "holder", dir.path());
    let mut holder = holder;
    holder.expect("open");
    let refused = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(4)
            .flags(EnvFlags::PREV_SNAPSHOT)
            .open(dir.path())
    };
    match refused {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(reason.contains("no other process"), "{reason}")
        }
        other => panic!("expected InvalidOption, got {:?}", other.map(|_| ())),
    }
    holder.say("done");
    holder.succeeds();

    let env = open_with(dir.path(), |options| unsafe {
        options.flags(EnvFlags::PREV_SNAPSHOT);
    });
    let mut joiner = ChildProcess::spawn(TEST, "joiner", dir.path());
    joiner.expect("opening");
    // The joiner waits for the open lock while the discard is pending.
    let waited = joiner.lines.recv_timeout(Duration::from_millis(500));
    assert!(waited.is_err(), "the joiner opened early: {waited:?}");
    let db: Database<Bytes, Bytes> = {
        let rtxn = env.read_txn().unwrap();
        env.open_database(&rtxn, Some("values")).unwrap().unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"c", b"v").unwrap();
    wtxn.commit().unwrap();
    assert_eq!(joiner.expect("opened"), "ac");
    joiner.succeeds();
    env.prepare_for_closing().wait();

    // Read-only on the previous commit ("a"), no other process opens until it closes: it
    // would take that commit as the newest.
    let env = open_with(dir.path(), |options| unsafe {
        options.flags(EnvFlags::PREV_SNAPSHOT | EnvFlags::READ_ONLY);
    });
    let mut joiner = ChildProcess::spawn(TEST, "joiner", dir.path());
    joiner.expect("opening");
    let waited = joiner.lines.recv_timeout(Duration::from_millis(500));
    assert!(waited.is_err(), "the joiner opened early: {waited:?}");
    env.prepare_for_closing().wait();
    assert_eq!(joiner.expect("opened"), "ac");
    joiner.succeeds();
}
