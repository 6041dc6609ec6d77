//! Commit: the protocol that makes a write transaction durable and visible atomically.
//!
//! 1. Record every changed named database in the catalog; the unnamed one goes in the meta.
//! 2. Write the new freelist: the previous chain is freed, fresh chain pages are allocated,
//!    and the list of every free page (including this transaction's) is written into them;
//!    a group of free pages larger than a free segment holds is first moved into new free
//!    segments, so the chain stays small (invariant 12).
//! 3. Grow the file if the new pages reach past its end.
//! 4. Write every dirty page (sealed with its checksum), in page order.
//!
//! Then one of two ways (docs/design.md, "The commit protocol"):
//!
//! - **One sync** when the commit wrote at most what a meta lists (`meta::UNSYNCED_RUNS_MAX`
//!   runs, `meta::UNSYNCED_BYTES_MAX` bytes), did not grow the file (nor needs an fsync for
//!   its length), and builds on a durable commit: 5. write the new meta, listing every page
//!   written with its checksum, into the slot of the older meta (`txn_id % 2`); 6. fdatasync.
//!   A crash before 6 returns leaves a meta that is torn (checksum), or whose pages do not all
//!   read back (open verifies them), or whole with its pages: the previous commit, or the new
//!   one.
//! - **Two syncs** otherwise: 5. sync the pages (fsync when the file grew or its length is not
//!   one this process made durable, so the length is durable; else fdatasync; the first
//!   commit on a commit not written here first writes that commit's listed pages and meta
//!   again, as a failed sync may have dropped them); 6. write the new meta into the older
//!   slot, 7. durably: through a descriptor opened with `O_DSYNC`. A crash before 6 leaves the
//!   previous commit; after 7, the new one; in between, the new meta is whole (new commit) or
//!   torn and ignored.
//!
//! Last, publish the meta to new readers.
//!
//! [`RwTxn::commit`] reads as these steps, a function each: [`record_catalog`] (1),
//! [`record_freelist`] (2), [`grow_file`] (3), [`write_durably`] (4 to 7), [`publish`].
//!
//! Failures (docs/design.md, invariant 7): before the first sync (a full disk, a write error)
//! the commit fails and the environment goes on. A failed page sync of a two-sync commit
//! drops only this transaction's pages when every earlier commit was synced, so with full
//! syncs the environment goes on too. A failure once the new meta is being written leaves the
//! meta's fate unknown (it may reach the disk later, naming pages the next transaction would
//! reuse), and a failed sync under `NO_META_SYNC` may have dropped the previous meta: both
//! poison the environment, which refuses writes until it is reopened. A failed sync is never
//! retried and trusted.

use std::sync::Arc;

use super::read::{ReadTxn, TreeSlot};
use super::snapshot::Snapshot;
use super::write::{own_store, RwTxn};
use crate::btree::cursor;
use crate::btree::mutate::{PutMode, Writer};
use crate::btree::order::KeyOrder;
use crate::env::{CachedFreeList, EnvInner, WriterState};
use crate::error::{Error, MdbError, Result};
use crate::flags::EnvFlags;
use crate::page::catalog_record::{self, OrderNames, UNNAMED_DATABASE_KEY};
use crate::page::id::{pages_in, PageId, TxnId};
use crate::page::meta::{self, Meta};
use crate::store::free_segment;
use crate::store::freelist::{self, FreeList};
use crate::store::page_store::PageStore;

/// Grow the file by this fraction of its needed length beyond what a commit needs, so that a
/// run of small commits does not resize it every time. A commit that grows the file by more
/// than that (a bulk load) gets no slack: the file is then exactly as long as its pages, as
/// LMDB's is, and the next small commit adds the slack.
const GROWTH_FRACTION: u64 = 64;
/// The most a single growth adds beyond what is needed.
const GROWTH_EXTRA_MAX_BYTES: u64 = 8 << 20;

impl RwTxn<'_> {
    /// Makes every change of this transaction durable (per the environment's sync flags) and
    /// visible to transactions that begin afterwards.
    ///
    /// On error nothing of this transaction is visible and earlier commits are intact. If the
    /// error came from a failed sync, the environment refuses further writes
    /// ([`MdbError::EnvPoisoned`](crate::MdbError::EnvPoisoned)) until reopened.
    ///
    /// A nested transaction's commit writes nothing: it hands its changes to its parent.
    pub fn commit(mut self) -> Result<()> {
        if self.parent.is_some() {
            return self.commit_into_parent();
        }
        let env = self.txn.env;
        if self.state.failed {
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        let ReadTxn {
            snapshot,
            map,
            store,
            trees,
            ..
        } = &mut *self.txn;
        let Snapshot {
            meta,
            map: map_index,
            ..
        } = &mut **snapshot
            .as_mut()
            .expect("only a dropped transaction has no snapshot");
        let store = own_store(store);
        let state = &self.state;
        let mut writer = Writer {
            map: map.bytes(),
            store: &mut *store,
            verify: env.verifies_checksums_on_read(),
            // The catalog's: its keys are names, ordered byte-wise.
            order: KeyOrder::Bytes,
            value_order: KeyOrder::Bytes,
        };
        record_catalog(env, &mut writer, meta, trees.get_mut())?;
        let freelist = record_freelist(&mut writer, &state.old_chain, &state.pending, meta)?;
        meta.map_size = map.len() as u64;

        env.discard_newer_commit()?;
        let mut writer_state = env.writer().lock();
        let grew = grow_file(env, &mut writer_state, meta.page_count, map.len())?;
        let durable_now = write_durably(env, &mut writer_state, store, meta, &freelist, grew)?;
        publish(
            env,
            &mut writer_state,
            store,
            Snapshot {
                meta: *meta,
                map: *map_index,
                freelist: freelist.kept.map(Arc::from),
            },
            freelist.list,
            freelist.chain,
            durable_now,
        );
        drop(writer_state);
        env.end_previous_snapshot();
        Ok(())
    }
}

/// Step 1: every changed named database's record goes into the catalog (a deleted one leaves
/// it); the unnamed database's goes into the meta, and the names of its custom comparators,
/// if it has any, into the catalog. The names are the ones the transaction's tree carries:
/// recorded with the database, or given when it was created.
fn record_catalog(
    env: &EnvInner,
    writer: &mut Writer<'_>,
    meta: &mut Meta,
    trees: &[Option<TreeSlot>],
) -> Result<()> {
    let names = env.database_names().read().clone();
    for (dbi, slot) in trees.iter().enumerate() {
        let Some(slot) = slot.as_ref().filter(|slot| slot.changed) else {
            continue;
        };
        let flags = slot.info.flags;
        let order_names = slot
            .custom
            .as_ref()
            .map(|custom| custom.names.clone())
            .unwrap_or_default();
        if dbi == 0 {
            let old_flags = meta.main.flags;
            meta.main = slot.info;
            if OrderNames::announced_by(flags) {
                // Written when the orders change (the database reshaped, even from one
                // comparator to another with the same flags), not at every commit.
                let record = catalog_record::encode_names(flags, &order_names);
                let key = UNNAMED_DATABASE_KEY;
                let recorded = cursor::get(writer, &meta.catalog, KeyOrder::Bytes, key)?;
                if recorded != Some(record.as_slice()) {
                    writer.put(&mut meta.catalog, key, &record, PutMode::Overwrite)?;
                }
            } else if OrderNames::announced_by(old_flags) {
                writer.delete(&mut meta.catalog, UNNAMED_DATABASE_KEY)?;
            }
        } else if slot.deleted {
            writer.delete(&mut meta.catalog, names[dbi - 1].as_bytes())?;
        } else {
            let key = names[dbi - 1].as_bytes();
            let record = catalog_record::encode(&slot.info, &order_names);
            writer.put(&mut meta.catalog, key, &record, PutMode::Overwrite)?;
        }
    }
    Ok(())
}

/// The freelist a commit writes: the list, its chain pages, and its stream when the meta
/// keeps it instead of a chain.
struct NewFreeList {
    list: FreeList,
    chain: Vec<PageId>,
    kept: Option<Vec<u8>>,
}

/// Step 2: the previous chain is freed, and the new freelist (every free page, this
/// transaction's included) is written into fresh pages or kept in the meta. The meta gets
/// the freelist, the transaction id and the page count.
fn record_freelist(
    writer: &mut Writer<'_>,
    old_chain: &[PageId],
    pending: &FreeList,
    meta: &mut Meta,
) -> Result<NewFreeList> {
    for &page in old_chain {
        writer.store.free(page, 1);
    }
    let mut freed = writer.store.freed().to_vec();
    freed.sort_unstable();
    if let Some(pair) = freed.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(Error::corrupted(
            pair[0],
            "a page is reachable twice (freed twice in one transaction)",
        ));
    }
    let (list, chain, kept) = write_freelist(writer, pending)?;
    meta.freelist = chain.first().copied().unwrap_or(PageId::NONE);
    meta.txn_id = writer.store.txn_id();
    meta.page_count = writer.store.page_count();
    Ok(NewFreeList { list, chain, kept })
}

/// Step 3: grows the file when the commit's pages reach past its end, with some slack
/// ([`GROWTH_FRACTION`]) unless the growth is larger than that. Returns whether it grew.
fn grow_file(
    env: &EnvInner,
    writer_state: &mut WriterState,
    page_count: u64,
    map_len: usize,
) -> Result<bool> {
    let page_size = env.page_size() as u64;
    let needed = page_count * page_size;
    if writer_state.file_len_bytes >= needed {
        return Ok(false);
    }
    let slack = (needed / GROWTH_FRACTION).min(GROWTH_EXTRA_MAX_BYTES);
    let growth = needed - writer_state.file_len_bytes;
    let extra = if growth > slack { 0 } else { slack };
    let target = (needed + extra).div_ceil(page_size) * page_size;
    let target = target.min(map_len as u64).max(needed);
    env.io().set_len(target)?;
    writer_state.file_len_bytes = target;
    Ok(true)
}

/// Steps 4 to 7: write the pages, then the meta, with one sync or two (the module's doc).
/// Returns the newest commit that is now durable.
fn write_durably(
    env: &EnvInner,
    writer_state: &mut WriterState,
    store: &mut PageStore,
    meta: &Meta,
    freelist: &NewFreeList,
    grew: bool,
) -> Result<TxnId> {
    let page_size = env.page_size();
    let txn_id = meta.txn_id;
    let kept_freelist = freelist.kept.as_deref();
    let kept_bytes = kept_freelist.map_or(0, <[u8]>::len);
    // The length must be durable before a meta names pages up to it: fsync (fdatasync may
    // leave a size change behind) when the file grew, or when this process has not made
    // its present length durable itself (after opening, after another process grew it,
    // after an fsync that failed).
    let sync_length = grew || writer_state.file_len_synced != Some(writer_state.file_len_bytes);
    let sync_pages = !env.flags().contains(EnvFlags::NO_SYNC);
    let sync_meta = sync_pages && !env.flags().contains(EnvFlags::NO_META_SYNC);
    // One sync for the pages and the meta together when the meta can list every page
    // written (and open can verify them cheaply), the file keeps its length, and the
    // commit this one builds on is durable: after a power loss the meta is then either
    // whole with all its pages, or ignored in favour of that commit (`page/meta.rs`). A
    // transaction that spilled pages wrote more than its dirty pages: two syncs.
    let (dirty_buffers, dirty_bytes) = store.dirty_size();
    let one_sync = sync_meta
        && !sync_length
        && !store.has_spilled()
        && env.readers().durable_txn_id() >= txn_id.previous()
        && dirty_buffers <= meta::unsynced_runs_capacity(page_size, kept_bytes)
        && dirty_bytes as u64 <= meta::UNSYNCED_BYTES_MAX;
    // 4. Write the pages (recording them for the meta if it is to list them).
    let runs = store.write_dirty(env.io(), sync_pages, one_sync)?;
    let poison = |error: std::io::Error, writer_state: &mut WriterState| {
        writer_state.poisoned = true;
        Error::Io(error)
    };
    let slot_offset = txn_id.meta_page().byte_offset(page_size);
    if one_sync {
        // 5 and 6: the meta listing the pages, then one sync of both. After a failure
        // the meta's fate is unknown (invariant 7).
        env.io()
            .write_at(slot_offset, &meta.encode_with(&runs, kept_freelist))
            .and_then(|()| env.io().sync_data())
            .map_err(|error| poison(error, writer_state))?;
        return Ok(txn_id);
    }
    // 5. Sync the pages (and the new length).
    if sync_pages {
        if env.readers().durable_txn_id() < txn_id.previous()
            && writer_state.written_here != Some(txn_id.previous())
        {
            // The commit this one builds on is not known durable and was not written
            // here (the first commit after opening, or after adopting a commit whose
            // writer died): its pages and meta read back whole but may have been
            // dropped by a failed sync. This commit's meta will name those pages
            // without listing them, and overwrite the meta before that one: write
            // them again so that this sync makes them durable.
            env.rewrite_unsynced(txn_id.previous(), true)?;
        }
        let synced = if sync_length {
            env.io().sync_all()
        } else {
            env.io().sync_data()
        };
        if synced.is_ok() && sync_length {
            writer_state.file_len_synced = Some(writer_state.file_len_bytes);
        }
        if let Err(error) = synced {
            // With full syncs every earlier commit is already on disk, so the pages
            // this failed sync may have dropped are only this transaction's, which no
            // meta names: the environment can go on. With NO_META_SYNC the previous
            // meta may have been dropped too, so what is durable is no longer known.
            return Err(if sync_meta {
                Error::Io(error)
            } else {
                poison(error, writer_state)
            });
        }
    }
    // 6 and 7. Write the meta into the older slot, durably in one step unless the
    // meta is not to be synced.
    let encoded = meta.encode_with(&[], kept_freelist);
    let written = if sync_meta {
        env.io().write_durably(slot_offset, &encoded)
    } else {
        env.io().write_at(slot_offset, &encoded)
    };
    written.map_err(|error| poison(error, writer_state))?;
    // With the meta synced this commit is durable; with only the pages synced, that sync
    // made the previous meta durable. Without syncs, only a process crash is survived (the
    // page cache keeps the writes), so keep one commit of margin.
    Ok(if sync_meta { txn_id } else { txn_id.previous() })
}

/// Last: the writer keeps the new freelist for the next transaction, and the commit is
/// published to transactions that begin from now on.
fn publish(
    env: &EnvInner,
    writer_state: &mut WriterState,
    store: &PageStore,
    snapshot: Snapshot,
    list: FreeList,
    chain: Vec<PageId>,
    durable_now: TxnId,
) {
    let txn_id = snapshot.meta.txn_id;
    // The segments this commit took are no longer free segments; the rest are unchanged.
    let segment_summaries = writer_state
        .freelist
        .as_ref()
        .map(|cached| Arc::clone(&cached.segment_summaries))
        .unwrap_or_default();
    segment_summaries.lock().taken(store.taken_segments());
    writer_state.freelist = Some(CachedFreeList {
        txn_id,
        list,
        chain,
        segment_summaries,
    });
    env.cache_snapshot(snapshot);
    env.readers().raise_durable_txn_id(durable_now);
    writer_state.written_here = Some(txn_id);
    env.readers().set_current_txn_id(txn_id);
}

/// The freelist chain lists at most this many free segments' worth of pages (invariant 12):
/// room for a run of consecutive free pages read from a segment next to the isolated pages
/// freed while the previous run was used up, so that they go to a segment together now and
/// then rather than a few at every commit (`FreeList::spill`).
const LISTED_SEGMENTS_MAX: usize = 2;

/// A spill of at least this many free segments takes consecutive pages for them, so the chain
/// names them as one run (a mass delete spills hundreds; a commit of 1,000 inserts three).
const CONSECUTIVE_SEGMENTS_MIN: usize = 8;

/// The new freelist of the transaction `writer` works for: the groups no reader could reuse
/// yet (`pending`), this transaction's freed pages, and everything reusable it did not use
/// (group 0). Returns the list, its chain pages, and its stream when the meta is to keep it
/// instead of a chain (format version 5: it fits [`meta::freelist_capacity`] and no page was
/// allocated for a chain).
///
/// Allocating the list's own pages changes the list (the pool shrinks, a free segment may be
/// read and its page freed), so pages are allocated until they cover the list as it then is;
/// a page left over becomes an empty chain page.
fn write_freelist(
    writer: &mut Writer<'_>,
    pending: &FreeList,
) -> Result<(FreeList, Vec<PageId>, Option<Vec<u8>>)> {
    let page_size = writer.store.page_size();
    let segment_capacity = free_segment::capacity(page_size);
    let chain_capacity = freelist::payload_capacity(page_size);
    let txn_id = writer.store.txn_id();
    let mut segment_pages: Vec<PageId> = Vec::new();
    let mut chain: Vec<PageId> = Vec::new();
    loop {
        let mut list = pending.clone();
        let everyone = FreeList::FREE_FOR_EVERYONE;
        list.add(everyone, &writer.store.pool());
        let unread: Vec<PageId> = writer.store.unread_segments().collect();
        list.add_segments(everyone, &unread);
        let unread: Vec<PageId> = writer.store.unread_run_segments().collect();
        list.add_run_segments(everyone, &unread);
        list.add(txn_id, writer.store.freed());
        let runs = list.spill(segment_capacity, LISTED_SEGMENTS_MAX * segment_capacity);
        if segment_pages.len() < runs.len() {
            let missing = runs.len() - segment_pages.len();
            // Consecutive pages only where a stretch is free: taking them from the file's
            // end instead would grow the file at every commit whose spill is a little longer
            // than the stretches earlier spills left.
            let together = if missing >= CONSECUTIVE_SEGMENTS_MIN {
                writer
                    .store
                    .allocate_consecutive_reused(writer.map, missing)?
            } else {
                None
            };
            match together {
                Some(first) => segment_pages.extend(pages_in(first..first + missing as u64)),
                None => {
                    for _ in 0..missing {
                        segment_pages.push(writer.store.allocate(writer.map, 1)?);
                    }
                }
            }
            continue; // allocating changed the list
        }
        for ((txn, run), &segment) in runs.iter().zip(&segment_pages) {
            list.add_segment_holding(*txn, segment, run);
        }
        let spare = segment_pages.len() - runs.len();
        // Kept in the meta if it fits there and no page was allocated for a chain.
        let in_meta = spare == 0
            && chain.is_empty()
            && !list.is_empty()
            && list.encoded_len() <= meta::freelist_capacity(page_size);
        let chain_len = if in_meta || list.is_empty() {
            0
        } else {
            list.encoded_len().div_ceil(chain_capacity)
        };
        if chain.len() + spare < chain_len {
            while chain.len() + spare < chain_len {
                chain.push(writer.store.allocate(writer.map, 1)?);
            }
            continue;
        }
        for ((_, run), &segment) in runs.iter().zip(&segment_pages) {
            free_segment::write(writer.store.page_mut(segment), segment, run);
        }
        if in_meta {
            let stream = list.encode();
            return Ok((list, Vec::new(), Some(stream)));
        }
        chain.extend_from_slice(&segment_pages[runs.len()..]);
        // An empty freelist has no chain at all (the meta names page 0), unless the list
        // emptied while its pages were being allocated: then the chain says so.
        let stream = if chain.is_empty() {
            assert!(list.is_empty(), "a freelist without a chain");
            Vec::new()
        } else {
            list.encode()
        };
        assert!(
            stream.len() <= chain.len() * chain_capacity,
            "the freelist outgrew its chain"
        );
        for (index, &id) in chain.iter().enumerate() {
            let start = (index * chain_capacity).min(stream.len());
            let end = ((index + 1) * chain_capacity).min(stream.len());
            let next = chain.get(index + 1).copied().unwrap_or(PageId::NONE);
            freelist::write_chain_page(writer.store.page_mut(id), id, next, &stream[start..end]);
        }
        return Ok((list, chain, None));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::header;
    use crate::page::id::numbered::{page, range, txn};
    use crate::store::freelist::Reusable;

    /// The pages free segment `segment` (written by this transaction, not sealed yet) holds.
    fn segment_contents(store: &PageStore, segment: PageId) -> Vec<PageId> {
        let mut copy = store.read(&[], segment, 1).unwrap().to_vec();
        header::seal(&mut copy);
        free_segment::read(&copy, segment, store.page_count()).unwrap()
    }

    /// Allocating the pages for the free segments of a first pass reads a free segment into
    /// the pool, and the longer list then spills into one more segment. The second pass takes
    /// one page for it, not pages for every segment again: the freelist's own pages are its
    /// segments and the chain pages its stream needs, and every page free before the commit
    /// is free after it, exactly once.
    #[test]
    fn a_segment_read_for_the_list_s_own_pages_costs_only_the_pages_the_list_then_needs() {
        let page_size = 512;
        let segment_capacity = free_segment::capacity(page_size);
        assert_eq!(segment_capacity, 61, "the numbers below assume it");
        let page_count = 1000;
        // Free segment 10 (unread, free for everyone) holds a run of a segment's worth.
        let read_segment = page(10);
        let in_segment = range(600..661);
        let mut map = vec![0u8; page_size * page_count as usize];
        let slot = &mut map[10 * page_size..11 * page_size];
        free_segment::write(slot, read_segment, &in_segment);
        header::seal(slot);
        // Groups still pinned by readers: txn 6's fills two segments; 7's fits in one and
        // stays listed while the chain is under its limit (two segments' worth); 8's is small.
        let mut pending = FreeList::default();
        pending.add(txn(6), &range(200..322));
        pending.add(txn(7), &range(400..461));
        pending.add(txn(8), &range(500..510));
        let reusable = Reusable {
            run_segments: vec![read_segment],
            ..Reusable::default()
        };
        let mut store = PageStore::new(page_size, txn(9), page_count, 1 << 20, reusable);
        let mut writer = Writer {
            map: &map,
            store: &mut store,
            verify: true,
            order: KeyOrder::Bytes,
            value_order: KeyOrder::Bytes,
        };
        let (list, chain, kept) = write_freelist(&mut writer, &pending).unwrap();

        // The first pass spilled txn 6's two segments; taking their pages read segment 10,
        // whose pages, listed now, took the chain past its limit, so txn 7's group spilled
        // too: three segments, and the pages for the third came from the pool.
        assert_eq!(store.taken_segments(), [read_segment]);
        let segments: Vec<PageId> = list.segments().collect();
        assert_eq!(segments.len(), 3, "{list:?}");
        assert!(kept.is_none(), "too long for the meta");
        let stream = list.encode();
        let chain_capacity = freelist::payload_capacity(page_size);
        assert_eq!(
            chain.len(),
            stream.len().div_ceil(chain_capacity),
            "the chain holds {} pages for a stream of {} bytes",
            chain.len(),
            stream.len()
        );

        let mut free_after: Vec<PageId> = list.pages().chain(chain.iter().copied()).collect();
        for &segment in &segments {
            free_after.push(segment);
            free_after.extend(segment_contents(&store, segment));
        }
        free_after.sort_unstable();
        let mut free_before: Vec<PageId> = pending.pages().collect();
        free_before.push(read_segment);
        free_before.extend_from_slice(&in_segment);
        free_before.sort_unstable();
        assert_eq!(free_after, free_before);
    }
}
