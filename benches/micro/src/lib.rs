//! Nothing here: see benches/hot_paths.rs.
