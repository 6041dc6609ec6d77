//! The directory the soak's environment lives in, and the filler file beside it that takes
//! the disk's free space and gives it back. The directory is a small tmpfs when the test runs
//! as root (mounted and unmounted by the supervising process, `common::tmpfs`), so the disk
//! can fill; otherwise an ordinary temporary directory, where nothing is filled.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// The tmpfs's size: below the largest map the soak lets the environment grow to, so the
/// environment itself can fill the disk too, not only the filler.
pub const TMPFS_BYTES: u64 = 16 << 20;

pub struct Scratch {
    pub dir: PathBuf,
    /// Whether `dir` is a tmpfs of [`TMPFS_BYTES`] that the filler may fill.
    pub can_fill: bool,
}

impl Scratch {
    /// The environment's directory.
    pub fn env_dir(&self) -> PathBuf {
        self.dir.join("env")
    }

    /// A directory beside the environment's, for an environment created on a full disk.
    pub fn spare_dir(&self) -> PathBuf {
        self.dir.join("spare")
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }

    /// Takes every free byte of the tmpfs with the filler file.
    pub fn fill(&self) {
        assert!(self.can_fill, "only a tmpfs is filled");
        let mut file = File::options()
            .create(true)
            .append(true)
            .open(self.filler())
            .expect("opening the filler");
        for chunk in [1 << 20, 4096, 1] {
            let bytes = vec![0x5a; chunk];
            loop {
                match file.write(&bytes) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => break,
                    Err(error) => panic!("writing the filler: {error}"),
                }
            }
        }
    }

    /// Gives the filler's space back.
    pub fn free(&self) {
        match std::fs::remove_file(self.filler()) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => panic!("removing the filler: {error}"),
        }
    }
}
