//! Page reuse: the file stops growing under steady updates, grows while a long reader pins
//! old pages, and reuses that space once the reader ends; the freelist survives reopening.

mod common;

use arbordb::types::Bytes;
use arbordb::Env;
use common::{assert_sound, open};

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
    // later, so the file levels off.
    for round in 1..100 {
        overwrite_round(&env, db, round);
    }
    let steady = env.real_disk_size().unwrap();
    assert!(
        steady <= 2 * after_first,
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
