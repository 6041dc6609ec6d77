//! `Env::set_flags` on an environment another open in this process shares.

use arbordb::{EnvFlags, EnvOpenOptions, FlagSetMode};

/// A second open with options that ask for synced commits shares the first open's
/// environment; a `NO_SYNC` that `set_flags` turned on there must not silently apply to a
/// handle whose opener never accepted it (the open is refused or the flags are its own).
#[test]
fn a_second_open_does_not_inherit_no_sync_set_later() {
    let dir = tempfile::tempdir().unwrap();
    let first = unsafe { EnvOpenOptions::new().open(dir.path()).unwrap() };
    unsafe {
        first
            .set_flags(EnvFlags::NO_SYNC, FlagSetMode::Enable)
            .unwrap()
    };
    match unsafe { EnvOpenOptions::new().open(dir.path()) } {
        Err(arbordb::Error::EnvAlreadyOpened) => {}
        Err(other) => panic!("unexpected error {other}"),
        Ok(second) => assert!(
            !second.flags().unwrap().unwrap().contains(EnvFlags::NO_SYNC),
            "the second open asked for synced commits but got NO_SYNC"
        ),
    }
}
