//! Replays the committed fuzz corpora (fuzz/corpus/<target>/) through the fuzz targets'
//! bodies, so every input that ever found a bug, the seeds and the minimized inputs the
//! fuzzers found (docs/testing.md, "Growing a fuzz corpus") run under `cargo test`. A
//! crashing input found by `cargo fuzz` goes into the corpus with its fix.

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "the {target} corpus is empty");
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(
            outcome.is_ok(),
            "{target}: {} fails; reproduce with `cargo +nightly fuzz run {target} {}`",
            input.display(),
            input.display()
        );
    }
}

#[test]
fn ops_corpus() {
    replay("ops", arbordb::testing::fuzz::ops);
}

#[test]
fn open_bytes_corpus() {
    replay("open_bytes", arbordb::testing::fuzz::open_bytes);
}

#[test]
fn page_decode_corpus() {
    replay("page_decode", arbordb::testing::fuzz::page_decode);
}
