//! `env_closing_event` racing the last handle's drop, and paths that name an environment.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use arbordb::{env_closing_event, EnvFlags, EnvOpenOptions};

/// Looking an environment's closing event up while its last handle is dropped in another
/// thread: the lookup may hold the last reference for an instant, and dropping it must not
/// need the registry lock the lookup still holds.
#[test]
fn a_closing_event_lookup_racing_the_last_drop_does_not_deadlock() {
    let (done, finished) = mpsc::channel();
    let rounds = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&rounds);
    std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..2000 {
            let env = unsafe { EnvOpenOptions::new().open(dir.path()).unwrap() };
            let stop = Arc::new(AtomicBool::new(false));
            let path = dir.path().to_path_buf();
            let looking = {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        drop(env_closing_event(&path));
                    }
                })
            };
            std::thread::yield_now();
            drop(env);
            stop.store(true, Ordering::Relaxed);
            looking.join().unwrap();
            counted.fetch_add(1, Ordering::Relaxed);
        }
        done.send(()).unwrap();
    });
    let outcome = finished.recv_timeout(Duration::from_secs(60));
    let rounds = rounds.load(Ordering::Relaxed);
    assert!(
        outcome.is_ok(),
        "a lookup and the last drop deadlocked on the registry lock after {rounds} rounds"
    );
}

/// With `NO_SUB_DIR` the path opened is the data file; when that is a symbolic link, the
/// event is found by the path the environment was opened with.
#[test]
fn a_closing_event_is_found_by_a_symlinked_data_file_path() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.mdb");
    let link = dir.path().join("link.mdb");
    {
        let env = unsafe {
            let mut options = EnvOpenOptions::new();
            options.flags(EnvFlags::NO_SUB_DIR);
            options.open(&real).unwrap()
        };
        drop(env);
    }
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let env = unsafe {
        let mut options = EnvOpenOptions::new();
        options.flags(EnvFlags::NO_SUB_DIR);
        options.open(&link).unwrap()
    };
    assert!(
        env_closing_event(&link).is_some(),
        "the environment is open at the path it was opened with"
    );
    drop(env);
}
