//! Named databases, the unnamed one, max_dbs, clear, stats and the typed reads.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use arbordb::types::{Bytes, Str, Unit};
use arbordb::MdbError;
use arbordb::{EnvOpenOptions, Error};
use common::{as_ref, assert_sound, open, Rng};

#[test]
fn named_databases_are_separate_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let main = env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
        let users = env
            .create_database::<Str, Str>(&mut wtxn, Some("users"))
            .unwrap();
        let items = env
            .create_database::<Str, Str>(&mut wtxn, Some("items"))
            .unwrap();
        main.put(&mut wtxn, "k", "main").unwrap();
        users.put(&mut wtxn, "k", "users").unwrap();
        items.put(&mut wtxn, "k", "items").unwrap();
        // Visible inside the creating transaction, before commit.
        assert!(env
            .open_database::<Str, Str>(&wtxn, Some("users"))
            .unwrap()
            .is_some());
        wtxn.commit().unwrap();
    }
    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    for (name, expected) in [
        (None, "main"),
        (Some("users"), "users"),
        (Some("items"), "items"),
    ] {
        let db = env.open_database::<Str, Str>(&rtxn, name).unwrap().unwrap();
        assert_eq!(db.get(&rtxn, "k").unwrap(), Some(expected));
        assert_eq!(db.len(&rtxn).unwrap(), 1);
    }
    assert!(env
        .open_database::<Str, Str>(&rtxn, Some("missing"))
        .unwrap()
        .is_none());
    drop(rtxn);
    assert_sound(&env);
}

#[test]
fn max_dbs_is_enforced_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().max_dbs(2).open(dir.path()).unwrap() };
    let mut wtxn = env.write_txn().unwrap();
    env.create_database::<Str, Str>(&mut wtxn, Some("one"))
        .unwrap();
    env.create_database::<Str, Str>(&mut wtxn, Some("two"))
        .unwrap();
    // Reopening a known name and the unnamed database do not count.
    env.create_database::<Str, Str>(&mut wtxn, Some("one"))
        .unwrap();
    env.create_database::<Str, Str>(&mut wtxn, None).unwrap();
    match env.create_database::<Str, Str>(&mut wtxn, Some("three")) {
        Err(Error::Mdb(MdbError::DbsFull)) => {}
        other => panic!("expected DbsFull, got {other:?}"),
    }
    wtxn.commit().unwrap();
}

#[test]
fn a_database_created_in_an_aborted_transaction_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let ghost = env
        .create_database::<Str, Str>(&mut wtxn, Some("ghost"))
        .unwrap();
    ghost.put(&mut wtxn, "k", "v").unwrap();
    wtxn.abort();
    let rtxn = env.read_txn().unwrap();
    assert!(env
        .open_database::<Str, Str>(&rtxn, Some("ghost"))
        .unwrap()
        .is_none());
    assert!(matches!(
        ghost.get(&rtxn, "k"),
        Err(Error::Mdb(MdbError::DatabaseNotFound { .. }))
    ));
}

#[test]
fn a_handle_from_another_environment_is_refused() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (env_one, env_two) = (open(one.path()), open(two.path()));
    let mut wtxn = env_one.write_txn().unwrap();
    let db = env_one
        .create_database::<Str, Str>(&mut wtxn, None)
        .unwrap();
    wtxn.commit().unwrap();
    let rtxn = env_two.read_txn().unwrap();
    assert!(matches!(
        db.get(&rtxn, "k"),
        Err(Error::Mdb(MdbError::DatabaseFromAnotherEnv))
    ));
}

#[test]
fn clear_frees_the_pages_of_a_database_only() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let doomed = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("doomed"))
        .unwrap();
    let kept = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("kept"))
        .unwrap();
    for n in 0..5000u32 {
        doomed
            .put(&mut wtxn, &n.to_be_bytes(), &[1u8; 200])
            .unwrap();
        kept.put(&mut wtxn, &n.to_be_bytes(), &[2u8; 20]).unwrap();
    }
    doomed.put(&mut wtxn, b"large", &vec![3u8; 50_000]).unwrap();
    wtxn.commit().unwrap();
    let before = env.check().unwrap();
    let doomed_pages = {
        let rtxn = env.read_txn().unwrap();
        let stat = doomed.stat(&rtxn).unwrap();
        (stat.branch_pages + stat.leaf_pages + stat.overflow_pages) as u64
    };
    let mut wtxn = env.write_txn().unwrap();
    doomed.clear(&mut wtxn).unwrap();
    assert!(doomed.is_empty(&wtxn).unwrap());
    wtxn.commit().unwrap();
    let after = env.check().unwrap();
    assert!(after.is_ok(), "{after}");
    assert!(
        after.pages_free >= before.pages_free + doomed_pages,
        "{before} -> {after}"
    );
    let rtxn = env.read_txn().unwrap();
    assert_eq!(kept.len(&rtxn).unwrap(), 5000);
    assert_eq!(doomed.stat(&rtxn).unwrap().depth, 0);
}

#[test]
fn stats_and_info_describe_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env.create_database::<Bytes, Unit>(&mut wtxn, None).unwrap();
    for n in 0..20_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &()).unwrap();
    }
    db.put(&mut wtxn, b"\xffbig", &()).unwrap();
    let big = db.remap_data_type::<Bytes>();
    big.put(&mut wtxn, b"\xffbig", &vec![0u8; 10_000]).unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let stat = db.stat(&rtxn).unwrap();
    assert_eq!(stat.page_size as usize, env.page_size());
    assert_eq!(stat.entries, 20_001);
    assert!(stat.depth >= 2);
    assert!(stat.leaf_pages > 20);
    assert!(stat.branch_pages >= 1);
    assert_eq!(stat.overflow_pages, 3);
    assert_eq!(env.stat(), stat);
    let info = env.info();
    assert_eq!(info.last_txn_id, 1);
    assert_eq!(info.map_size, 1 << 30);
    assert_eq!(info.number_of_readers, 1);
    let report = env.check().unwrap();
    assert_eq!(info.last_page_number as u64 + 1, report.pages_total);
}

#[test]
fn typed_reads_match_a_model_for_every_range_form() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut rng = Rng(11);
    let mut model = BTreeMap::new();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for _ in 0..3000 {
        let len = 1 + rng.below(4) as usize;
        let key = rng.bytes(len);
        let len = rng.below(20) as usize;
        let value = rng.bytes(len);
        db.put(&mut wtxn, &key, &value).unwrap();
        model.insert(key, value);
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let first = model
        .iter()
        .next()
        .map(|(k, v)| (k.as_slice(), v.as_slice()));
    let last = model
        .iter()
        .next_back()
        .map(|(k, v)| (k.as_slice(), v.as_slice()));
    assert_eq!(db.first(&rtxn).unwrap(), first);
    assert_eq!(db.last(&rtxn).unwrap(), last);

    type Entries = Vec<(Vec<u8>, Vec<u8>)>;
    let collect = |iter: &mut dyn Iterator<Item = arbordb::Result<(&[u8], &[u8])>>| -> Entries {
        iter.map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect()
    };
    let expected = |range: (Bound<Vec<u8>>, Bound<Vec<u8>>)| -> Entries {
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
            (&range.0, &range.1)
        {
            if a > b || (a == b && !matches!(range, (Bound::Included(_), Bound::Included(_)))) {
                return Vec::new();
            }
        }
        model
            .range(range)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    for _ in 0..300 {
        let bound = |rng: &mut Rng| {
            let len = 1 + rng.below(3) as usize;
            let key = rng.bytes(len);
            match rng.below(3) {
                0 => Bound::Included(key),
                1 => Bound::Excluded(key),
                _ => Bound::Unbounded,
            }
        };
        let range = (bound(&mut rng), bound(&mut rng));
        let want = expected(range.clone());
        let borrowed: (Bound<&[u8]>, Bound<&[u8]>) = (as_ref(&range.0), as_ref(&range.1));
        let got = collect(&mut db.range(&rtxn, &borrowed).unwrap());
        assert_eq!(got, want, "range {range:?}");
        let mut got_rev = collect(&mut db.rev_range(&rtxn, &borrowed).unwrap());
        got_rev.reverse();
        assert_eq!(got_rev, want, "rev_range {range:?}");
    }
    let everything: std::ops::RangeFull = ..;
    assert_eq!(
        collect(&mut db.range(&rtxn, &everything).unwrap()),
        model
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Entries>()
    );
    let (a, b): (&[u8], &[u8]) = (&[0x40], &[0x80]);
    // An inverted range is empty, not an error.
    assert_eq!(
        db.range(&rtxn, &(Bound::Included(b), Bound::Included(a)))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        db.rev_range(&rtxn, &(Bound::Included(b), Bound::Excluded(a)))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn decoding_failures_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let bytes = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    bytes.put(&mut wtxn, b"k", &[0xff, 0xfe]).unwrap();
    let strings = bytes.remap_types::<Str, Str>();
    assert!(matches!(strings.get(&wtxn, "k"), Err(Error::Decoding(_))));
    assert!(matches!(
        strings.iter(&wtxn).unwrap().next(),
        Some(Err(Error::Decoding(_)))
    ));
}

/// A big-endian u32 codec, so the standard range syntaxes (which need a sized item) apply.
enum BigEndianU32 {}

impl<'a> arbordb::BytesEncode<'a> for BigEndianU32 {
    type EItem = u32;
    fn bytes_encode(item: &u32) -> Result<std::borrow::Cow<'a, [u8]>, arbordb::BoxedError> {
        Ok(std::borrow::Cow::Owned(item.to_be_bytes().to_vec()))
    }
}

impl arbordb::BytesDecode<'_> for BigEndianU32 {
    type DItem = u32;
    fn bytes_decode(bytes: &[u8]) -> Result<u32, arbordb::BoxedError> {
        Ok(u32::from_be_bytes(bytes.try_into()?))
    }
}

#[test]
fn every_standard_range_syntax_works() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<BigEndianU32, Unit>(&mut wtxn, None)
        .unwrap();
    for n in (0..100u32).step_by(2) {
        db.put(&mut wtxn, &n, &()).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let keys = |iter: &mut dyn Iterator<Item = arbordb::Result<(u32, ())>>| -> Vec<u32> {
        iter.map(|e| e.unwrap().0).collect()
    };
    let evens = |r: std::ops::Range<u32>| -> Vec<u32> { r.filter(|n| n % 2 == 0).collect() };
    assert_eq!(
        keys(&mut db.range(&rtxn, &(10..20)).unwrap()),
        evens(10..20)
    );
    assert_eq!(
        keys(&mut db.range(&rtxn, &(10..=20)).unwrap()),
        evens(10..21)
    );
    assert_eq!(
        keys(&mut db.range(&rtxn, &(11..=19)).unwrap()),
        evens(11..20)
    );
    assert_eq!(keys(&mut db.range(&rtxn, &(90..)).unwrap()), evens(90..100));
    assert_eq!(keys(&mut db.range(&rtxn, &(..6)).unwrap()), evens(0..6));
    assert_eq!(keys(&mut db.range(&rtxn, &(..=6)).unwrap()), evens(0..7));
    assert_eq!(keys(&mut db.range(&rtxn, &(..)).unwrap()), evens(0..100));
    let mut reversed = keys(&mut db.rev_range(&rtxn, &(7..=31)).unwrap());
    reversed.reverse();
    assert_eq!(reversed, evens(7..32));
    #[allow(clippy::reversed_empty_ranges)]
    let inverted = 20..10;
    assert_eq!(db.range(&rtxn, &inverted).unwrap().count(), 0);
    assert_eq!(db.range(&rtxn, &(5..5)).unwrap().count(), 0);
    assert_eq!(db.rev_range(&rtxn, &(200..300)).unwrap().count(), 0);
    assert_eq!(db.first(&rtxn).unwrap(), Some((0, ())));
    assert_eq!(db.last(&rtxn).unwrap(), Some((98, ())));
}

#[test]
fn delete_database_frees_its_pages_and_removes_its_name_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let doomed = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("doomed"))
        .unwrap();
    let kept = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("kept"))
        .unwrap();
    for i in 0..5_000u32 {
        doomed.put(&mut wtxn, &i.to_be_bytes(), &[1; 100]).unwrap();
        kept.put(&mut wtxn, &i.to_be_bytes(), b"k").unwrap();
    }
    wtxn.commit().unwrap();

    // An aborted deletion changes nothing.
    let mut wtxn = env.write_txn().unwrap();
    assert!(env.delete_database(&mut wtxn, "doomed").unwrap());
    wtxn.abort();
    assert_eq!(doomed.len(&env.read_txn().unwrap()).unwrap(), 5_000);

    let mut wtxn = env.write_txn().unwrap();
    assert!(env.delete_database(&mut wtxn, "doomed").unwrap());
    assert!(
        !env.delete_database(&mut wtxn, "doomed").unwrap(),
        "already gone"
    );
    assert!(!env.delete_database(&mut wtxn, "never").unwrap());
    assert!(env
        .open_database::<Bytes, Bytes>(&wtxn, Some("doomed"))
        .unwrap()
        .is_none());
    match doomed.get(&wtxn, b"x") {
        Err(arbordb::Error::Mdb(arbordb::MdbError::DatabaseNotFound { name })) => {
            assert_eq!(name, "doomed")
        }
        other => panic!("a deleted database's handle gave {other:?}"),
    }
    wtxn.commit().unwrap();

    let snapshot = env.read_txn().unwrap();
    assert_eq!(snapshot.database_names().unwrap(), ["kept"]);
    assert_eq!(kept.len(&snapshot).unwrap(), 5_000);
    drop(snapshot);
    common::assert_sound(&env); // the pages went to the freelist, none leaked
    let report = env.check().unwrap();
    assert!(
        report.pages_free > 100,
        "the deleted tree's pages are free: {}",
        report.pages_free
    );

    // Created again, it starts empty; the deletion survives reopening.
    let mut wtxn = env.write_txn().unwrap();
    let again = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("doomed"))
        .unwrap();
    assert_eq!(again.len(&wtxn).unwrap(), 0);
    wtxn.abort();
    drop(env);
    let env = common::open(dir.path());
    assert_eq!(env.read_txn().unwrap().database_names().unwrap(), ["kept"]);
}

/// A database name is a key of the catalog: one of exactly the longest key's length is
/// created, reopened and listed; one byte more is refused with a reason, creating nothing.
#[test]
fn a_database_name_may_be_as_long_as_the_longest_key_and_no_longer() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .max_dbs(4)
            .page_size(512)
            .open(dir.path())
            .unwrap()
    };
    let longest = "n".repeat(env.max_key_size());
    let too_long = "n".repeat(env.max_key_size() + 1);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some(&longest))
        .unwrap();
    db.put(&mut wtxn, b"k", b"v").unwrap();
    match env.create_database::<Bytes, Bytes>(&mut wtxn, Some(&too_long)) {
        Err(Error::Mdb(MdbError::InvalidOption { reason })) => {
            assert!(reason.contains(&too_long.len().to_string()), "{reason}")
        }
        other => panic!("a name of {} bytes gave {other:?}", too_long.len()),
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let reopened = env
        .open_database::<Bytes, Bytes>(&rtxn, Some(&longest))
        .unwrap()
        .unwrap();
    assert_eq!(reopened.get(&rtxn, b"k").unwrap(), Some(&b"v"[..]));
    assert!(env
        .open_database::<Bytes, Bytes>(&rtxn, Some(&too_long))
        .unwrap()
        .is_none());
}
