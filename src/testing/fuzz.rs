//! The fuzz targets' bodies. `fuzz/fuzz_targets/*.rs` call these, and
//! `tests/fuzz_corpus.rs` replays the committed corpora through them under `cargo test`.
//! Each must return normally on any input: a panic is a bug.

use super::crash::{run_crash_case, CrashCase, CrashKind, Op, DATABASE_NAMES, PAIRS};
use super::TempDir;
use crate::btree::check;
use crate::btree::cursor::Cursor;
use crate::btree::node::Node;
use crate::btree::order::KeyOrder;
use crate::btree::PageSource;
use crate::page::header;
use crate::page::id::{PageId, META_PAGE_COUNT};
use crate::page::meta::{Meta, MetaSlot, TreeInfo};
use crate::store::free_segment;
use crate::store::freelist::{self, FreeList};
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
        let start = (id.get() as usize)
            .checked_mul(self.page_size)
            .ok_or_else(|| Error::corrupted(id, "huge"))?;
        let end = start
            .checked_add(pages * self.page_size)
            .ok_or_else(|| Error::corrupted(id, "huge"))?;
        if id < PageId::FIRST_TREE_PAGE {
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

/// A key and its value.
type Entry<'a> = (&'a [u8], &'a [u8]);

/// Decodes arbitrary bytes as meta, node, freelist and whole trees.
pub fn page_decode(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let page_size = [512usize, 1024, 4096][selector as usize % 3];
    let (slot, tail) = Meta::decode_with_tail(rest);
    if let MetaSlot::Valid(meta) = slot {
        // What decodes encodes back to bytes that decode to the same meta (older versions
        // are written as the current one).
        let encoded = meta.encode_with(&tail.runs, tail.freelist.as_deref());
        let mut reread = encoded.clone();
        reread.resize(rest.len().max(encoded.len()), 0);
        assert_eq!(
            Meta::decode_with_tail(&reread),
            (slot, tail.clone()),
            "a meta does not survive re-encoding"
        );
    }
    if let Ok(list) = FreeList::decode(rest, 1 << 20, PageId::NONE) {
        assert_eq!(
            FreeList::decode(&list.encode(), 1 << 20, PageId::NONE)
                .as_ref()
                .ok(),
            Some(&list),
            "a freelist stream does not survive re-encoding"
        );
    }

    // The input as pages 2, 3, ...
    let mut bytes = vec![0u8; 2 * page_size];
    bytes.extend_from_slice(rest);
    bytes.resize(bytes.len().div_ceil(page_size).max(3) * page_size, 0);
    let pages = InputPages { bytes, page_size };
    if let MetaSlot::Valid(meta) = slot {
        // The runs a meta lists, checked against the input as the file (never past it).
        // The freelist a meta keeps, read as a writer would.
        let _ =
            crate::store::freelist::read(&meta, tail.freelist.as_deref(), |id| pages.read(id, 1));
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
    for id in (META_PAGE_COUNT..pages.page_count()).map(PageId::new) {
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
                node.search_leaf(probe, KeyOrder::Bytes).map(|_| ())
            } else {
                node.search_branch(probe, KeyOrder::Bytes).map(|_| ())
            };
            let mut keys = Vec::new();
            for index in 0..node.count() {
                keys.push(node.key(index).ok());
                let _ = node.cell(index);
                let _ = if leaf {
                    node.entry(index).map(|_| ())
                } else {
                    node.child(index).map(|_| ())
                };
            }
            // When every key reads and they are in order, a search finds each where it is.
            let in_order = keys
                .windows(2)
                .all(|pair| matches!(pair, [Some(a), Some(b)] if a < b));
            if leaf && in_order && keys.first().is_some_and(Option::is_some) {
                for (index, key) in keys.iter().enumerate() {
                    let key = key.expect("every key read");
                    assert_eq!(
                        node.search_leaf(key, KeyOrder::Bytes).ok(),
                        Some(Ok(index)),
                        "page {id}: a leaf search misses key {index}"
                    );
                }
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
        let _ = freelist::read_chain(
            PageId::FIRST_TREE_PAGE,
            source.page_count(),
            page_size,
            |id| source.read(id, 1),
        );
        for id in (META_PAGE_COUNT..source.page_count()).map(PageId::new) {
            let Ok(page) = source.read(id, 1) else {
                continue;
            };
            if let Ok(listed) = free_segment::read(page, id, source.page_count()) {
                // A segment that reads is one `write` would produce.
                let mut written = vec![0u8; page_size];
                free_segment::write(&mut written, id, &listed);
                header::seal(&mut written);
                assert_eq!(
                    free_segment::read(&written, id, source.page_count()).ok(),
                    Some(listed),
                    "free segment {id} does not survive rewriting"
                );
            }
        }
    }

    // A tree rooted at page 2, of a depth the input chooses, walked every way.
    let depth = 1 + (selector as u32 / 3) % 5;
    let tree = TreeInfo {
        root: PageId::FIRST_TREE_PAGE,
        depth,
        ..TreeInfo::default()
    };
    // Each walk: the entries in the order met, or `None` if it stopped on an error.
    let mut walks: [Option<Vec<Entry<'_>>>; 2] = [None, None];
    if let Ok(mut cursor) = Cursor::new(&pages, tree, KeyOrder::Bytes) {
        for (backward, walk) in [false, true].into_iter().zip(&mut walks) {
            let positioned = if backward {
                cursor.seek_last()
            } else {
                cursor.seek_first()
            };
            if positioned.is_err() {
                continue;
            }
            let mut entries = Vec::new();
            for _ in 0..100_000 {
                match cursor.current() {
                    Ok(Some(entry)) => entries.push(entry),
                    Ok(None) => {
                        *walk = Some(entries);
                        break;
                    }
                    Err(_) => break,
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
    let _ = crate::btree::cursor::get(&pages, &tree, KeyOrder::Bytes, probe);
    let meta = Meta {
        page_count: pages.page_count(),
        main: tree,
        ..Meta::empty(page_size as u32, 0)
    };
    let report = check::check(&pages, &meta, None, &|_| None);
    // The checker sees the rest of the input as leaked pages, and the descriptor's counts are
    // made up; any other problem is the tree's.
    let tree_sound = report.problem_count == report.problems.len()
        && report
            .problems
            .iter()
            .all(|problem| problem.ends_with("(leaked)") || problem.contains("descriptor says"));
    if tree_sound {
        // A tree the checker passes reads the same every way: both walks complete, mirror
        // each other, in strictly increasing key order, and a get finds every entry.
        let [Some(forward), Some(backward)] = walks else {
            panic!("a walk of a tree the checker passes fails: {walks:?}");
        };
        assert!(
            forward.iter().eq(backward.iter().rev()),
            "the backward walk is not the forward walk reversed"
        );
        assert!(
            forward.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "a walk of a tree the checker passes is out of order"
        );
        for (key, value) in &forward {
            assert_eq!(
                crate::btree::cursor::get(&pages, &tree, KeyOrder::Bytes, key).ok(),
                Some(Some(*value)),
                "a get disagrees with the walk"
            );
        }
    }
}

/// Opens arbitrary bytes as a data file and does everything a user might: every error is
/// fine, a panic is not. A file the checker passes must read back whole and consistently
/// (see [`assert_reads_agree`]), before and after a commit on top of it, and again when
/// reopened with checksum verification on reads.
pub fn open_bytes(data: &[u8]) {
    let Ok(dir) = TempDir::new() else { return };
    if std::fs::write(dir.path().join(crate::env::DATA_FILE_NAME), data).is_err() {
        return;
    }
    // Without verification, damaged pages reach the decoders behind the checksum check.
    let _ = exercise(dir.path());
    let _ = reopen_verified(dir.path());
}

fn open(dir: &std::path::Path, verify: bool) -> Result<crate::Env> {
    // SAFETY: the directory is private to this call.
    unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .max_dbs(16)
            .verify_checksums_on_read(verify)
            .open(dir)
    }
}

fn reopen_verified(dir: &std::path::Path) -> Result<()> {
    let env = open(dir, true)?;
    if env.check()?.is_ok() {
        let rtxn = env.read_txn()?;
        assert_reads_agree(&env, &rtxn);
    }
    Ok(())
}

fn exercise(dir: &std::path::Path) -> Result<()> {
    let env = open(dir, false)?;
    let sound = env.check()?.is_ok();
    let names = {
        let rtxn = env.read_txn()?;
        let mut names: Vec<Option<String>> = vec![None];
        if sound {
            assert_reads_agree(&env, &rtxn);
        }
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
    if env.check()?.is_ok() {
        let rtxn = env.read_txn()?;
        assert_reads_agree(&env, &rtxn);
    }
    Ok(())
}

/// What a snapshot the checker passes must give, read with checksum verification: every
/// database named in the catalog opens, both iterations succeed, the forward one in strictly
/// increasing key order and the backward one its mirror, `len` counts them, and a get of
/// each key returns its value.
pub fn assert_reads_agree(env: &crate::Env, rtxn: &crate::RoTxn<'_>) {
    let mut names: Vec<Option<String>> = vec![None];
    let listed = rtxn.database_names();
    let listed = listed.unwrap_or_else(|error| {
        panic!("the checker passes, yet listing the databases fails: {error}")
    });
    names.extend(listed.into_iter().map(Some));
    for name in &names {
        let db = match env.open_database::<Bytes, Bytes>(rtxn, name.as_deref()) {
            Ok(Some(db)) => db,
            other => panic!("the checker passes, yet database {name:?} opens as {other:?}"),
        };
        let read_all = |backward: bool| -> Result<Vec<(&[u8], &[u8])>> {
            if backward {
                db.rev_iter(rtxn)?.collect()
            } else {
                db.iter(rtxn)?.collect()
            }
        };
        let forward = read_all(false).unwrap_or_else(|error| {
            panic!("the checker passes, yet iterating {name:?} fails: {error}")
        });
        let backward = read_all(true).unwrap_or_else(|error| {
            panic!("the checker passes, yet iterating {name:?} backward fails: {error}")
        });
        assert!(
            forward.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "the checker passes, yet {name:?} iterates out of order"
        );
        assert!(
            forward.iter().eq(backward.iter().rev()),
            "the checker passes, yet {name:?} iterates differently backward"
        );
        assert_eq!(
            db.len(rtxn).ok(),
            Some(forward.len() as u64),
            "the checker passes, yet {name:?} counts its entries wrong"
        );
        for (key, value) in &forward {
            assert_eq!(
                db.get(rtxn, key).ok(),
                Some(Some(*value)),
                "the checker passes, yet a get in {name:?} disagrees with the iteration"
            );
        }
    }
}

/// Decodes a workload and a crash point from the input, runs it on a simulated disk, and
/// panics if a guarantee breaks (see [`run_crash_case`]).
///
/// Input: byte 0 picks the sync mode and whether transactions spill pages before commit (a
/// small transaction memory limit), bytes 1-2 the crash point (0: none), byte 3 the seed of
/// which unsynced writes survive; then 4-byte ops `[code, db, key, length]`. `db` chooses
/// among [`DATABASE_NAMES`], byte-wise or in another order (`DATABASE_ORDERS`); `key` is
/// `[b'k', key % 64]` below 128, `[b'j', key % 64]` below 192, else `[key % 64]`: keys of two
/// lengths and first bytes, so a byte-wise separator (the shortest prefix) or a byte-wise
/// comparison goes wrong under the other orders. In the duplicate-sorted database
/// ([`PAIRS`]) a put adds a pair (of the value's first bytes, see [`super::crash::apply`]),
/// code 7 deletes the pair of the value code 0 would put, and code 6 the key with all its
/// values.
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
        let key = match op[2] / 64 {
            0 | 1 => vec![b'k', op[2] % 64],
            2 => vec![b'j', op[2] % 64],
            _ => vec![op[2] % 64],
        };
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
            7 if db == PAIRS => {
                transactions
                    .last_mut()
                    .expect("never empty")
                    .push(Op::DeletePair {
                        db,
                        key,
                        value: vec![op[3]; op[3] as usize],
                    })
            }
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
