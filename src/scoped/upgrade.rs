//! The one-time upgrade of a file whose scoped data predates owner records.
//!
//! A release without owner records knew a scope's data only through its registration. Its
//! keys belong to the name registered for their hash, as they did when they were written, for
//! as long as no registration has changed since. So before this release changes any
//! registration (registers, unregisters, prunes), it gives every scoped tree of the file the
//! owner records that the registry implies, marks each tree, and marks the registry: from then
//! on a key without an owner record belongs to no name (an older release's, left when its
//! scope was unregistered), and only [`ScopedDb::claim_orphaned_data`] hands such keys to a
//! name. Until the upgrade, reads (which can run on a file nothing has written) take the
//! registered name as the owner of a tree's keys without a record.
//!
//! [`ScopedDb::claim_orphaned_data`]: super::ScopedDb::claim_orphaned_data

use std::ops::Bound;

use crate::types::Bytes;
use crate::{Database, RoTxn, RwTxn};

use super::error::ScopedDbError;
use super::owner::{self, OwnerKey, HASH_LEN};

/// The key of the registry's upgrade mark: no registration or owner record is this short.
const UPGRADE_MARK_KEY: &[u8] = b"";
/// The registry's upgrade mark: every scoped tree of the file has its owner records.
const UPGRADE_MARK: &[u8] = b"arbordb scope owners 1";

/// The key of a scoped tree's layout mark. It sorts before every scope's key range (which
/// starts at a 4-byte prefix), so no scope operation ever meets it.
const LAYOUT_MARK_KEY: &[u8] = b"";
/// A scoped tree's layout mark: its keys written before owner records existed have been
/// given owner records.
const LAYOUT_MARK: &[u8] = b"arbordb scope owners 1";

/// The suffix of a scoped tree's name (`NAME_scoped`).
const SCOPED_SUFFIX: &str = "_scoped";

/// Whether the keys of `tree` that have no owner record belong to the name registered for
/// their hash: only while neither the registry nor the tree is marked.
pub(crate) fn registration_owns_unrecorded(
    records: Database<Bytes, Bytes>,
    tree: Database<Bytes, Bytes>,
    txn: &RoTxn<'_>,
) -> Result<bool, ScopedDbError> {
    Ok(records.get(txn, UPGRADE_MARK_KEY)? != Some(UPGRADE_MARK)
        && tree.get(txn, LAYOUT_MARK_KEY)? != Some(LAYOUT_MARK))
}

/// Upgrades the file if the registry is not marked yet: every scoped tree in the catalog
/// (a `NAME_scoped` beside a `NAME`), and `also` (a tree created in this transaction, which
/// the catalog does not list yet), gets the owner records its registrations imply; every
/// owner record says whether its owner is registered; then the registry is marked. Costs one
/// lookup once marked.
pub(crate) fn ensure_upgraded(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
    also: Option<&str>,
) -> Result<(), ScopedDbError> {
    if records.get(wtxn, UPGRADE_MARK_KEY)? == Some(UPGRADE_MARK) {
        return Ok(());
    }
    let names = wtxn.database_names()?;
    let mut trees: Vec<&str> = names
        .iter()
        .filter(|name| {
            name.strip_suffix(SCOPED_SUFFIX)
                .is_some_and(|base| names.binary_search_by(|n| n.as_str().cmp(base)).is_ok())
        })
        .map(String::as_str)
        .collect();
    if let Some(also) = also {
        if !trees.contains(&also) {
            trees.push(also);
        }
    }
    for name in trees {
        if let Some(tree) = owner::open_tree(wtxn, name)? {
            record_owners_of_older_data(records, tree, name, wtxn)?;
        }
    }
    list_owners_as_registered(records, wtxn)?;
    records.put(wtxn, UPGRADE_MARK_KEY, UPGRADE_MARK)?;
    Ok(())
}

/// Gives the keys of the scoped tree `name` that have no owner record the registered name as
/// owner, then marks the tree. Keys under a hash no name is registered for stay without one.
/// Keys shorter than a scope prefix (a foreign file's) belong to no scope and are passed
/// over. Costs one seek per scope with data.
fn record_owners_of_older_data(
    records: Database<Bytes, Bytes>,
    tree: Database<Bytes, Bytes>,
    name: &str,
    wtxn: &mut RwTxn<'_>,
) -> Result<(), ScopedDbError> {
    if tree.get(wtxn, LAYOUT_MARK_KEY)? == Some(LAYOUT_MARK) {
        return Ok(());
    }
    let mut from = Some(0u32);
    while let Some(start) = from {
        let key = {
            let bounds = (Bound::Included(&start.to_be_bytes()[..]), Bound::Unbounded);
            match tree.range(wtxn, &bounds)?.next().transpose()? {
                Some((key, _)) => key.to_vec(),
                None => break,
            }
        };
        let Some(prefix) = key
            .get(..HASH_LEN)
            .and_then(|prefix| <[u8; HASH_LEN]>::try_from(prefix).ok())
        else {
            // A short key sorts below the 4-byte keys it is a prefix of and above `start`:
            // go on from the first prefix after it.
            let mut padded = [0; HASH_LEN];
            padded[..key.len()].copy_from_slice(&key);
            from = Some(u32::from_be_bytes(padded));
            continue;
        };
        let hash = u32::from_be_bytes(prefix);
        let recorded = records
            .get(wtxn, OwnerKey::new(hash, name).as_bytes())?
            .is_some();
        if !recorded {
            if let Some(owner) = records.get(wtxn, &hash.to_be_bytes())? {
                let owner = owner::decode_name(owner)?.to_owned();
                owner::record_owner(records, wtxn, hash, name, &owner)?;
            }
        }
        from = hash.checked_add(1);
    }
    tree.put(wtxn, LAYOUT_MARK_KEY, LAYOUT_MARK)?;
    Ok(())
}

/// Makes every owner record say whether its owner is registered (records written before
/// they said so name their owner as if it were).
fn list_owners_as_registered(
    records: Database<Bytes, Bytes>,
    wtxn: &mut RwTxn<'_>,
) -> Result<(), ScopedDbError> {
    for hash in owner::hashes_with_records(records, wtxn)? {
        let registered = records
            .get(wtxn, &hash.to_be_bytes())?
            .map(|name| owner::decode_name(name).map(str::to_owned))
            .transpose()?;
        // Unlisted first, then the registered name's listed again.
        owner::mark_listed(records, wtxn, hash, None, false)?;
        if let Some(registered) = registered {
            owner::mark_listed(records, wtxn, hash, Some(&registered), true)?;
        }
    }
    Ok(())
}
