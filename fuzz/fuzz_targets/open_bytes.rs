//! Fuzz target `open_bytes`: the body is `arbordb::testing::fuzz::open_bytes` (see its docs), so the committed
//! corpus replays under `cargo test` too (tests/fuzz_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    arbordb::testing::fuzz::open_bytes(data);
});
