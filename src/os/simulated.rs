//! A simulated disk for crash tests (built for tests and with the `test-support` feature only).
//!
//! [`SimulatedDisk`] stands behind the [`PageIo`] trait. Every write goes through to the real
//! file at once (so the memory map sees it, as it would see the page cache), and is also kept
//! in a list of writes not yet synced; a sync moves them into the durable image. The disk can
//! be told to crash at its Nth operation (write, resize, sync, or the directory sync that
//! makes a new file's entry durable): that operation and every later one fail. Afterwards the test asks for the image a reboot would find:
//!
//! - after a power loss, the durable image plus an arbitrary subset of the unsynced writes,
//!   some of them torn (only some 64-byte pieces written), chosen from a seed;
//! - after a process crash (what `NO_SYNC` promises to survive), every completed write, and the
//!   in-flight one torn.
//!
//! It can also fail one operation with `ENOSPC` or `EIO` and carry on, to test that errors are
//! clean.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{OsFile, PageIo, PageIoFactory};

/// What the simulated disk does at a chosen operation (operations are numbered from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: every operation succeeds.
    Never,
    /// The machine stops at this operation: it and every later one fail.
    CrashAt(u64),
    /// This operation fails with "no space left on device"; later ones succeed.
    NoSpaceAt(u64),
    /// This operation fails with an I/O error; later ones succeed.
    IoErrorAt(u64),
}

/// The granularity of torn writes.
const TEAR_PIECE_BYTES: usize = 64;

#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

struct DiskState {
    durable: Vec<u8>,
    pending: Vec<Pending>,
    /// The operation that crashed, if the disk crashed inside a write.
    in_flight: Option<Pending>,
    operations: u64,
    /// Syncs performed (successful ones).
    syncs: u64,
    fault: Fault,
    crashed: bool,
    /// Whether a directory sync made the file's directory entry durable.
    directory_synced: bool,
}

/// A disk that can crash; see the module docs.
pub struct SimulatedDisk {
    state: Mutex<DiskState>,
}

struct SimulatedFile {
    disk: Arc<SimulatedDisk>,
    real: OsFile,
}

impl SimulatedDisk {
    /// A disk that will apply `fault`.
    pub fn new(fault: Fault) -> Arc<SimulatedDisk> {
        Arc::new(SimulatedDisk {
            state: Mutex::new(DiskState {
                durable: Vec::new(),
                pending: Vec::new(),
                in_flight: None,
                operations: 0,
                syncs: 0,
                fault,
                crashed: false,
                directory_synced: false,
            }),
        })
    }

    /// A factory for [`EnvOpenOptions::page_io`](crate::EnvOpenOptions::page_io): the file's
    /// contents when the environment opens count as durable.
    pub fn factory(self: &Arc<Self>) -> PageIoFactory {
        let disk = self.clone();
        Arc::new(move |file: File| {
            let len = file.metadata()?.len() as usize;
            let mut contents = vec![0u8; len];
            file.read_exact_at(&mut contents, 0)?;
            disk.state.lock().durable = contents;
            Ok(Box::new(SimulatedFile {
                disk: disk.clone(),
                real: OsFile::new(file, std::path::Path::new("(simulated disk)"), false)?,
            }) as Box<dyn PageIo>)
        })
    }

    /// Whether the disk has crashed.
    pub fn crashed(&self) -> bool {
        self.state.lock().crashed
    }

    /// A description of the operation the disk crashed in (for diagnostics).
    pub fn in_flight(&self) -> String {
        match &self.state.lock().in_flight {
            None => "a sync".to_string(),
            Some(Pending::SetLen(len)) => format!("resizing to {len}"),
            Some(Pending::Write { offset, bytes }) => {
                format!("writing {} bytes at {offset}", bytes.len())
            }
        }
    }

    /// Syncs (of either kind, and those inside durable writes) that succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Whether a directory sync returned: before one, a power loss may leave no file at all
    /// where the environment created one.
    pub fn directory_synced(&self) -> bool {
        self.state.lock().directory_synced
    }

    /// Operations performed (or attempted) so far.
    pub fn operations(&self) -> u64 {
        self.state.lock().operations
    }

    /// The image a reboot after a power loss finds: the durable image plus a subset of the
    /// unsynced writes (each kept, lost, or torn), chosen by `seed`.
    pub fn image_after_power_loss(&self, seed: u64) -> Vec<u8> {
        let state = self.state.lock();
        let mut random = SplitMix(seed);
        let mut image = state.durable.clone();
        for pending in state.pending.iter().chain(state.in_flight.iter()) {
            match random.below(5) {
                0 | 1 => apply(&mut image, pending, None),
                2 | 3 => {}
                _ => apply(&mut image, pending, Some(&mut random)),
            }
        }
        image
    }

    /// The image after the process (not the machine) crashed: every completed write survives
    /// in the page cache; the one in flight is torn.
    pub fn image_after_process_crash(&self, seed: u64) -> Vec<u8> {
        let state = self.state.lock();
        let mut random = SplitMix(seed);
        let mut image = state.durable.clone();
        for pending in &state.pending {
            apply(&mut image, pending, None);
        }
        if let Some(in_flight) = &state.in_flight {
            apply(&mut image, in_flight, Some(&mut random));
        }
        image
    }

    /// Counts an operation and decides its fate: `Ok(())` to perform it.
    fn begin_operation(&self, operation: Option<Pending>) -> io::Result<()> {
        let mut state = self.state.lock();
        if state.crashed {
            return Err(io::Error::other("simulated crash: the disk is gone"));
        }
        state.operations += 1;
        let number = state.operations;
        match state.fault {
            Fault::CrashAt(at) if at == number => {
                state.crashed = true;
                state.in_flight = operation;
                Err(io::Error::other("simulated crash"))
            }
            Fault::NoSpaceAt(at) if at == number => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            Fault::IoErrorAt(at) if at == number => Err(io::Error::from_raw_os_error(libc::EIO)),
            _ => {
                if let Some(pending) = operation {
                    state.pending.push(pending);
                }
                Ok(())
            }
        }
    }

    fn sync(&self) -> io::Result<()> {
        self.begin_operation(None)?;
        let mut state = self.state.lock();
        let pending = std::mem::take(&mut state.pending);
        for write in &pending {
            apply(&mut state.durable, write, None);
        }
        state.syncs += 1;
        Ok(())
    }
}

/// Applies a write to an image, whole or (with a random source) torn into 64-byte pieces.
fn apply(image: &mut Vec<u8>, pending: &Pending, torn: Option<&mut SplitMix>) {
    match pending {
        Pending::SetLen(len) => image.resize(*len as usize, 0),
        Pending::Write { offset, bytes } => {
            let start = *offset as usize;
            if image.len() < start + bytes.len() {
                image.resize(start + bytes.len(), 0);
            }
            match torn {
                None => image[start..start + bytes.len()].copy_from_slice(bytes),
                Some(random) => {
                    for (index, piece) in bytes.chunks(TEAR_PIECE_BYTES).enumerate() {
                        if random.below(2) == 0 {
                            let at = start + index * TEAR_PIECE_BYTES;
                            image[at..at + piece.len()].copy_from_slice(piece);
                        }
                    }
                }
            }
        }
    }
}

impl PageIo for SimulatedFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.disk.begin_operation(Some(Pending::Write {
            offset,
            bytes: bytes.to_vec(),
        }))?;
        self.real.write_at(offset, bytes)
    }

    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        // A crash in the middle of an O_DSYNC write leaves what a crash between a write and
        // its sync leaves: so simulate it as exactly that, two operations.
        self.write_at(offset, bytes)?;
        self.disk.sync()
    }

    fn sync_data(&self) -> io::Result<()> {
        self.disk.sync()
    }

    fn sync_all(&self) -> io::Result<()> {
        self.disk.sync()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.disk.begin_operation(Some(Pending::SetLen(len)))?;
        self.real.set_len(len)
    }

    fn file_len(&self) -> io::Result<u64> {
        self.real.file_len()
    }

    fn sync_directory(&self, _directory: &std::path::Path) -> io::Result<()> {
        // An operation of its own (a crash point), which makes no write of the file durable.
        self.disk.begin_operation(None)?;
        self.disk.state.lock().directory_synced = true;
        Ok(())
    }
}

/// splitmix64, for choosing which writes survive.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}
