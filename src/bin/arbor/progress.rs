//! Progress on the terminal: a line on stderr redrawn in place, only when stderr is a
//! terminal, so piped and redirected runs print nothing extra.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const REDRAW_EVERY: Duration = Duration::from_millis(100);
const BAR_WIDTH: usize = 30;

fn draw(label: &str, done: u64, total: Option<u64>, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let line = match total {
        Some(total) if total > 0 => {
            let fraction = (done as f64 / total as f64).min(1.0);
            let filled = (fraction * BAR_WIDTH as f64) as usize;
            format!(
                "{label} [{}{}] {:>3.0}% {done}/{total} {seconds:.1}s",
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH - filled),
                fraction * 100.0
            )
        }
        _ if done > 0 => format!("{label} {done} {seconds:.1}s"),
        _ => format!("{label} {seconds:.1}s"),
    };
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{line}");
    let _ = stderr.flush();
}

fn clear() {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K");
    let _ = stderr.flush();
}

/// A counter the caller advances (records loaded or dumped).
pub struct Counter {
    label: &'static str,
    total: Option<u64>,
    done: u64,
    calls: u64,
    started: Instant,
    drawn_at: Instant,
    visible: bool,
}

impl Counter {
    pub fn new(label: &'static str, total: Option<u64>) -> Counter {
        let now = Instant::now();
        Counter {
            label,
            total,
            done: 0,
            calls: 0,
            started: now,
            drawn_at: now,
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// Counts one more item, redrawing at most every `REDRAW_EVERY`.
    pub fn tick(&mut self) {
        self.advance_to(self.done + 1);
    }

    /// Sets how much is done (for work measured in bytes), redrawing at most every
    /// `REDRAW_EVERY`.
    pub fn advance_to(&mut self, done: u64) {
        self.done = done;
        self.calls += 1;
        if self.visible && self.calls % 1024 == 0 && self.drawn_at.elapsed() >= REDRAW_EVERY {
            self.drawn_at = Instant::now();
            draw(self.label, self.done, self.total, self.started);
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if self.visible {
            clear();
        }
    }
}

/// A progress line redrawn by a thread from `poll` (for work the library does in one call,
/// such as a copy, watched through the size of the file it writes), until dropped.
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    pub fn start(
        label: &'static str,
        total: Option<u64>,
        poll: impl Fn() -> u64 + Send + 'static,
    ) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    draw(label, poll(), total, started);
                    std::thread::sleep(REDRAW_EVERY);
                }
                clear();
            })
        });
        Watch { stop, thread }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
