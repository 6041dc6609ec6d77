//! `DUP_FIXED` databases: a key's values all have one size and are stored packed, in the
//! key's cell while few (without a length each) and in dense leaves past that.

mod common;

use std::path::Path;

use arbordb::byteorder::BigEndian;
use arbordb::types::{Bytes, Str, U64};
use arbordb::MdbError;
use arbordb::{CompactionOption, DatabaseFlags, Env, EnvOpenOptions, Error, PutFlags};
use common::pairs::{owned, pairs_of, stored_pairs, Model, Multimap};
use common::{assert_sound, open, open_with_page_size, Rng};

fn database(env: &Env, name: &str, flags: DatabaseFlags) -> Multimap {
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name(name).flags(flags);
    let db = options.create(&mut wtxn).unwrap();
    wtxn.commit().unwrap();
    db
}

fn fixed(env: &Env, name: &str) -> Multimap {
    database(
        env,
        name,
        DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED,
    )
}

fn values_of(env: &Env, db: Multimap, key: &[u8]) -> Vec<Vec<u8>> {
    let rtxn = env.read_txn().unwrap();
    let values = match db.get_duplicates(&rtxn, key).unwrap() {
        Some(iter) => iter.map(|entry| entry.unwrap().1.to_vec()).collect(),
        None => Vec::new(),
    };
    values
}

/// A key's values packed in its cell leave room for more of them than a list with a length
/// per value, and packed in dense leaves they take about half the pages of the slotted ones
/// (8-byte values: 8 bytes each instead of 17).
#[test]
fn fixed_size_values_take_less_room_in_a_cell_and_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let packed = fixed(&env, "packed");
    let listed = database(&env, "listed", DatabaseFlags::DUP_SORT);
    // 110 values of 8 bytes: 2 + 880 bytes packed fit a 4096-byte page's largest cell
    // (1016 bytes); 1100 bytes with their lengths do not.
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..110u64 {
        for db in [packed, listed] {
            db.put(&mut wtxn, b"k", &n.to_be_bytes()).unwrap();
        }
    }
    assert_eq!(
        packed.stat(&wtxn).unwrap().leaf_pages,
        1,
        "one leaf: listed"
    );
    assert!(
        listed.stat(&wtxn).unwrap().leaf_pages > 1,
        "a tree of its own"
    );
    wtxn.commit().unwrap();
    assert_sound(&env);

    let mut wtxn = env.write_txn().unwrap();
    let mut order: Vec<u64> = (0..100_000).collect();
    Rng(3).shuffle(&mut order);
    for n in &order {
        for db in [packed, listed] {
            db.put(&mut wtxn, b"many", &n.to_be_bytes()).unwrap();
        }
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    let (packed_pages, listed_pages) = (
        packed.stat(&rtxn).unwrap().leaf_pages,
        listed.stat(&rtxn).unwrap().leaf_pages,
    );
    assert!(
        packed_pages * 10 < listed_pages * 6,
        "{packed_pages} dense leaves against {listed_pages} slotted ones"
    );
    let expected: Vec<Vec<u8>> = (0..100_000u64).map(|n| n.to_be_bytes().to_vec()).collect();
    drop(rtxn);
    assert_eq!(values_of(&env, packed, b"many"), expected);
    assert_eq!(values_of(&env, listed, b"many"), expected);
}

/// Every value of a key has the size of its first, whichever form the key's values are in;
/// another size is refused before anything changes. Other keys have sizes of their own.
#[test]
fn a_value_of_another_size_than_its_key_s_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = fixed(&env, "ids");
    let mut wtxn = env.write_txn().unwrap();
    // "one": a single value; "few": a list in the cell; "many": a tree of dense leaves.
    for (key, count) in [(&b"one"[..], 1u64), (b"few", 5), (b"many", 2_000)] {
        for n in 0..count {
            db.put(&mut wtxn, key, &n.to_be_bytes()).unwrap();
        }
    }
    db.put(&mut wtxn, b"short", &[1, 2]).unwrap();
    db.put(&mut wtxn, b"short", &[3, 4]).unwrap();
    wtxn.commit().unwrap();
    let before: Vec<Vec<Vec<u8>>> = [&b"one"[..], b"few", b"many", b"short"]
        .iter()
        .map(|key| values_of(&env, db, key))
        .collect();

    let mut wtxn = env.write_txn().unwrap();
    for key in [&b"one"[..], b"few", b"many"] {
        for value in [&[9u8; 4][..], &[9u8; 9], &[]] {
            for flags in [
                PutFlags::empty(),
                PutFlags::NO_DUP_DATA,
                PutFlags::APPEND_DUP,
            ] {
                match db.put_with_flags(&mut wtxn, flags, key, value) {
                    Err(Error::Mdb(MdbError::BadValSize)) => {}
                    other => panic!("{key:?} {value:?} {flags:?}: {other:?}"),
                }
            }
        }
    }
    assert!(matches!(
        db.put(&mut wtxn, b"short", &[5, 6, 7]),
        Err(Error::Mdb(MdbError::BadValSize))
    ));
    // A value of the wrong size is simply not among the key's values.
    assert!(!db
        .delete_one_duplicate(&mut wtxn, b"many", &[0u8; 4])
        .unwrap());
    assert!(!db
        .delete_one_duplicate(&mut wtxn, b"few", &[0u8; 9])
        .unwrap());
    wtxn.commit().unwrap();
    assert_sound(&env);
    let after: Vec<Vec<Vec<u8>>> = [&b"one"[..], b"few", b"many", b"short"]
        .iter()
        .map(|key| values_of(&env, db, key))
        .collect();
    assert_eq!(before, after);

    // A key whose values are all gone takes a new size.
    let mut wtxn = env.write_txn().unwrap();
    db.delete(&mut wtxn, b"many").unwrap();
    db.put(&mut wtxn, b"many", &[7u8; 3]).unwrap();
    db.put(&mut wtxn, b"many", &[8u8; 3]).unwrap();
    wtxn.commit().unwrap();
    assert_eq!(values_of(&env, db, b"many"), [vec![7u8; 3], vec![8u8; 3]]);
}

#[test]
fn the_flag_is_recorded_and_asked_for_with_dup_sort() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    fixed(&env, "ids");
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name("lonely").flags(DatabaseFlags::DUP_FIXED);
    assert!(matches!(
        options.create(&mut wtxn),
        Err(Error::Mdb(MdbError::InvalidOption { .. }))
    ));
    wtxn.abort();
    drop(env);

    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let info = env.database_info(&rtxn, Some("ids")).unwrap().unwrap();
    assert_eq!(
        info.flags,
        DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED
    );
    let mut options = env.database_options().types::<Bytes, Bytes>();
    options.name("ids").flags(DatabaseFlags::DUP_SORT);
    match options.open(&rtxn) {
        Err(Error::Mdb(MdbError::IncompatibleDatabase { reason, .. })) => {
            assert!(reason.contains("DUP_FIXED"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A plain open takes what was recorded.
    let plain: Option<Multimap> = env.open_database(&rtxn, Some("ids")).unwrap();
    assert!(plain.is_some());
}

/// Random puts and deletes over 512-byte pages (lists that become trees of dense leaves,
/// which split, merge, borrow and collapse), with values of one size per key (1, 2, 4 or 8
/// bytes by key) ordered byte-wise and as integers, against a model; after every commit the
/// checker passes, the pairs agree both ways, and both copies hold the same pairs.
#[test]
fn random_changes_agree_with_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with_page_size(dir.path(), 512);
    let bytewise = fixed(&env, "bytewise");
    let integers = database(
        &env,
        "integers",
        DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED | DatabaseFlags::INTEGER_DUP,
    );
    let mut models = [Model::new(), Model::new()];
    let mut rng = Rng(29);
    for round in 0..6 {
        let mut wtxn = env.write_txn().unwrap();
        for _ in 0..4_000 {
            let which = rng.below(2) as usize;
            let (db, model) = ([bytewise, integers][which], &mut models[which]);
            let key_number = rng.below(24) as u8;
            let key = vec![b'k', key_number];
            // Integer values are native-endian 4 or 8 bytes; byte-wise ones 1, 2, 4 or 8
            // bytes (1-byte values: at most 256 per key).
            let width = match (which, key_number % 4) {
                (1, 0 | 1) => 4,
                (1, _) => 8,
                (_, size) => 1 << size,
            };
            let spread = if round % 2 == 0 { 300 } else { 3_000 };
            let number = rng.below(spread);
            let value = match width {
                1 => vec![number as u8],
                2 => (number as u16).to_be_bytes().to_vec(),
                4 if which == 1 => (number as u32).to_ne_bytes().to_vec(),
                4 => (number as u32).to_be_bytes().to_vec(),
                _ if which == 1 => number.to_ne_bytes().to_vec(),
                _ => number.to_be_bytes().to_vec(),
            };
            match rng.below(12) {
                0 => {
                    let existed = db.delete(&mut wtxn, &key).unwrap();
                    assert_eq!(existed, model.remove(&key).is_some());
                }
                1..=4 => {
                    let existed = db.delete_one_duplicate(&mut wtxn, &key, &value).unwrap();
                    let values = model.entry(key.clone()).or_default();
                    assert_eq!(existed, values.remove(&value));
                    if values.is_empty() {
                        model.remove(&key);
                    }
                }
                _ => {
                    db.put(&mut wtxn, &key, &value).unwrap();
                    model.entry(key).or_default().insert(value);
                }
            }
        }
        wtxn.commit().unwrap();
        assert_sound(&env);
        // The integer model orders values by number; sort its pairs the same way.
        let integer_order = |value: &Vec<u8>| match value.len() {
            4 => u32::from_ne_bytes(value[..].try_into().unwrap()) as u64,
            _ => u64::from_ne_bytes(value[..].try_into().unwrap()),
        };
        let mut expected_integers = pairs_of(&models[1]);
        expected_integers.sort_by_key(|(key, value)| (key.clone(), integer_order(value)));
        for (db, expected) in [
            (bytewise, pairs_of(&models[0])),
            (integers, expected_integers),
        ] {
            assert_eq!(stored_pairs(&env, db), expected, "round {round}");
            let rtxn = env.read_txn().unwrap();
            assert_eq!(db.len(&rtxn).unwrap(), expected.len() as u64);
            let backwards: Vec<(Vec<u8>, Vec<u8>)> =
                db.rev_iter(&rtxn).unwrap().map(owned).collect();
            assert!(backwards.iter().eq(expected.iter().rev()), "round {round}");
        }
    }
    copies_hold_the_same_pairs(
        &env,
        dir.path(),
        &[("bytewise", bytewise), ("integers", integers)],
    );
}

fn copies_hold_the_same_pairs(env: &Env, dir: &Path, databases: &[(&str, Multimap)]) {
    for compaction in [CompactionOption::Disabled, CompactionOption::Enabled] {
        let path = dir.join(format!("copy-{compaction:?}"));
        env.copy_to_path(&path, compaction).unwrap();
        let copy = unsafe {
            EnvOpenOptions::new()
                .max_dbs(16)
                .flags(arbordb::EnvFlags::NO_SUB_DIR)
                .open(&path)
                .unwrap()
        };
        assert_sound(&copy);
        for (name, db) in databases {
            let rtxn = copy.read_txn().unwrap();
            let copied: Multimap = copy.open_database(&rtxn, Some(name)).unwrap().unwrap();
            drop(rtxn);
            assert_eq!(
                stored_pairs(&copy, copied),
                stored_pairs(env, *db),
                "{name} {compaction:?}"
            );
        }
    }
}

/// heed's typed API over a `DUP_FIXED` database of `u64` ids, as a secondary index keeps them.
#[test]
fn an_index_of_ids_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let mut options = env.database_options().types::<Str, U64<BigEndian>>();
    options
        .name("by-tag")
        .flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    let index = options.create(&mut wtxn).unwrap();
    for id in (0..3_000u64).rev() {
        let tag = if id % 3 == 0 { "fizz" } else { "plain" };
        index.put(&mut wtxn, tag, &id).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    let fizz: Vec<u64> = index
        .get_duplicates(&rtxn, "fizz")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect();
    assert_eq!(fizz, (0..3_000).step_by(3).collect::<Vec<_>>());
    assert_eq!(index.len(&rtxn).unwrap(), 3_000);
    assert_eq!(index.get(&rtxn, "plain").unwrap(), Some(1));
}

/// The pages of the data file whose kind byte is `kind` and that hold `marker`.
fn pages_of(file: &[u8], page_size: usize, kind: u8, marker: &[u8]) -> Vec<usize> {
    file.chunks(page_size)
        .enumerate()
        .filter(|(_, page)| page[4] == kind && page.windows(marker.len()).any(|w| w == marker))
        .map(|(number, _)| number)
        .collect()
}

/// A leaf laid out otherwise than its tree's (a slotted leaf in a tree of dense leaves, or a
/// dense leaf in a slotted tree), even one whose checksum and own page number are right, is
/// corruption for reads, for writes (which must not insert a cell of one layout into a page
/// of the other and seal it) and for the checker.
#[test]
fn a_leaf_of_the_other_layout_is_corruption_for_reads_writes_and_the_checker() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let (packed, listed) = (
        fixed(&env, "packed"),
        database(&env, "listed", DatabaseFlags::DUP_SORT),
    );
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..3_000u16 {
        let number = n.to_be_bytes();
        packed
            .put(&mut wtxn, b"many", &[b"PACKED", &number[..]].concat())
            .unwrap();
        listed
            .put(&mut wtxn, b"many", &[b"LISTED", &number[..]].concat())
            .unwrap();
    }
    wtxn.commit().unwrap();
    drop(env);

    let page_size = 4096;
    let path = dir.path().join("data.arbordb");
    let original = std::fs::read(&path).unwrap();
    let dense = pages_of(&original, page_size, 6, b"PACKED");
    let slotted = pages_of(&original, page_size, 2, b"LISTED");
    assert!(
        dense.len() > 2 && slotted.len() > 2,
        "{dense:?} {slotted:?}"
    );
    // Each case puts a copy of one kind of page where a page of the other kind was.
    for (victim, donor, name, marker) in [
        (dense[1], slotted[1], "packed", &b"PACKED"[..]),
        (slotted[1], dense[1], "listed", b"LISTED"),
    ] {
        let mut file = original.clone();
        let at = victim * page_size;
        let first_value = if file[at + 4] == 6 {
            file[at + 24..at + 32].to_vec()
        } else {
            let whole: Vec<u8> = file[at..at + page_size].to_vec();
            let start = whole.windows(6).position(|w| w == marker).unwrap();
            whole[start..start + 8].to_vec()
        };
        file.copy_within(donor * page_size..(donor + 1) * page_size, at);
        file[at + 8..at + 16].copy_from_slice(&(victim as u64).to_le_bytes());
        let checksum = crc32fast::hash(&file[at + 4..at + page_size]);
        file[at..at + 4].copy_from_slice(&checksum.to_le_bytes());
        std::fs::write(&path, &file).unwrap();

        let env = open(dir.path());
        let report = env.check().unwrap();
        assert!(
            report.to_string().contains("laid out otherwise"),
            "{report}"
        );
        let rtxn = env.read_txn().unwrap();
        let db: Multimap = env.open_database(&rtxn, Some(name)).unwrap().unwrap();
        let read: arbordb::Result<Vec<_>> = db.get_duplicates(&rtxn, b"many").and_then(|iter| {
            iter.unwrap()
                .map(|entry| entry.map(|(_, v)| v.to_vec()))
                .collect()
        });
        assert!(
            matches!(read, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
            "{read:?}"
        );
        drop(rtxn);
        let mut wtxn = env.write_txn().unwrap();
        for result in [
            db.put(&mut wtxn, b"many", &first_value),
            db.delete_one_duplicate(&mut wtxn, b"many", &first_value)
                .map(|_| ()),
        ] {
            assert!(
                matches!(
                    result,
                    Err(Error::Mdb(MdbError::CorruptedPage { .. }))
                        | Err(Error::Mdb(MdbError::BadTxn))
                ),
                "{result:?}"
            );
        }
        drop(wtxn);
        drop(env);
        assert_eq!(std::fs::read(&path).unwrap(), file, "nothing written");
    }
}

/// A list in the other form than its database's (packed without `DUP_FIXED`, with lengths
/// with it), checksum and all right, is reported by the checker and refused by reads.
#[test]
fn a_list_in_the_other_form_is_reported_by_the_checker_and_refused_by_reads() {
    for (flags, from, to, expected) in [
        (
            DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED,
            8u8,
            2u8,
            "is not packed in a database with DUP_FIXED",
        ),
        (
            DatabaseFlags::DUP_SORT,
            2,
            8,
            "is packed in a database without DUP_FIXED",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let env = open(dir.path());
        let db = database(&env, "lists", flags);
        let mut wtxn = env.write_txn().unwrap();
        for value in [b"AAAA", b"BBBB", b"CCCC"] {
            db.put(&mut wtxn, b"the-listed-key", value).unwrap();
        }
        wtxn.commit().unwrap();
        assert_sound(&env);
        drop(env);

        let path = dir.path().join("data.arbordb");
        let mut file = std::fs::read(&path).unwrap();
        let page_size = 4096;
        let key = b"the-listed-key";
        let at = file
            .windows(key.len())
            .position(|window| window == key)
            .expect("the key's cell")
            - 7;
        assert_eq!(file[at], from, "the cell's flags");
        file[at] = to;
        let page = at / page_size * page_size;
        let checksum = crc32fast::hash(&file[page + 4..page + page_size]);
        file[page..page + 4].copy_from_slice(&checksum.to_le_bytes());
        std::fs::write(&path, &file).unwrap();
        let env = open(dir.path());
        let report = env.check().unwrap().to_string();
        assert!(report.contains(expected), "{report}");
        // Reads refuse it too, rather than take the bytes in the other form.
        let rtxn = env.read_txn().unwrap();
        let db: Multimap = env.open_database(&rtxn, Some("lists")).unwrap().unwrap();
        let read: arbordb::Result<Vec<Vec<u8>>> = db.iter(&rtxn).and_then(|iter| {
            iter.map(|entry| entry.map(|(_, value)| value.to_vec()))
                .collect()
        });
        assert!(
            matches!(read, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
            "{read:?}"
        );
    }
}

/// Seals the page holding byte `at` of `file` again after a change.
fn reseal_page_of(file: &mut [u8], page_size: usize, at: usize) {
    let page = at / page_size * page_size;
    let checksum = crc32fast::hash(&file[page + 4..page + page_size]);
    file[page..page + 4].copy_from_slice(&checksum.to_le_bytes());
}

/// Writes `values` under `key` in a new `DUP_FIXED` database `name` of a new environment in
/// `dir`, then turns the key's packed list (cell flag 8) into a list of lengths (flag 2),
/// checksum and all right. The values are chosen so that their packed bytes also read as a
/// list of lengths, of values of several sizes, in order.
fn fixed_database_with_a_list_of_lengths(dir: &Path, name: &str, key: &[u8], values: &[Vec<u8>]) {
    let env = open(dir);
    let db = fixed(&env, name);
    let mut wtxn = env.write_txn().unwrap();
    for value in values {
        db.put(&mut wtxn, key, value).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
    drop(env);
    let path = dir.join("data.arbordb");
    let mut file = std::fs::read(&path).unwrap();
    let at = file
        .windows(key.len())
        .position(|window| window == key)
        .expect("the key's cell")
        - 7;
    assert_eq!(file[at], 8, "a packed list");
    file[at] = 2;
    reseal_page_of(&mut file, 4096, at);
    std::fs::write(&path, &file).unwrap();
}

/// A change made in a write transaction.
type WriteIn = dyn Fn(&mut arbordb::RwTxn) -> arbordb::Result<()>;

/// A list of lengths holding values of several sizes in a `DUP_FIXED` database (a damaged
/// file) is corruption for a write that would rewrite the list: re-encoding it packed at the
/// first value's width must not happen (it panics on a debug assertion, and without one
/// seals a packed list whose bytes regroup into other values).
#[test]
fn a_list_of_several_sizes_in_a_dup_fixed_database_is_not_rewritten_packed() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"the-mixed-key";
    // Packed: 04 00 | 00 00 00 01 | 02 00 10 10 | 02 00 20 20; read with lengths:
    // [00 00 00 01], [10 10], [20 20].
    let values = [
        vec![0u8, 0, 0, 1],
        vec![2, 0, 0x10, 0x10],
        vec![2, 0, 0x20, 0x20],
    ];
    fixed_database_with_a_list_of_lengths(dir.path(), "mixed", key, &values);
    let path = dir.path().join("data.arbordb");
    let damaged = std::fs::read(&path).unwrap();

    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let db: Multimap = env.open_database(&rtxn, Some("mixed")).unwrap().unwrap();
    drop(rtxn);
    let writes: [(&str, &WriteIn); 2] = [
        ("put a value of the first's size", &move |wtxn| {
            db.put(wtxn, key, &[0x30, 0, 0, 0])
        }),
        ("delete one of the short values", &move |wtxn| {
            db.delete_one_duplicate(wtxn, key, &[0x10, 0x10])
                .map(|_| ())
        }),
    ];
    for (what, write) in writes {
        let mut wtxn = env.write_txn().unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(&mut wtxn)));
        match result {
            Ok(Err(Error::Mdb(MdbError::CorruptedPage { .. }))) => {}
            Ok(other) => panic!("{what}: {other:?}, not Corrupted"),
            Err(_) => panic!("{what}: panicked, not Corrupted"),
        }
        drop(wtxn);
    }
    drop(env);
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "nothing written");
}

/// Such a list, large enough that one more value moves the key's values into a tree: the
/// tree refuses the second value's size after its first page was taken, and the error must
/// not be `ValueSizeMismatch`, which leaves the transaction usable as if nothing changed
/// (its commit then keeps a page that no tree and no freelist holds).
#[test]
fn a_list_of_several_sizes_moving_into_a_tree_is_corruption_not_a_size_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"k";
    // Ten values of 100 bytes, packed in 1,002 bytes. Read with lengths: the first value,
    // then one of 898 bytes (the length 898 = 0x0382 opens the second value).
    let mut values = vec![vec![0u8; 100], [&[0x82u8, 0x03][..], &[1u8; 98]].concat()];
    for n in 0..8u8 {
        values.push(vec![0x90 + n; 100]);
    }
    fixed_database_with_a_list_of_lengths(dir.path(), "mixed", key, &values);

    let env = open(dir.path());
    let rtxn = env.read_txn().unwrap();
    let db: Multimap = env.open_database(&rtxn, Some("mixed")).unwrap().unwrap();
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    let result = db.put(&mut wtxn, key, &[0xFF; 100]);
    if let Err(Error::Mdb(MdbError::BadValSize)) = result {
        // The transaction claims nothing changed: commit it and look.
        wtxn.commit().unwrap();
        let report = env.check().unwrap();
        panic!("ValueSizeMismatch after a page was taken; the checker then says:\n{report}");
    }
    assert!(
        matches!(result, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
        "{result:?}"
    );
}

/// A `DUP_FIXED` database whose key's tree of values has slotted leaves and no dense flag (a
/// damaged file: the database's flag set afterwards) must not take a value of another size
/// into that tree: the tree's leaves give no width to check, so the database's flag must
/// be checked against the descriptor's (docs/testing.md lists this as `Corrupted` for
/// writes).
#[test]
fn a_tree_of_values_without_the_dense_flag_in_a_dup_fixed_database_takes_no_other_size() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let name = "flag-set-afterwards";
    let db = database(&env, name, DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..1_000u64 {
        db.put(&mut wtxn, b"many", &n.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    drop(env);

    set_database_flag_bits(dir.path(), name, 0x10);

    let env = open(dir.path());
    let report = env.check().unwrap().to_string();
    assert!(
        report.contains("the tree of a key's values has"),
        "{report}"
    );
    let rtxn = env.read_txn().unwrap();
    let db: Multimap = env.open_database(&rtxn, Some(name)).unwrap().unwrap();
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    let result = db.put(&mut wtxn, b"many", &[1, 2, 3]);
    assert!(
        matches!(
            result,
            Err(Error::Mdb(MdbError::CorruptedPage { .. }) | Error::Mdb(MdbError::BadValSize))
        ),
        "a 3-byte value among 8-byte ones: {result:?}"
    );
}

/// Values that are decimal numbers in text, compared as the numbers: "20" and "020" are
/// equal, of two sizes.
enum NumbersInText {}

impl arbordb::Comparator for NumbersInText {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        let number = |bytes: &[u8]| -> u64 { std::str::from_utf8(bytes).unwrap().parse().unwrap() };
        number(a).cmp(&number(b))
    }

    fn name() -> String {
        "numbers-in-text".to_owned()
    }
}

/// `put_current` with a value of another size that sorts as the current one (under an
/// application's order of values) is refused with `ValueSizeMismatch`, which promises that
/// nothing changed: the current pair must still be there.
#[test]
fn put_current_of_another_size_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .database_options()
        .types::<Bytes, Bytes>()
        .dup_sort_comparator::<NumbersInText>()
        .name("numbers")
        .flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED)
        .create(&mut wtxn)
        .unwrap();
    for value in [&b"10"[..], b"20", b"30"] {
        db.put(&mut wtxn, b"k", value).unwrap();
    }
    let result = {
        let mut iter = db.iter_mut(&mut wtxn).unwrap();
        iter.next().unwrap().unwrap();
        assert_eq!(iter.next().unwrap().unwrap().1, b"20");
        iter.put_current(b"k", b"020")
    };
    assert!(
        matches!(result, Err(Error::Mdb(MdbError::BadValSize))),
        "{result:?}"
    );
    let values: Vec<Vec<u8>> = db
        .get_duplicates(&wtxn, b"k")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1.to_vec())
        .collect();
    assert_eq!(values, [b"10".to_vec(), b"20".to_vec(), b"30".to_vec()]);
}

/// Sets `bits` in the flags of database `name`'s descriptor in every catalog record of it in
/// the data file in `dir`, sealing the pages again.
fn set_database_flag_bits(dir: &Path, name: &str, bits: u32) {
    let path = dir.join("data.arbordb");
    let mut file = std::fs::read(&path).unwrap();
    let starts: Vec<usize> = file
        .windows(name.len())
        .enumerate()
        .filter(|(at, window)| {
            *window == name.as_bytes()
                && *at >= 7
                && file[at - 6..at - 4] == (name.len() as u16).to_le_bytes()
        })
        .map(|(at, _)| at)
        .collect();
    assert!(!starts.is_empty());
    for at in starts {
        let flags_at = at + name.len() + 12;
        let flags = u32::from_le_bytes(file[flags_at..flags_at + 4].try_into().unwrap()) | bits;
        file[flags_at..flags_at + 4].copy_from_slice(&flags.to_le_bytes());
        reseal_page_of(&mut file, 4096, flags_at);
    }
    std::fs::write(&path, &file).unwrap();
}

/// An empty database whose descriptor has the dense-leaves flag (only a tree of a key's
/// values may: a damaged file) must not take a put into a dense leaf, which keeps the key
/// and drops its value.
#[test]
fn an_empty_database_with_the_dense_flag_is_corruption_for_a_put() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let name = "empty-and-flagged-dense";
    database(&env, name, DatabaseFlags::empty());
    drop(env);
    set_database_flag_bits(dir.path(), name, 0x4_0000);

    let env = open(dir.path());
    let report = env.check().unwrap().to_string();
    assert!(
        report.contains("the flag of a tree of a key's values"),
        "{report}"
    );
    // Loading the database refuses the flag; a put, were it reached, must too.
    let rtxn = env.read_txn().unwrap();
    let opened: arbordb::Result<Option<Multimap>> = env.open_database(&rtxn, Some(name));
    drop(rtxn);
    let db = match opened {
        Err(Error::Mdb(MdbError::CorruptedPage { .. })) => return,
        other => other.unwrap().unwrap(),
    };
    let mut wtxn = env.write_txn().unwrap();
    let result = db.put(&mut wtxn, b"key", b"value");
    let read = db.get(&wtxn, b"key").map(|value| value.map(<[u8]>::to_vec));
    assert!(
        matches!(result, Err(Error::Mdb(MdbError::CorruptedPage { .. }))),
        "the put gave {result:?}, and the key now reads {read:?}"
    );
}

/// A dense leaf whose width was changed (and the page sealed again) holds values of another
/// size than its tree's other leaves: the checker reports it.
#[test]
fn a_tree_of_values_of_several_sizes_is_reported_by_the_checker() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let db = fixed(&env, "sizes");
    let mut wtxn = env.write_txn().unwrap();
    // Each value is two ascending 4-byte halves, so that read at half the width the keys
    // stay in order and inside their range: only their size is wrong.
    for n in 0..3_000u32 {
        let value = [(2 * n).to_be_bytes(), (2 * n + 1).to_be_bytes()].concat();
        db.put(&mut wtxn, b"many", &value).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
    drop(env);

    let page_size = 4096;
    let path = dir.path().join("data.arbordb");
    let mut file = std::fs::read(&path).unwrap();
    let at = file
        .chunks(page_size)
        .position(|page| page[4] == 6)
        .expect("a dense leaf")
        * page_size;
    // The same bytes read as twice as many keys of half the width.
    let count = u16::from_le_bytes([file[at + 6], file[at + 7]]);
    file[at + 6..at + 8].copy_from_slice(&(count * 2).to_le_bytes());
    file[at + 16..at + 20].copy_from_slice(&4u32.to_le_bytes());
    let checksum = crc32fast::hash(&file[at + 4..at + page_size]);
    file[at..at + 4].copy_from_slice(&checksum.to_le_bytes());
    std::fs::write(&path, &file).unwrap();
    let report = open(dir.path()).check().unwrap().to_string();
    assert!(report.contains("values of more than one size"), "{report}");
}
