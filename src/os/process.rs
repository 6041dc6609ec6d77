//! Which process owns a reader slot, and whether it still runs.
//!
//! A pid alone is not enough: after a process dies its pid may be given to another one, which
//! would make the dead process's reader slot look alive forever. So a slot also records its
//! owner's start time: field 22 of `/proc/<pid>/stat`, in clock ticks since boot. A pid that
//! exists with another start time is a different process. (A reboot wipes the reader table:
//! the first process to open an environment re-initialises its lock file.)

use std::sync::OnceLock;

/// A process: its pid and its start time (0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessId {
    pub(crate) pid: u32,
    pub(crate) start: u64,
}

/// This process.
pub(crate) fn current() -> ProcessId {
    static CURRENT: OnceLock<ProcessId> = OnceLock::new();
    *CURRENT.get_or_init(|| {
        let pid = std::process::id();
        ProcessId {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    })
}

/// The start time of `pid`, if it runs and `/proc` tells.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself;
    // the fields after the last ')' are plain numbers. Field 22 is the 20th of them.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that recorded `pid` and `start` in a slot still runs. A start time of
/// 0 means the owner is still filling its slot in, so only the pid is checked.
pub(crate) fn is_alive(pid: u32, start: u64) -> bool {
    let Ok(raw_pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw_pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the pid exists and may be
    // signalled. It has no memory-safety preconditions.
    let result = unsafe { libc::kill(raw_pid, 0) };
    let exists = result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    if start == 0 {
        return true;
    }
    // Without /proc the start time cannot be checked: trust the pid.
    start_time(pid).is_none_or(|actual| actual == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = current();
        assert_ne!(me.start, 0, "/proc gives a start time on Linux");
        assert!(is_alive(me.pid, me.start));
        assert!(is_alive(me.pid, 0));
        assert!(!is_alive(me.pid, me.start + 1), "pid reuse is detected");
        assert!(!is_alive(0, 0));
        assert!(!is_alive(u32::MAX, 0));
    }

    #[test]
    fn a_finished_process_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_alive(pid, 1));
    }
}
