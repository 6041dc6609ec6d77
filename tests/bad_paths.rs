//! Paths that name something other than an arbordb environment: a FIFO, an LMDB environment,
//! a foreign file. Each gives a typed error naming the path, at once, and creates nothing
//! beside what is there.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use arbordb::MdbError;
use arbordb::{EnvFlags, EnvOpenOptions, Error, DATA_FILE_NAME, LOCK_FILE_NAME};

fn open_with(path: &Path, flags: EnvFlags) -> arbordb::Result<arbordb::Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(1 << 20);
    unsafe {
        options.flags(flags);
        options.open(path)
    }
}

/// Opens on another thread, failing the test if the open has not returned within ten seconds
/// (opening a FIFO for reading waits for a writer that never comes).
fn open_within_ten_seconds(path: &Path, flags: EnvFlags) -> arbordb::Result<()> {
    let (done, result) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = done.send(open_with(&path, flags).map(drop));
    });
    result
        .recv_timeout(Duration::from_secs(10))
        .expect("open blocked (or panicked)")
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_fifo_is_refused_at_once_as_data_file_or_lock_file() {
    let modes = [
        EnvFlags::READ_ONLY,
        EnvFlags::empty(),
        EnvFlags::NO_SUB_DIR | EnvFlags::READ_ONLY,
        EnvFlags::NO_SUB_DIR,
    ];
    for flags in modes {
        for fifo_is_lock in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let no_sub_dir = flags.contains(EnvFlags::NO_SUB_DIR);
            let path = if no_sub_dir {
                dir.path().join("data")
            } else {
                dir.path().to_path_buf()
            };
            let (data, lock) = if no_sub_dir {
                (path.clone(), dir.path().join("data-lock"))
            } else {
                (path.join(DATA_FILE_NAME), path.join(LOCK_FILE_NAME))
            };
            if fifo_is_lock {
                // A real environment whose lock file was replaced by a FIFO.
                let writable = if no_sub_dir {
                    EnvFlags::NO_SUB_DIR
                } else {
                    EnvFlags::empty()
                };
                drop(open_with(&path, writable).unwrap());
                fs::remove_file(&lock).unwrap();
                mkfifo(&lock);
            } else {
                mkfifo(&data);
            }
            let before = entries(dir.path());
            let fifo = if fifo_is_lock { &lock } else { &data };
            match open_within_ten_seconds(&path, flags) {
                Err(error @ Error::Mdb(MdbError::NotARegularFile { .. })) => {
                    let Error::Mdb(MdbError::NotARegularFile { path: named }) = &error else {
                        unreachable!()
                    };
                    assert_eq!(named, &fifo.canonicalize().unwrap());
                    assert!(error.to_string().contains("not a regular file"));
                }
                other => panic!("{flags:?}, FIFO lock {fifo_is_lock}: {other:?}"),
            }
            assert_eq!(entries(dir.path()), before, "nothing created");
        }
    }
}

/// The first 20 bytes of an LMDB data file: a page header, then the meta's magic.
fn lmdb_data_file() -> Vec<u8> {
    let mut bytes = vec![0u8; 8192];
    bytes[16..20].copy_from_slice(&0xBEEF_C0DEu32.to_le_bytes());
    bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
    bytes
}

#[test]
fn an_lmdb_environment_is_named_and_nothing_is_created_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("data.mdb"), lmdb_data_file()).unwrap();
    fs::write(dir.path().join("lock.mdb"), []).unwrap();
    for flags in [EnvFlags::empty(), EnvFlags::READ_ONLY] {
        let error = open_with(dir.path(), flags).map(drop).unwrap_err();
        match &error {
            Error::Mdb(MdbError::LmdbEnvironment { path }) => {
                assert_eq!(path, &dir.path().join("data.mdb"));
            }
            other => panic!("{flags:?}: {other:?}"),
        }
        assert!(error.to_string().contains("arbor load"), "{error}");
        assert_eq!(entries(dir.path()), ["data.mdb", "lock.mdb"]);
    }
    // With NO_SUB_DIR, LMDB's data file named directly.
    let file = dir.path().join("data.mdb");
    for flags in [
        EnvFlags::NO_SUB_DIR,
        EnvFlags::NO_SUB_DIR | EnvFlags::READ_ONLY,
    ] {
        let error = open_with(&file, flags).map(drop).unwrap_err();
        assert!(
            matches!(error, Error::Mdb(MdbError::LmdbEnvironment { .. })),
            "{error:?}"
        );
        assert_eq!(entries(dir.path()), ["data.mdb", "lock.mdb"]);
    }
}

#[test]
fn a_foreign_file_gets_no_lock_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    fs::write(
        &file,
        b"not a database, and longer than a meta page ".repeat(200),
    )
    .unwrap();
    fs::write(dir.path().join(DATA_FILE_NAME), vec![0x5a; 8192]).unwrap();
    for read_only in [EnvFlags::empty(), EnvFlags::READ_ONLY] {
        let error = open_with(&file, EnvFlags::NO_SUB_DIR | read_only)
            .map(drop)
            .unwrap_err();
        assert!(
            matches!(error, Error::Mdb(MdbError::NotAnArbordbFile { .. })),
            "{error:?}"
        );
        let error = open_with(dir.path(), read_only).map(drop).unwrap_err();
        assert!(
            matches!(error, Error::Mdb(MdbError::NotAnArbordbFile { .. })),
            "{error:?}"
        );
        assert_eq!(entries(dir.path()), [DATA_FILE_NAME, "notes.txt"]);
    }
}

#[test]
fn io_errors_at_open_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = open_with(&missing, EnvFlags::READ_ONLY)
        .map(drop)
        .unwrap_err();
    let Error::Io(io) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error.to_string().contains(missing.to_str().unwrap()),
        "{error}"
    );
    // A directory where the data file should be.
    let env = dir.path().join("env");
    fs::create_dir_all(env.join(DATA_FILE_NAME)).unwrap();
    let error = open_with(&env, EnvFlags::empty()).map(drop).unwrap_err();
    assert!(
        matches!(error, Error::Mdb(MdbError::NotARegularFile { .. })),
        "{error:?}"
    );
    // A file where the environment directory should be.
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    let error = open_with(&file, EnvFlags::empty()).map(drop).unwrap_err();
    assert!(error.to_string().contains("NO_SUB_DIR"), "{error}");
}

/// A second open of an open path may not ask for a larger map than the environment has (it
/// would silently get less room); a smaller or equal one is satisfied and returns the same
/// environment.
#[test]
fn opening_an_open_path_with_a_larger_map_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with(dir.path(), EnvFlags::empty()).unwrap();
    let larger = unsafe { EnvOpenOptions::new().map_size(1 << 30).open(dir.path()) };
    match larger.map(drop) {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(reason.contains("already open"), "{reason}");
            assert!(reason.contains("Env::resize"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let smaller = unsafe { EnvOpenOptions::new().map_size(1 << 19).open(dir.path()) }.unwrap();
    assert_eq!(smaller.info().map_size, env.info().map_size);
    let unspecified = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    assert_eq!(unspecified.info().map_size, 1 << 20);
    // After a resize the larger size is what it has.
    unsafe { env.resize(1 << 30).unwrap() };
    unsafe { EnvOpenOptions::new().map_size(1 << 30).open(dir.path()) }.unwrap();
}

/// A data file that cannot even be looked at (a symbolic link to itself) is an error naming
/// it, found before anything is created: no lock file appears beside it.
#[test]
fn a_data_file_that_cannot_be_looked_at_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(DATA_FILE_NAME);
    std::os::unix::fs::symlink(&data, &data).unwrap();
    let error = open_with(dir.path(), EnvFlags::empty())
        .map(drop)
        .unwrap_err();
    let Error::Io(io) = &error else {
        panic!("{error:?}")
    };
    assert!(io.to_string().contains("cannot look at"), "{error}");
    assert!(
        error.to_string().contains(data.to_str().unwrap()),
        "{error}"
    );
    assert_eq!(entries(dir.path()), [DATA_FILE_NAME]);
}

/// An environment directory that cannot be looked at (a symbolic link to itself) is an
/// error naming it as the environment's directory, not taken for a directory to create.
#[test]
fn an_environment_directory_that_cannot_be_looked_at_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env");
    std::os::unix::fs::symlink(&env, &env).unwrap();
    let error = open_with(&env, EnvFlags::empty()).map(drop).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("cannot open the environment directory")
            && message.contains(env.to_str().unwrap()),
        "{message}"
    );
}
