//! Creating and opening environments, and every way a file can fail to open.

mod common;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use arbordb::types::Str;
use arbordb::MdbError;
use arbordb::{EnvFlags, EnvOpenOptions, Error, FORMAT_VERSION};
use common::{assert_sound, meta_bytes, open, reseal_meta};

const DATA_FILE: &str = "data.arbordb";

fn try_open(dir: &Path) -> arbordb::Result<arbordb::Env> {
    unsafe { EnvOpenOptions::new().map_size(1 << 30).open(dir) }
}

/// Writes two commits ("first", then "second") and closes the environment.
fn two_commits(dir: &Path) {
    let env = open(dir);
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "first", "1").unwrap();
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "second", "2").unwrap();
    wtxn.commit().unwrap();
}

fn patch(dir: &Path, offset: u64, bytes: &[u8]) {
    let file = OpenOptions::new()
        .write(true)
        .open(dir.join(DATA_FILE))
        .unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

fn read_at(dir: &Path, offset: u64, len: usize) -> Vec<u8> {
    let file = OpenOptions::new()
        .read(true)
        .open(dir.join(DATA_FILE))
        .unwrap();
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, offset).unwrap();
    bytes
}

#[test]
fn reopening_sees_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, "first").unwrap(), Some("1"));
    assert_eq!(db.get(&rtxn, "second").unwrap(), Some("2"));
    assert_eq!(env.info().last_txn_id, 2);
    assert!(dir.path().join("lock.arbordb").exists());
}

#[test]
fn no_sub_dir_uses_the_path_as_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("single.db");
    {
        let env = unsafe {
            EnvOpenOptions::new()
                .flags(EnvFlags::NO_SUB_DIR)
                .open(&path)
                .unwrap()
        };
        let mut wtxn = env.write_txn().unwrap();
        let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, "k", "v").unwrap();
        wtxn.commit().unwrap();
    }
    assert!(path.is_file());
    assert!(dir.path().join("single.db-lock").is_file());
    let env = unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::NO_SUB_DIR)
            .open(&path)
            .unwrap()
    };
    let rtxn = env.read_txn().unwrap();
    let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, "k").unwrap(), Some("v"));
}

#[test]
fn the_page_size_is_recorded_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    drop(unsafe {
        EnvOpenOptions::new()
            .page_size(8192)
            .open(dir.path())
            .unwrap()
    });
    let env = try_open(dir.path()).unwrap();
    assert_eq!(env.page_size(), 8192);
    drop(env);
    match unsafe { EnvOpenOptions::new().page_size(4096).open(dir.path()) } {
        Err(Error::Mdb(MdbError::PageSizeMismatch {
            file: 8192,
            requested: 4096,
        })) => {}
        other => panic!("expected PageSizeMismatch, got {other:?}"),
    }
    assert!(matches!(
        unsafe {
            EnvOpenOptions::new()
                .page_size(3000)
                .open(tempfile::tempdir().unwrap().path())
        },
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
}

#[test]
fn the_default_page_size_is_the_operating_systems() {
    let dir = tempfile::tempdir().unwrap();
    let env = try_open(dir.path()).unwrap();
    let os_page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    assert_eq!(env.page_size(), os_page_size);
}

#[test]
fn a_foreign_file_is_not_an_arbordb_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(DATA_FILE),
        b"SQLite format 3\0".repeat(1000),
    )
    .unwrap();
    assert!(matches!(
        try_open(dir.path()),
        Err(Error::Mdb(MdbError::NotAnArbordbFile { .. }))
    ));
    // Zeros longer than the two largest pages creation writes: not a creation cut short.
    fs::write(dir.path().join(DATA_FILE), vec![0u8; 2 * 65536 + 512]).unwrap();
    assert!(matches!(
        try_open(dir.path()),
        Err(Error::Mdb(MdbError::NotAnArbordbFile { .. }))
    ));
}

/// Opens `dir` (read-only too) and expects `UnsupportedFormatVersion` naming the data file
/// and both versions.
fn assert_newer_version_refused(dir: &Path, found: u32) {
    for read_only in [false, true] {
        let mut options = EnvOpenOptions::new();
        options.map_size(1 << 30);
        if read_only {
            unsafe { options.flags(EnvFlags::READ_ONLY) };
        }
        match unsafe { options.open(dir) } {
            Err(error @ Error::Mdb(MdbError::UnsupportedFormatVersion { .. })) => {
                let Error::Mdb(MdbError::UnsupportedFormatVersion {
                    path,
                    found: recorded,
                    supported,
                }) = &error
                else {
                    unreachable!()
                };
                assert_eq!(path, &dir.canonicalize().unwrap().join(DATA_FILE));
                assert_eq!((*recorded, *supported), (found, FORMAT_VERSION));
                let message = error.to_string();
                assert!(message.contains(DATA_FILE), "{message}");
                assert!(message.contains(&found.to_string()), "{message}");
                assert!(message.contains(&FORMAT_VERSION.to_string()), "{message}");
            }
            other => panic!(
                "read_only {read_only}: expected UnsupportedFormatVersion, got {:?}",
                other.map(drop)
            ),
        }
    }
}

#[test]
fn a_newer_format_version_in_both_metas_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let newer = (FORMAT_VERSION + 1).to_le_bytes();
    patch(dir.path(), 8, &newer);
    patch(dir.path(), 4096 + 8, &newer);
    assert_newer_version_refused(dir.path(), FORMAT_VERSION + 1);
}

/// A newer release committed to the file (its meta in the newest slot), then an older one
/// opens it: falling back to the other meta would hide the newer commit, and the next commit
/// would overwrite it for good. Whether or not this build can verify its checksum, the file is
/// refused and left as it was. A newer-format meta claiming an older commit than the other
/// slot's (the older slot's version field damaged) hides nothing and is passed over.
#[test]
fn a_newer_format_meta_claiming_the_newest_commit_refuses_the_file_and_keeps_it() {
    for slot in [0u64, 1] {
        for resealed in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            two_commits(dir.path()); // commit 2 in slot 0, commit 1 in slot 1
            let offset = slot * 4096;
            let mut meta = meta_bytes(&read_at(dir.path(), offset, 4096));
            meta[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
            if resealed {
                reseal_meta(&mut meta);
            }
            patch(dir.path(), offset, &meta);
            if slot == 1 {
                let env = try_open(dir.path()).unwrap();
                assert_eq!(env.info().last_txn_id, 2);
                continue;
            }
            let before = fs::read(dir.path().join(DATA_FILE)).unwrap();
            assert_newer_version_refused(dir.path(), FORMAT_VERSION + 1);
            // The command-line tool reports it too, and nothing was written.
            for command in ["stat", "check", "dump"] {
                let output = std::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
                    .arg(command)
                    .arg(dir.path())
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(!output.status.success(), "arbor {command}: {stderr}");
                assert!(
                    stderr.contains("format version"),
                    "arbor {command}: {stderr}"
                );
            }
            assert_eq!(fs::read(dir.path().join(DATA_FILE)).unwrap(), before);
        }
    }
}

/// A process of a newer release sharing the environment wrote the next commit's meta and
/// died before publishing it: a writer of this release must not build on the older commit
/// (its commit would overwrite the newer one); it gets `UnsupportedFormatVersion`.
#[test]
fn a_writer_finding_a_newer_format_meta_for_the_next_commit_refuses_to_build() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let env = try_open(dir.path()).unwrap();
    // The next commit, 3, goes to slot 1.
    let mut meta = meta_bytes(&read_at(dir.path(), 4096, 4096));
    meta[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    meta[16..24].copy_from_slice(&3u64.to_le_bytes());
    reseal_meta(&mut meta);
    let before = fs::read(dir.path().join(DATA_FILE)).unwrap();
    patch(dir.path(), 4096, &meta);
    match env.write_txn().map(drop) {
        Err(Error::Mdb(MdbError::UnsupportedFormatVersion { found, .. })) => {
            assert_eq!(found, FORMAT_VERSION + 1)
        }
        other => panic!("expected UnsupportedFormatVersion, got {other:?}"),
    }
    let after = fs::read(dir.path().join(DATA_FILE)).unwrap();
    assert_eq!(after[..4096], before[..4096], "slot 0 untouched");
    assert_eq!(after[8192..], before[8192..], "no page written");
}

/// No release wrote a version below the first, so one there is damage: the meta is passed
/// over like one whose checksum fails.
#[test]
fn a_meta_claiming_version_zero_is_passed_over_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    patch(dir.path(), 8, &0u32.to_le_bytes()); // commit 2, slot 0
    let env = try_open(dir.path()).unwrap();
    assert_eq!(env.info().last_txn_id, 1);
}

/// tests/data/format-1.arbordb to format-6.arbordb were written by arbordb at format
/// versions 1 to 6 (512-byte pages; the unnamed database holds `key00000`.. `key00598` (even
/// numbers) -> `value{n}`, the database `named` holds 600 big-endian `u32` keys -> 30 copies
/// of the key's low byte; the odd keys' deletion left 36 free pages, listed in the freelist
/// chain of that version).
#[test]
fn older_format_files_are_read_and_their_first_commit_writes_the_current_format() {
    for (fixture, version) in [
        ("format-1", 1),
        ("format-2", 2),
        ("format-3", 3),
        ("format-4", 4),
        ("format-5", 5),
        ("format-6", 6),
    ] {
        reads_an_older_format(fixture, version);
    }
}

fn reads_an_older_format(fixture: &str, version: u32) {
    use arbordb::types::Bytes;
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        format!("tests/data/{fixture}.arbordb"),
        dir.path().join(DATA_FILE),
    )
    .unwrap();
    let meta_version = |slot: u64| {
        let bytes = fs::read(dir.path().join(DATA_FILE)).unwrap();
        let at = (slot * 512 + 8) as usize;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    };
    assert_eq!((meta_version(0), meta_version(1)), (version, version));
    let check_contents = |env: &arbordb::Env| {
        let rtxn = env.read_txn().unwrap();
        let main = env
            .open_database::<Bytes, Bytes>(&rtxn, None)
            .unwrap()
            .unwrap();
        let named = env
            .open_database::<Bytes, Bytes>(&rtxn, Some("named"))
            .unwrap()
            .unwrap();
        assert_eq!(main.len(&rtxn).unwrap(), 300);
        assert_eq!(named.len(&rtxn).unwrap(), 600);
        assert_eq!(main.get(&rtxn, b"key00042").unwrap(), Some(&b"value42"[..]));
        assert_eq!(main.get(&rtxn, b"key00043").unwrap(), None);
        assert_eq!(
            named.get(&rtxn, &599u32.to_be_bytes()).unwrap(),
            Some(&[87u8; 30][..])
        );
    };
    {
        let env = open(dir.path());
        check_contents(&env);
        assert_eq!(env.free_pages().unwrap(), 36, "{fixture}");
        assert_sound(&env);
        // The first commit writes a current-format meta (and, as after any reopening, keeps
        // the newest tree, not yet known to be durable); the next reuses the listed pages.
        env.write_txn().unwrap().commit().unwrap();
        let last_page = env.info().last_page_number;
        let mut wtxn = env.write_txn().unwrap();
        let main = env
            .create_database::<Bytes, Bytes>(&mut wtxn, None)
            .unwrap();
        main.put(&mut wtxn, b"key00043", b"back").unwrap();
        main.delete(&mut wtxn, b"key00043").unwrap();
        wtxn.commit().unwrap();
        assert_eq!(env.info().last_page_number, last_page, "{fixture}");
        assert_sound(&env);
    }
    // Two commits: both metas are now of the current version.
    assert_eq!(
        (meta_version(0), meta_version(1)),
        (FORMAT_VERSION, FORMAT_VERSION)
    );
    let env = open(dir.path());
    check_contents(&env);
    assert_sound(&env);
}

#[test]
fn an_unsupported_page_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    for slot in [0u64, 4096] {
        let mut meta = meta_bytes(&read_at(dir.path(), slot, 4096));
        meta[12..16].copy_from_slice(&3000u32.to_le_bytes());
        reseal_meta(&mut meta);
        patch(dir.path(), slot, &meta);
    }
    assert!(matches!(
        try_open(dir.path()),
        Err(Error::Mdb(MdbError::InvalidPageSize { found: 3000 }))
    ));
}

#[test]
fn a_truncated_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let path = dir.path().join(DATA_FILE);
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(3 * 4096).unwrap();
    match try_open(dir.path()) {
        Err(Error::Mdb(MdbError::FileTruncated {
            len_bytes,
            needed_bytes,
        })) => {
            assert_eq!(len_bytes, 3 * 4096);
            assert!(
                needed_bytes > len_bytes && needed_bytes % 4096 == 0,
                "{needed_bytes}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Too short to hold a whole meta (however many of its bytes are there): at least two
    // pages of the smallest size are needed.
    for len in [10, 100, 152, 159] {
        file.set_len(len).unwrap();
        match try_open(dir.path()) {
            Err(Error::Mdb(MdbError::FileTruncated {
                len_bytes,
                needed_bytes: 1024,
            })) => assert_eq!(len_bytes, len),
            other => panic!("a file of {len} bytes gave {other:?}"),
        }
    }
}

#[test]
fn no_valid_meta_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    patch(dir.path(), 144, &[0xde, 0xad, 0xbe, 0xef]);
    patch(dir.path(), 4096 + 144, &[0xde, 0xad, 0xbe, 0xef]);
    assert!(matches!(
        try_open(dir.path()),
        Err(Error::Mdb(MdbError::NoValidMeta))
    ));
}

#[test]
fn a_meta_with_a_bad_checksum_is_ignored_and_the_other_is_used() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    // Commit 2 wrote slot 0 (txn id 2 % 2); damage its txn id so the checksum fails.
    patch(dir.path(), 20, &[0x55]);
    {
        let env = try_open(dir.path()).unwrap();
        assert_eq!(env.info().last_txn_id, 1);
        let rtxn = env.read_txn().unwrap();
        let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
        assert_eq!(db.get(&rtxn, "first").unwrap(), Some("1"));
        assert_eq!(db.get(&rtxn, "second").unwrap(), None);
        drop(rtxn);
        assert_sound(&env);
        // Writing goes on from there, and replaces the damaged meta.
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, "third", "3").unwrap();
        wtxn.commit().unwrap();
    }
    let env = try_open(dir.path()).unwrap();
    let rtxn = env.read_txn().unwrap();
    let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, "third").unwrap(), Some("3"));
    assert_sound(&env);
}

#[test]
fn a_torn_slot_zero_is_survived_with_slot_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, "only", "commit").unwrap();
        wtxn.commit().unwrap(); // txn 1, written to slot 1
    }
    // Slot 0 (the fresh file's meta) loses even its magic.
    patch(dir.path(), 0, &[0u8; 148]);
    let env = try_open(dir.path()).unwrap();
    let rtxn = env.read_txn().unwrap();
    let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, "only").unwrap(), Some("commit"));
}

#[test]
fn opening_an_open_path_again_returns_the_same_environment() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let second = open(dir.path());
    let mut wtxn = first.write_txn().unwrap();
    let db = first.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "shared", "yes").unwrap();
    // The writer lock is shared: the second handle cannot start a writer now.
    assert!(matches!(
        second.try_write_txn(),
        Err(arbordb::Error::Mdb(arbordb::MdbError::WriterBusy))
    ));
    wtxn.commit().unwrap();
    let rtxn = second.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "shared").unwrap(), Some("yes"));
    drop(rtxn);
    let different = unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::NO_SYNC)
            .open(dir.path())
    };
    assert!(matches!(different, Err(Error::EnvAlreadyOpened)));
    // A second open asking for a larger map is refused rather than given less room; a
    // smaller or equal one is satisfied by the map there is.
    match unsafe { EnvOpenOptions::new().map_size(2 << 30).open(dir.path()) } {
        Err(Error::Mdb(arbordb::MdbError::InvalidOption { reason })) => {
            assert!(reason.contains("Env::resize"), "{reason}")
        }
        other => panic!("expected InvalidOption, got {:?}", other.map(|_| ())),
    }
    for size in [1 << 20, 1 << 30] {
        assert!(unsafe { EnvOpenOptions::new().map_size(size).open(dir.path()) }.is_ok());
    }
    // Once every handle is closed the path can be opened with other flags.
    drop((first, second));
    assert!(unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::NO_SYNC)
            .open(dir.path())
    }
    .is_ok());
}

#[test]
fn read_only_environments_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    let env = unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::READ_ONLY)
            .open(dir.path())
            .unwrap()
    };
    assert!(matches!(
        env.write_txn(),
        Err(Error::Mdb(MdbError::ReadOnly))
    ));
    let rtxn = env.read_txn().unwrap();
    let db = env.open_database::<Str, Str>(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, "second").unwrap(), Some("2"));
    let missing = tempfile::tempdir().unwrap();
    let result = unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::READ_ONLY)
            .open(missing.path().join("absent"))
    };
    assert!(result.is_err());
}

/// The lines of this process's memory mappings that map a file in `dir`.
fn mappings_of(dir: &Path) -> Vec<String> {
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    let dir = dir.canonicalize().unwrap();
    let dir = dir.to_str().unwrap();
    maps.lines()
        .filter(|line| line.contains(dir))
        .map(str::to_owned)
        .collect()
}

#[test]
fn closing_an_environment_unmaps_it_even_after_threads_read_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "key", "value").unwrap();
    wtxn.commit().unwrap();
    // Read on this thread and on one that outlives the environment: each thread remembers
    // the snapshot it read, which must not keep the map mapped.
    assert_eq!(
        db.get(&env.read_txn().unwrap(), "key").unwrap(),
        Some("value")
    );
    let (read, has_read) = std::sync::mpsc::channel();
    let (exit, may_exit) = std::sync::mpsc::channel::<()>();
    let reader_env = env.clone();
    let reader = std::thread::spawn(move || {
        let rtxn = reader_env.read_txn().unwrap();
        assert_eq!(db.get(&rtxn, "key").unwrap(), Some("value"));
        drop(rtxn);
        drop(reader_env);
        read.send(()).unwrap();
        may_exit.recv().unwrap();
    });
    has_read.recv().unwrap();
    assert!(
        !mappings_of(dir.path()).is_empty(),
        "the open environment is mapped"
    );
    drop(env);
    assert_eq!(mappings_of(dir.path()), Vec::<String>::new());
    exit.send(()).unwrap();
    reader.join().unwrap();
}

/// Opens `dir` as the first opener, which is the one that chooses between the metas (later
/// openers take the commit the lock file names). Other tests of this binary spawn processes,
/// and a child between its fork and its exec briefly shares every open file of this process,
/// the lock file's open lock included; so an open right after a close may find the lock held
/// and join instead. Such an open is retried.
fn open_first(dir: &Path) -> arbordb::Env {
    for _ in 0..200 {
        match try_open(dir) {
            Err(Error::Mdb(MdbError::CorruptedPage { reason, .. }))
                if reason.contains("lock file names") =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other.unwrap(),
        }
    }
    panic!("the lock file stayed held by another process")
}

/// Open falling back past a damaged meta that claims a newer commit says so in `Env::info`
/// and in `arbor stat`; a damaged older meta hides nothing and is not reported there.
#[test]
fn falling_back_past_a_newer_meta_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    two_commits(dir.path());
    assert_eq!(open_first(dir.path()).info().skipped_meta, None);
    // The older meta (commit 1, slot 1) damaged in its map size field: nothing newer hidden.
    let older = read_at(dir.path(), 4096 + 32, 1)[0];
    patch(dir.path(), 4096 + 32, &[older ^ 0x40]);
    assert_eq!(open_first(dir.path()).info().skipped_meta, None);
    patch(dir.path(), 4096 + 32, &[older]);
    // The older meta damaged so that it claims the newest commit's id: still nothing newer.
    let older_id = read_at(dir.path(), 4096 + 16, 8);
    patch(dir.path(), 4096 + 16, &2u64.to_le_bytes());
    let env = open_first(dir.path());
    assert_eq!(env.info().last_txn_id, 2);
    assert_eq!(env.info().skipped_meta, None);
    drop(env);
    patch(dir.path(), 4096 + 16, &older_id);
    // The newest (commit 2, slot 0) damaged the same way: open takes commit 1 and says why.
    let newest = read_at(dir.path(), 32, 1)[0];
    patch(dir.path(), 32, &[newest ^ 0x40]);
    let env = open_first(dir.path());
    assert_eq!(env.info().last_txn_id, 1);
    let skipped = env.info().skipped_meta.expect("the fall-back is reported");
    assert_eq!(
        (skipped.slot, skipped.txn_id, skipped.reason),
        (0, 2, arbordb::SkipReason::Checksum)
    );
    assert!(skipped.to_string().contains("checksum"), "{skipped}");
    drop(env);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
        .arg("stat")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("passed over"), "{stderr}");
    assert!(stderr.contains("commit 2"), "{stderr}");
}

/// The reader table holds from 1 to 65,536 slots: both ends open, one past either is an
/// `InvalidOption` that creates nothing.
#[test]
fn max_readers_from_one_to_65536_and_nothing_else() {
    let open_with_readers = |dir: &std::path::Path, readers: u32| unsafe {
        EnvOpenOptions::new().max_readers(readers).open(dir)
    };
    for refused in [0, (1 << 16) + 1] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        match open_with_readers(&path, refused) {
            Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
                assert!(reason.contains(&refused.to_string()), "{reason}")
            }
            other => panic!("max_readers({refused}) gave {other:?}"),
        }
        assert!(!path.join(arbordb::DATA_FILE_NAME).exists());
    }
    for accepted in [1, 1 << 16] {
        let dir = tempfile::tempdir().unwrap();
        let env = open_with_readers(dir.path(), accepted).unwrap();
        assert_eq!(env.info().maximum_number_of_readers, accepted);
    }
}

/// A new file of the largest page size whose creation a crash cut short at its full length
/// (the length set, the metas not yet written) is created again like any shorter one.
#[test]
fn a_creation_cut_short_at_the_largest_page_size_is_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let largest = 1 << 16;
    std::fs::write(
        dir.path().join(arbordb::DATA_FILE_NAME),
        vec![0u8; 2 * largest],
    )
    .unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .page_size(largest)
            .open(dir.path())
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, "after", "recreation").unwrap();
    wtxn.commit().unwrap();
    assert_eq!(env.page_size(), largest);
    assert_sound(&env);
}

/// Telling a creation cut short reads at most two of the largest pages: a large file that is
/// not an environment is refused without being read whole (checked under an address-space
/// limit far below the file's size, in a process of its own).
#[test]
fn a_large_foreign_file_is_refused_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(arbordb::DATA_FILE_NAME);
    let file = std::fs::File::create(&data).unwrap();
    file.set_len(8 << 30).unwrap(); // sparse: zeros that take no disk
    drop(file);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_arbor"));
    command.args(["stat", dir.path().to_str().unwrap()]);
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child before exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("not an arbordb"), "{message}");
}

/// `NO_READ_AHEAD` tells the kernel to expect random reads of the map (`MADV_RANDOM`, shown
/// as `rr` among the mapping's flags in /proc/self/smaps); without it the map has no advice.
#[cfg(target_os = "linux")]
#[test]
fn no_read_ahead_advises_random_access_on_the_map() {
    let map_flags = |flags: arbordb::EnvFlags| {
        let dir = tempfile::tempdir().unwrap();
        let env = unsafe { EnvOpenOptions::new().flags(flags).open(dir.path()).unwrap() };
        let data = dir.path().join(DATA_FILE).canonicalize().unwrap();
        let smaps = fs::read_to_string("/proc/self/smaps").unwrap();
        let mapping = smaps
            .split_inclusive("VmFlags:")
            .position(|part| {
                part.lines()
                    .any(|line| line.ends_with(data.to_str().unwrap()))
            })
            .expect("the data file is mapped");
        let vm_flags = smaps.split("VmFlags:").nth(mapping + 1).unwrap();
        let vm_flags = vm_flags.lines().next().unwrap().to_owned();
        drop(env);
        vm_flags
    };
    assert!(map_flags(arbordb::EnvFlags::NO_READ_AHEAD)
        .split_whitespace()
        .any(|f| f == "rr"));
    assert!(!map_flags(arbordb::EnvFlags::empty())
        .split_whitespace()
        .any(|f| f == "rr"));
}
