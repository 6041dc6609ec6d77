//! Programs written for heed compile and run against arbordb with only the crate path changed:
//! each function below is heed-style code after `use arbordb as heed;`.

use arbordb as heed;

use std::error::Error;

use heed::byteorder::BigEndian;
use heed::types::*;
use heed::{Database, EnvOpenOptions, PutFlags};

/// heed's README example.
#[test]
fn readme_example() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };

    // We open the default unnamed database
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, U32<heed::byteorder::NativeEndian>> =
        env.create_database(&mut wtxn, None)?;

    // We open a write transaction
    db.put(&mut wtxn, "seven", &7)?;
    db.put(&mut wtxn, "zero", &0)?;
    db.put(&mut wtxn, "five", &5)?;
    db.put(&mut wtxn, "three", &3)?;
    wtxn.commit()?;

    // We open a read transaction to check if those values are now available
    let rtxn = env.read_txn()?;

    let ret = db.get(&rtxn, "zero")?;
    assert_eq!(ret, Some(0));

    let ret = db.get(&rtxn, "five")?;
    assert_eq!(ret, Some(5));
    Ok(())
}

/// Named databases, options and flags, the way heed programs open environments.
#[test]
fn environment_and_named_databases() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(10 * 1024 * 1024)
            .max_dbs(3000)
            .max_readers(126)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, Some("kikou"))?;
    let other = env
        .database_options()
        .types::<Str, Unit>()
        .name("other")
        .create(&mut wtxn)?;
    db.put(&mut wtxn, "hello", "world")?;
    other.put(&mut wtxn, "present", &())?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let db: Database<Str, Str> = env.open_database(&rtxn, Some("kikou"))?.unwrap();
    assert_eq!(db.get(&rtxn, "hello")?, Some("world"));
    assert!(env
        .open_database::<Str, Str>(&rtxn, Some("unknown"))?
        .is_none());
    let info = env.info();
    assert_eq!(info.map_size, 10 * 1024 * 1024);
    assert!(env.real_disk_size()? > 0);
    env.force_sync()?;
    Ok(())
}

/// Writes: flags, get_or_put, delete, delete_range, clear.
#[test]
fn write_methods() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<U32<BigEndian>, Str> = env.create_database(&mut wtxn, None)?;
    for i in 0..10u32 {
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, &i, "appended")?;
    }
    assert!(db
        .put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, &3, "again")
        .is_err());
    assert_eq!(db.get_or_put(&mut wtxn, &3, "ignored")?, Some("appended"));
    assert!(db.delete(&mut wtxn, &9)?);
    let deleted = db.delete_range(&mut wtxn, &(2..5))?;
    assert_eq!(deleted, 3);
    assert_eq!(db.len(&wtxn)?, 6);
    db.clear(&mut wtxn)?;
    assert!(db.is_empty(&wtxn)?);
    wtxn.commit()?;
    Ok(())
}

/// Reads: neighbours, first/last, iterators, ranges, prefixes, remapping, lazy decoding.
#[test]
fn read_methods() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, U64<BigEndian>> = env.create_database(&mut wtxn, None)?;
    for (i, word) in ["apple", "apricot", "banana", "blueberry", "cherry"]
        .iter()
        .enumerate()
    {
        db.put(&mut wtxn, word, &(i as u64))?;
    }
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    assert_eq!(db.first(&rtxn)?, Some(("apple", 0)));
    assert_eq!(db.last(&rtxn)?, Some(("cherry", 4)));
    assert_eq!(db.get_lower_than(&rtxn, "banana")?, Some(("apricot", 1)));
    assert_eq!(
        db.get_lower_than_or_equal_to(&rtxn, "banana")?,
        Some(("banana", 2))
    );
    assert_eq!(
        db.get_greater_than(&rtxn, "banana")?,
        Some(("blueberry", 3))
    );
    assert_eq!(
        db.get_greater_than_or_equal_to(&rtxn, "c")?,
        Some(("cherry", 4))
    );

    let mut iter = db.iter(&rtxn)?;
    assert_eq!(iter.next().transpose()?, Some(("apple", 0)));
    let reversed: Vec<&str> = db
        .rev_iter(&rtxn)?
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(reversed.first(), Some(&"cherry"));
    let range = ("apricot"..="blueberry").into_bounds();
    let in_range: Vec<&str> = db
        .range(&rtxn, &range)?
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(in_range, ["apricot", "banana", "blueberry"]);
    let rev_range: Vec<&str> = db
        .rev_range(&rtxn, &range)?
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(rev_range, ["blueberry", "banana", "apricot"]);
    let prefixed: Vec<&str> = db
        .prefix_iter(&rtxn, "ap")?
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(prefixed, ["apple", "apricot"]);
    let rev_prefixed: Vec<&str> = db
        .rev_prefix_iter(&rtxn, "b")?
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(rev_prefixed, ["blueberry", "banana"]);

    let bytes = db.remap_types::<Bytes, Bytes>();
    assert_eq!(bytes.get(&rtxn, b"apple")?, Some(&0u64.to_be_bytes()[..]));
    let lazy = db.lazily_decode_data();
    let value = lazy.get(&rtxn, "cherry")?.unwrap();
    assert_eq!(value.decode().map_err(heed::Error::Decoding)?, 4);
    let keys_only = db.remap_data_type::<DecodeIgnore>();
    assert_eq!(keys_only.iter(&rtxn)?.count(), 5);
    let stat = db.stat(&rtxn)?;
    assert_eq!(stat.entries, 5);
    Ok(())
}

/// Turns a `RangeInclusive<&str>` into the bounds tuple heed programs pass for unsized keys.
trait IntoBounds<'a> {
    fn into_bounds(self) -> (std::ops::Bound<&'a str>, std::ops::Bound<&'a str>);
}

impl<'a> IntoBounds<'a> for std::ops::RangeInclusive<&'a str> {
    fn into_bounds(self) -> (std::ops::Bound<&'a str>, std::ops::Bound<&'a str>) {
        let (start, end) = self.into_inner();
        (
            std::ops::Bound::Included(start),
            std::ops::Bound::Included(end),
        )
    }
}

/// Nested transactions and copies, as heed programs write them.
#[test]
fn nested_transactions_and_copies() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    let mut nested = env.nested_write_txn(&mut wtxn)?;
    db.put(&mut nested, "nested", "committed")?;
    nested.commit()?;
    wtxn.commit()?;
    let copy = dir.path().join("copy.mdb");
    env.copy_to_path(&copy, heed::CompactionOption::Enabled)?;
    let copied = unsafe {
        EnvOpenOptions::new()
            .flags(heed::EnvFlags::NO_SUB_DIR)
            .open(&copy)?
    };
    let rtxn = copied.read_txn()?;
    let db: Database<Str, Str> = copied.open_database(&rtxn, None)?.unwrap();
    assert_eq!(db.get(&rtxn, "nested")?, Some("committed"));
    Ok(())
}

/// Writing while iterating. heed's loop is `for entry in iter` with `unsafe` around
/// `del_current` / `put_current`; here the loop is `while let` and no `unsafe` is needed,
/// because the borrow checker proves that no entry is held across the change.
#[test]
fn writing_while_iterating() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, U32<BigEndian>> = env.create_database(&mut wtxn, None)?;
    for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
        db.put(&mut wtxn, key, &(i as u32))?;
    }
    let mut iter = db.iter_mut(&mut wtxn)?;
    while let Some(entry) = iter.next() {
        let (key, value) = entry?;
        if value % 2 == 0 {
            iter.del_current()?;
        } else {
            let key = key.to_owned();
            iter.put_current(&key, &(value * 100))?;
        }
    }
    drop(iter);
    let left: Vec<(&str, u32)> = db.iter(&wtxn)?.collect::<Result<_, _>>()?;
    assert_eq!(left, [("b", 100), ("d", 300)]);
    wtxn.commit()?;
    Ok(())
}

/// heed's own `iter_mut` example shape compiles unchanged: `next().transpose()` and the
/// `unsafe` blocks heed requires around `del_current` / `put_current` (here they are merely
/// unnecessary).
#[test]
#[allow(unused_unsafe)]
fn heeds_iter_mut_example_shape() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<I32<BigEndian>, Str> = env.create_database(&mut wtxn, Some("iter-i32"))?;
    db.put(&mut wtxn, &42, "i-am-forty-two")?;
    db.put(&mut wtxn, &27, "i-am-twenty-seven")?;
    db.put(&mut wtxn, &13, "i-am-thirteen")?;

    let mut iter = db.iter_mut(&mut wtxn)?;
    assert_eq!(iter.next().transpose()?, Some((13, "i-am-thirteen")));
    let ret = unsafe { iter.del_current()? };
    assert!(ret);

    assert_eq!(iter.next().transpose()?, Some((27, "i-am-twenty-seven")));
    let ret = unsafe { iter.put_current(&27, "i-am-the-new-twenty-seven")? };
    assert!(ret);

    assert_eq!(iter.next().transpose()?, Some((42, "i-am-forty-two")));
    assert_eq!(iter.next().transpose()?, None);
    drop(iter);

    let ret = db.get(&wtxn, &13)?;
    assert_eq!(ret, None);
    let ret = db.get(&wtxn, &27)?;
    assert_eq!(ret, Some("i-am-the-new-twenty-seven"));
    wtxn.commit()?;
    Ok(())
}

/// The environment's surface beyond transactions: its reader table's size, the bytes its
/// databases use, a handle to its file, the library's version, `SerdeRmp`.
#[test]
fn environment_surface() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe {
        EnvOpenOptions::new()
            .max_readers(42)
            .max_dbs(4)
            .open(dir.path())?
    };
    assert_eq!(env.max_readers(), 42);
    assert_eq!(env.non_free_pages_size()?, 0, "nothing stored yet");

    let mut wtxn = env.write_txn()?;
    let main: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    let blobs: Database<U32<BigEndian>, Bytes> = env.create_database(&mut wtxn, Some("blobs"))?;
    main.put(&mut wtxn, "hello", "world")?;
    for n in 0..50u32 {
        blobs.put(&mut wtxn, &n, &[7u8; 10_000])?;
    }
    wtxn.commit()?;
    let page_size = env.page_size() as u64;
    let rtxn = env.read_txn()?;
    let (main_stat, blobs_stat) = (main.stat(&rtxn)?, blobs.stat(&rtxn)?);
    let pages = |stat: &heed::DatabaseStat| {
        (stat.branch_pages + stat.leaf_pages + stat.overflow_pages) as u64
    };
    // Both databases, the 50 values' overflow runs included: about 500 KB of pages.
    assert_eq!(
        env.non_free_pages_size()?,
        (pages(&main_stat) + pages(&blobs_stat)) * page_size
    );
    assert!(env.non_free_pages_size()? > 500_000);
    assert!(env.non_free_pages_size()? <= env.real_disk_size()?);

    let file = env.try_clone_inner_file()?;
    assert_eq!(file.metadata()?.len(), env.real_disk_size()?);

    let version = heed::lmdb_version();
    assert_eq!(
        (version.major, version.minor, version.patch),
        (
            env!("CARGO_PKG_VERSION_MAJOR").parse()?,
            env!("CARGO_PKG_VERSION_MINOR").parse()?,
            env!("CARGO_PKG_VERSION_PATCH").parse()?
        )
    );
    assert!(version.string.starts_with("arbordb "));
    Ok(())
}

/// Every flag heed has: the ones arbordb needs work, the others are accepted; `set_flags`
/// changes what LMDB lets it change, `get_flags` reads LMDB's bits.
#[test]
fn environment_flags() -> Result<(), Box<dyn Error>> {
    use heed::{EnvFlags, FlagSetMode};
    let dir = tempfile::tempdir()?;
    let accepted = EnvFlags::FIXED_MAP
        | EnvFlags::WRITE_MAP
        | EnvFlags::MAP_ASYNC
        | EnvFlags::NO_TLS
        | EnvFlags::NO_LOCK
        | EnvFlags::NO_READ_AHEAD
        | EnvFlags::NO_MEM_INIT;
    let env = unsafe { EnvOpenOptions::new().flags(accepted).open(dir.path())? };
    assert_eq!(env.get_flags()?, accepted.bits());
    assert_eq!(env.flags()?, Some(accepted));
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    db.put(&mut wtxn, "read", "ahead")?;
    wtxn.commit()?;
    let rtxn = env.read_txn()?;
    assert_eq!(db.get(&rtxn, "read")?, Some("ahead"));
    drop(rtxn);

    unsafe { env.set_flags(EnvFlags::NO_SYNC, FlagSetMode::Enable)? };
    assert_eq!(env.get_flags()?, (accepted | EnvFlags::NO_SYNC).bits());
    unsafe {
        env.set_flags(
            EnvFlags::NO_SYNC | EnvFlags::MAP_ASYNC,
            FlagSetMode::Disable,
        )?
    };
    assert_eq!(
        env.get_flags()?,
        accepted.bits() & !EnvFlags::MAP_ASYNC.bits()
    );
    for fixed in [EnvFlags::READ_ONLY, EnvFlags::NO_SUB_DIR, EnvFlags::NO_LOCK] {
        assert!(matches!(
            unsafe { env.set_flags(fixed, FlagSetMode::Enable) },
            Err(heed::Error::Mdb(heed::MdbError::InvalidOption { .. }))
        ));
    }
    assert_eq!(
        env.get_flags()?,
        accepted.bits() & !EnvFlags::MAP_ASYNC.bits()
    );
    // A second open in this process shares the environment only when it asks for the flags
    // in force.
    let in_force = EnvFlags::from_bits(env.get_flags()?).unwrap();
    assert!(matches!(
        unsafe { EnvOpenOptions::new().flags(accepted).open(dir.path()) },
        Err(heed::Error::EnvAlreadyOpened)
    ));
    let again = unsafe { EnvOpenOptions::new().flags(in_force).open(dir.path())? };
    assert_eq!(again.get_flags()?, env.get_flags()?);
    drop((env, again));
    Ok(())
}

/// heed's prev-snapshot example: `PREV_SNAPSHOT` opens the commit before the newest; a write
/// transaction there that is aborted leaves the newest commit in the file, and one that
/// commits replaces it.
#[test]
fn opening_the_previous_snapshot() -> Result<(), Box<dyn Error>> {
    use heed::EnvFlags;
    let dir = tempfile::tempdir()?;
    let open = |flags: EnvFlags| unsafe {
        EnvOpenOptions::new()
            .map_size(10 << 20)
            .max_dbs(3)
            .flags(flags)
            .open(dir.path())
    };
    let env = open(EnvFlags::empty())?;
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    db.put(&mut wtxn, "first", "commit")?;
    db.put(&mut wtxn, "also in", "the first commit")?;
    wtxn.commit()?;
    env.prepare_for_closing().wait();

    // Before the only commit, the environment was empty.
    let env = open(EnvFlags::PREV_SNAPSHOT)?;
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    assert!(db.is_empty(&wtxn)?);
    wtxn.abort();
    env.prepare_for_closing().wait();

    // Nothing was committed there, so the newest commit is still the one that opens.
    let env = open(EnvFlags::empty())?;
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    assert_eq!(db.get(&wtxn, "first")?, Some("commit"));
    db.put(&mut wtxn, "second", "commit")?;
    wtxn.commit()?;
    env.prepare_for_closing().wait();

    // The previous snapshot is the first commit again.
    let env = open(EnvFlags::PREV_SNAPSHOT)?;
    let rtxn = env.read_txn()?;
    let db: Database<Str, Str> = env.open_database(&rtxn, None)?.expect("the database");
    assert_eq!(db.get(&rtxn, "first")?, Some("commit"));
    assert_eq!(db.get(&rtxn, "second")?, None);
    Ok(())
}

/// heed's `put_current_with_options` call compiles unchanged, its `unsafe` block merely
/// unnecessary: the value in a codec of its own, the flags as heed takes them.
#[test]
#[allow(unused_unsafe)]
fn heeds_put_current_with_options_shape() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<I32<BigEndian>, Str> = env.create_database(&mut wtxn, None)?;
    db.put(&mut wtxn, &27, "i-am-twenty-seven")?;
    db.put(&mut wtxn, &42, "i-am-forty-two")?;

    let mut iter = db.iter_mut(&mut wtxn)?;
    assert_eq!(iter.next().transpose()?, Some((27, "i-am-twenty-seven")));
    let refused =
        unsafe { iter.put_current_with_options::<Str>(PutFlags::NO_OVERWRITE, &27, "new") };
    assert!(matches!(
        refused,
        Err(heed::Error::Mdb(heed::MdbError::KeyExist))
    ));
    unsafe { iter.put_current_with_options::<Bytes>(PutFlags::empty(), &27, b"new")? };
    assert_eq!(iter.next().transpose()?, Some((42, "i-am-forty-two")));
    drop(iter);
    assert_eq!(db.get(&wtxn, &27)?, Some("new"));
    Ok(())
}

/// heed's transaction markers: an environment opened `read_txn_without_tls` begins
/// `RoTxn<'_, WithoutTls>`, the default one `RoTxn<'_, WithTls>`; both (and a write
/// transaction) pass where a `&RoTxn` is taken. arbordb's read transactions use no
/// thread-local slot, so both kinds are `Send` and a thread may hold several.
#[test]
fn read_transaction_markers() -> Result<(), Box<dyn Error>> {
    use heed::{AnyTls, RoTxn, RwTxn, TlsUsage, WithTls, WithoutTls};

    fn count(db: Database<Str, Str>, rtxn: &RoTxn) -> heed::Result<u64> {
        db.len(rtxn)
    }
    fn is_send<T: Send>(_: &T) {}

    let dir = tempfile::tempdir()?;
    let env: heed::Env<WithoutTls> = unsafe {
        EnvOpenOptions::new()
            .read_txn_without_tls()
            .map_size(1 << 24)
            .open(dir.path())?
    };
    let mut wtxn: RwTxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    db.put(&mut wtxn, "k", "v")?;
    assert_eq!(count(db, &wtxn)?, 1, "a write transaction is a RoTxn");
    wtxn.commit()?;

    let first: RoTxn<'_, WithoutTls> = env.read_txn()?;
    let second: RoTxn<'_, WithoutTls> = env.read_txn()?;
    assert_eq!(count(db, &first)? + count(db, &second)?, 2);
    is_send(&first);
    let moved = std::thread::scope(|scope| {
        scope
            .spawn(move || db.get(&first, "k").map(|v| v.map(str::to_owned)))
            .join()
            .unwrap()
    })?;
    assert_eq!(moved.as_deref(), Some("v"));
    drop(second);

    // The default marker: the same transactions, `Send` too.
    let default_dir = tempfile::tempdir()?;
    let default_env: heed::Env = unsafe { EnvOpenOptions::new().open(default_dir.path())? };
    let mut wtxn = default_env.write_txn()?;
    let other: Database<Str, Str> = default_env.create_database(&mut wtxn, None)?;
    wtxn.commit()?;
    let rtxn: RoTxn<'_, WithTls> = default_env.read_txn()?;
    is_send(&rtxn);
    assert_eq!(count(other, &rtxn)?, 0);
    let any: &RoTxn<'_, AnyTls> = &rtxn;
    assert_eq!(any.id(), rtxn.id());
    const { assert!(WithTls::ENABLED && !WithoutTls::ENABLED && !AnyTls::ENABLED) };
    Ok(())
}

/// heed documents that `RoTxn` is covariant in its lifetime whatever its marker, with this
/// very trait.
#[allow(dead_code)]
trait CovariantMarker<'a>: 'static {
    type R: 'a;

    fn is_covariant(&'a self) -> &'a Self::R;
}

impl<'a, T> CovariantMarker<'a> for heed::RoTxn<'static, T> {
    type R = heed::RoTxn<'a, T>;

    fn is_covariant(&'a self) -> &'a heed::RoTxn<'a, T> {
        self
    }
}

/// And `RwTxn`, nested ones included, with the same trait under another name.
#[allow(dead_code)]
trait CovariantWriteMarker<'a>: 'static {
    type T: 'a;

    fn is_covariant(&'a self) -> &'a Self::T;
}

impl<'a> CovariantWriteMarker<'a> for heed::RwTxn<'static> {
    type T = heed::RwTxn<'a>;

    fn is_covariant(&'a self) -> &'a heed::RwTxn<'a> {
        self
    }
}

/// `prepare_for_closing` and `env_closing_event`: the event fires once every clone of the
/// environment is dropped and its files are closed, after which the path opens anew.
#[test]
fn waiting_for_an_environment_to_close() -> Result<(), Box<dyn Error>> {
    use std::time::Duration;
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    let clone = env.clone();
    let by_path = heed::env_closing_event(dir.path()).expect("open at this path");
    let event = env.prepare_for_closing();
    assert!(
        !event.wait_timeout(Duration::from_millis(20)),
        "a clone is alive"
    );
    let holder = std::thread::spawn(move || {
        let rtxn = clone.read_txn().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(rtxn);
        drop(clone);
    });
    event.wait();
    assert!(by_path.wait_timeout(Duration::ZERO));
    holder.join().unwrap();
    assert!(
        heed::env_closing_event(dir.path()).is_none(),
        "nothing open there"
    );
    // Closed: the path opens again, with other options if need be.
    let again = unsafe { EnvOpenOptions::new().max_dbs(3).open(dir.path())? };
    assert!(heed::env_closing_event(dir.path()).is_some());
    drop(again);
    Ok(())
}

/// Reserved writes: the value's size first, its bytes written by a function; a function
/// that fails or leaves space unwritten stores nothing and the transaction goes on.
#[test]
fn reserved_writes() -> Result<(), Box<dyn Error>> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().max_dbs(2).open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Bytes> = env.create_database(&mut wtxn, None)?;

    db.put_reserved(&mut wtxn, "greeting", 11, |space| {
        space.write_all(b"hello ")?;
        space.write_all(b"world")
    })?;
    assert_eq!(db.get(&wtxn, "greeting")?, Some(&b"hello world"[..]));

    let short = db.put_reserved(&mut wtxn, "short", 4, |space| space.write_all(b"abc"));
    assert!(
        matches!(short, Err(heed::Error::Io(ref error)) if error.kind() == std::io::ErrorKind::UnexpectedEof)
    );
    let failed = db.put_reserved(&mut wtxn, "failed", 3, |_| Err(std::io::Error::other("no")));
    assert!(matches!(failed, Err(heed::Error::Io(_))));
    let too_long = db.put_reserved(&mut wtxn, "long", 2, |space| space.write_all(b"abc"));
    assert!(matches!(too_long, Err(heed::Error::Io(_))));
    assert_eq!(db.len(&wtxn)?, 1, "nothing half written");

    let refused =
        db.put_reserved_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "greeting", 1, |s| {
            s.write_all(b"x")
        });
    assert!(matches!(
        refused,
        Err(heed::Error::Mdb(heed::MdbError::KeyExist))
    ));

    // get_or_put_reserved writes only when the key has no value.
    let mut calls = 0;
    let existing = db.get_or_put_reserved(&mut wtxn, "greeting", 1, |s| {
        calls += 1;
        s.write_all(b"x")
    })?;
    assert_eq!((existing, calls), (Some(&b"hello world"[..]), 0));
    let fresh = db.get_or_put_reserved(&mut wtxn, "fresh", 2, |s| s.write_all(b"ok"))?;
    assert_eq!(fresh, None);
    assert_eq!(db.get(&wtxn, "fresh")?, Some(&b"ok"[..]));
    assert_eq!(
        db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, "zz", b"last")?,
        None
    );
    assert!(matches!(
        db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, "aa", b"first"),
        Err(heed::Error::Mdb(heed::MdbError::KeyExist))
    ));
    assert_eq!(
        db.get_or_put_reserved_with_flags(&mut wtxn, PutFlags::empty(), "zz", 1, |s| s
            .write_all(b"?"))?,
        Some(&b"last"[..])
    );

    // The iterator's reserved put of the visited key.
    let mut iter = db.iter_mut(&mut wtxn)?;
    let (key, _) = iter.next().transpose()?.expect("an entry");
    assert_eq!(key, "fresh");
    assert!(
        iter.put_current_reserved_with_flags(PutFlags::empty(), "fresh", 3, |s| {
            s.write_all(b"new")
        })?
    );
    drop(iter);
    assert_eq!(db.get(&wtxn, "fresh")?, Some(&b"new"[..]));
    wtxn.commit()?;
    Ok(())
}

/// heed-style code around the transaction markers: functions taking `&RoTxn`, a marked
/// transaction stored in a struct, an `Env<WithoutTls>` passed around and cloned, the
/// builder chains, and user trait impls on `RoTxn<'a, T>`.
mod marker_shapes {
    use super::heed;
    use heed::types::*;
    use heed::{AnyTls, Database, Env, EnvOpenOptions, RoTxn, RwTxn, WithTls, WithoutTls};

    fn count(db: &Database<Str, Str>, rtxn: &RoTxn) -> heed::Result<u64> {
        db.len(rtxn)
    }

    fn count_any(db: &Database<Str, Str>, rtxn: &RoTxn<'_, AnyTls>) -> heed::Result<u64> {
        db.len(rtxn)
    }

    struct Reader<'e> {
        rtxn: RoTxn<'e, WithoutTls>,
        db: Database<Str, Str>,
    }

    impl Reader<'_> {
        fn get(&self, key: &str) -> heed::Result<Option<String>> {
            Ok(self.db.get(&self.rtxn, key)?.map(str::to_owned))
        }
    }

    fn open(path: &std::path::Path) -> heed::Result<Env<WithoutTls>> {
        unsafe {
            EnvOpenOptions::new()
                .read_txn_without_tls()
                .map_size(1 << 24)
                .max_dbs(4)
                .open(path)
        }
    }

    fn takes_env(env: Env<WithoutTls>) -> Env<WithoutTls> {
        env.clone()
    }

    trait Snapshot {
        fn snapshot_id(&self) -> usize;
    }

    impl<'a, T> Snapshot for RoTxn<'a, T> {
        fn snapshot_id(&self) -> usize {
            0
        }
    }

    trait ByMarker {
        fn marker(&self) -> &'static str;
    }
    impl ByMarker for RoTxn<'_, WithTls> {
        fn marker(&self) -> &'static str {
            "with"
        }
    }
    impl ByMarker for RoTxn<'_, WithoutTls> {
        fn marker(&self) -> &'static str {
            "without"
        }
    }

    #[test]
    fn heed_style_marker_code() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let env = takes_env(open(dir.path())?);
        let mut wtxn: RwTxn = env.write_txn()?;
        let db: Database<Str, Str> = env
            .database_options()
            .types::<Str, Str>()
            .name("x")
            .create(&mut wtxn)?;
        db.put(&mut wtxn, "k", "v")?;
        assert_eq!(count(&db, &wtxn)?, 1);
        assert_eq!(count_any(&db, &wtxn)?, 1);
        wtxn.commit()?;

        let reader = Reader {
            rtxn: env.read_txn()?,
            db,
        };
        assert_eq!(reader.get("k")?.as_deref(), Some("v"));
        assert_eq!(count(&db, &reader.rtxn)?, 1);
        assert_eq!(reader.rtxn.snapshot_id(), 0);
        assert_eq!(reader.rtxn.marker(), "without");
        let opened: Option<Database<Str, Str>> = env.open_database(&reader.rtxn, Some("x"))?;
        assert!(opened.is_some());
        let id = reader.rtxn.id();
        assert!(id > 0);
        drop(reader);

        let default_dir = tempfile::tempdir()?;
        let default_env: Env = unsafe { EnvOpenOptions::new().open(default_dir.path())? };
        let rtxn = default_env.read_txn()?;
        assert_eq!(rtxn.marker(), "with");
        Ok(())
    }
}

/// Scoped databases on an `Env<WithoutTls>`, read through a `RoTxn<'_, WithoutTls>`.
#[test]
fn scoped_databases_on_an_environment_without_tls() -> Result<(), Box<dyn Error>> {
    use heed::scoped::{GlobalScopeRegistry, Scope, ScopedBytesDatabase};
    use std::sync::Arc;
    let dir = tempfile::tempdir()?;
    let env: heed::Env<heed::WithoutTls> = unsafe {
        EnvOpenOptions::new()
            .read_txn_without_tls()
            .max_dbs(8)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    let db = ScopedBytesDatabase::create(&env, "raw", &mut wtxn, registry)?;
    let tenant = Scope::named("tenant")?;
    db.put(&mut wtxn, &tenant, b"k", b"v")?;
    wtxn.commit()?;
    let rtxn: heed::RoTxn<'_, heed::WithoutTls> = env.read_txn()?;
    assert_eq!(db.get(&rtxn, &tenant, b"k")?, Some(&b"v"[..]));
    Ok(())
}

/// heed's methods of every read transaction, whatever its marker: `commit` (which heed's docs
/// ask for in multi-process setups), `abort` and `id` on a marked transaction, in code
/// generic over the marker; and a write transaction reads as a `RoTxn<'_, WithoutTls>`.
#[test]
fn marked_read_transactions_commit() -> Result<(), Box<dyn Error>> {
    use heed::{RoTxn, RwTxn, WithoutTls};

    fn finish<T>(rtxn: RoTxn<'_, T>) -> heed::Result<u64> {
        let id = rtxn.id();
        rtxn.commit()?;
        Ok(id)
    }
    fn count_without(db: &Database<Str, Str>, rtxn: &RoTxn<'_, WithoutTls>) -> heed::Result<u64> {
        db.len(rtxn)
    }

    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().max_dbs(2).open(dir.path())? };
    let mut wtxn: RwTxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, Some("x"))?;
    db.put(&mut wtxn, "k", "v")?;
    assert_eq!(count_without(&db, &wtxn)?, 1);
    wtxn.commit()?;
    let rtxn = env.read_txn()?;
    assert_eq!(rtxn.pages_read(), 0);
    rtxn.commit()?;
    assert_eq!(finish(env.read_txn()?)?, 1);
    env.read_txn()?.abort();
    Ok(())
}

/// An application's own error, converted from heed's the way heed users write it: one arm per
/// variant of `heed::Error`, no wildcard, and heed's `MdbError` names in the arms.
#[derive(Debug, PartialEq)]
enum AppError {
    Io,
    DatabaseFull,
    Duplicate,
    TooLong,
    TooManyReaders,
    Store(i32),
    Codec,
    AlreadyOpen,
}

impl From<heed::Error> for AppError {
    fn from(error: heed::Error) -> AppError {
        use heed::MdbError;
        match error {
            heed::Error::Io(_) => AppError::Io,
            heed::Error::Mdb(MdbError::MapFull) => AppError::DatabaseFull,
            heed::Error::Mdb(MdbError::KeyExist) => AppError::Duplicate,
            heed::Error::Mdb(MdbError::BadValSize) => AppError::TooLong,
            heed::Error::Mdb(MdbError::ReadersFull) => AppError::TooManyReaders,
            heed::Error::Mdb(other) => AppError::Store(other.to_err_code()),
            heed::Error::Encoding(_) | heed::Error::Decoding(_) => AppError::Codec,
            heed::Error::EnvAlreadyOpened => AppError::AlreadyOpen,
        }
    }
}

/// Errors in heed's shape: the conditions applications handle are `Error::Mdb(MdbError::..)`
/// as in heed, and an exhaustive `match` over heed's five variants compiles. What arbordb
/// knows beyond LMDB (the page, the file) is kept in variants of its own, whose messages name
/// it and whose codes are LMDB's for their kind.
#[test]
fn errors_in_heeds_shape() -> Result<(), Box<dyn Error>> {
    use heed::MdbError;
    let dir = tempfile::tempdir()?;
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 20)
            .max_readers(1)
            .max_dbs(1)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, Some("only"))?;
    db.put(&mut wtxn, b"k", b"v")?;
    let exists = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, b"k", b"w");
    assert_eq!(exists.map_err(AppError::from), Err(AppError::Duplicate));
    let long_key = vec![1u8; env.max_key_size() + 1];
    let too_long = db.put(&mut wtxn, &long_key, b"v");
    assert_eq!(too_long.map_err(AppError::from), Err(AppError::TooLong));
    // One named database is the most this environment opens.
    let second = env.create_database::<Bytes, Bytes>(&mut wtxn, Some("second"));
    assert!(matches!(second, Err(heed::Error::Mdb(MdbError::DbsFull))));
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let readers = env.read_txn().map(drop).map_err(AppError::from);
    assert_eq!(readers, Err(AppError::TooManyReaders));
    drop(rtxn);

    // A full map fails the transaction: later operations are BadTxn, as in LMDB.
    let mut wtxn = env.write_txn()?;
    let mut full = None;
    for n in 0u32..100_000 {
        if let Err(error) = db.put(&mut wtxn, &n.to_be_bytes(), &[7u8; 500]) {
            full = Some(error);
            break;
        }
    }
    assert_eq!(full.map(AppError::from), Some(AppError::DatabaseFull));
    assert!(matches!(
        db.put(&mut wtxn, b"after", b"v"),
        Err(heed::Error::Mdb(MdbError::BadTxn))
    ));
    wtxn.abort();

    // Damaged pages: arbordb's own variant, the page in its message, LMDB's code for it.
    let page_size = env.page_size();
    drop(env);
    let path = dir.path().join("data.arbordb");
    let mut bytes = std::fs::read(&path)?;
    for page in 2..bytes.len() / page_size {
        bytes[page * page_size + 8] ^= 0xff; // its own page number
    }
    std::fs::write(&path, &bytes)?;
    let env = unsafe { EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
    let rtxn = env.read_txn()?;
    let read = env
        .open_database::<Bytes, Bytes>(&rtxn, Some("only"))
        .and_then(|db| db.expect("the database").get(&rtxn, b"k").map(drop));
    let damaged = read.unwrap_err();
    let heed::Error::Mdb(MdbError::CorruptedPage { page, .. }) = &damaged else {
        panic!("expected CorruptedPage, got {damaged:?}");
    };
    assert!(*page >= 2, "a damaged page is named: {damaged}");
    assert!(
        damaged.to_string().contains(&format!("page {page}")),
        "{damaged}"
    );
    assert_eq!(AppError::from(damaged), AppError::Store(-30796)); // MDB_CORRUPTED

    // An I/O error names the file in its message and keeps the OS error as its source.
    let missing = unsafe {
        EnvOpenOptions::new()
            .flags(heed::EnvFlags::READ_ONLY)
            .open(dir.path().join("missing"))
    };
    let Err(io @ heed::Error::Io(_)) = missing else {
        panic!("expected an I/O error, got {:?}", missing.map(|_| ()));
    };
    assert!(io.to_string().contains("missing"), "{io}");
    assert!(std::error::Error::source(&io).is_some());

    // heed's codes convert both ways; MdbError converts into Error.
    for code in -30799..=-30779 {
        assert_eq!(MdbError::from_err_code(code).to_err_code(), code);
    }
    assert_eq!(MdbError::MapFull.to_err_code(), -30792);
    let converted: heed::Error = MdbError::KeyExist.into();
    assert!(matches!(converted, heed::Error::Mdb(MdbError::KeyExist)));
    Ok(())
}

/// heed's nested-rtxns example: read transactions nested in a write transaction see its
/// uncommitted values (here large ones, in overflow pages, and a database it created), from
/// several threads at once while the writer waits; then the writer goes on and commits.
#[test]
fn nested_read_transactions_on_several_threads() -> Result<(), Box<dyn Error>> {
    use heed::byteorder::BigEndian;
    use heed::types::U32;
    let value_of = |i: u32| -> Vec<u8> {
        let len = 1000 + (i as usize * 7919) % 9000;
        (0..len).map(|n| (n as u32 ^ i) as u8).collect()
    };
    let dir = tempfile::tempdir()?;
    let env = unsafe {
        EnvOpenOptions::new()
            .read_txn_without_tls()
            .map_size(256 << 20)
            .max_dbs(2)
            .open(dir.path())?
    };
    let mut wtxn = env.write_txn()?;
    let db: Database<U32<BigEndian>, Bytes> = env.create_database(&mut wtxn, None)?;
    let named: Database<Str, Str> = env.create_database(&mut wtxn, Some("made here"))?;
    named.put(&mut wtxn, "seen", "before any commit")?;
    for (start, end) in [(0u32, 100u32), (100, 1000)] {
        for i in start..end {
            db.put(&mut wtxn, &i, &value_of(i))?;
        }
        let rtxns = (start..end)
            .map(|_| env.nested_read_txn(&wtxn))
            .collect::<heed::Result<Vec<_>>>()?;
        std::thread::scope(|scope| {
            let mut rtxns = rtxns.into_iter().zip(start..).collect::<Vec<_>>();
            let per_thread = rtxns.len().div_ceil(4);
            while !rtxns.is_empty() {
                let batch: Vec<_> = rtxns.drain(..per_thread.min(rtxns.len())).collect();
                let env = &env;
                scope.spawn(move || {
                    for (rtxn, i) in batch {
                        assert_eq!(db.get(&rtxn, &i).unwrap(), Some(&value_of(i)[..]));
                        assert_eq!(db.len(&rtxn).unwrap(), u64::from(end));
                        let named = env
                            .open_database::<Str, Str>(&rtxn, Some("made here"))
                            .unwrap()
                            .expect("the database this transaction created");
                        assert_eq!(named.get(&rtxn, "seen").unwrap(), Some("before any commit"));
                        assert!(rtxn.pages_read() > 0);
                    }
                });
            }
        });
    }
    // A nested write transaction's nested readers see its state, not its parent's alone.
    let mut child = env.nested_write_txn(&mut wtxn)?;
    db.delete(&mut child, &0)?;
    {
        let rtxn = child.nested_read_txn()?;
        assert_eq!(db.get(&rtxn, &0)?, None);
        assert_eq!(db.get(&rtxn, &1)?, Some(&value_of(1)[..]));
    }
    child.abort();
    wtxn.commit()?;
    // Nothing was visible to an ordinary reader before the commit; everything is after it.
    let rtxn = env.read_txn()?;
    assert_eq!(db.len(&rtxn)?, 1000);
    assert_eq!(db.get(&rtxn, &0)?, Some(&value_of(0)[..]));
    Ok(())
}

/// `static_read_txn`: a read transaction that owns its environment lives on after every handle
/// is dropped, goes where only `'static` values go (a spawned thread, a global structure),
/// and keeps the environment open until it ends.
#[test]
fn a_static_read_transaction_keeps_its_environment() -> Result<(), Box<dyn Error>> {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().map_size(16 << 20).open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    db.put(&mut wtxn, "kept", "by the transaction")?;
    wtxn.commit()?;

    let rtxn: heed::RoTxn<'static, heed::WithTls> = env.clone().static_read_txn()?;
    // A later commit is not seen: it is a snapshot like any other.
    let mut wtxn = env.write_txn()?;
    db.put(&mut wtxn, "kept", "changed later")?;
    wtxn.commit()?;
    let closing = env.prepare_for_closing();
    // Every handle is gone; the transaction still reads, from another thread.
    let (ready, go) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        go.recv().unwrap();
        let seen = db.get(&rtxn, "kept").unwrap().map(str::to_owned);
        (seen, rtxn)
    });
    assert!(
        !closing.wait_timeout(Duration::from_millis(50)),
        "the environment stays open while the transaction lives"
    );
    ready.send(())?;
    let (seen, rtxn) = reader.join().unwrap();
    assert_eq!(seen.as_deref(), Some("by the transaction"));
    drop(rtxn);
    assert!(
        closing.wait_timeout(Duration::from_secs(10)),
        "closed once it ended"
    );
    // Opened again, the later commit is there.
    let env = unsafe { EnvOpenOptions::new().map_size(16 << 20).open(dir.path())? };
    let rtxn = env.read_txn()?;
    let db: Database<Str, Str> = env.open_database(&rtxn, None)?.expect("the database");
    assert_eq!(db.get(&rtxn, "kept")?, Some("changed later"));
    Ok(())
}

/// Copies as heed makes them: `copy_to_file` from the file's offset, leaving it after the
/// copy; `copy_to_path` returning its file rewound; `copy_to_fd`, heed's `unsafe` signature
/// over a raw descriptor, to a file at its offset (the descriptor stays open) and to a pipe.
/// All give the same bytes as a copy to any `Write`.
#[test]
fn copying_to_files_and_descriptors() -> Result<(), Box<dyn Error>> {
    use heed::CompactionOption;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir()?;
    let env = unsafe { EnvOpenOptions::new().map_size(16 << 20).open(dir.path())? };
    let mut wtxn = env.write_txn()?;
    let db: Database<Str, Str> = env.create_database(&mut wtxn, None)?;
    for n in 0..2_000 {
        db.put(&mut wtxn, &format!("key {n}"), "value")?;
    }
    wtxn.commit()?;
    for option in [CompactionOption::Disabled, CompactionOption::Enabled] {
        let mut expected = Vec::new();
        env.copy_to_writer(&mut expected, option)?;

        let mut file = tempfile::tempfile()?;
        file.write_all(b"header")?;
        env.copy_to_file(&mut file, option)?;
        assert_eq!(file.stream_position()?, 6 + expected.len() as u64);
        let mut written = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut written)?;
        assert!(
            written[..6] == *b"header" && written[6..] == expected,
            "{option:?}"
        );

        // Written over a longer file from its start: cut where the copy ends.
        let mut longer = tempfile::tempfile()?;
        longer.write_all(&vec![0xAB; expected.len() + 65536])?;
        longer.seek(SeekFrom::Start(0))?;
        env.copy_to_file(&mut longer, option)?;
        assert_eq!(
            longer.metadata()?.len(),
            expected.len() as u64,
            "{option:?}"
        );

        // A file opened to append gets the copy at its end.
        let path = dir.path().join(format!("appended {option:?}"));
        std::fs::write(&path, b"header")?;
        let mut appended = std::fs::OpenOptions::new().append(true).open(&path)?;
        env.copy_to_file(&mut appended, option)?;
        let written = std::fs::read(&path)?;
        assert!(
            written[..6] == *b"header" && written[6..] == expected,
            "{option:?}"
        );

        let path = dir.path().join(format!("copy {option:?}"));
        let mut copy = env.copy_to_path(&path, option)?;
        assert_eq!(copy.stream_position()?, 0);
        let mut written = Vec::new();
        copy.read_to_end(&mut written)?;
        assert!(written == expected, "{option:?}");

        let mut file = tempfile::tempfile()?;
        file.write_all(b"header")?;
        unsafe { env.copy_to_fd(file.as_raw_fd(), option)? };
        file.write_all(b"trailer")?; // still open, its offset past the copy
        let mut written = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut written)?;
        assert_eq!(&written[..6], b"header");
        assert!(written[6..].starts_with(&expected), "{option:?}");
        assert_eq!(&written[6 + expected.len()..], b"trailer");

        let (mut reader, writer) = std::io::pipe()?;
        let draining = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map(|_| bytes)
        });
        unsafe { env.copy_to_fd(writer.as_raw_fd(), option)? };
        drop(writer);
        assert!(draining.join().unwrap()? == expected, "{option:?}");
    }
    Ok(())
}

/// LMDB's error codes, each to heed's variant and back, and a transaction of one environment
/// refused by another's database calls (`DatabaseFromAnotherEnv`, LMDB's `MDB_BAD_DBI`).
#[test]
#[allow(deprecated)] // heed's names for what arbordb never returns are part of the table
fn error_codes_and_transactions_of_another_environment() -> Result<(), Box<dyn Error>> {
    use heed::MdbError;
    let table = [
        (MdbError::KeyExist, -30799),
        (MdbError::NotFound, -30798),
        (MdbError::PageNotFound, -30797),
        (MdbError::Corrupted, -30796),
        (MdbError::Panic, -30795),
        (MdbError::VersionMismatch, -30794),
        (MdbError::Invalid, -30793),
        (MdbError::MapFull, -30792),
        (MdbError::DbsFull, -30791),
        (MdbError::ReadersFull, -30790),
        (MdbError::TlsFull, -30789),
        (MdbError::TxnFull, -30788),
        (MdbError::CursorFull, -30787),
        (MdbError::PageFull, -30786),
        (MdbError::MapResized, -30785),
        (MdbError::Incompatible, -30784),
        (MdbError::BadRslot, -30783),
        (MdbError::BadTxn, -30782),
        (MdbError::BadValSize, -30781),
        (MdbError::BadDbi, -30780),
        (MdbError::Problem, -30779),
    ];
    for (error, code) in table {
        assert_eq!(error.to_err_code(), code, "{error:?}");
        assert_eq!(MdbError::from_err_code(code), error);
    }
    assert_eq!(MdbError::from_err_code(5), MdbError::Other(5));
    assert!(MdbError::NotFound.not_found() && !MdbError::KeyExist.not_found());
    // arbordb's own variants give the code of the LMDB condition they refine.
    let corrupted = MdbError::CorruptedPage {
        page: 3,
        reason: String::new(),
    };
    assert_eq!(corrupted.to_err_code(), -30796);
    assert_eq!(MdbError::WriterBusy.to_err_code(), 16); // EBUSY
    assert_eq!(
        MdbError::InvalidOption {
            reason: String::new()
        }
        .to_err_code(),
        22
    ); // EINVAL

    let (one, other) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let env = unsafe { EnvOpenOptions::new().max_dbs(2).open(one.path())? };
    let other_env = unsafe { EnvOpenOptions::new().max_dbs(2).open(other.path())? };
    let mut wtxn = other_env.write_txn()?;
    for refused in [
        env.create_database::<Bytes, Bytes>(&mut wtxn, Some("x"))
            .map(drop),
        env.delete_database(&mut wtxn, "x").map(drop),
        env.open_database::<Bytes, Bytes>(&wtxn, None).map(drop),
        env.database_info(&wtxn, None).map(drop),
        env.nested_read_txn(&wtxn).map(drop),
    ] {
        assert!(
            matches!(
                refused,
                Err(heed::Error::Mdb(MdbError::DatabaseFromAnotherEnv))
            ),
            "{refused:?}"
        );
    }
    Ok(())
}
