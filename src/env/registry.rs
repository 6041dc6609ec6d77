//! The environments open in this process, by canonical data-file path.
//!
//! Two independent environments on one file would each believe they own the writer lock and
//! the freelist, and corrupt each other. So opening a path that is already open returns the
//! same environment (when the flags agree) or [`Error::EnvAlreadyOpened`](crate::Error).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::Mutex;

use super::closing::{ClosingSignal, EnvClosingEvent};
use super::EnvInner;

static OPEN_ENVIRONMENTS: LazyLock<Mutex<HashMap<PathBuf, Weak<EnvInner>>>> =
    LazyLock::new(Default::default);

/// Returns the environment open at `path`, or opens one with `open` and records it. The
/// second value says whether the environment was open already. The registry stays locked
/// throughout, so two threads cannot open one path twice.
pub(crate) fn lookup_or_open<E>(
    path: &PathBuf,
    open: impl FnOnce() -> Result<Arc<EnvInner>, E>,
) -> Result<(Arc<EnvInner>, bool), E> {
    let mut environments = OPEN_ENVIRONMENTS.lock();
    if let Some(inner) = environments.get(path).and_then(Weak::upgrade) {
        return Ok((inner, true));
    }
    let inner = open()?;
    environments.insert(path.clone(), Arc::downgrade(&inner));
    Ok((inner, false))
}

/// The closing signal of the environment open at the data file `path`, if one is.
pub(crate) fn closing_signal(path: &PathBuf) -> Option<Arc<ClosingSignal>> {
    // The lock is released before `inner` drops: if it was the last handle, its drop
    // forgets the path, which locks the registry.
    let inner = OPEN_ENVIRONMENTS.lock().get(path).and_then(Weak::upgrade)?;
    Some(inner.closing_signal())
}

/// Forgets `path` if its environment is gone (called when an environment closes).
pub(crate) fn forget(path: &PathBuf) {
    let mut environments = OPEN_ENVIRONMENTS.lock();
    if environments
        .get(path)
        .is_some_and(|weak| weak.strong_count() == 0)
    {
        environments.remove(path);
    }
}

/// The closing event of the environment open at `path` in this process (the path it was
/// opened with: its directory, or with `NO_SUB_DIR` its data file), or `None` if none is
/// open there.
pub fn env_closing_event<P: AsRef<Path>>(path: P) -> Option<EnvClosingEvent> {
    let path = path.as_ref();
    // The data file's path as an open records it: its directory made canonical, its own
    // name as given (for a directory, `data.arbordb` in it; with `NO_SUB_DIR`, the path).
    let in_directory = path
        .canonicalize()
        .ok()
        .map(|directory| directory.join(super::DATA_FILE_NAME));
    let named = path.file_name().and_then(|name| {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        Some(parent.canonicalize().ok()?.join(name))
    });
    [in_directory, named]
        .into_iter()
        .flatten()
        .find_map(|data_path| closing_signal(&data_path))
        .map(EnvClosingEvent)
}
