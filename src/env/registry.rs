//! The environments open in this process, by canonical data-file path.
//!
//! Two independent environments on one file would each believe they own the writer lock and
//! the freelist, and corrupt each other. So opening a path that is already open returns the
//! same environment (when the flags agree) or [`Error::EnvAlreadyOpened`](crate::Error).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::Mutex;

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
pub(crate) fn closing_signal(path: &PathBuf) -> Option<Arc<super::closing::ClosingSignal>> {
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
