//! heed's `EnvClosingEvent`: waiting until an environment has closed, its last handle
//! dropped and its files closed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// Whether an environment has closed, and the waiters to wake when it does.
#[derive(Default)]
pub(crate) struct ClosingSignal {
    closed: Mutex<bool>,
    wake: Condvar,
}

impl ClosingSignal {
    fn close(&self) {
        *self.closed.lock() = true;
        self.wake.notify_all();
    }
}

/// The last field of an environment's state: dropped after every other one (fields drop in
/// order), so it signals once the files are closed and the map is gone.
pub(crate) struct SignalOnDrop(pub(crate) Arc<ClosingSignal>);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A handle to wait for an environment to close ([`Env::prepare_for_closing`],
/// [`env_closing_event`](crate::env_closing_event)): when every [`Env`] clone of it is
/// dropped, its last transaction ended and its files closed, so that the same path may be
/// opened anew with other options or its files removed.
///
/// [`Env`]: crate::Env
/// [`Env::prepare_for_closing`]: crate::Env::prepare_for_closing
#[derive(Clone)]
pub struct EnvClosingEvent(pub(crate) Arc<ClosingSignal>);

impl EnvClosingEvent {
    /// Blocks until the environment has closed.
    pub fn wait(&self) {
        let mut closed = self.0.closed.lock();
        while !*closed {
            self.0.wake.wait(&mut closed);
        }
    }

    /// Blocks until the environment has closed or `timeout` has passed; returns whether it
    /// has closed.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut closed = self.0.closed.lock();
        while !*closed {
            if self.0.wake.wait_until(&mut closed, deadline).timed_out() {
                break;
            }
        }
        *closed
    }
}

impl fmt::Debug for EnvClosingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvClosingEvent")
            .field("closed", &*self.0.closed.lock())
            .finish()
    }
}
