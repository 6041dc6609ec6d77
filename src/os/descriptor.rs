//! Files the application hands over as raw descriptors (`Env::copy_to_fd`, heed's signature).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// A `File` of its own on the open file that `fd` names: a duplicate descriptor (`dup`), so
/// closing the `File` leaves `fd` open, and both share the file's offset.
///
/// # Safety
/// `fd` must be an open file descriptor for the duration of the call. This is the contract
/// `Env::copy_to_fd` passes on to its caller, as heed's does.
pub(crate) unsafe fn duplicate(fd: RawFd) -> io::Result<File> {
    // SAFETY: the caller guarantees `fd` is open for the call; the borrow ends within it, once
    // `try_clone_to_owned` has made a descriptor of our own (F_DUPFD_CLOEXEC).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(File::from(borrowed.try_clone_to_owned()?))
}

/// Whether `file` was opened in append mode (`O_APPEND`): its writes all go to its end, and
/// `pwrite` ignores the offset given (on Linux).
pub(crate) fn appends(file: &File) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no pointer; the descriptor belongs to `file`, borrowed for the
    // call, and the call only reads its flags.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & libc::O_APPEND != 0)
}
