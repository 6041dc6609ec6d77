//! A small tmpfs mounted for one test, so the test can fill a real file system.
//!
//! Mounting needs root. Where it is not possible the test says so on stderr and skips the
//! part that needs it, except under CI as root (`CI` set), where a failed mount fails the
//! test: CI must not skip silently.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a fresh temporary directory, unmounted when dropped.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_bytes`, or returns `None` (after printing why) where this
    /// machine does not allow it.
    pub fn mount(size_bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let output = root.then(|| {
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size_bytes}")])
                .arg("tmpfs")
                .arg(dir.path())
                .output()
        });
        match output {
            Some(Ok(output)) if output.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    None => "not running as root".to_string(),
                    Some(Ok(output)) => String::from_utf8_lossy(&output.stderr).trim().to_string(),
                    Some(Err(error)) => error.to_string(),
                };
                assert!(
                    !(root && std::env::var_os("CI").is_some()),
                    "CI runs as root and must mount a tmpfs for this test: {why}"
                );
                eprintln!(
                    "note: skipping the full-disk part of this test (cannot mount a tmpfs: {why})"
                );
                None
            }
        }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system with a file named `filler` until a write fails with ENOSPC;
    /// returns its path (remove it to give the space back).
    pub fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = File::create(&path).unwrap();
        let block = vec![0xa5u8; 4096];
        loop {
            match file.write_all(&block) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(error) => panic!("filling the tmpfs: {error}"),
            }
        }
        // Partial blocks: fill to the last byte.
        while file.write_all(&[0xa5]).is_ok() {}
        let error = file.write_all(&[0]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull);
        path
    }
}

impl Tmpfs {
    /// Removes the filler [`Tmpfs::fill`] made and waits (up to ten seconds) until the file
    /// system reports its space free again: the kernel may count freed blocks a moment later.
    pub fn empty(&self, filler: PathBuf) {
        let free_before = self.free_bytes();
        std::fs::remove_file(filler).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.free_bytes() < free_before + 64 * 1024 {
            assert!(
                std::time::Instant::now() < deadline,
                "the tmpfs did not free its space"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn free_bytes(&self) -> u64 {
        let path = std::ffi::CString::new(self.path().as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `path` is a NUL-terminated string and `stats` a writable statvfs for the call.
        unsafe {
            let mut stats: libc::statvfs = std::mem::zeroed();
            assert_eq!(libc::statvfs(path.as_ptr(), &mut stats), 0);
            stats.f_bavail as u64 * stats.f_frsize as u64
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let status = Command::new("umount").arg(self.dir.path()).status();
        if !matches!(status, Ok(status) if status.success()) {
            // A lazy unmount still frees the directory once nothing uses it.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}
