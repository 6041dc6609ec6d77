//! Page reuse: the file stops growing under steady updates, grows while a long reader pins
//! old pages, and reuses that space once the reader ends; the freelist survives reopening.

mod common;

use arbordb::types::Bytes;
use arbordb::Env;
use common::{assert_sound, newest_meta_runs, open, Rng};

const KEYS: u32 = 10_000;

fn overwrite_round(env: &Env, db: arbordb::Database<Bytes, Bytes>, round: u32) {
    let mut wtxn = env.write_txn().unwrap();
    let value = [round as u8; 100];
    for n in 0..KEYS {
        db.put(&mut wtxn, &n.to_be_bytes(), &value).unwrap();
    }
    wtxn.commit().unwrap();
}

#[test]
fn steady_overwrites_reuse_pages_and_a_long_reader_only_delays_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    wtxn.commit().unwrap();
    overwrite_round(&env, db, 0);
    let after_first = env.real_disk_size().unwrap();

    // 100 commits with no reader held: pages freed by one commit are reused two commits
    // later, so the file levels off at two copies of the tree (the first round's file is
    // exactly one: a large growth gets no slack), plus the freelist's pages and the growth
    // slack of later, smaller growths (1/64 of the file).
    for round in 1..100 {
        overwrite_round(&env, db, round);
    }
    let steady = env.real_disk_size().unwrap();
    assert!(
        steady <= 2 * after_first + after_first / 16,
        "file grew from {after_first} to {steady} bytes without readers"
    );
    assert_sound(&env);

    // A reader pins its snapshot: every round must take fresh pages.
    let reader = env.read_txn().unwrap();
    for round in 100..120 {
        overwrite_round(&env, db, round);
    }
    let pinned = env.real_disk_size().unwrap();
    assert!(
        pinned > steady + 10 * after_first / 2,
        "a pinned snapshot should force growth: {steady} -> {pinned}"
    );
    assert!(db
        .iter(&reader)
        .unwrap()
        .all(|entry| entry.unwrap().1 == [99u8; 100]));
    drop(reader);

    // With the reader gone, the space it pinned is reused: no further growth.
    for round in 120..170 {
        overwrite_round(&env, db, round);
    }
    let after_release = env.real_disk_size().unwrap();
    assert!(
        after_release <= pinned,
        "space was not reused after the reader ended: {pinned} -> {after_release}"
    );
    assert_sound(&env);
}

#[test]
fn the_freelist_survives_reopening_and_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let free_pages;
    let last_page;
    {
        let env = open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let db = env
            .create_database::<Bytes, Bytes>(&mut wtxn, Some("data"))
            .unwrap();
        for n in 0..KEYS {
            db.put(&mut wtxn, &n.to_be_bytes(), &[1u8; 100]).unwrap();
        }
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        db.clear(&mut wtxn).unwrap();
        wtxn.commit().unwrap();
        let report = env.check().unwrap();
        assert!(report.is_ok(), "{report}");
        free_pages = report.pages_free;
        assert!(
            free_pages > 200,
            "clearing 10,000 entries frees their pages: {report}"
        );
        last_page = env.info().last_page_number;
    }
    let env = open(dir.path());
    let report = env.check().unwrap();
    assert_eq!(
        report.pages_free, free_pages,
        "the same pages are free after reopening"
    );
    assert_eq!(env.info().last_page_number, last_page);
    // After reopening, the newest meta is not known to be durable (a previous process may
    // have skipped its sync), so the first commit keeps its tree; it may take a page or two.
    env.write_txn().unwrap().commit().unwrap();
    let last_page = env.info().last_page_number;
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("data"))
        .unwrap();
    for n in 0..KEYS / 2 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[2u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    assert_eq!(
        env.info().last_page_number,
        last_page,
        "new data went into free pages"
    );
    assert_sound(&env);
}

/// What a commit writes is proportional to what it changed, not to how much is free: after a
/// mass delete leaves thousands of free pages, a one-put commit writes a handful of pages
/// (the free pages live in free segments that the freelist chain names by number), the free
/// space is reused, and the freelist stays sound across reopening.
#[test]
fn a_large_freelist_costs_a_small_commit_only_what_changed() {
    use arbordb::testing::{Fault, SimulatedDisk};
    use arbordb::EnvOpenOptions;

    let dir = tempfile::tempdir().unwrap();
    let disk = SimulatedDisk::new(Fault::Never);
    let open = || unsafe {
        EnvOpenOptions::new()
            .page_size(512)
            .map_size(1 << 30)
            .page_io(disk.factory())
            .open(dir.path())
            .unwrap()
    };
    let env = open();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..80_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[7u8; 40]).unwrap();
    }
    wtxn.commit().unwrap();
    // The delete's own transaction also fills and empties pages (as merges do), so its pool of
    // free pages is fragmented when it writes the freelist: the free segments it spills must
    // still get consecutive numbers, or the chain would name each of them.
    let mut wtxn = env.write_txn().unwrap();
    for n in 0..20_000u32 {
        db.put(&mut wtxn, &(1_000_000 + n).to_be_bytes(), &[6u8; 40])
            .unwrap();
    }
    for n in (0..20_000u32).filter(|n| n % 10 != 0) {
        db.delete(&mut wtxn, &(1_000_000 + n).to_be_bytes())
            .unwrap();
    }
    for n in (0..80_000u32).filter(|n| n % 4 != 0) {
        db.delete(&mut wtxn, &n.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    let free = env.free_pages().unwrap();
    assert!(free > 8000, "the deletes freed {free} pages");
    assert_sound(&env);
    let chain = env.check().unwrap().freelist_chain_pages;
    assert!(chain <= 2, "{free} free pages take {chain} chain pages");

    // One put per commit: each writes the changed tree path (depth 4 here), the freelist's
    // chain (a page or two) and at most a free segment, then the meta: never the whole list,
    // which at 8 bytes a page would be over 60 pages here.
    let last_page = env.info().last_page_number;
    let mut most = 0;
    for n in 0..300u32 {
        let before = disk.operations();
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &(n * 4 + 1).to_be_bytes(), &[8u8; 40])
            .unwrap();
        wtxn.commit().unwrap();
        most = most.max(disk.operations() - before);
    }
    assert!(
        most <= 14,
        "a one-put commit took {most} disk operations (writes and syncs)"
    );
    assert_eq!(
        env.info().last_page_number,
        last_page,
        "the commits reused free pages"
    );
    assert_sound(&env);
    let free_before_reopening = env.free_pages().unwrap();
    drop(env);

    let env = open();
    assert_eq!(env.free_pages().unwrap(), free_before_reopening);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db_len(&env, &rtxn), 20_000 + 2_000 + 300);
    drop(rtxn);
    // Use up every free page: all of them come back out of the segments, none twice.
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..80_000u32 {
        db.put(&mut wtxn, &n.to_be_bytes(), &[9u8; 40]).unwrap();
    }
    wtxn.commit().unwrap();
    assert_sound(&env);
}

/// The stretches of consecutive pages a one-sync commit wrote, from the runs its meta lists.
fn stretches_written(data_file: &std::path::Path) -> (u64, usize, u32) {
    let (txn, runs) = newest_meta_runs(&std::fs::read(data_file).unwrap(), 4096);
    let pages = runs.iter().map(|&(_, pages)| pages).sum();
    let mut sorted = runs.clone();
    sorted.sort_unstable();
    let breaks = sorted
        .windows(2)
        .filter(|pair| pair[0].0 + u64::from(pair[0].1) != pair[1].0)
        .count();
    (txn, breaks + usize::from(!runs.is_empty()), pages)
}

/// After a mass delete, a one-insert commit takes its pages (the copied tree path and the
/// freelist's chain page) from a run of consecutive free pages, so it writes one stretch of
/// the file, which the disk syncs as one request (invariant 13). The run comes out of the
/// free segments the delete left; the pages the commits free elsewhere wait until the runs
/// are used up, and the file never grows meanwhile.
#[test]
fn small_commits_after_a_mass_delete_write_their_pages_together() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path());
    let data_file = dir.path().join(arbordb::DATA_FILE_NAME);
    let mut rng = Rng(13);
    let keys: Vec<Vec<u8>> = (0..40_000).map(|_| rng.bytes(24)).collect();
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for key in &keys {
        db.put(&mut wtxn, key, &[1u8; 150]).unwrap();
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for key in keys.iter().step_by(2) {
        db.delete(&mut wtxn, key).unwrap();
    }
    wtxn.commit().unwrap();
    let free = env.free_pages().unwrap();
    assert!(free > 2000, "the delete freed {free} pages");
    let last_page = env.info().last_page_number;

    let (mut commits, mut pages_written) = (0, 0u64);
    let (mut early_commits, mut one_stretch) = (0, 0);
    while pages_written < 2 * free as u64 {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &rng.bytes(24), &[2u8; 150]).unwrap();
        wtxn.commit().unwrap();
        let (txn, stretches, pages) = stretches_written(&data_file);
        assert_eq!(txn, env.info().last_txn_id as u64, "a one-sync commit");
        assert!(pages >= 4, "the path (depth 3) and the chain page");
        commits += 1;
        pages_written += u64::from(pages);
        // While the delete's runs last (each commit writes about 4 pages of them).
        if pages_written < free as u64 / 2 {
            assert!(
                stretches <= 2,
                "commit {commits} wrote {stretches} stretches"
            );
            early_commits += 1;
            one_stretch += usize::from(stretches == 1);
        }
    }
    assert!(
        one_stretch * 10 >= early_commits * 9,
        "only {one_stretch} of the first {early_commits} commits wrote one stretch"
    );
    assert_eq!(
        env.info().last_page_number,
        last_page,
        "{commits} commits reused free pages, runs or not"
    );
    assert_sound(&env);
}

fn db_len(env: &Env, rtxn: &arbordb::RoTxn) -> u64 {
    let db = env
        .open_database::<Bytes, Bytes>(rtxn, None)
        .unwrap()
        .unwrap();
    db.len(rtxn).unwrap()
}

/// Deleting range after range of a large tree frees pages for many free segments at each
/// commit, and from the third on a stretch the earlier deletes freed is reusable: the commit
/// takes consecutive pages for its segments there (`txn/commit.rs`). Every page stays
/// accounted for (the checker finds none leaked or listed twice) and the rest reads back.
#[test]
fn mass_deletes_whose_segments_take_a_reused_stretch_keep_every_page_accounted_for() {
    const ENTRIES: u32 = 60_000;
    const PARTS: u32 = 5;
    let dir = tempfile::tempdir().unwrap();
    let env = common::open_with_page_size(dir.path(), 512);
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for n in 0..ENTRIES {
        db.put(&mut wtxn, &n.to_be_bytes(), &[n as u8; 20]).unwrap();
    }
    wtxn.commit().unwrap();
    let part = ENTRIES / PARTS;
    for deleted in 1..PARTS {
        let mut wtxn = env.write_txn().unwrap();
        let range = (deleted - 1) * part..deleted * part;
        for n in range.clone() {
            assert!(db.delete(&mut wtxn, &n.to_be_bytes()).unwrap());
        }
        wtxn.commit().unwrap();
        assert_sound(&env);
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db_len(&env, &rtxn), u64::from(ENTRIES - deleted * part));
    }
    drop(env);
    let env = common::open_with_page_size(dir.path(), 512);
    assert_sound(&env);
    let rtxn = env.read_txn().unwrap();
    let db = env
        .open_database::<Bytes, Bytes>(&rtxn, None)
        .unwrap()
        .unwrap();
    for n in (PARTS - 1) * part..ENTRIES {
        assert_eq!(
            db.get(&rtxn, &n.to_be_bytes()).unwrap(),
            Some(&[n as u8; 20][..])
        );
    }
}
