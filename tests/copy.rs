//! Copying an environment: a consistent snapshot while writers go on, and compaction that
//! leaves no free page and a smaller file; every copy opens as a normal environment.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use arbordb::byteorder::BigEndian;
use arbordb::types::{Bytes, Str, U32};
use arbordb::{CompactionOption, Env, EnvFlags, EnvOpenOptions};
use common::{assert_sound, open, Rng};

type Contents = BTreeMap<Option<String>, BTreeMap<Vec<u8>, Vec<u8>>>;

fn contents(env: &Env) -> Contents {
    let rtxn = env.read_txn().unwrap();
    let mut names: Vec<Option<String>> = vec![None];
    names.extend(rtxn.database_names().unwrap().into_iter().map(Some));
    names
        .into_iter()
        .map(|name| {
            let db = env
                .open_database::<Bytes, Bytes>(&rtxn, name.as_deref())
                .unwrap()
                .unwrap();
            let entries = db
                .iter(&rtxn)
                .unwrap()
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                .collect();
            (name, entries)
        })
        .collect()
}

fn open_copy(path: &Path) -> Env {
    unsafe {
        EnvOpenOptions::new()
            .flags(EnvFlags::NO_SUB_DIR)
            .open(path)
            .unwrap()
    }
}

/// An environment with several databases, large values, and many free pages.
fn fragmented(dir: &Path) -> Env {
    let env = open(dir);
    let mut rng = Rng(77);
    let mut wtxn = env.write_txn().unwrap();
    for name in [None, Some("alpha"), Some("beta")] {
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, name)
            .unwrap();
        for n in 0..6000u32 {
            let len = if n % 500 == 0 {
                9000
            } else {
                50 + rng.below(100) as usize
            };
            db.put(&mut wtxn, &rng.bytes(12), &vec![n as u8; len])
                .unwrap();
        }
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("alpha"))
        .unwrap();
    let keys: Vec<Vec<u8>> = db
        .iter(&wtxn)
        .unwrap()
        .map(|e| e.unwrap().0.to_vec())
        .collect();
    for key in keys.iter().step_by(2) {
        db.delete(&mut wtxn, key).unwrap();
    }
    env.create_database::<Bytes, Bytes>(&mut wtxn, Some("beta"))
        .unwrap()
        .clear(&mut wtxn)
        .unwrap();
    wtxn.commit().unwrap();
    env
}

#[test]
fn a_compacted_copy_has_no_free_pages_is_smaller_and_holds_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let env = fragmented(dir.path());
    let before = env.check().unwrap();
    assert!(before.pages_free > 100, "{before}");
    let copy_path = dir.path().join("compacted.arbordb");
    env.copy_to_path(&copy_path, CompactionOption::Enabled)
        .unwrap();

    let copy = open_copy(&copy_path);
    let report = copy.check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.pages_free, 0);
    assert_eq!(
        report.pages_total,
        report.pages_in_trees + 2,
        "pages are numbered densely"
    );
    assert!(copy.real_disk_size().unwrap() < env.real_disk_size().unwrap());
    assert_eq!(contents(&copy), contents(&env));
    assert_eq!(copy.info().last_txn_id, env.info().last_txn_id);

    // The copy is a normal environment: it takes writes.
    let mut wtxn = copy.write_txn().unwrap();
    let db = copy
        .create_database::<Str, Str>(&mut wtxn, Some("new"))
        .unwrap();
    db.put(&mut wtxn, "written", "after the copy").unwrap();
    wtxn.commit().unwrap();
    assert_sound(&copy);
}

#[test]
fn a_plain_copy_is_a_consistent_snapshot_while_a_writer_keeps_committing() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<U32<BigEndian>, U32<BigEndian>>(&mut wtxn, None)
        .unwrap();
    for n in 0..20_000u32 {
        db.put(&mut wtxn, &n, &0).unwrap();
    }
    wtxn.commit().unwrap();
    let writer = {
        let env = env.clone();
        std::thread::spawn(move || {
            for round in 1..=30u32 {
                let mut wtxn = env.write_txn().unwrap();
                for n in 0..20_000u32 {
                    db.put(&mut wtxn, &n, &round).unwrap();
                }
                wtxn.commit().unwrap();
            }
        })
    };
    let mut copies = Vec::new();
    for index in 0..5 {
        let path = dir.path().join(format!("copy-{index}.arbordb"));
        env.copy_to_path(&path, CompactionOption::Disabled).unwrap();
        copies.push(path);
    }
    writer.join().unwrap();
    for path in copies {
        let copy = open_copy(&path);
        assert_sound(&copy);
        let rtxn = copy.read_txn().unwrap();
        let db = copy
            .open_database::<U32<BigEndian>, U32<BigEndian>>(&rtxn, None)
            .unwrap()
            .unwrap();
        let rounds: Vec<u32> = db.iter(&rtxn).unwrap().map(|e| e.unwrap().1).collect();
        assert_eq!(rounds.len(), 20_000);
        assert!(
            rounds.iter().all(|&round| round == rounds[0]),
            "{}: one commit, not a mixture",
            path.display()
        );
    }
}

#[test]
fn copy_to_path_refuses_an_existing_file_and_copy_to_file_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let env = fragmented(dir.path());
    let path = dir.path().join("existing");
    std::fs::write(&path, vec![0xAAu8; 10 << 20]).unwrap();
    assert!(env.copy_to_path(&path, CompactionOption::Enabled).is_err());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    env.copy_to_file(&mut file, CompactionOption::Enabled)
        .unwrap();
    drop(file);
    let copy = open_copy(&path);
    assert_sound(&copy);
    assert_eq!(contents(&copy), contents(&env));
}

#[test]
fn copying_an_empty_environment_works() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    for (index, option) in [CompactionOption::Enabled, CompactionOption::Disabled]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("empty-{index}"));
        env.copy_to_path(&path, option).unwrap();
        let copy = open_copy(&path);
        assert_sound(&copy);
        assert_eq!(copy.info().last_txn_id, 0);
    }
}

#[test]
fn compaction_packs_pages_full_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    // Small pages make a deep tree out of few entries, so branch levels fill up and split too.
    let env = unsafe {
        EnvOpenOptions::new()
            .page_size(512)
            .open(dir.path())
            .unwrap()
    };
    let mut rng = Rng(5);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    let keys: Vec<Vec<u8>> = (0..30_000).map(|_| rng.bytes(10)).collect();
    for (n, key) in keys.iter().enumerate() {
        // Every 997th value goes to an overflow run.
        let len = if n % 997 == 0 { 1500 } else { 20 };
        db.put(&mut wtxn, key, &vec![n as u8; len]).unwrap();
    }
    for key in keys.iter().step_by(2) {
        db.delete(&mut wtxn, key).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let before = db.stat(&rtxn).unwrap();
    assert!(before.depth >= 4, "the test needs a deep tree: {before:?}");

    let copy_path = dir.path().join("packed.arbordb");
    env.copy_to_path(&copy_path, CompactionOption::Enabled)
        .unwrap();
    let copy = open_copy(&copy_path);
    assert_sound(&copy);
    assert_eq!(contents(&copy), contents(&env));
    let crtxn = copy.read_txn().unwrap();
    let copied = copy
        .open_database::<Bytes, Bytes>(&crtxn, None)
        .unwrap()
        .unwrap();
    let after = copied.stat(&crtxn).unwrap();
    assert_eq!(after.entries, before.entries);
    assert_eq!(after.overflow_pages, before.overflow_pages);
    // Cells of 37 bytes plus a 2-byte slot in 488 usable bytes: 12 per full leaf.
    let full_leaves = before.entries.div_ceil(12);
    assert!(
        after.leaf_pages <= full_leaves + 1,
        "leaves not packed: {} for {} entries ({before:?})",
        after.leaf_pages,
        before.entries
    );
    assert!(
        after.leaf_pages * 10 < before.leaf_pages * 7,
        "{after:?} vs {before:?}"
    );
    assert!(
        after.branch_pages < before.branch_pages,
        "{after:?} vs {before:?}"
    );
    assert!(after.depth <= before.depth);

    // The packed tree takes inserts (splitting full pages) and deletes (merging them).
    let mut wtxn = copy.write_txn().unwrap();
    for key in keys.iter().skip(1).step_by(4) {
        copied.delete(&mut wtxn, key).unwrap();
    }
    for key in keys.iter().step_by(2).take(5000) {
        copied.put(&mut wtxn, key, b"back").unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&copy);
}

/// A copy to a stream holds the same bytes as a copy to a file, both ways, and opens; a
/// stream that fails is an error.
#[test]
fn a_copy_to_a_writer_is_the_file_copy_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let env = fragmented(dir.path());
    for option in [CompactionOption::Disabled, CompactionOption::Enabled] {
        let path = dir.path().join(format!("file-{option:?}"));
        env.copy_to_path(&path, option).unwrap();
        let mut streamed = Vec::new();
        env.copy_to_writer(&mut streamed, option).unwrap();
        assert!(
            streamed == std::fs::read(&path).unwrap(),
            "{option:?}: the streamed copy differs from the file copy"
        );
        let stream_path = dir.path().join(format!("stream-{option:?}"));
        std::fs::write(&stream_path, &streamed).unwrap();
        let copy = open_copy(&stream_path);
        assert_sound(&copy);
        assert_eq!(contents(&copy), contents(&env), "{option:?}");
    }

    /// Takes `room` bytes, then fails.
    struct Full {
        room: usize,
    }
    impl std::io::Write for Full {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::ErrorKind::StorageFull.into());
            }
            let taken = bytes.len().min(self.room);
            self.room -= taken;
            Ok(taken)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for option in [CompactionOption::Disabled, CompactionOption::Enabled] {
        let result = env.copy_to_writer(&mut Full { room: 20_000 }, option);
        assert!(
            matches!(&result, Err(arbordb::Error::Io(error)) if error.kind() == std::io::ErrorKind::StorageFull),
            "{result:?}"
        );
    }
}
