//! A real full file system (a small tmpfs, when the tests run as root): opening an
//! environment, read-only too, and growing its reader table give `ENOSPC` as an error, never
//! SIGBUS, and lose nothing committed (docs/design.md, invariant 15).

mod common;

use std::fs;
use std::io::ErrorKind;
use std::process::Command;

use arbordb::types::Bytes;
use arbordb::{Database, EnvFlags, EnvOpenOptions, Error};
use common::tmpfs::Tmpfs;

fn is_full_disk(error: &Error) -> bool {
    matches!(error, Error::Io(io) if io.kind() == ErrorKind::StorageFull)
}

/// An environment with one committed key, closed, its lock file removed, on a tmpfs that
/// is then filled to the last byte. Returns the environment's directory and the filler.
fn full_disk_holding_one_key(tmpfs: &Tmpfs) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = tmpfs.path().join("env");
    {
        let env = unsafe { EnvOpenOptions::new().map_size(1 << 20).open(&dir).unwrap() };
        let mut wtxn = env.write_txn().unwrap();
        let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, b"kept", b"value").unwrap();
        wtxn.commit().unwrap();
    }
    fs::remove_file(dir.join("lock.arbordb")).unwrap();
    let filler = tmpfs.fill();
    (dir, filler)
}

fn assert_key_kept(dir: &std::path::Path) {
    let env = unsafe { EnvOpenOptions::new().map_size(1 << 20).open(dir).unwrap() };
    let rtxn = env.read_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.open_database(&rtxn, None).unwrap().unwrap();
    assert_eq!(db.get(&rtxn, b"kept").unwrap(), Some(&b"value"[..]));
    drop(rtxn);
    common::assert_sound(&env);
}

#[test]
fn opening_on_a_full_disk_is_an_error_not_sigbus() {
    let Some(tmpfs) = Tmpfs::mount(1 << 20) else {
        return;
    };
    let (dir, filler) = full_disk_holding_one_key(&tmpfs);
    for read_only in [false, true] {
        let mut options = EnvOpenOptions::new();
        options.map_size(1 << 20);
        if read_only {
            unsafe { options.flags(EnvFlags::READ_ONLY) };
        }
        let error = unsafe { options.open(&dir) }.map(drop).unwrap_err();
        assert!(is_full_disk(&error), "read_only {read_only}: {error:?}");
        assert!(error.to_string().contains("lock.arbordb"), "{error}");
    }
    tmpfs.empty(filler);
    assert_key_kept(&dir);
}

#[test]
fn growing_the_reader_table_on_a_full_disk_is_an_error_not_sigbus() {
    let Some(tmpfs) = Tmpfs::mount(1 << 20) else {
        return;
    };
    let dir = tmpfs.path().join("env");
    {
        let env = unsafe {
            EnvOpenOptions::new()
                .map_size(1 << 20)
                .max_readers(1)
                .open(&dir)
                .unwrap()
        };
        let mut wtxn = env.write_txn().unwrap();
        let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
        db.put(&mut wtxn, b"kept", b"value").unwrap();
        wtxn.commit().unwrap();
    }
    // The lock file stays, sized for one reader; a table for many needs new blocks.
    let filler = tmpfs.fill();
    let error = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 20)
            .max_readers(4096)
            .open(&dir)
    }
    .map(drop)
    .unwrap_err();
    assert!(is_full_disk(&error), "{error:?}");
    tmpfs.empty(filler);
    assert_key_kept(&dir);
}

#[test]
fn arbor_check_on_a_full_disk_reports_it_and_exits_with_an_error() {
    let Some(tmpfs) = Tmpfs::mount(1 << 20) else {
        return;
    };
    let (dir, filler) = full_disk_holding_one_key(&tmpfs);
    let output = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .arg("check")
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    tmpfs.empty(filler);
    assert_key_kept(&dir);
}

/// A commit that finds the disk full fails with `ENOSPC` naming the data file, and the
/// environment takes commits again once there is room.
#[test]
fn a_commit_on_a_full_disk_names_the_data_file() {
    let Some(tmpfs) = Tmpfs::mount(4 << 20) else {
        return;
    };
    let dir = tmpfs.path().join("env");
    let env = unsafe { EnvOpenOptions::new().map_size(64 << 20).open(&dir).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
    db.put(&mut wtxn, b"kept", b"value").unwrap();
    wtxn.commit().unwrap();
    let filler = tmpfs.fill();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"big", &vec![7u8; 1 << 20]).unwrap();
    let error = wtxn.commit().unwrap_err();
    assert!(is_full_disk(&error), "{error:?}");
    assert!(error.to_string().contains("data.arbordb"), "{error}");
    tmpfs.empty(filler);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"big", &vec![7u8; 1 << 20]).unwrap();
    wtxn.commit().unwrap();
    drop(env);
    assert_key_kept(&dir);
}
