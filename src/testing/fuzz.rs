//! The fuzz targets' bodies. `fuzz/fuzz_targets/*.rs` call these, and
//! `tests/fuzz_corpus.rs` replays the committed corpora through them under `cargo test`.
//! Each must return normally on any input: a panic is a bug.

use super::crash::{run_crash_case, CrashCase, CrashKind, Op, DATABASE_NAMES};
use super::TempDir;
use crate::btree::check;
use crate::btree::cursor::Cursor;
use crate::btree::node::Node;
use crate::btree::PageSource;
use crate::page::free_segment;
use crate::page::freelist::{self, FreeList};
use crate::page::header;
use crate::page::meta::{Meta, MetaSlot, TreeInfo};
use crate::page::PageId;
use crate::types::Bytes;
use crate::{EnvFlags, EnvOpenOptions, Error, Result};

/// Pages cut from fuzz input, numbered from 2 (0 and 1 stand for the metas).
struct InputPages {
    bytes: Vec<u8>,
    page_size: usize,
}

impl PageSource for InputPages {
    fn page_size(&self) -> usize {
        self.page_size
    }

    fn read(&self, id: PageId, pages: usize) -> Result<&[u8]> {
        let start = (id as usize)
            .checked_mul(self.page_size)
            .ok_or_else(|| Error::corrupted(id, "huge"))?;
        let end = start
            .checked_add(pages * self.page_size)
            .ok_or_else(|| Error::corrupted(id, "huge"))?;
        if id < 2 {
            return Err(Error::corrupted(id, "a meta page"));
        }
        self.bytes
            .get(start..end)
            .ok_or_else(|| Error::corrupted(id, "past the input"))
    }

    fn page_count(&self) -> u64 {
        (self.bytes.len() / self.page_size) as u64
    }
}

/// Decodes arbitrary bytes as meta, node, freelist and whole trees.
pub fn page_decode(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let page_size = [512usize, 1024, 4096][selector as usize % 3];
    let (slot, tail) = Meta::decode_with_tail(rest);
    let _ = FreeList::decode(rest, 1 << 20, 0);

    // The input as pages 2, 3, ...
    let mut bytes = vec![0u8; 2 * page_size];
    bytes.extend_from_slice(rest);
    bytes.resize(bytes.len().div_ceil(page_size).max(3) * page_size, 0);
    let pages = InputPages { bytes, page_size };
    if let MetaSlot::Valid(meta) = slot {
        // The runs a meta lists, checked against the input as the file (never past it).
        // The freelist a meta keeps, read as a writer would.
        let _ =
            crate::page::freelist::read(&meta, tail.freelist.as_deref(), |id| pages.read(id, 1));
        let _ = crate::page::meta::verify_unsynced(
            &tail.runs,
            page_size,
            meta.page_count,
            |offset, buffer| {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let bytes = start
                    .checked_add(buffer.len())
                    .and_then(|end| pages.bytes.get(start..end))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buffer.copy_from_slice(bytes);
                Ok(())
            },
        );
    }
    let probe = &rest[..rest.len().min(12)];
    for id in 2..pages.page_count() {
        let Ok(page) = pages.read(id, 1) else {
            continue;
        };
        let _ = header::checksum_matches(page);
        for leaf in [true, false] {
            let Ok(node) = Node::open(page, id, leaf) else {
                continue;
            };
            let _ = node.used_bytes();
            // Each search reads cells of its own kind (`Node::open` checked the kind).
            let _ = if leaf {
                node.search_leaf(probe).map(|_| ())
            } else {
                node.search_branch(probe).map(|_| ())
            };
            for index in 0..node.count() {
                let _ = node.key(index);
                let _ = node.cell(index);
                let _ = if leaf {
                    node.entry(index).map(|_| ())
                } else {
                    node.child(index).map(|_| ())
                };
            }
        }
    }
    // The freelist readers refuse a page whose checksum fails before decoding it, so they
    // also get the input with every page's checksum made right, to reach their decoders.
    let mut sealed = InputPages {
        bytes: pages.bytes.clone(),
        page_size,
    };
    for page in sealed.bytes.chunks_mut(page_size).skip(2) {
        header::seal(page);
    }
    for source in [&pages, &sealed] {
        let _ = freelist::read_chain(2, source.page_count(), page_size, |id| source.read(id, 1));
        for id in 2..source.page_count() {
            if let Ok(page) = source.read(id, 1) {
                let _ = free_segment::read(page, id, source.page_count());
            }
        }
    }

    // A tree rooted at page 2, of a depth the input chooses, walked every way.
    let depth = 1 + (selector as u32 / 3) % 5;
    let tree = TreeInfo {
        root: 2,
        depth,
        ..TreeInfo::default()
    };
    if let Ok(mut cursor) = Cursor::new(&pages, tree) {
        for backward in [false, true] {
            let positioned = if backward {
                cursor.seek_last()
            } else {
                cursor.seek_first()
            };
            if positioned.is_err() {
                continue;
            }
            for _ in 0..100_000 {
                match cursor.current() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
                let moved = if backward {
                    cursor.prev()
                } else {
                    cursor.next()
                };
                if moved.is_err() {
                    break;
                }
            }
        }
        let _ = cursor.seek_after(probe, true);
        let _ = cursor.seek_before(probe, false);
    }
    let _ = crate::btree::cursor::get(&pages, &tree, probe);
    let meta = Meta {
        page_count: pages.page_count(),
        main: tree,
        ..Meta::empty(page_size as u32, 0)
    };
    let _ = check::check(&pages, &meta, None);
}

/// Opens arbitrary bytes as a data file and does everything a user might: every error is
/// fine, a panic is not.
pub fn open_bytes(data: &[u8]) {
    let Ok(dir) = TempDir::new() else { return };
    if std::fs::write(dir.path().join(crate::env::DATA_FILE_NAME), data).is_err() {
        return;
    }
    let _ = exercise(dir.path());
}

fn exercise(dir: &std::path::Path) -> Result<()> {
    // SAFETY: the directory is private to this call.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(16)
            .open(dir)?
    };
    let _ = env.check()?;
    let names = {
        let rtxn = env.read_txn()?;
        let mut names: Vec<Option<String>> = vec![None];
        names.extend(rtxn.database_names()?.into_iter().map(Some));
        for name in &names {
            if let Ok(Some(db)) = env.open_database::<Bytes, Bytes>(&rtxn, name.as_deref()) {
                for entry in db.iter(&rtxn)? {
                    entry?;
                }
                for entry in db.rev_iter(&rtxn)? {
                    entry?;
                }
            }
        }
        names
    };
    let mut wtxn = env.write_txn()?;
    for name in names.iter().take(4) {
        let db = env.create_database::<Bytes, Bytes>(&mut wtxn, name.as_deref())?;
        for n in 0..20u32 {
            db.put(&mut wtxn, &n.to_be_bytes(), b"fuzz")?;
            db.delete(&mut wtxn, &(n * 3).to_be_bytes())?;
        }
    }
    wtxn.commit()?;
    let _ = env.check()?;
    Ok(())
}

/// Decodes a workload and a crash point from the input, runs it on a simulated disk, and
/// panics if a guarantee breaks (see [`run_crash_case`]).
///
/// Input: byte 0 picks the sync mode and whether transactions spill pages before commit (a
/// small transaction memory limit), bytes 1-2 the crash point (0: none), byte 3 the seed of
/// which unsynced writes survive; then 4-byte ops `[code, db, key, length]`.
pub fn ops(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let (flags, kind) = match data[0] % 3 {
        0 => (EnvFlags::empty(), CrashKind::PowerLoss),
        1 => (EnvFlags::NO_META_SYNC, CrashKind::PowerLoss),
        _ => (EnvFlags::NO_SYNC, CrashKind::ProcessCrash),
    };
    let crash_point = u16::from_le_bytes([data[1], data[2]]) as u64;
    let mut transactions: Vec<Vec<Op>> = vec![Vec::new()];
    for op in data[4..].chunks_exact(4).take(400) {
        let db = op[1] as usize % DATABASE_NAMES.len();
        let key = vec![b'k', op[2] % 64];
        match op[0] % 10 {
            0..=4 => transactions.last_mut().expect("never empty").push(Op::Put {
                db,
                key,
                value: vec![op[3]; op[3] as usize],
            }),
            5 => transactions.last_mut().expect("never empty").push(Op::Put {
                db,
                key,
                value: vec![op[3]; 600 + 8 * op[3] as usize],
            }),
            6 | 7 => transactions
                .last_mut()
                .expect("never empty")
                .push(Op::Delete { db, key }),
            8 => transactions
                .last_mut()
                .expect("never empty")
                .push(Op::Clear { db }),
            _ if transactions.len() < 16 => transactions.push(Vec::new()),
            _ => {}
        }
    }
    let case = CrashCase {
        transactions: &transactions,
        flags,
        page_size: 512,
        kind,
        seed: data[3] as u64,
        // Half the cases spill: a transaction memory limit of two to nine 512-byte pages.
        txn_memory_max: (data[0] / 3 % 2 == 1).then(|| 1024 + 512 * (data[0] as usize / 6 % 8)),
    };
    let crash_at = if crash_point == 0 {
        None
    } else {
        let total = match super::crash::count_operations(&case) {
            Ok(total) => total,
            Err(error) => panic!("the workload failed without a crash: {error}"),
        };
        Some(1 + crash_point % total.max(1))
    };
    if let Err(error) = run_crash_case(&case, crash_at) {
        panic!("{error}");
    }
}
