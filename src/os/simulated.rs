//! A simulated disk for crash tests (built for tests and with the `test-support` feature only).
//!
//! [`SimulatedDisk`] stands behind the [`PageIo`] trait. Every write goes through to the real
//! file at once (so the memory map sees it, as it would see the page cache), and is also
//! logged as not yet durable; a sync makes the logged writes durable. The disk can be told to
//! crash at its Nth operation (write, resize, sync, or the directory sync that makes a new
//! file's entry durable): that operation and every later one fail. Afterwards the test asks
//! for the image a reboot would find:
//!
//! - after a power loss, the durable image plus some of the writes that were not durable,
//!   some of them torn, and the file's length as far as size changes had become durable
//!   (the model: [`SimulatedDisk::image_after_power_loss`]);
//! - after a process crash (what `NO_SYNC` promises to survive), every completed write, and the
//!   in-flight one torn.
//!
//! It can also fail one operation with `ENOSPC` or `EIO` and carry on, to test that errors are
//! clean. A failed sync drops the writes it covered, as Linux does after a writeback error:
//! they stay readable in the file (the page cache keeps them until a reboot), but no later
//! sync makes them durable, and a power loss keeps, loses or tears each of them.

use std::cell::Cell;
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

/// The granularity of torn writes inside the written range.
const TEAR_PIECE_BYTES: usize = 64;

/// The physical sector size of a disk made by [`SimulatedDisk::new`].
pub const DEFAULT_SECTOR_SIZE: usize = 4096;

/// How many power-loss images of each pattern this thread drew with at least two writes
/// whose fate was open (see [`SimulatedDisk::image_after_power_loss`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FatePatterns {
    /// Each write kept, lost or torn independently.
    pub uniform: u64,
    /// Every write kept but one, lost or torn.
    pub all_but_one: u64,
    /// The last write (a commit's meta) kept, and none or some of the others.
    pub last_kept: u64,
}

thread_local! {
    static FATE_PATTERNS: Cell<FatePatterns> = const {
        Cell::new(FatePatterns { uniform: 0, all_but_one: 0, last_kept: 0 })
    };
}

/// The power-loss patterns drawn on this thread so far, so that a test can assert that the
/// dangerous ones are drawn often.
pub fn fate_patterns_drawn() -> FatePatterns {
    FATE_PATTERNS.with(Cell::get)
}

/// What the page cache held around a write: the whole sectors it touches.
#[derive(Debug, Clone)]
struct Around {
    start: u64,
    sector_size: usize,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Operation {
    Write {
        offset: u64,
        bytes: Vec<u8>,
        /// Only for a write that does not cover whole sectors.
        around: Option<Around>,
    },
    SetLen(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// On stable storage: a sync returned after the write.
    Durable,
    /// Not synced yet.
    Unsynced,
    /// Covered by a sync that failed: never made durable by a later sync.
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Kept,
    Lost,
    Torn,
}

struct Logged {
    offset: u64,
    bytes: Vec<u8>,
    around: Option<Around>,
    status: Status,
}

struct DiskState {
    /// The file's bytes as far as they are durable, up to the first write of `log`.
    base: Vec<u8>,
    /// Writes since `base`, oldest first.
    log: Vec<Logged>,
    /// The file's length, as far as it is durable (made so by `sync_all`, fsync).
    durable_len: u64,
    /// The file's length now (in the page cache).
    len: u64,
    /// The length after each size change (a resize, a write past the end) since the last
    /// `sync_all`, oldest first.
    size_changes: Vec<u64>,
    /// The operation that crashed, if the disk crashed inside a write or resize.
    in_flight: Option<Operation>,
    operations: u64,
    /// Syncs performed (successful ones).
    syncs: u64,
    /// The numbers of the operations that were syncs.
    sync_operations: Vec<u64>,
    fault: Fault,
    /// A crash armed besides `fault`.
    crash_at: Option<u64>,
    crashed: bool,
    /// Whether an environment opened on the disk before (a reopening keeps what is durable).
    opened: bool,
    /// Whether a directory sync made the file's directory entry durable.
    directory_synced: bool,
    sector_size: usize,
}

/// A disk that can crash; see the module docs.
pub struct SimulatedDisk {
    state: Mutex<DiskState>,
}

struct SimulatedFile {
    disk: Arc<SimulatedDisk>,
    real: OsFile,
    /// The same file, to read what the page cache holds around a write.
    reader: File,
}

impl SimulatedDisk {
    /// A disk with [`DEFAULT_SECTOR_SIZE`]-byte sectors that will apply `fault`.
    pub fn new(fault: Fault) -> Arc<SimulatedDisk> {
        SimulatedDisk::with_sector_size(fault, DEFAULT_SECTOR_SIZE)
    }

    /// A disk with physical sectors of `sector_size` bytes (a power of two) that will apply
    /// `fault`. A torn write may damage the whole of every sector it touches.
    pub fn with_sector_size(fault: Fault, sector_size: usize) -> Arc<SimulatedDisk> {
        assert!(
            sector_size.is_power_of_two(),
            "a sector size is a power of two"
        );
        Arc::new(SimulatedDisk {
            state: Mutex::new(DiskState {
                base: Vec::new(),
                log: Vec::new(),
                durable_len: 0,
                len: 0,
                size_changes: Vec::new(),
                in_flight: None,
                operations: 0,
                syncs: 0,
                sync_operations: Vec::new(),
                fault,
                crash_at: None,
                crashed: false,
                opened: false,
                directory_synced: false,
                sector_size,
            }),
        })
    }

    /// A factory for [`EnvOpenOptions::page_io`](crate::EnvOpenOptions::page_io): the file's
    /// contents when an environment first opens on the disk count as durable; opening it again
    /// (as a process would after an error) changes nothing of what is durable.
    pub fn factory(self: &Arc<Self>) -> PageIoFactory {
        let disk = self.clone();
        Arc::new(move |file: File| {
            let len = file.metadata()?.len();
            {
                let mut state = disk.state.lock();
                if !state.opened {
                    let mut contents = vec![0u8; len as usize];
                    file.read_exact_at(&mut contents, 0)?;
                    state.base = contents;
                    state.durable_len = len;
                    state.len = len;
                    state.opened = true;
                }
            }
            Ok(Box::new(SimulatedFile {
                disk: disk.clone(),
                reader: file.try_clone()?,
                real: OsFile::new(file, std::path::Path::new("(simulated disk)"), false)?,
            }) as Box<dyn PageIo>)
        })
    }

    /// Makes the disk crash at `operation` too (besides its fault): a test can fail a sync,
    /// let the environment go on, and cut the power later.
    pub fn crash_at(&self, operation: u64) {
        self.state.lock().crash_at = Some(operation);
    }

    /// Whether the disk has crashed.
    pub fn crashed(&self) -> bool {
        self.state.lock().crashed
    }

    /// A description of the operation the disk crashed in (for diagnostics).
    pub fn in_flight(&self) -> String {
        match &self.state.lock().in_flight {
            None => "a sync".to_string(),
            Some(Operation::SetLen(len)) => format!("resizing to {len}"),
            Some(Operation::Write { offset, bytes, .. }) => {
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

    /// The numbers of the operations so far that were syncs (of either kind, and those inside
    /// durable writes), so that a test can crash at one.
    pub fn sync_operations(&self) -> Vec<u64> {
        self.state.lock().sync_operations.clone()
    }

    /// Operations performed (or attempted) so far.
    pub fn operations(&self) -> u64 {
        self.state.lock().operations
    }

    /// The image a reboot after a power loss finds, chosen by `seed`:
    ///
    /// - **Data.** A write is durable once a sync (of either kind, or the one inside
    ///   `write_durably`) returned after it; a sync that failed drops the writes it covered
    ///   (they are never made durable later). Every other write (and the one in flight) is
    ///   kept, lost, or torn: some of its 64-byte pieces written and, since a drive writes
    ///   whole physical sectors, the rest of each sector it touches left old, given the bytes
    ///   the page cache held there, or garbage.
    /// - **Length.** The file's length is metadata, made durable only by `sync_all` (fsync),
    ///   never by `sync_data` or `write_durably` (POSIX lets fdatasync skip metadata; this is
    ///   the conservative reading). The size changes since the last `sync_all` (resizes, writes
    ///   past the end) reach the disk in order, as a journal commits them: the length after
    ///   the power loss is the one after some first few of them, and bytes past it are lost.
    /// - **Which.** One of three patterns, chosen by the seed, a third of the images each:
    ///   each write and the length independently (a write kept or lost two times in five
    ///   each, torn one in five); every write and size change kept but one chosen at random
    ///   (a write lost or torn; a size change lost with those after it); the last write (a
    ///   commit's meta) kept and either nothing else or each other write with even odds.
    pub fn image_after_power_loss(&self, seed: u64) -> Vec<u8> {
        let state = self.state.lock();
        let mut random = SplitMix(seed);
        let in_flight_write = match &state.in_flight {
            Some(Operation::Write {
                offset,
                bytes,
                around,
            }) => Some(Logged {
                offset: *offset,
                bytes: bytes.clone(),
                around: around.clone(),
                status: Status::Unsynced,
            }),
            _ => None,
        };
        let writes: Vec<&Logged> = state.log.iter().chain(in_flight_write.iter()).collect();
        let open = writes
            .iter()
            .filter(|write| write.status != Status::Durable)
            .count();
        let mut size_changes = state.size_changes.clone();
        match &state.in_flight {
            Some(Operation::SetLen(len)) => size_changes.push(*len),
            Some(Operation::Write { offset, bytes, .. })
                if offset + bytes.len() as u64 > state.len =>
            {
                size_changes.push(offset + bytes.len() as u64)
            }
            _ => {}
        }
        let (fates, sizes_kept) = choose_fates(&mut random, open, size_changes.len());
        let mut fates = fates.into_iter();
        let mut image = state.base.clone();
        for write in writes {
            let fate = if write.status == Status::Durable {
                Fate::Kept
            } else {
                fates.next().expect("a fate for every open write")
            };
            apply(&mut image, write, fate, &mut random, true);
        }
        let len = match sizes_kept {
            0 => state.durable_len,
            kept => size_changes[kept - 1],
        };
        image.resize(len as usize, 0);
        image
    }

    /// The image after the process (not the machine) crashed: every completed write survives
    /// in the page cache; the one in flight is torn (inside its range only: the page cache
    /// has no sectors).
    pub fn image_after_process_crash(&self, seed: u64) -> Vec<u8> {
        let state = self.state.lock();
        let mut random = SplitMix(seed);
        let mut image = state.base.clone();
        for write in &state.log {
            apply(&mut image, write, Fate::Kept, &mut random, false);
        }
        image.resize(state.len as usize, 0);
        match &state.in_flight {
            Some(Operation::SetLen(len)) if random.below(2) == 0 => {
                image.resize(*len as usize, 0);
            }
            Some(Operation::Write { offset, bytes, .. }) => {
                let write = Logged {
                    offset: *offset,
                    bytes: bytes.clone(),
                    around: None,
                    status: Status::Unsynced,
                };
                apply(&mut image, &write, Fate::Torn, &mut random, false);
            }
            Some(Operation::SetLen(_)) | None => {}
        }
        image
    }

    /// Whether a write at `offset` of `len` bytes leaves part of a sector unwritten, and if so
    /// the sector size and the range of the sectors it touches.
    fn sectors_around(&self, offset: u64, len: usize) -> Option<(usize, u64, u64)> {
        let sector = self.state.lock().sector_size;
        let end = offset + len as u64;
        let start = offset / sector as u64 * sector as u64;
        let stop = end.div_ceil(sector as u64) * sector as u64;
        (start != offset || stop != end).then_some((sector, start, stop))
    }

    /// Counts an operation and decides its fate: `Ok(())` to perform it.
    fn begin_operation(&self, operation: Option<Operation>) -> io::Result<()> {
        let mut state = self.state.lock();
        if state.crashed {
            return Err(io::Error::other("simulated crash: the disk is gone"));
        }
        state.operations += 1;
        let number = state.operations;
        if operation.is_none() {
            state.sync_operations.push(number);
        }
        if state.fault == Fault::CrashAt(number) || state.crash_at == Some(number) {
            state.crashed = true;
            state.in_flight = operation;
            return Err(io::Error::other("simulated crash"));
        }
        let failure = match state.fault {
            Fault::NoSpaceAt(at) if at == number => Some(libc::ENOSPC),
            Fault::IoErrorAt(at) if at == number => Some(libc::EIO),
            _ => None,
        };
        if let Some(errno) = failure {
            if operation.is_none() {
                // A failed sync: the kernel marks the pages it could not write clean; they
                // stay in the page cache, and what reached the disk is unknown.
                for write in &mut state.log {
                    if write.status == Status::Unsynced {
                        write.status = Status::Dropped;
                    }
                }
            }
            return Err(io::Error::from_raw_os_error(errno));
        }
        match operation {
            None => {}
            Some(Operation::SetLen(len)) => {
                state.len = len;
                state.size_changes.push(len);
            }
            Some(Operation::Write {
                offset,
                bytes,
                around,
            }) => {
                let end = offset + bytes.len() as u64;
                if end > state.len {
                    state.len = end;
                    state.size_changes.push(end);
                }
                state.log.push(Logged {
                    offset,
                    bytes,
                    around,
                    status: Status::Unsynced,
                });
            }
        }
        Ok(())
    }

    /// A sync: `all` (fsync) makes the length durable too.
    fn sync(&self, all: bool) -> io::Result<()> {
        self.begin_operation(None)?;
        let mut state = self.state.lock();
        for write in &mut state.log {
            if write.status == Status::Unsynced {
                write.status = Status::Durable;
            }
        }
        if all {
            state.durable_len = state.len;
            state.size_changes.clear();
        }
        // Fold the durable writes that no dropped one precedes into the base.
        let folded = state
            .log
            .iter()
            .take_while(|write| write.status == Status::Durable)
            .count();
        let DiskState { base, log, .. } = &mut *state;
        let mut unused = SplitMix(0);
        for write in log.drain(..folded) {
            apply(base, &write, Fate::Kept, &mut unused, false);
        }
        state.syncs += 1;
        Ok(())
    }
}

/// Decides the fate of `open` writes (in order) and how many of `size_changes` size changes
/// reach the disk, by one of the patterns of [`SimulatedDisk::image_after_power_loss`].
fn choose_fates(random: &mut SplitMix, open: usize, size_changes: usize) -> (Vec<Fate>, usize) {
    let uniform = |random: &mut SplitMix| match random.below(5) {
        0 | 1 => Fate::Kept,
        2 | 3 => Fate::Lost,
        _ => Fate::Torn,
    };
    let pattern = random.below(3);
    if open >= 2 {
        FATE_PATTERNS.with(|counts| {
            let mut drawn = counts.get();
            match pattern {
                0 => drawn.uniform += 1,
                1 => drawn.all_but_one += 1,
                _ => drawn.last_kept += 1,
            }
            counts.set(drawn);
        });
    }
    match pattern {
        0 => {
            let fates = (0..open).map(|_| uniform(random)).collect();
            (fates, random.below(size_changes as u64 + 1) as usize)
        }
        1 => {
            let mut fates = vec![Fate::Kept; open];
            let victim = random.below((open + size_changes).max(1) as u64) as usize;
            if victim < open {
                fates[victim] = if random.below(2) == 0 {
                    Fate::Lost
                } else {
                    Fate::Torn
                };
                (fates, size_changes)
            } else {
                (fates, victim - open)
            }
        }
        _ => {
            let some_others = random.below(2) == 0;
            let mut fates: Vec<Fate> = (0..open)
                .map(|_| {
                    if some_others && random.below(2) == 0 {
                        Fate::Kept
                    } else {
                        Fate::Lost
                    }
                })
                .collect();
            if let Some(last) = fates.last_mut() {
                *last = Fate::Kept;
            }
            (fates, random.below(size_changes as u64 + 1) as usize)
        }
    }
}

/// Applies a write to an image by its fate. A torn write keeps some of its 64-byte pieces,
/// and (`sectors`) the rest of each physical sector it touches is left old, given the bytes
/// the page cache held there, or garbage.
fn apply(image: &mut Vec<u8>, write: &Logged, fate: Fate, random: &mut SplitMix, sectors: bool) {
    let start = write.offset as usize;
    let bytes = &write.bytes;
    let grow_to = |image: &mut Vec<u8>, end: usize| {
        if image.len() < end {
            image.resize(end, 0);
        }
    };
    match fate {
        Fate::Lost => {}
        Fate::Kept => {
            grow_to(image, start + bytes.len());
            image[start..start + bytes.len()].copy_from_slice(bytes);
        }
        Fate::Torn => {
            grow_to(image, start + bytes.len());
            for (index, piece) in bytes.chunks(TEAR_PIECE_BYTES).enumerate() {
                if random.below(2) == 0 {
                    let at = start + index * TEAR_PIECE_BYTES;
                    image[at..at + piece.len()].copy_from_slice(piece);
                }
            }
            let Some(around) = write.around.as_ref().filter(|_| sectors) else {
                return;
            };
            let around_start = around.start as usize;
            grow_to(image, around_start + around.bytes.len());
            let sector = around.sector_size;
            for sector_start in (around_start..around_start + around.bytes.len()).step_by(sector) {
                let choice = random.below(3);
                let cached = &around.bytes[sector_start - around_start..][..sector];
                let on_disk = &mut image[sector_start..sector_start + sector];
                for (index, (byte, cached)) in on_disk.iter_mut().zip(cached).enumerate() {
                    if (start..start + bytes.len()).contains(&(sector_start + index)) {
                        continue;
                    }
                    match choice {
                        0 => {}
                        1 => *byte = *cached,
                        _ => *byte = random.below(256) as u8,
                    }
                }
            }
        }
    }
}
impl PageIo for SimulatedFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        // What the page cache holds in the rest of the sectors the write touches: a drive
        // that tears the write may leave those bytes, write them, or scramble them.
        let around = match self.disk.sectors_around(offset, bytes.len()) {
            None => None,
            Some((sector_size, start, stop)) => {
                let mut around = vec![0u8; (stop - start) as usize];
                let len = self.reader.metadata()?.len();
                let readable = stop.min(len).saturating_sub(start) as usize;
                self.reader.read_exact_at(&mut around[..readable], start)?;
                Some(Around {
                    start,
                    sector_size,
                    bytes: around,
                })
            }
        };
        self.disk.begin_operation(Some(Operation::Write {
            offset,
            bytes: bytes.to_vec(),
            around,
        }))?;
        self.real.write_at(offset, bytes)
    }

    fn write_durably(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        // A crash in the middle of an O_DSYNC write leaves what a crash between a write and
        // its sync leaves: so simulate it as exactly that, two operations. O_DSYNC is a data
        // sync: it does not make a size change durable.
        self.write_at(offset, bytes)?;
        self.disk.sync(false)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.disk.sync(false)
    }

    fn sync_all(&self) -> io::Result<()> {
        self.disk.sync(true)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        // The engine only grows the file; a shrink would be modelled as a length only.
        self.disk.begin_operation(Some(Operation::SetLen(len)))?;
        self.real.set_len(len)
    }

    fn file_len(&self) -> io::Result<u64> {
        self.real.file_len()
    }

    fn sync_directory(&self, _directory: &std::path::Path) -> io::Result<()> {
        // An operation of its own (a crash point, counted with the syncs), which makes no
        // write of the file durable.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk and a file on it holding `initial` (durable).
    fn disk_with(
        fault: Fault,
        sector_size: usize,
        initial: &[u8],
    ) -> (tempfile::TempDir, Arc<SimulatedDisk>, Box<dyn PageIo>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        std::fs::write(&path, initial).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let disk = SimulatedDisk::with_sector_size(fault, sector_size);
        let io = (disk.factory())(file).unwrap();
        (dir, disk, io)
    }

    /// The images of many seeds.
    fn images(disk: &SimulatedDisk) -> Vec<Vec<u8>> {
        (0..300)
            .map(|seed| disk.image_after_power_loss(seed))
            .collect()
    }

    #[test]
    fn a_resize_is_durable_after_fsync_but_not_after_fdatasync() {
        let (_dir, disk, io) = disk_with(Fault::Never, 512, &[1; 1024]);
        io.set_len(4096).unwrap();
        io.write_at(2048, &[2; 512]).unwrap();
        io.sync_data().unwrap();
        let lengths: Vec<usize> = images(&disk).iter().map(Vec::len).collect();
        assert!(lengths.contains(&1024), "the resize may be lost");
        assert!(lengths.contains(&4096), "or kept");
        assert!(lengths.iter().all(|&len| len == 1024 || len == 4096));
        // The data write past the old end is durable, but only as far as the length is.
        assert!(images(&disk)
            .iter()
            .all(|image| image.len() == 1024 || image[2048..2560] == [2; 512]));
        io.write_durably(0, &[3; 512]).unwrap();
        assert!(images(&disk).iter().any(|image| image.len() == 1024));
        io.sync_all().unwrap();
        assert!(images(&disk).iter().all(|image| image.len() == 4096));
    }

    #[test]
    fn a_failed_sync_drops_its_writes_even_after_a_later_sync() {
        // Operation 2 (the first sync) fails.
        let (dir, disk, io) = disk_with(Fault::IoErrorAt(2), 512, &[0; 2048]);
        io.write_at(512, &[7; 512]).unwrap();
        assert!(io.sync_data().is_err());
        // The file still reads the dropped write back (the page cache keeps it).
        assert_eq!(std::fs::read(dir.path().join("file")).unwrap()[512], 7);
        io.write_at(1024, &[8; 512]).unwrap();
        io.sync_all().unwrap();
        let after = images(&disk);
        assert!(after.iter().all(|image| image[1024..1536] == [8; 512]));
        assert!(after.iter().any(|image| image[512..1024] == [0; 512]));
        assert!(after.iter().any(|image| image[512..1024] == [7; 512]));
        // A write that a later sync covers is durable, even over a dropped one.
        io.write_at(512, &[9; 512]).unwrap();
        io.sync_data().unwrap();
        assert!(images(&disk)
            .iter()
            .all(|image| image[512..1024] == [9; 512]));
    }

    #[test]
    fn a_torn_write_may_damage_the_rest_of_its_sectors_and_nothing_beyond() {
        let (_dir, disk, io) = disk_with(Fault::CrashAt(1), 4096, &[5; 8192]);
        assert!(io.write_at(512, &[6; 512]).is_err());
        let torn = images(&disk);
        assert!(torn.iter().all(|image| image[4096..] == [5; 4096]));
        assert!(
            torn.iter().any(|image| image[..512] != [5; 512]),
            "the other pages of the sector are sometimes damaged"
        );
        // With sectors as large as the write, it damages nothing else.
        let (_dir, disk, io) = disk_with(Fault::CrashAt(1), 512, &[5; 8192]);
        assert!(io.write_at(512, &[6; 512]).is_err());
        assert!(images(&disk)
            .iter()
            .all(|image| image[..512] == [5; 512] && image[1024..] == [5; 7168]));
    }

    #[test]
    fn the_biased_patterns_keep_all_but_one_write_or_the_last_one() {
        let (_dir, disk, io) = disk_with(Fault::Never, 512, &[0; 512 * 8]);
        for page in 0..8u8 {
            io.write_at(512 * u64::from(page), &[page + 1; 512])
                .unwrap();
        }
        let whole = |image: &Vec<u8>, page: usize| {
            image[512 * page..512 * (page + 1)] == [page as u8 + 1; 512]
        };
        let before = fate_patterns_drawn();
        let drawn_images = images(&disk);
        let drawn = fate_patterns_drawn();
        assert_eq!(
            (drawn.uniform - before.uniform)
                + (drawn.all_but_one - before.all_but_one)
                + (drawn.last_kept - before.last_kept),
            300
        );
        assert!(drawn.all_but_one - before.all_but_one >= 70);
        assert!(drawn.last_kept - before.last_kept >= 70);
        let all_but_one = drawn_images
            .iter()
            .filter(|image| (0..8).filter(|&page| whole(image, page)).count() == 7)
            .count();
        let only_last = drawn_images
            .iter()
            .filter(|image| whole(image, 7) && (0..7).all(|page| image[512 * page] == 0))
            .count();
        assert!(all_but_one >= 70, "{all_but_one}");
        assert!(only_last >= 30, "{only_last}");
    }
}
